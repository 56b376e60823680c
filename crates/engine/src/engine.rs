//! The engine's shared state behind one handle: the database lock, the
//! configuration, the AOF, hook definitions, counters, the client registry
//! and replication state: everything a command reads or changes, and
//! nothing that needs an async runtime. The server crate wraps it (its
//! `Engine` derefs to [`Engine`]) and adds sockets, timers and tasks,
//! which commands reach through [`Runtime`].

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use parking_lot::{Mutex, RwLock};
use tile38_aof::Aof;
use tile38_collection::Database;

use crate::clients::ClientInfo;
use crate::config::Config;
use crate::journal::{Change, ChangeSink, Origin, Record, Sinks, What};
use crate::runtime::{NoRuntime, Runtime};

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
    /// An engine without sockets, data dir or AOF, for driving commands
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

/// Process-wide counters (INFO / SERVER EXT / metrics).
#[derive(Default)]
pub struct Stats {
    pub total_connections: AtomicU64,
    pub total_commands: AtomicU64,
    pub total_messages_sent: AtomicU64,
    pub expired_keys: AtomicU64,
    pub connected_clients: AtomicU64,
    /// Connections closed by `client-output-buffer-limit`
    /// (`tile38_client_output_limit_disconnects_total`).
    pub output_limit_disconnects: AtomicU64,
}

/// AOF rewrite state shown by INFO/SERVER; the rewrite itself is the
/// server's (`shrink.rs` there). The journal invalidates it
/// ([`Change::invalidates_rewrite`]).
#[derive(Default)]
pub struct ShrinkState {
    pub running: AtomicBool,
    /// AOF size after the last rewrite (or at startup).
    pub base_size: AtomicU64,
    /// Seconds the last rewrite took (rounded down).
    pub last_secs: AtomicU64,
    pub count: AtomicU64,
    /// A write the rewrite's walk cannot reproduce was made since the
    /// current rewrite began. Set and read only under the database write
    /// lock.
    invalidated: AtomicBool,
}

impl ShrinkState {
    /// Marks a running rewrite as unusable (a change that is not
    /// idempotent: a `RENAME`, an appending `JSET`; see the server's
    /// `shrink.rs`). Harmless when no rewrite runs: each rewrite clears it
    /// as it begins.
    pub fn invalidate(&self) {
        self.invalidated.store(true, Ordering::Relaxed);
    }

    /// A rewrite begins (under the write lock).
    pub fn begin(&self) {
        self.invalidated.store(false, Ordering::Relaxed);
    }

    /// Whether a write invalidated the rewrite since [`ShrinkState::begin`].
    pub fn invalidated(&self) -> bool {
        self.invalidated.load(Ordering::Relaxed)
    }
}

pub struct Engine {
    pub opts: Options,
    pub config: Config,
    pub db: Arc<RwLock<Database>>,
    /// Connections blocked on `db`'s write lock ([`crate::session::BatchLock`]):
    /// a batch of reads holding the shared lock gives it up at its next read.
    pub write_pending: std::sync::atomic::AtomicU32,
    /// Webhook and channel definitions (`cmd::hooks`); taken after the
    /// database lock, never before it.
    pub hooks: Mutex<crate::cmd::hooks::Hooks>,
    /// Pub/sub subscribers (`crate::pubsub`); taken after the database
    /// lock, never before it.
    pub pubsub: crate::pubsub::PubSub,
    /// Every hook, channel and live fence (`crate::fence`); taken after
    /// the database lock and `hooks`, never before them.
    pub fences: crate::fence::Fences,
    /// MONITOR connections (`crate::monitor`).
    pub monitors: crate::monitor::Monitors,
    pub aof: Option<Aof>,
    pub stats: Stats,
    pub started: Instant,
    pub start_unix: f64,
    pub loading: AtomicBool,
    /// Set by the memory check when used memory exceeds `maxmemory`.
    pub oom: AtomicBool,
    /// `maxmemory` in bytes (0: none), read by every write's memory check
    /// (`crate::refusal`); refreshed by [`Engine::check_memory`].
    pub memory_limit: AtomicU64,
    pub clients: Mutex<BTreeMap<u64, Arc<ClientInfo>>>,
    pub(crate) next_client_id: AtomicU64,
    pub shrink: ShrinkState,
    /// Leader and follower replication state (INFO, ROLE, SERVER, metrics).
    pub repl: tile38_repl::ReplState,
    /// The elected role under `--elect` (`crate::elect`; off otherwise).
    pub elect: crate::elect::ElectView,
    /// What commands ask of the runtime around the engine (set once).
    runtime: OnceLock<Weak<dyn Runtime>>,
    /// Subscribers to every change ([`Engine::subscribe`]).
    sinks: RwLock<Sinks>,
    /// Whether `sinks` has any: read by every write, which then keeps what
    /// it replaced in full ([`crate::cmd::WriteCx::keeps_prior`]). Changed
    /// only under the database write lock, so it holds still for a write.
    listening: AtomicBool,
}

/// Current time in unix nanoseconds (object expiry deadlines).
pub fn now_nanos() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

impl Engine {
    pub fn new(opts: Options, config: Config, aof: Option<Aof>) -> Engine {
        let memory_limit = AtomicU64::new(config.props().maxmemory);
        Engine {
            memory_limit,
            opts,
            config,
            db: Arc::new(RwLock::new(Database::new())),
            write_pending: Default::default(),
            hooks: Mutex::new(Default::default()),
            pubsub: Default::default(),
            fences: Default::default(),
            monitors: Default::default(),
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
            next_client_id: AtomicU64::new(1),
            shrink: Default::default(),
            repl: Default::default(),
            elect: Default::default(),
            runtime: OnceLock::new(),
            sinks: RwLock::new(Vec::new()),
            listening: AtomicBool::new(false),
        }
    }

    /// An in-process engine ([`Options::in_process`], configuration in
    /// memory only, no runtime).
    pub fn in_process() -> Engine {
        let config = Config::load(None).expect("an in-memory config cannot fail");
        Engine::new(Options::in_process(), config, None)
    }

    /// Connects the runtime that owns this engine (once, at startup).
    pub fn set_runtime(&self, runtime: Weak<dyn Runtime>) {
        let _ = self.runtime.set(runtime);
    }

    /// The runtime, or one that does nothing (in-process engines, or
    /// while the server shuts down).
    pub fn runtime(&self) -> Arc<dyn Runtime> {
        self.runtime
            .get()
            .and_then(Weak::upgrade)
            .unwrap_or_else(|| Arc::new(NoRuntime))
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

    /// The one place every change passes through, under the database
    /// write lock and in execution order (see [`crate::journal`]): the AOF
    /// append, the rewrite invalidation, then the subscribers, who get `db`
    /// as the write left it.
    pub fn journal(&self, db: &Database, change: &Change) {
        let logged = match change.origin {
            Origin::Client => true,
            Origin::Internal => self.journals_internal(),
            // A follower mirrors the leader's bytes itself; a load reads
            // them from the file.
            Origin::Replicated | Origin::Loaded => false,
        };
        if logged {
            if let Some(aof) = &self.aof {
                aof.append(change.record.words());
            }
        }
        if change.invalidates_rewrite() {
            self.shrink.invalidate();
        }
        if change.origin == Origin::Loaded {
            return;
        }
        // Geofencing first: its channel events are published before the
        // command's reply, as Tile38 does.
        self.fences.on_change(self, db, change);
        if self.listening() {
            for sink in self.sinks.read().iter() {
                sink.on_change(db, change);
            }
        }
    }

    /// Journals a write the server makes itself (an object or a hook
    /// expiring): `record` is what the AOF logs for it (`del key id`,
    /// `delhook name`), `command` its lower-case name.
    pub fn journal_internal(
        &self,
        db: &Database,
        command: &'static str,
        record: &[&[u8]],
        key: &[u8],
        what: What,
    ) {
        self.journal(
            db,
            &Change {
                record: Record::Words(record),
                command,
                origin: Origin::Internal,
                key,
                what,
                idempotent: true,
            },
        );
    }

    /// Registers a subscriber to every change from now on. Takes the
    /// database write lock: never call it holding the database lock.
    pub fn subscribe(&self, sink: Arc<dyn ChangeSink>) {
        let _db = self.db.write();
        let mut sinks = self.sinks.write();
        sinks.push(sink);
        self.listening.store(true, Ordering::Relaxed);
    }

    /// Removes a subscriber [`Engine::subscribe`] registered (the same
    /// `Arc`); whether it was registered.
    pub fn unsubscribe(&self, sink: &Arc<dyn ChangeSink>) -> bool {
        let _db = self.db.write();
        let mut sinks = self.sinks.write();
        let before = sinks.len();
        sinks.retain(|s| !Arc::ptr_eq(s, sink));
        self.listening.store(!sinks.is_empty(), Ordering::Relaxed);
        sinks.len() < before
    }

    /// Whether anyone subscribes to changes.
    pub fn listening(&self) -> bool {
        self.listening.load(Ordering::Relaxed)
    }

    pub fn aof_size(&self) -> u64 {
        self.aof.as_ref().map_or(0, Aof::size)
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
