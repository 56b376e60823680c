//! One sandboxed Lua 5.1 interpreter and the pool that lends them out.
//!
//! The sandbox has exactly what Tile38 1.37's interpreters show a script
//! (checked against it): `_G`, `_VERSION`, `tonumber`, `tostring`, the
//! `string` and `math` libraries, `table` (concat, getn, insert, maxn,
//! remove, sort), `os.clock`, `os.difftime`, `json` (encode, decode) and
//! `tile38`; no `io`, `os.execute`, `load*`, `dofile`, `require`, `pcall`,
//! `error`, `pairs`, `setmetatable` or `debug`. Creating a global is an
//! error (`attempt to create global variable 'x'`), as in Tile38.
//!
//! Beyond Tile38: every run has a deadline, checked by an instruction-count
//! hook (a script stopped there answers Tile38's `timeout`), and a memory
//! cap (`Lua::set_memory_limit`). An interpreter that was stopped by either
//! is dropped, not returned to the pool.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mlua::{Function, HookTriggers, Lua, LuaOptions, StdLib, Table, Value, VmState};
use parking_lot::Mutex;

/// Lua run by every new interpreter: trims the standard libraries to
/// Tile38's set and defines the `tile38` and `json` tables over the Rust
/// functions it is given. `hidden` (never reachable by scripts) holds the
/// per-run `call` and the flags that shape error tracebacks.
const SANDBOX: &str = r#"
local hidden, gonum, sha1hex, distance_to, encode, decode = ...
local G, error, tostring, type, pairs = _G, error, tostring, type, pairs
local setmetatable, gmatch = setmetatable, string.gmatch
local function keep(t, names)
  local k = {}
  for n in gmatch(names, "%S+") do k[n] = true end
  for n in pairs(t) do if not k[n] then t[n] = nil end end
end
keep(G, "_G _VERSION tonumber tostring string table math os")
keep(os, "clock difftime")
keep(table, "concat getn insert maxn remove sort")
keep(string, "byte char dump find format gmatch gsub len lower match rep reverse sub upper")
keep(math, "abs acos asin atan atan2 ceil cos cosh deg exp floor fmod frexp huge ldexp " ..
  "log log10 max min mod modf pi pow rad random randomseed sin sinh sqrt tan tanh")
local function str(v)
  if type(v) == "number" then return gonum(v) end
  if type(v) == "string" then return v end
  return ""
end
G.tostring = function(v)
  if type(v) == "number" then return gonum(v) end
  return tostring(v)
end
G.tile38 = {
  call = function(...)
    local ok, v, panic = hidden.call(...)
    if ok then return v end
    hidden.failed = true
    if panic then error(v, 0) end
    error("ERR " .. v, 2)
  end,
  pcall = function(...)
    local ok, v, panic = hidden.call(...)
    if ok then return v end
    if panic then hidden.failed = true error(v, 0) end
    return {err = v}
  end,
  error_reply = function(s) return {err = str(s)} end,
  status_reply = function(s) return {ok = str(s)} end,
  sha1hex = function(s) return sha1hex(str(s)) end,
  distance_to = distance_to,
}
G.json = {encode = encode, decode = decode}
setmetatable(G, {__newindex = function(_, k)
  hidden.newglobal = true
  error("attempt to create global variable '" .. str(k) .. "'", 2)
end})
"#;

/// The limits of the current run, read by the hook.
#[derive(Default)]
struct RunLimits {
    deadline: Option<Instant>,
}

/// How often (in VM instructions) the time limit is checked.
const HOOK_EVERY: u32 = 10_000;

/// One interpreter.
pub struct Interp {
    pub lua: Lua,
    /// `hidden` of [`SANDBOX`].
    pub hidden: Table,
    /// Compiled scripts by SHA1 (valid for [`Interp::generation`]).
    pub compiled: Table,
    pub generation: u64,
    limits: Arc<Mutex<RunLimits>>,
    /// The run was stopped (time or memory): do not reuse.
    pub spoiled: bool,
}

impl Interp {
    pub fn new() -> mlua::Result<Interp> {
        let libs = StdLib::STRING | StdLib::TABLE | StdLib::MATH | StdLib::OS;
        let lua = Lua::new_with(libs, LuaOptions::new())?;
        let hidden = lua.create_table()?;
        let gonum = lua.create_function(|_, v: f64| Ok(crate::convert::go_number(v)))?;
        let sha1hex =
            lua.create_function(|_, s: mlua::String| Ok(crate::sha1_hex(&s.as_bytes())))?;
        let distance = lua.create_function(|_, (a, b, c, d): (f64, f64, f64, f64)| {
            Ok(tile38_geo::gomath::distance_to(a, b, c, d))
        })?;
        let (encode, decode) = crate::json::functions(&lua)?;
        lua.load(SANDBOX).set_name("=sandbox").call::<()>((
            hidden.clone(),
            gonum,
            sha1hex,
            distance,
            encode,
            decode,
        ))?;
        let limits = Arc::new(Mutex::new(RunLimits::default()));
        let seen = limits.clone();
        lua.set_hook(
            HookTriggers::new().every_nth_instruction(HOOK_EVERY),
            move |_, _| match seen.lock().deadline {
                Some(d) if Instant::now() >= d => Err(mlua::Error::runtime("timeout")),
                _ => Ok(VmState::Continue),
            },
        )?;
        Ok(Interp {
            compiled: lua.create_table()?,
            lua,
            hidden,
            generation: 0,
            limits,
            spoiled: false,
        })
    }

    /// The compiled function of script `sha` (`source`, compiled and kept
    /// if not yet); a syntax error is the compiler's message.
    pub fn function(&mut self, sha: &str, source: &[u8]) -> Result<Function, String> {
        if let Ok(f) = self.compiled.raw_get::<Function>(sha) {
            return Ok(f);
        }
        let f = self
            .lua
            .load(source)
            .set_name(format!("=f_{sha}"))
            .into_function()
            .map_err(|e| crate::error::syntax(&e, sha))?;
        let _ = self.compiled.raw_set(sha, f.clone());
        Ok(f)
    }

    /// Calls `f` under `deadline`/`per_run` and a memory cap of `memory`
    /// bytes above what the interpreter holds now (0: none).
    pub fn run(
        &mut self,
        f: &Function,
        deadline: Option<Instant>,
        per_run: Option<Duration>,
        memory: u64,
    ) -> mlua::Result<Value> {
        let own = per_run.map(|d| Instant::now() + d);
        let deadline = match (deadline, own) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.limits.lock().deadline = deadline;
        let cap = match memory {
            0 => 0,
            m => self.lua.used_memory().saturating_add(m as usize),
        };
        let _ = self.lua.set_memory_limit(cap);
        let _ = self.hidden.raw_set("failed", Value::Nil);
        let _ = self.hidden.raw_set("newglobal", Value::Nil);
        let res = f.call::<Value>(());
        self.limits.lock().deadline = None;
        let _ = self.lua.set_memory_limit(0);
        if res.is_err() && (deadline.is_some_and(|d| Instant::now() >= d) || is_memory(&res)) {
            self.spoiled = true;
        }
        res
    }

    /// A flag of `hidden` set by the sandbox during the last run.
    pub fn flag(&self, name: &str) -> bool {
        self.hidden.raw_get::<bool>(name).unwrap_or(false)
    }
}

fn is_memory(res: &mlua::Result<Value>) -> bool {
    match res {
        Err(e) => crate::error::is_memory(e),
        Ok(_) => false,
    }
}

/// Interpreters ready to run, shared by every connection: a script takes
/// one for its run, so scripts run side by side (up to Tile38's 1000).
#[derive(Default)]
pub struct Pool {
    idle: Mutex<Vec<Interp>>,
    total: Mutex<usize>,
}

/// Tile38's `maxLuaPoolSize`.
const MAX_INTERPRETERS: usize = 1000;

impl Pool {
    pub fn get(&self) -> Result<Interp, String> {
        if let Some(i) = self.idle.lock().pop() {
            return Ok(i);
        }
        {
            let mut total = self.total.lock();
            if *total >= MAX_INTERPRETERS {
                return Err("no interpreters available".into());
            }
            *total += 1;
        }
        Interp::new().map_err(|e| {
            *self.total.lock() -= 1;
            e.to_string()
        })
    }

    /// Returns `i` after a run (a spoiled one is dropped).
    pub fn put(&self, i: Interp) {
        if i.spoiled {
            *self.total.lock() -= 1;
            return;
        }
        self.idle.lock().push(i);
    }
}
