//! The command table and dispatch.
//!
//! Each command is a struct with `parse` (arguments → typed request, no
//! locks held) and `apply` (under the database lock). The table says what
//! kind each command is; a table entry parses first and only then asks its
//! [`ReadGate`]/[`WriteGate`] for the lock, so a big or slow argument list
//! never stalls other clients (Tile38 keeps answering them too). Every
//! request, whatever its transport, passes [`gate::admit`] (Tile38's AUTH,
//! LOADING, follower, READONLY and TIMEOUT rules) first, and every write
//! that changed something reports it through [`WriteCx::changed`] to
//! [`Engine::journal`], the single seam for the AOF, the AOF rewrite and
//! the subscribers (geofencing, scripting): see [`crate::journal`].

mod client;
mod config_cmd;
mod del;
mod eval;
pub mod expire;

mod fields;
pub(crate) mod gate;
mod get;
pub use gate::Via;
mod admin;
pub mod hooks;
mod json;
mod keys;
mod nearby;
pub mod output;
mod pubsub;
pub mod repl;
mod scan;
mod server_info;
mod session;
mod table;
pub use table::{lookup, resolve, Spec};
pub mod set;
mod testcmd;
mod within;

use std::time::Instant;

use tile38_collection::Database;
use tile38_proto::Args;

use crate::engine::{now_nanos, Engine};
use crate::error::{Error, Result};
use crate::journal::{Change, Edit, Origin, Record, What};
use crate::reply::Reply;
use crate::session::BatchLock;
use crate::session::Session;

/// Context of a read command (shared database lock held).
pub struct ReadCx<'a> {
    pub db: &'a Database,
    pub engine: &'a Engine,
    /// `TIMEOUT` deadline, checked by long scans.
    pub deadline: Option<Instant>,
}

impl ReadCx<'_> {
    /// Unix nanoseconds (read only by commands that need it: TTL).
    pub fn now(&self) -> i64 {
        now_nanos()
    }

    /// Fails with `timeout` once the `TIMEOUT` deadline has passed.
    pub fn check_deadline(&self) -> Result<()> {
        match self.deadline {
            Some(d) if Instant::now() >= d => Err(Error::Timeout),
            _ => Ok(()),
        }
    }
}

/// Context of a write command (exclusive database lock held): the
/// database, and the journal the command reports its change to.
pub struct WriteCx<'a> {
    pub db: &'a mut Database,
    pub engine: &'a Engine,
    /// What the AOF logs for this write.
    record: &'a Args,
    /// The command's name in the table.
    command: &'static str,
    origin: Origin,
    /// Whether the command journaled a change.
    changed: bool,
}

impl<'a> WriteCx<'a> {
    /// The context of the write `record` (a `command` of the table) that
    /// came from `origin`.
    pub fn new(
        engine: &'a Engine,
        db: &'a mut Database,
        record: &'a Args,
        command: &'static str,
        origin: Origin,
    ) -> Self {
        WriteCx {
            db,
            engine,
            record,
            command,
            origin,
            changed: false,
        }
    }

    /// Unix nanoseconds (read only by commands that need it: EX, EXPIRE).
    pub fn now(&self) -> i64 {
        now_nanos()
    }

    /// Whether a write should keep, in full, what it replaces (the old
    /// fields of a SET or FSET, which otherwise change in place): only
    /// when someone subscribes to changes ([`crate::journal::Prior`]).
    pub fn keeps_prior(&self) -> bool {
        self.origin != Origin::Loaded && (self.engine.listening() || self.engine.fences.active())
    }

    /// Journals what the command did to `key`: once per command, after the
    /// database has changed, and only if it did ([`Engine::journal`]).
    pub fn changed(&mut self, key: &[u8], what: What<'_>) {
        let idempotent = match what {
            What::Renamed { to, .. } => to == key,
            _ => true,
        };
        self.journal(key, what, idempotent);
    }

    /// [`WriteCx::changed`] for one object.
    pub fn changed_one(&mut self, key: &[u8], edit: Edit<'_>) {
        self.changed(key, What::Objects(std::slice::from_ref(&edit)));
    }

    /// [`WriteCx::changed`] for a write whose record must not be applied
    /// twice ([`Change::idempotent`]).
    pub fn changed_not_idempotent(&mut self, key: &[u8], what: What<'_>) {
        self.journal(key, what, false);
    }

    fn journal(&mut self, key: &[u8], what: What<'_>, idempotent: bool) {
        debug_assert!(!self.changed, "{}: one change per command", self.command);
        let change = Change {
            record: Record::Args(self.record),
            command: self.command,
            origin: self.origin,
            key,
            what,
            idempotent,
        };
        self.engine.journal(self.db, &change);
        self.changed = true;
    }

    /// Whether the command journaled a change.
    pub fn journaled(&self) -> bool {
        self.changed
    }
}

/// Context of a connection-level command (no database lock).
pub struct ConnCx<'a> {
    pub engine: &'a Engine,
    pub conn: &'a mut Session,
    /// `TIMEOUT` deadline (EVAL stops its script there).
    pub deadline: Option<Instant>,
}

/// A read-only command; `'a` lets hot commands borrow their arguments.
pub trait ReadCommand<'a>: Sized {
    fn parse(args: &'a Args) -> Result<Self>;
    fn apply(&self, cx: &ReadCx, out: &mut Reply) -> Result<()>;
}

/// A command that may change the database; `apply` reports what it
/// changed, if anything, through [`WriteCx::changed`].
pub trait WriteCommand<'a>: Sized {
    fn parse(args: &'a Args) -> Result<Self>;
    fn apply(self, cx: &mut WriteCx, out: &mut Reply) -> Result<()>;
}

/// A command about the connection or the server, not the data.
pub trait ConnCommand<'a>: Sized {
    fn parse(args: &'a Args) -> Result<Self>;
    fn apply(self, cx: &mut ConnCx, out: &mut Reply) -> Result<()>;
}

/// Where a parsed read command takes the database from: a database its
/// caller holds already (a script's lock), or the shared lock, taken only
/// once the command has parsed and kept by its connection's
/// [`BatchLock`] for the batch's next reads.
pub struct ReadGate<'a> {
    pub(crate) engine: &'a Engine,
    pub(crate) deadline: Option<Instant>,
    pub(crate) db: ReadDb<'a>,
}

pub(crate) enum ReadDb<'a> {
    Held(&'a Database),
    Batch(&'a BatchLock),
    /// The shared lock for this command alone.
    Own,
}

impl ReadGate<'_> {
    /// Runs `f` with the database locked for reading.
    pub fn run<R>(&self, f: impl FnOnce(&ReadCx) -> R) -> R {
        let (engine, deadline) = (self.engine, self.deadline);
        let cx = |db| ReadCx {
            db,
            engine,
            deadline,
        };
        match self.db {
            ReadDb::Held(db) => f(&cx(db)),
            ReadDb::Batch(lock) => f(&cx(lock.read(&engine.db))),
            ReadDb::Own => f(&cx(&engine.db.read())),
        }
    }
}

/// Where a parsed write command takes the database from: a database its
/// caller has locked already (AOF replay, a leader's stream), or its
/// connection's [`BatchLock`], taken only once the command has parsed.
pub struct WriteGate<'a> {
    pub(crate) engine: &'a Engine,
    pub(crate) db: WriteDb<'a>,
    /// The command's name in the table and where it came from, for the
    /// journal.
    pub(crate) command: &'static str,
    pub(crate) origin: Origin,
}

pub(crate) enum WriteDb<'a> {
    Locked(&'a mut Database),
    Batch(&'a mut BatchLock),
}

impl WriteGate<'_> {
    /// The context of the write `record`, taking the lock if it is not
    /// held yet.
    pub fn cx<'s>(&'s mut self, record: &'s Args) -> WriteCx<'s> {
        let db = match &mut self.db {
            WriteDb::Locked(db) => &mut **db,
            WriteDb::Batch(lock) => lock.write(self.engine),
        };
        WriteCx::new(self.engine, db, record, self.command, self.origin)
    }
}

type ReadFn = fn(&Args, &ReadGate, &mut Reply) -> Result<()>;
/// Returns whether the command journaled a change.
type WriteFn = fn(&Args, &mut WriteGate, &mut Reply) -> Result<bool>;
type ConnFn = fn(&Args, &mut ConnCx, &mut Reply) -> Result<()>;

#[derive(Clone, Copy)]
pub enum Run {
    Read(ReadFn),
    Write(WriteFn),
    Conn(ConnFn),
}

/// Replays one AOF command at startup: like a client write, but `key not
/// found` / `id not found` are not errors, nothing is journaled again and
/// subscribers do not hear of it.
pub fn replay(engine: &Engine, args: &Args) -> std::result::Result<(), String> {
    apply_loaded(engine, &mut engine.db.write(), args)
}

/// Applies a record of the AOF being loaded at startup to `db`, which the
/// caller has locked ([`Origin::Loaded`]).
pub fn apply_loaded(
    engine: &Engine,
    db: &mut Database,
    args: &Args,
) -> std::result::Result<(), String> {
    apply_logged(engine, db, args, Origin::Loaded)
}

/// Applies a write of the leader's stream to `db`, which the caller has
/// locked ([`Origin::Replicated`]: not appended to the AOF, which the
/// follower mirrors itself; subscribers hear of it).
pub fn apply_replicated(
    engine: &Engine,
    db: &mut Database,
    args: &Args,
) -> std::result::Result<(), String> {
    apply_logged(engine, db, args, Origin::Replicated)
}

/// Applies a logged write: errors a replay tolerates are not errors.
fn apply_logged(
    engine: &Engine,
    db: &mut Database,
    args: &Args,
    origin: Origin,
) -> std::result::Result<(), String> {
    let name = args.get(0);
    let spec = lookup(name).ok_or_else(|| Error::UnknownCommand(name.to_vec()).message())?;
    let Run::Write(f) = spec.run else {
        return Err(Error::UnknownCommand(name.to_vec()).message());
    };
    let mut out = Reply::new(true);
    let mut gate = WriteGate {
        engine,
        db: WriteDb::Locked(db),
        command: spec.name,
        origin,
    };
    replayed(f(args, &mut gate, &mut out))
}

/// The outcome of a replayed write: the errors a client would get when a
/// write changes nothing (`key not found`, `id not found`, …) are not
/// errors when replaying.
pub fn replayed<T>(result: Result<T>) -> std::result::Result<(), String> {
    match result {
        Ok(_) | Err(Error::KeyNotFound) | Err(Error::IdNotFound) => Ok(()),
        Err(Error::IdAlreadyExists) | Err(Error::PathNotFound) => Ok(()),
        Err(e) => Err(e.message()),
    }
}

/// Bytes allocated on the heap (the figure `maxmemory` is compared with).
pub fn server_heap_alloc() -> u64 {
    server_info::heap().alloc
}
