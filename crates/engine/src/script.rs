//! The engine's side of Lua scripting (issue 17): what the EVAL family,
//! SCRIPT and the `WHEREEVAL`/`WHEREEVALSHA` search filter ask of a
//! script runtime, as the [`Scripting`] trait. The `tile38-script` crate
//! implements it (a pool of sandboxed Lua 5.1 interpreters) and the server
//! installs it at startup ([`install`]); the engine never depends on it.
//!
//! A script reaches the database only through [`CallHost`], which the
//! EVAL commands implement over the engine's own command table
//! (`crate::cmd::eval`): `tile38.call` runs the same `parse`/`apply` and
//! journal as a client's command, so every write inside a script is logged
//! to the AOF, replicated and fenced one by one (Tile38's
//! `luaTile38AtomicRW`/`luaTile38NonAtomic`).
//!
//! The installed runtime is process-wide, as Tile38's script cache is:
//! search options are parsed with no engine at hand (before any lock), and
//! a `WHEREEVAL` compiles its script during that parse.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tile38_collection::Item;

use crate::error::{Error, Result};
use crate::reply::Reply;

/// Which EVAL variant runs: the lock it holds and what its calls may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// EVAL/EVALSHA: the whole script under the write lock.
    Atomic,
    /// EVALRO/EVALROSHA: under the read lock; writes answer `read only`.
    ReadOnly,
    /// EVALNA/EVALNASHA: no lock; each call takes the one it needs.
    NonAtomic,
}

/// The limits a script runs under (`lua-time-limit`, `lua-memory-limit`,
/// and a `TIMEOUT` prefix's deadline).
#[derive(Clone, Copy, Debug, Default)]
pub struct Limits {
    /// When the script is stopped with `timeout`.
    pub deadline: Option<Instant>,
    /// How long each run may take (a WHEREEVAL filter runs once per
    /// candidate, each run with this limit).
    pub per_run: Option<Duration>,
    /// Bytes the interpreter may hold (0: no cap).
    pub memory: u64,
}

impl Limits {
    /// The configured limits, and `deadline` (a `TIMEOUT` prefix) if sooner.
    pub fn new(engine: &crate::Engine, deadline: Option<Instant>) -> Limits {
        let p = engine.config.props();
        let own = (p.lua_time_limit > 0)
            .then(|| Instant::now() + Duration::from_millis(p.lua_time_limit));
        let deadline = match (own, deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Limits {
            deadline,
            per_run: None,
            memory: p.lua_memory_limit,
        }
    }
}

/// An EVAL request, parsed.
pub struct EvalRequest<'a> {
    /// The script text, or its SHA1 (hex) for the `…SHA` variants.
    pub script: &'a [u8],
    pub is_sha: bool,
    /// The command's lower-case name (`EVAL_CMD` in the script).
    pub command: &'static str,
    pub mode: Mode,
    pub keys: Vec<&'a [u8]>,
    pub argv: Vec<&'a [u8]>,
    pub limits: Limits,
}

/// How a script runs Tile38 commands (`tile38.call`, `tile38.pcall`).
pub trait CallHost {
    /// Runs `args` (`args[0]` is the command) as the script's EVAL variant
    /// allows, returning its RESP reply; the error is Tile38's message.
    fn call(&mut self, args: &[Vec<u8>]) -> std::result::Result<Vec<u8>, String>;
}

/// A compiled `WHEREEVAL` filter, holding an interpreter until dropped.
pub trait FieldFilter: Send + Sync {
    /// Whether the object passes (`FIELDS` holds its fields). An error
    /// stops the search with that message.
    fn matches(&self, id: &[u8], item: &Item) -> Result<bool>;
}

/// A `WHEREEVAL script nargs arg…` clause, parsed.
pub struct FilterRequest<'a> {
    /// The script text, or its SHA1 for `WHEREEVALSHA`.
    pub script: &'a [u8],
    pub is_sha: bool,
    pub argv: Vec<Vec<u8>>,
    pub limits: Limits,
}

/// A script runtime.
pub trait Scripting: Send + Sync {
    /// Runs an EVAL request, writing its reply into `out`.
    fn eval(&self, req: &EvalRequest<'_>, host: &mut dyn CallHost, out: &mut Reply) -> Result<()>;
    /// `SCRIPT LOAD`: compiles and caches `script`; its SHA1.
    fn load(&self, script: &[u8], limits: Limits) -> Result<String>;
    /// `SCRIPT EXISTS` for one SHA1.
    fn exists(&self, sha: &[u8]) -> bool;
    /// `SCRIPT FLUSH`.
    fn flush(&self);
    /// A `WHEREEVAL` (`WHEREEVALSHA`) filter.
    fn filter(&self, req: FilterRequest<'_>) -> Result<Box<dyn FieldFilter>>;
}

static SCRIPTING: OnceLock<Arc<dyn Scripting>> = OnceLock::new();
/// The limits of the installed runtime's engine, for WHEREEVAL (whose
/// parse has no engine at hand): time limit in ms and memory cap.
static FILTER_LIMITS: parking_lot::RwLock<(u64, u64)> = parking_lot::RwLock::new((5000, 64 << 20));

/// Installs the script runtime (once per process, at startup).
pub fn install(scripting: Arc<dyn Scripting>) {
    let _ = SCRIPTING.set(scripting);
}

/// The installed runtime: `scripting is not available` without one (an
/// in-process engine).
pub fn scripting() -> Result<&'static Arc<dyn Scripting>> {
    SCRIPTING
        .get()
        .ok_or_else(|| Error::Message("scripting is not available".into()))
}

/// Keeps WHEREEVAL's limits in step with `engine`'s configuration.
pub fn refresh_filter_limits(engine: &crate::Engine) {
    let p = engine.config.props();
    *FILTER_LIMITS.write() = (p.lua_time_limit, p.lua_memory_limit);
}

/// One `WHEREEVAL`/`WHEREEVALSHA` clause of a search.
pub struct WhereEval(Box<dyn FieldFilter>);

impl std::fmt::Debug for WhereEval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WhereEval")
    }
}

impl WhereEval {
    /// Parses `script nargs arg…` after the keyword (Tile38's
    /// `parseSearchScanBaseTokens`): an empty script or count is an arity
    /// error, the count a Go unsigned integer, every arg non-empty.
    pub fn parse(c: &mut crate::cursor::Cursor<'_>, is_sha: bool) -> Result<WhereEval> {
        let script = c.next()?;
        let count = c.next()?;
        if script.is_empty() || count.is_empty() {
            return Err(Error::Arity);
        }
        let n = crate::cursor::uint(count)?;
        let mut argv = Vec::new();
        for _ in 0..n {
            let arg = c.next()?;
            if arg.is_empty() {
                return Err(Error::Arity);
            }
            argv.push(arg.to_vec());
        }
        let (ms, memory) = *FILTER_LIMITS.read();
        let limits = Limits {
            deadline: None,
            per_run: (ms > 0).then(|| Duration::from_millis(ms)),
            memory,
        };
        let req = FilterRequest {
            script,
            is_sha,
            argv,
            limits,
        };
        Ok(WhereEval(scripting()?.filter(req)?))
    }

    pub fn matches(&self, id: &[u8], item: &Item) -> bool {
        self.0.matches(id, item).unwrap_or(false)
    }

    /// Like [`WhereEval::matches`], with the script's error.
    pub fn try_matches(&self, id: &[u8], item: &Item) -> Result<bool> {
        self.0.matches(id, item)
    }
}
