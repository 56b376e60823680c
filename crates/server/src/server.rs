//! Shared server state behind one cheap handle (`Arc<Server>`): the
//! database lock, configuration, AOF, counters and the client registry.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use parking_lot::{Mutex, RwLock};
use tile38_aof::Aof;
use tile38_collection::Database;
use tile38_proto::Args;
use tokio::sync::Notify;

use crate::config::Config;

/// Startup options that are not CONFIG properties.
#[derive(Clone, Debug)]
pub struct Options {
    pub host: String,
    pub port: u16,
    pub dir: PathBuf,
    /// `-o json|resp`: forced initial output mode (`Some(true)` = JSON).
    pub output_json: Option<bool>,
    pub http_transport: bool,
    /// `--protected-mode yes`.
    pub protected_mode: bool,
    pub appendonly: bool,
    pub appendfilename: Option<PathBuf>,
    /// `--follow host:port`.
    pub follow: Option<(String, u16)>,
    /// `T38HTTP500ERRORS`: HTTP 500 for every failed command.
    pub http_500_errors: bool,
}

impl Options {
    /// A server without sockets, data dir or AOF, for driving commands
    /// in-process (benches, fuzzing, unit tests).
    pub fn in_process() -> Options {
        Options {
            host: "127.0.0.1".into(),
            port: 0,
            dir: PathBuf::from("/nonexistent-tile38-in-process"),
            output_json: None,
            http_transport: true,
            protected_mode: false,
            appendonly: false,
            appendfilename: None,
            follow: None,
            http_500_errors: false,
        }
    }
}

impl Server {
    /// An in-process server ([`Options::in_process`], configuration in
    /// memory only).
    pub fn in_process() -> Server {
        let config = Config::load(None).expect("an in-memory config cannot fail");
        Server::new(Options::in_process(), config, None)
    }
}

/// Process-wide counters (INFO / SERVER EXT / metrics).
#[derive(Default)]
pub struct Stats {
    pub total_connections: AtomicU64,
    pub total_commands: AtomicU64,
    pub total_messages_sent: AtomicU64,
    pub expired_keys: AtomicU64,
    pub connected_clients: AtomicU64,
}

/// A connected client, for `CLIENT LIST|KILL|GETNAME|SETNAME`.
pub struct ClientInfo {
    pub id: u64,
    pub addr: SocketAddr,
    pub name: Mutex<Vec<u8>>,
    pub created: Instant,
    /// Milliseconds since server start of the last command.
    pub last_active_ms: AtomicU64,
    pub kill: Notify,
    pub killed: AtomicBool,
}

pub struct Server {
    pub opts: Options,
    pub config: Config,
    pub db: Arc<RwLock<Database>>,
    /// Webhook and channel definitions (`cmd::hooks`); taken after the
    /// database lock, never before it.
    pub hooks: Mutex<crate::cmd::hooks::Hooks>,
    pub aof: Option<Aof>,
    pub stats: Stats,
    pub started: Instant,
    pub start_unix: f64,
    pub loading: AtomicBool,
    /// Set by the memory check when used memory exceeds `maxmemory`.
    pub oom: AtomicBool,
    /// `maxmemory` in bytes (0: none), read by every write's memory check
    /// (`crate::gate`); refreshed by `background::check_memory`.
    pub memory_limit: AtomicU64,
    pub clients: Mutex<BTreeMap<u64, Arc<ClientInfo>>>,
    next_client_id: AtomicU64,
    pub shutdown: Notify,
    /// [`Aof::durable`] (bytes appended since start that are on disk), for
    /// connections waiting on `appendfsync always` (fed by the AOF writer
    /// thread).
    pub durable: Arc<tokio::sync::watch::Sender<u64>>,
    pub shrink: crate::shrink::ShrinkState,
    /// Leader and follower replication state (INFO, ROLE, SERVER, metrics).
    pub repl: tile38_repl::ReplState,
    /// Bytes in the AOF file, for `AOF pos` streams (fed by the AOF writer
    /// thread; also bumped when the file is replaced).
    pub aof_written: Arc<tokio::sync::watch::Sender<u64>>,
    /// Wakes the follow loop when the follow target changes.
    pub follow_wake: Notify,
    /// Held by the running follow loop: a new one (after FOLLOW) starts
    /// only once the previous one has stopped touching the data.
    pub follow_running: tokio::sync::Mutex<()>,
    /// This server's own handle, for commands that start background tasks.
    me: std::sync::OnceLock<std::sync::Weak<Server>>,
    /// Command timings for `--metrics-addr`.
    pub metrics: crate::metrics::Metrics,
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

    /// The database if this connection already holds the lock.
    pub fn held(&self) -> Option<&Database> {
        self.guard.as_deref()
    }

    pub fn release(&mut self) {
        self.guard = None;
        self.uses = 0;
    }
}

/// Current time in unix nanoseconds (object expiry deadlines).
pub fn now_nanos() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

impl Server {
    pub fn new(opts: Options, config: Config, aof: Option<Aof>) -> Server {
        let aof_written = Arc::new(tokio::sync::watch::Sender::new(
            aof.as_ref().map_or(0, Aof::written),
        ));
        let durable = Arc::new(tokio::sync::watch::Sender::new(
            aof.as_ref().map_or(0, Aof::durable),
        ));
        let memory_limit = AtomicU64::new(config.props().maxmemory);
        Server {
            memory_limit,
            opts,
            config,
            db: Arc::new(RwLock::new(Database::new())),
            hooks: Mutex::new(Default::default()),
            aof,
            stats: Stats::default(),
            started: Instant::now(),
            start_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0),
            loading: AtomicBool::new(false),
            oom: AtomicBool::new(false),
            clients: Mutex::new(BTreeMap::new()),
            durable,
            shrink: Default::default(),
            repl: Default::default(),
            aof_written,
            follow_wake: Notify::new(),
            follow_running: tokio::sync::Mutex::new(()),
            me: Default::default(),
            metrics: Default::default(),
            next_client_id: AtomicU64::new(1),
            shutdown: Notify::new(),
        }
    }

    /// Wraps a server in its shared handle (remembered for [`Server::self_arc`]).
    pub fn into_arc(self) -> Arc<Server> {
        let arc = Arc::new(self);
        let _ = arc.me.set(Arc::downgrade(&arc));
        arc
    }

    /// The shared handle of a server made by [`Server::into_arc`].
    pub fn self_arc(&self) -> Option<Arc<Server>> {
        self.me.get().and_then(std::sync::Weak::upgrade)
    }

    /// A write generated by the server itself while following is not
    /// journaled: the AOF mirrors the leader's, which logs its own.
    fn journals_internal(&self) -> bool {
        !self.repl.following()
    }

    /// Hands the configured `appendfsync` to the AOF (startup, CONFIG SET).
    pub fn apply_fsync_policy(&self) {
        if let Some(aof) = &self.aof {
            aof.set_fsync_policy(self.config.props().appendfsync);
        }
    }

    /// With `appendfsync always`, the [`Aof::durable`] count a reply must
    /// wait for before it may be sent: everything appended so far (`None`:
    /// nothing to wait for).
    pub fn durability_target(&self) -> Option<u64> {
        let aof = self.aof.as_ref()?;
        let appended = aof.appended();
        (aof.fsync_policy() == tile38_aof::Fsync::Always && aof.durable() < appended)
            .then_some(appended)
    }

    /// The one place every state-changing write passes through, under the
    /// database write lock and in execution order: the AOF today; the
    /// replication stream and geofence evaluation hook in here.
    pub fn journal(&self, args: &Args) {
        if let Some(aof) = &self.aof {
            aof.append(args.iter());
        }
    }

    /// A write generated by the server itself (expiry: `del key id`).
    pub fn journal_internal(&self, args: &[&[u8]]) {
        if !self.journals_internal() {
            return;
        }
        if let Some(aof) = &self.aof {
            aof.append(args.iter().copied());
        }
    }

    pub fn aof_size(&self) -> u64 {
        self.aof.as_ref().map_or(0, Aof::size)
    }

    pub fn register_client(&self, addr: SocketAddr) -> Arc<ClientInfo> {
        let id = self.next_client_id.fetch_add(1, Ordering::Relaxed);
        let info = Arc::new(ClientInfo {
            id,
            addr,
            name: Mutex::new(Vec::new()),
            created: Instant::now(),
            last_active_ms: AtomicU64::new(self.started.elapsed().as_millis() as u64),
            kill: Notify::new(),
            killed: AtomicBool::new(false),
        });
        self.clients.lock().insert(id, info.clone());
        self.stats.connected_clients.fetch_add(1, Ordering::Relaxed);
        self.stats.total_connections.fetch_add(1, Ordering::Relaxed);
        info
    }

    pub fn unregister_client(&self, id: u64) {
        self.repl.forget(id);
        if self.clients.lock().remove(&id).is_some() {
            self.stats.connected_clients.fetch_sub(1, Ordering::Relaxed);
        }
    }

    pub fn millis_since_start(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }
}

/// Resident memory of this process in bytes (`/proc/self/statm`).
pub fn rss_bytes() -> u64 {
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(1) as u64;
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * page)
}

/// OS threads of this process.
pub fn thread_count() -> u64 {
    std::fs::read_dir("/proc/self/task").map_or(1, |d| d.count() as u64)
}
