//! A session: one client's state (output mode, AUTH, its registry entry,
//! the write lock held across a pipelined batch) and the one path that
//! runs a command for it: gates, parse with no lock held, apply under the
//! lock its kind needs (a write journals what it changed as it applies). A socket connection (the server crate)
//! owns one; tests, benches and fuzz targets drive one directly.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use parking_lot::RwLock;
use tile38_collection::Database;
use tile38_proto::Args;

use crate::clients::ClientInfo;
use crate::cmd::{gate, ConnCx, ReadDb, ReadGate, Run, Spec, Via, WriteDb, WriteGate};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::journal::Origin;
use crate::reply::Reply;

pub struct Session {
    /// Sticky output mode (`Some(true)` = JSON).
    pub output: Option<bool>,
    pub authed: bool,
    pub client: Arc<ClientInfo>,
    /// The write lock kept across one batch's consecutive writes.
    pub lock: BatchLock,
    /// Whether this batch journaled a write (its replies may have to wait
    /// for the fsync).
    pub wrote: bool,
    /// `AOF pos` turned this connection into a replication stream from
    /// that offset of that AOF generation (after the pending replies are
    /// sent).
    pub takeover: Option<(u64, u64)>,
    /// SUBSCRIBE/PSUBSCRIBE asked for subscription mode: the connection
    /// makes the subscriber's outbox and calls
    /// [`Session::enter_subscription`] with the same command.
    pub subscribing: bool,
    /// MONITOR asked for monitor mode (`crate::monitor`).
    pub monitoring: bool,
    /// `WAIT` could not answer at once: the connection waits for the
    /// followers' acks and writes the reply (`cmd::repl::Wait`).
    pub wait: Option<crate::cmd::repl::WaitFor>,
    /// This connection is in subscription mode (`crate::pubsub`).
    pub subscription: Option<crate::pubsub::Subscription>,
}

/// The database lock a connection keeps across one pipelined batch: the
/// write lock across its consecutive writes, or the shared lock across its
/// consecutive reads, so one lock round-trip serves a batch instead of
/// each command (the lock word is shared by every core: taking and
/// dropping it per command moved its cache line between the cores twice
/// a command, `benches/README.md`, eleventh session). Released at the end
/// of every batch (never held across an `.await`), before a connection
/// command, and after a bounded number of commands so others get their
/// turn; a batch of reads also gives the shared lock up at its next read
/// when a write is blocked on it ([`Engine::write_pending`]), so a writer
/// waits one read at most, as before. A read takes the shared lock only
/// once it has parsed
/// ([`crate::cmd::ReadGate::run`]); a later read of the batch parses under
/// it, as a small write parses under the write lock.
#[derive(Default)]
pub struct BatchLock {
    guard: Option<parking_lot::ArcRwLockWriteGuard<parking_lot::RawRwLock, Database>>,
    /// Set through `&self` by the read that first needs it.
    shared: std::cell::OnceCell<parking_lot::ArcRwLockReadGuard<parking_lot::RawRwLock, Database>>,
    uses: u32,
}

impl BatchLock {
    const MAX_USES: u32 = 64;

    /// Counts one more command under the lock, giving it back first when
    /// the batch has used it [`Self::MAX_USES`] times.
    fn count_use(&mut self) {
        if self.uses >= Self::MAX_USES {
            self.release();
        }
        self.uses += 1;
    }

    /// Counts one more read; a shared hold is given up first when a writer
    /// waits for the lock ([`Engine::write_pending`]): it then waits one
    /// read at most, as it did when each read took the lock for itself.
    fn count_read(&mut self, engine: &Engine) {
        if self.holds_shared() && engine.write_pending.load(Ordering::Relaxed) > 0 {
            self.release();
        }
        self.count_use();
    }

    /// The database for a write, taking the lock if not held (a shared
    /// hold of this batch is given up first). A write that has to wait
    /// for it says so ([`Engine::write_pending`]).
    pub fn write(&mut self, engine: &Engine) -> &mut Database {
        self.count_use();
        self.shared.take();
        self.guard.get_or_insert_with(|| {
            engine.db.try_write_arc().unwrap_or_else(|| {
                engine.write_pending.fetch_add(1, Ordering::Relaxed);
                let guard = engine.db.write_arc();
                engine.write_pending.fetch_sub(1, Ordering::Relaxed);
                guard
            })
        })
    }

    /// The database for a read: the write lock if this batch holds it,
    /// else the shared lock, taken now if not held.
    pub fn read(&self, db: &Arc<RwLock<Database>>) -> &Database {
        match &self.guard {
            Some(g) => g,
            None => self.shared.get_or_init(|| db.read_arc()),
        }
    }

    /// Takes the write lock if it is free (or keeps it if held): whether
    /// this connection holds it now. Never blocks.
    pub fn try_take(&mut self, db: &Arc<RwLock<Database>>) -> bool {
        if self.guard.is_none() {
            // Our own shared hold would make the lock look taken.
            self.shared.take();
            self.guard = db.try_write_arc();
        }
        self.guard.is_some()
    }

    /// The database if this connection already holds the write lock.
    pub fn held(&self) -> Option<&Database> {
        self.guard.as_deref()
    }

    /// Whether this connection holds the shared lock for its reads.
    pub fn holds_shared(&self) -> bool {
        self.shared.get().is_some()
    }

    pub fn release(&mut self) {
        self.guard = None;
        self.shared.take();
        self.uses = 0;
    }
}

/// Arguments longer than this (bytes, all together) are not parsed under
/// the write lock a connection keeps across its pipelined writes: it is
/// released first, so that parsing a big object never holds other clients
/// up, while small commands keep one lock round-trip per batch.
const PARSE_UNLOCKED_BYTES: usize = 16 * 1024;

/// Commands with more argument bytes than this run off the async worker
/// ([`crate::Runtime::run_blocking`]): parsing megabytes takes long enough
/// to stall the other connections queued on that worker, PING on a new
/// connection included, and Tile38 keeps answering those.
const OFFLOAD_BYTES: usize = 256 * 1024;

impl Session {
    /// A fresh connection's state.
    pub fn new(client: Arc<ClientInfo>) -> Session {
        Session {
            output: None,
            authed: false,
            client,
            lock: Default::default(),
            wrote: false,
            takeover: None,
            subscribing: false,
            monitoring: false,
            wait: None,
            subscription: None,
        }
    }

    /// Whether running `args` would take the write lock on this batch's
    /// behalf (a write, small enough to parse under it, lock not held
    /// yet): a caller that must not block on the lock can take it first
    /// ([`BatchLock::try_take`]) or wait for it its own way.
    pub fn takes_write_lock(&self, args: &Args) -> bool {
        self.lock.guard.is_none()
            && args.total_bytes() <= PARSE_UNLOCKED_BYTES
            && matches!(
                crate::cmd::lookup(args.get(0)).map(|s| s.run),
                Some(Run::Write(_))
            )
    }

    /// A session registered as a loopback client of `engine`, for driving
    /// commands in-process (tests, benches, fuzzing).
    pub fn local(engine: &Engine, port: u16) -> Session {
        Session::new(engine.register_client(SocketAddr::from((Ipv4Addr::LOCALHOST, port))))
    }

    /// Runs one command (`args[0]` is its name) and writes the reply into
    /// `out`. Errors are returned for the caller to render in the reply's
    /// mode.
    pub fn execute(&mut self, engine: &Engine, args: &mut Args, out: &mut Reply) -> Result<()> {
        self.execute_via(engine, args, out, Via::Stream)
    }

    /// [`Session::execute`] for a request that arrived `via` HTTP. Every
    /// transport comes through here: the same [`gate`]s for all.
    pub fn execute_via(
        &mut self,
        engine: &Engine,
        args: &mut Args,
        out: &mut Reply,
        via: Via,
    ) -> Result<()> {
        let gate::Admitted { spec, deadline } = gate::admit(engine, self, args, via)?;
        let res = match spec {
            Some(spec) => self.run_spec(engine, spec, args, out, deadline),
            None => Err(Error::UnknownCommand(args.get(0).to_vec())),
        };
        let name = spec.map(|s| s.name);
        engine.monitors.command(
            engine,
            name,
            args,
            &self.client.addr,
            res.as_ref().map(|_| ()),
        );
        match deadline {
            // As Tile38: once the deadline has passed the answer is
            // `timeout`, whatever the command answered.
            Some(d) if Instant::now() >= d => Err(Error::Timeout),
            _ => res,
        }
    }

    /// Runs an admitted command: parsed with no lock taken, then applied
    /// under the lock its kind needs; a changing write journals its change.
    fn run_spec(
        &mut self,
        engine: &Engine,
        spec: &Spec,
        args: &Args,
        out: &mut Reply,
        deadline: Option<Instant>,
    ) -> Result<()> {
        let bytes = args.total_bytes();
        if bytes > PARSE_UNLOCKED_BYTES {
            self.lock.release();
        }
        // A read that runs off the worker takes its own shared lock.
        let batched = bytes <= OFFLOAD_BYTES;
        if batched && matches!(spec.run, Run::Read(_)) {
            self.lock.count_read(engine);
        }
        let mut run = || match spec.run {
            Run::Read(f) => {
                let gate = ReadGate {
                    engine,
                    deadline,
                    db: match batched {
                        true => ReadDb::Batch(&self.lock),
                        false => ReadDb::Own,
                    },
                };
                f(args, &gate, out)
            }
            Run::Write(f) => {
                let mut gate = WriteGate {
                    engine,
                    db: WriteDb::Batch(&mut self.lock),
                    command: spec.name,
                    origin: Origin::Client,
                };
                // The command journaled its change itself (`WriteCx::changed`).
                if f(args, &mut gate, out)? {
                    self.wrote = true;
                }
                Ok(())
            }
            Run::Conn(f) => {
                self.lock.release();
                let cx = &mut ConnCx {
                    engine,
                    conn: self,
                    deadline,
                };
                f(args, cx, out)
            }
        };
        if bytes <= OFFLOAD_BYTES {
            return run();
        }
        let mut res = None;
        engine.runtime().run_blocking(&mut || res = Some(run()));
        res.unwrap_or_else(|| Err(Error::Message("the command did not run".into())))
    }
}
