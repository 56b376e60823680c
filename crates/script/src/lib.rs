//! Lua scripting for Tile38's EVAL family, SCRIPT and WHEREEVAL (issue 17;
//! Tile38's `internal/server/scripts.go`), behind the engine's
//! [`Scripting`] trait: the server installs [`LuaScripting`] at startup.
//!
//! - Interpreters: sandboxed Lua 5.1 (`mlua`, vendored), pooled
//!   (`interp`), each run under a deadline (`lua-time-limit`, or a
//!   `TIMEOUT` prefix's if sooner) and a memory cap (`lua-memory-limit`).
//! - Scripts are cached by SHA1: the source process-wide (SCRIPT EXISTS,
//!   EVALSHA), the compiled function per interpreter; SCRIPT FLUSH empties
//!   both (a generation number invalidates the interpreters' caches).
//! - `tile38.call`/`pcall` run commands through the engine's
//!   [`CallHost`]; replies and results convert as Tile38's do (`convert`).

mod convert;
mod error;
mod interp;
mod json;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use mlua::{Function, MultiValue, Value};
use parking_lot::{Mutex, RwLock};
use sha1::{Digest, Sha1};
use tile38_collection::Item;
use tile38_engine::error::{Error, Result};
use tile38_engine::reply::Reply;
use tile38_engine::script::{CallHost, EvalRequest, FieldFilter, FilterRequest, Limits, Scripting};
use tile38_geo::FieldValue;

use interp::{Interp, Pool};

/// Hex SHA1 of `s` (`tile38.sha1hex`, script ids).
pub fn sha1_hex(s: &[u8]) -> String {
    Sha1::digest(s).iter().map(|b| format!("{b:02x}")).collect()
}

/// The Lua script runtime.
#[derive(Default)]
pub struct LuaScripting {
    pool: Arc<Pool>,
    /// Script sources by SHA1.
    sources: RwLock<HashMap<String, Arc<[u8]>>>,
    /// Bumped by SCRIPT FLUSH: an interpreter's compiled scripts of an
    /// older generation are dropped before use.
    generation: AtomicU64,
}

impl LuaScripting {
    pub fn new() -> Arc<LuaScripting> {
        Arc::new(LuaScripting::default())
    }

    /// An interpreter whose compiled-script cache is current.
    fn interp(&self) -> Result<Interp> {
        let mut i = self.pool.get().map_err(Error::Message)?;
        let generation = self.generation.load(Ordering::Acquire);
        if i.generation != generation {
            i.compiled = i.lua.create_table().map_err(lua_err)?;
            i.generation = generation;
        }
        Ok(i)
    }

    /// The SHA1 and compiled function of a script (`is_sha`: by SHA1,
    /// which must be cached: `sha not found`).
    fn compile(&self, i: &mut Interp, script: &[u8], is_sha: bool) -> Result<(String, Function)> {
        let (sha, source) = if is_sha {
            let sha = String::from_utf8_lossy(script).into_owned();
            let source = self.sources.read().get(&sha).cloned();
            let source = source.ok_or_else(|| Error::Message("sha not found".into()))?;
            (sha, source)
        } else {
            (sha1_hex(script), Arc::from(script))
        };
        let f = i.function(&sha, &source).map_err(Error::Message)?;
        if !is_sha {
            self.sources.write().entry(sha.clone()).or_insert(source);
        }
        Ok((sha, f))
    }

    fn run_eval(
        &self,
        i: &mut Interp,
        req: &EvalRequest<'_>,
        host: &mut dyn CallHost,
        out: &mut Reply,
    ) -> Result<()> {
        let (sha, f) = self.compile(i, req.script, req.is_sha)?;
        let lua = i.lua.clone();
        let g = lua.globals();
        let list = |items: &[&[u8]]| -> mlua::Result<mlua::Table> {
            lua.create_sequence_from(
                items
                    .iter()
                    .map(|s| lua.create_string(s))
                    .collect::<mlua::Result<Vec<_>>>()?,
            )
        };
        g.raw_set("KEYS", list(&req.keys).map_err(lua_err)?)
            .map_err(lua_err)?;
        g.raw_set("ARGV", list(&req.argv).map_err(lua_err)?)
            .map_err(lua_err)?;
        g.raw_set("EVAL_CMD", req.command).map_err(lua_err)?;
        let res = lua.scope(|scope| {
            let call =
                scope.create_function_mut(|lua, args: MultiValue| host_call(lua, host, args))?;
            i.hidden.raw_set("call", call)?;
            let res = i.run(&f, req.limits.deadline, None, req.limits.memory);
            i.hidden.raw_set("call", Value::Nil)?;
            Ok(res)
        });
        for name in ["KEYS", "ARGV", "EVAL_CMD"] {
            let _ = g.raw_set(name, Value::Nil);
        }
        match res.map_err(lua_err)? {
            Ok(v) => convert::write_result(&v, out),
            Err(_) if expired(req.limits) => Err(Error::Timeout),
            Err(e) if error::is_memory(&e) => Err(Error::Message("not enough memory".into())),
            Err(e) => Err(Error::Message(error::safe(&error::runtime(
                &e,
                &sha,
                origin(i),
            )))),
        }
    }
}

fn expired(limits: Limits) -> bool {
    limits
        .deadline
        .is_some_and(|d| std::time::Instant::now() >= d)
}

fn origin(i: &Interp) -> error::Origin {
    error::Origin {
        call: i.flag("failed"),
        global: i.flag("newglobal"),
    }
}

fn lua_err(e: mlua::Error) -> Error {
    Error::Message(e.to_string())
}

/// Tile38's `getArgs`: the arguments up to the first one that is not a
/// non-empty string or a number (numbers spelled as gopher-lua does).
fn call_args(args: MultiValue) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for v in args {
        let arg = match &v {
            Value::String(s) => s.as_bytes().to_vec(),
            Value::Number(n) => convert::go_number(*n).into_bytes(),
            Value::Integer(n) => n.to_string().into_bytes(),
            _ => break,
        };
        if arg.is_empty() {
            break;
        }
        out.push(arg);
    }
    out
}

/// `hidden.call(...)` → `true, reply` or `false, message, panic`.
fn host_call(
    lua: &mlua::Lua,
    host: &mut dyn CallHost,
    args: MultiValue,
) -> mlua::Result<MultiValue> {
    let args = call_args(args);
    let res = if args.is_empty() {
        // Tile38 slices `args[1:]` of nothing: the Go runtime's panic.
        let msg = lua.create_string("runtime error: slice bounds out of range [1:0]")?;
        return Ok(MultiValue::from_vec(vec![
            Value::Boolean(false),
            Value::String(msg),
            Value::Boolean(true),
        ]));
    } else {
        host.call(&args)
    };
    Ok(match res {
        Ok(reply) => MultiValue::from_vec(vec![
            Value::Boolean(true),
            convert::resp_to_lua(lua, &reply)?,
        ]),
        Err(msg) => MultiValue::from_vec(vec![
            Value::Boolean(false),
            Value::String(lua.create_string(msg)?),
        ]),
    })
}

impl Scripting for LuaScripting {
    fn eval(&self, req: &EvalRequest<'_>, host: &mut dyn CallHost, out: &mut Reply) -> Result<()> {
        let mut i = self.interp()?;
        let res = self.run_eval(&mut i, req, host, out);
        self.pool.put(i);
        res
    }

    fn load(&self, script: &[u8], _limits: Limits) -> Result<String> {
        let mut i = self.interp()?;
        let res = self.compile(&mut i, script, false).map(|(sha, _)| sha);
        self.pool.put(i);
        res
    }

    fn exists(&self, sha: &[u8]) -> bool {
        self.sources
            .read()
            .contains_key(String::from_utf8_lossy(sha).as_ref())
    }

    fn flush(&self) {
        self.sources.write().clear();
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    fn filter(&self, req: FilterRequest<'_>) -> Result<Box<dyn FieldFilter>> {
        let FilterRequest {
            script,
            is_sha,
            argv,
            limits,
        } = req;
        let mut i = self.interp()?;
        let compiled = self.compile(&mut i, script, is_sha);
        let (sha, f) = match compiled {
            Ok(c) => c,
            Err(e) => {
                self.pool.put(i);
                return Err(e);
            }
        };
        let setup = (|| -> mlua::Result<()> {
            let lua = &i.lua;
            let argv = lua.create_sequence_from(
                argv.iter()
                    .map(|a| lua.create_string(a))
                    .collect::<mlua::Result<Vec<_>>>()?,
            )?;
            lua.globals().raw_set("ARGV", argv)?;
            let refuse = lua.create_function(|lua, ()| {
                Ok((
                    false,
                    lua.create_string("command not supported in scripts")?,
                ))
            })?;
            i.hidden.raw_set("call", refuse)
        })();
        if let Err(e) = setup {
            self.pool.put(i);
            return Err(lua_err(e));
        }
        Ok(Box::new(Filter {
            state: Mutex::new(Some(i)),
            f,
            sha,
            limits,
            pool: self.pool.clone(),
        }))
    }
}

/// A WHEREEVAL filter: its interpreter is held for the search.
struct Filter {
    state: Mutex<Option<Interp>>,
    f: Function,
    sha: String,
    limits: Limits,
    pool: Arc<Pool>,
}

impl Drop for Filter {
    fn drop(&mut self) {
        if let Some(i) = self.state.lock().take() {
            for name in ["ARGV", "FIELDS"] {
                let _ = i.lua.globals().raw_set(name, Value::Nil);
            }
            let _ = i.hidden.raw_set("call", Value::Nil);
            self.pool.put(i);
        }
    }
}

/// A field as `FIELDS` holds it (Tile38's `luaSetField`).
fn field_value(lua: &mlua::Lua, v: &FieldValue) -> mlua::Result<Value> {
    Ok(match v {
        FieldValue::Null => Value::Nil,
        FieldValue::False => Value::Boolean(false),
        FieldValue::True => Value::Boolean(true),
        FieldValue::Number { value, .. } => Value::Number(*value),
        other => Value::String(lua.create_string(other.raw_bytes())?),
    })
}

/// Tile38's truth of a WHEREEVAL result.
fn truth(v: &Value) -> Result<bool> {
    Ok(match v {
        Value::Nil => false,
        Value::Boolean(b) => *b,
        Value::Number(n) => *n != 0.0,
        Value::Integer(n) => *n != 0,
        Value::String(s) => !s.as_bytes().is_empty(),
        Value::Table(t) => t.raw_len() != 0 || t.clone().pairs::<Value, Value>().next().is_some(),
        other => {
            return Err(Error::Message(format!(
                "script returned value of type {}",
                other.type_name()
            )))
        }
    })
}

impl FieldFilter for Filter {
    fn matches(&self, _id: &[u8], item: &Item) -> Result<bool> {
        let mut guard = self.state.lock();
        let Some(i) = guard.as_mut() else {
            return Err(Error::Timeout);
        };
        let lua = i.lua.clone();
        let fields = lua.create_table().map_err(lua_err)?;
        for (name, v) in item.fields.iter() {
            let v = field_value(&lua, v).map_err(lua_err)?;
            fields
                .raw_set(lua.create_string(name).map_err(lua_err)?, v)
                .map_err(lua_err)?;
        }
        lua.globals().raw_set("FIELDS", fields).map_err(lua_err)?;
        let res = i.run(
            &self.f,
            self.limits.deadline,
            self.limits.per_run,
            self.limits.memory,
        );
        let _ = lua.globals().raw_set("FIELDS", Value::Nil);
        match res {
            Ok(v) => truth(&v),
            Err(e) if i.spoiled => {
                // Stopped by a limit: the interpreter is not reused.
                let memory = error::is_memory(&e);
                if let Some(i) = guard.take() {
                    self.pool.put(i);
                }
                Err(match memory {
                    true => Error::Message("not enough memory".into()),
                    false => Error::Timeout,
                })
            }
            // Tile38 1.37 passes over an object whose script indexes a
            // missing value (checked: `return FIELDS.zz.y` matches nothing).
            Err(e) if format!("{e}").contains("attempt to index") => Ok(false),
            Err(e) => Err(Error::Message(error::runtime(&e, &self.sha, origin(i)))),
        }
    }
}
