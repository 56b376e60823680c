//! A session: one client's state (output mode, AUTH, its registry entry,
//! the write lock held across a pipelined batch) and the one path that
//! runs a command for it: gates, parse with no lock held, apply under the
//! lock its kind needs (a write journals what it changed as it applies). A socket connection (the server crate)
//! owns one; tests, benches and fuzz targets drive one directly.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::RwLock;
use tile38_collection::Database;
use tile38_proto::Args;

use crate::clients::ClientInfo;
use crate::cmd::{gate, ConnCx, ReadGate, Run, Spec, Via, WriteDb, WriteGate};
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

/// A database write lock that a connection keeps across the consecutive
/// writes of one pipelined batch: one lock round-trip per batch instead of
/// per command. Released at the end of every batch (never held across an
/// `.await`) and after a bounded number of commands so others get their turn.
#[derive(Default)]
pub struct BatchLock {
    guard: Option<parking_lot::ArcRwLockWriteGuard<parking_lot::RawRwLock, Database>>,
    uses: u32,
}

impl BatchLock {
    const MAX_USES: u32 = 64;

    /// The database for a write, taking the lock if not held.
    pub fn write(&mut self, db: &Arc<RwLock<Database>>) -> &mut Database {
        if self.uses >= Self::MAX_USES {
            self.release();
        }
        self.uses += 1;
        self.guard.get_or_insert_with(|| db.write_arc())
    }

    /// Takes the lock if it is free (or keeps it if held): whether this
    /// connection holds it now. Never blocks.
    pub fn try_take(&mut self, db: &Arc<RwLock<Database>>) -> bool {
        if self.guard.is_none() {
            self.guard = db.try_write_arc();
        }
        self.guard.is_some()
    }

    /// The database if this connection already holds the lock.
    pub fn held(&self) -> Option<&Database> {
        self.guard.as_deref()
    }

    pub fn release(&mut self) {
        self.guard = None;
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
        let mut run = || match spec.run {
            Run::Read(f) => {
                let gate = ReadGate {
                    engine,
                    deadline,
                    held: self.lock.held(),
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
