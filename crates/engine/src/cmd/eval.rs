//! EVAL, EVALSHA, EVALRO, EVALROSHA, EVALNA, EVALNASHA and SCRIPT
//! LOAD|EXISTS|FLUSH (Tile38's `scripts.go`), over the installed
//! [`crate::script::Scripting`] runtime, and the commands a script runs
//! (`tile38.call`): the command table's own `parse`/`apply` under the
//! lock the variant holds, each write journaled on its own (AOF,
//! replication, fences), as a client's.
//!
//! Locks (Tile38's `handleInputCommand`): EVAL holds the write lock for the
//! whole script, EVALRO the read lock, EVALNA none (each call takes the
//! one it needs). The script itself runs off the async worker
//! ([`crate::Runtime::run_blocking`]) so a long one stalls no other
//! connection that does not wait for its lock.

use tile38_collection::Database;
use tile38_proto::Args;

use super::{lookup, ConnCommand, ConnCx, ReadDb, ReadGate, Run, Spec, WriteDb, WriteGate};
use crate::cursor::{uint, Cursor};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::journal::Origin;
use crate::reply::Reply;
use crate::script::{scripting, CallHost, EvalRequest, Limits, Mode};

/// An EVAL-family command, parsed.
pub struct Eval<'a> {
    command: &'static str,
    mode: Mode,
    is_sha: bool,
    script: &'a [u8],
    keys: Vec<&'a [u8]>,
    argv: Vec<&'a [u8]>,
}

/// A non-empty argument: Tile38 takes an empty one as a missing one.
fn filled<'a>(c: &mut Cursor<'a>) -> Result<&'a [u8]> {
    c.token()
}

impl<'a> ConnCommand<'a> for Eval<'a> {
    /// `script|sha numkeys key… arg…` (`cmdEvalUnified`).
    fn parse(args: &'a Args) -> Result<Self> {
        let (command, mode, is_sha) = match args.get(0).to_ascii_lowercase().as_slice() {
            b"evalsha" => ("evalsha", Mode::Atomic, true),
            b"evalro" => ("evalro", Mode::ReadOnly, false),
            b"evalrosha" => ("evalrosha", Mode::ReadOnly, true),
            b"evalna" => ("evalna", Mode::NonAtomic, false),
            b"evalnasha" => ("evalnasha", Mode::NonAtomic, true),
            _ => ("eval", Mode::Atomic, false),
        };
        let mut c = Cursor::new(args);
        let script = filled(&mut c)?;
        let numkeys = uint(filled(&mut c)?)?;
        let mut keys = Vec::new();
        for _ in 0..numkeys {
            keys.push(filled(&mut c)?);
        }
        let mut argv = Vec::new();
        while c.remaining() > 0 {
            argv.push(filled(&mut c)?);
        }
        Ok(Eval {
            command,
            mode,
            is_sha,
            script,
            keys,
            argv,
        })
    }

    fn apply(self, cx: &mut ConnCx, out: &mut Reply) -> Result<()> {
        let engine = cx.engine;
        let scripting = scripting()?;
        let req = EvalRequest {
            script: self.script,
            is_sha: self.is_sha,
            command: self.command,
            mode: self.mode,
            keys: self.keys,
            argv: self.argv,
            limits: Limits::new(engine, cx.deadline),
        };
        let mut res = None;
        let mut wrote = false;
        engine.runtime().run_blocking(&mut || {
            let mut run = |db: HostDb| {
                let mut host = Host {
                    engine,
                    mode: req.mode,
                    db,
                    wrote: false,
                };
                let r = scripting.eval(&req, &mut host, out);
                wrote |= host.wrote;
                r
            };
            res = Some(match req.mode {
                Mode::Atomic => run(HostDb::Write(&mut engine.db.write())),
                Mode::ReadOnly => run(HostDb::Read(&engine.db.read())),
                Mode::NonAtomic => run(HostDb::None),
            });
        });
        if wrote {
            cx.conn.wrote = true;
        }
        res.unwrap_or_else(|| Err(Error::Message("the script did not run".into())))
    }
}

/// The database a script's calls use.
enum HostDb<'a> {
    Write(&'a mut Database),
    Read(&'a Database),
    /// EVALNA: each call locks for itself.
    None,
}

/// Runs a script's `tile38.call`s.
struct Host<'a> {
    engine: &'a Engine,
    mode: Mode,
    db: HostDb<'a>,
    /// A call journaled a write.
    wrote: bool,
}

/// What a script may call (Tile38 1.37, checked: the rest is `command not
/// supported in scripts`; FLUSHDB, HOOKS and INFO pass the checks but its
/// script dispatcher does not know them).
enum Class {
    Write,
    Read,
    Unknown,
    Unsupported,
}

fn class(name: &[u8]) -> Class {
    match name {
        b"set" | b"del" | b"drop" | b"fset" | b"expire" | b"persist" | b"jset" | b"jdel"
        | b"pdel" | b"rename" | b"renamenx" => Class::Write,
        b"get" | b"keys" | b"scan" | b"nearby" | b"within" | b"intersects" | b"search" | b"ttl"
        | b"bounds" | b"server" | b"type" | b"jget" | b"test" | b"fget" | b"exists"
        | b"fexists" => Class::Read,
        b"flushdb" | b"hooks" | b"info" => Class::Unknown,
        _ => Class::Unsupported,
    }
}

impl Host<'_> {
    /// Tile38's checks before a script's command runs, including the
    /// write refusals every client write gets (MISCONF, maxmemory).
    fn admit(&self, name: &[u8], class: &Class, args: &Args) -> Result<()> {
        let engine = self.engine;
        match class {
            Class::Unsupported => {
                return Err(Error::Message("command not supported in scripts".into()))
            }
            Class::Write | Class::Unknown if is_write(name) => {
                if self.mode == Mode::ReadOnly {
                    return Err(Error::ReadOnly);
                }
                super::gate::refuse_write(engine, args)?;
            }
            _ => {
                if engine.repl.following() && !engine.repl.caught_up_once() {
                    return Err(Error::CatchingUp);
                }
            }
        }
        Ok(())
    }

    fn run(&mut self, args: &Args) -> Result<Vec<u8>> {
        let name = args.get(0).to_ascii_lowercase();
        let class = class(&name);
        self.admit(&name, &class, args)?;
        let spec = match class {
            Class::Unknown => None,
            _ => lookup(&name),
        };
        let spec = spec.ok_or_else(|| Error::UnknownCommand(args.get(0).to_vec()))?;
        let res = self.execute(spec, args);
        let shown = res.as_ref().map(|_| ());
        (self.engine.monitors).command(self.engine, Some(spec.name), args, &"lua", shown);
        res
    }

    /// Runs the admitted command `spec` under the lock the script holds,
    /// or its own.
    fn execute(&mut self, spec: &Spec, args: &Args) -> Result<Vec<u8>> {
        let engine = self.engine;
        let mut out = Reply::new(false);
        match (spec.run, &mut self.db) {
            (Run::Write(f), HostDb::Write(db)) => {
                let mut gate = write_gate(engine, db, spec.name);
                self.wrote |= f(args, &mut gate, &mut out)?;
            }
            (Run::Write(f), HostDb::None) => {
                let mut db = engine.db.write();
                let mut gate = write_gate(engine, &mut db, spec.name);
                self.wrote |= f(args, &mut gate, &mut out)?;
            }
            (Run::Read(f), db) => {
                let db = match db {
                    HostDb::Write(db) => ReadDb::Held(db),
                    HostDb::Read(db) => ReadDb::Held(db),
                    HostDb::None => ReadDb::Own,
                };
                let gate = ReadGate {
                    engine,
                    deadline: None,
                    db,
                };
                f(args, &gate, &mut out)?;
            }
            _ => return Err(Error::ReadOnly),
        }
        Ok(out.buf)
    }
}

fn is_write(name: &[u8]) -> bool {
    matches!(class(name), Class::Write) || name == b"flushdb"
}

fn write_gate<'a>(
    engine: &'a Engine,
    db: &'a mut Database,
    command: &'static str,
) -> WriteGate<'a> {
    WriteGate {
        engine,
        db: WriteDb::Locked(db),
        command,
        origin: Origin::Client,
    }
}

impl CallHost for Host<'_> {
    fn call(&mut self, args: &[Vec<u8>]) -> std::result::Result<Vec<u8>, String> {
        let mut args = Args::from_slices(args);
        // `TIMEOUT secs CMD …` inside a script: the command, unwrapped.
        if args.get(0).eq_ignore_ascii_case(b"timeout") {
            if args.len() < 3 {
                return Err(Error::Arity.message());
            }
            args.drop_front(2);
        }
        self.run(&args).map_err(|e| e.message())
    }
}

/// `SCRIPT LOAD|EXISTS|FLUSH`, also sent as one argument (`"SCRIPT LOAD"`).
pub enum ScriptCmd<'a> {
    Load(&'a [u8]),
    Exists(Vec<&'a [u8]>),
    Flush,
}

impl<'a> ConnCommand<'a> for ScriptCmd<'a> {
    fn parse(args: &'a Args) -> Result<Self> {
        // The table names the three words (`cmd::resolve` joins `SCRIPT`
        // and its next argument, as Tile38's command switch does).
        let first = args.get(0);
        let mut c = Cursor::new(args);
        let sub = first.rsplit(|&b| b == b' ').next().unwrap_or_default();
        match sub.to_ascii_lowercase().as_slice() {
            b"load" => Ok(ScriptCmd::Load(filled(&mut c)?)),
            b"exists" => {
                let mut shas = Vec::new();
                while c.remaining() > 0 {
                    shas.push(filled(&mut c)?);
                }
                Ok(ScriptCmd::Exists(shas))
            }
            b"flush" => Ok(ScriptCmd::Flush),
            _ => Err(Error::UnknownCommand(first.to_vec())),
        }
    }

    fn apply(self, cx: &mut ConnCx, out: &mut Reply) -> Result<()> {
        let scripting = scripting()?;
        match self {
            ScriptCmd::Load(script) => {
                let sha = scripting.load(script, Limits::new(cx.engine, cx.deadline))?;
                if out.json {
                    out.key("result");
                    out.json_str(sha.as_bytes());
                } else {
                    out.resp_bulk(sha.as_bytes());
                }
            }
            ScriptCmd::Exists(shas) => {
                let found: Vec<i64> = shas.iter().map(|s| scripting.exists(s) as i64).collect();
                if out.json {
                    out.key("result");
                    out.push(b"[");
                    for (i, f) in found.iter().enumerate() {
                        out.push(if i > 0 { b"," } else { b"" });
                        out.json_i64(*f);
                    }
                    out.push(b"]");
                } else {
                    out.resp_array(found.len());
                    found.iter().for_each(|f| out.resp_int(*f));
                }
            }
            ScriptCmd::Flush => {
                scripting.flush();
                if !out.json {
                    out.resp_bulk(b"OK");
                }
            }
        }
        Ok(())
    }
}
