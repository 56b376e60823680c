//! The server: the [`Engine`] (everything commands see) plus what needs
//! the async runtime: shutdown and follow-loop wakeups, the watches that
//! connections and replication streams wait on, and command timings.
//! `Server` derefs to its engine; it is also the engine's [`Runtime`]
//! (FOLLOW, AOFSHRINK, running a big command off the async worker).

use std::ops::Deref;
use std::sync::{Arc, Weak};

use tile38_aof::Aof;
use tile38_engine::config::Config;
use tile38_engine::{Engine, Options, Runtime};
use tile38_repl::Target;
use tokio::sync::Notify;

pub use tile38_engine::engine::{now_nanos, rss_bytes, thread_count};
pub use tile38_engine::ClientInfo;

pub struct Server {
    pub engine: Engine,
    pub shutdown: Notify,
    /// [`Aof::durable`] (bytes appended since start that are on disk), for
    /// connections waiting on `appendfsync always` (fed by the AOF writer
    /// thread).
    pub durable: Arc<tokio::sync::watch::Sender<u64>>,
    /// Bytes in the AOF file, for `AOF pos` streams (fed by the AOF writer
    /// thread; also bumped when the file is replaced).
    pub aof_written: Arc<tokio::sync::watch::Sender<u64>>,
    /// Bumped on every follower ack (`REPLCONF ack`): wakes the clients
    /// blocked in `WAIT` (`conn/wait.rs`).
    pub acks: Arc<tokio::sync::watch::Sender<u64>>,
    /// Wakes the follow loop when the follow target changes.
    pub follow_wake: Notify,
    /// Held by the running follow loop: a new one (after FOLLOW) starts
    /// only once the previous one has stopped touching the data.
    pub follow_running: tokio::sync::Mutex<()>,
    /// `AOFSHRINK` asks the background rewrite task.
    pub shrink_request: Notify,
    /// A connection released the write lock it held for a batch: wakes a
    /// connection waiting for it (`conn/lockwait.rs`).
    pub write_released: Notify,
    /// Connections waiting for `write_released`: while any wait, others
    /// queue behind them rather than take a free lock first.
    pub write_waiters: std::sync::atomic::AtomicUsize,
    /// The write lock is held by a connection that will signal its release.
    pub write_lock_signals: std::sync::atomic::AtomicBool,
    /// Command timings for `--metrics-addr`.
    pub metrics: crate::metrics::Metrics,
    /// Webhook delivery (opened at startup, after the AOF load).
    pub webhooks: std::sync::OnceLock<Arc<crate::hooks::HookDelivery>>,
    /// The elector under `--elect` (`crate::elect`).
    pub elector: std::sync::OnceLock<Arc<crate::elect::Handle>>,
    /// This server's own handle, for commands that start background tasks.
    me: std::sync::OnceLock<Weak<Server>>,
}

impl Deref for Server {
    type Target = Engine;

    fn deref(&self) -> &Engine {
        &self.engine
    }
}

impl Server {
    pub fn new(opts: Options, config: Config, aof: Option<Aof>) -> Server {
        let aof_written = Arc::new(tokio::sync::watch::Sender::new(
            aof.as_ref().map_or(0, Aof::written),
        ));
        let durable = Arc::new(tokio::sync::watch::Sender::new(
            aof.as_ref().map_or(0, Aof::durable),
        ));
        Server {
            engine: Engine::new(opts, config, aof),
            shutdown: Notify::new(),
            durable,
            aof_written,
            acks: Arc::new(tokio::sync::watch::Sender::new(0)),
            follow_wake: Notify::new(),
            follow_running: tokio::sync::Mutex::new(()),
            shrink_request: Notify::new(),
            write_released: Notify::new(),
            write_waiters: Default::default(),
            write_lock_signals: Default::default(),
            metrics: Default::default(),
            webhooks: Default::default(),
            elector: Default::default(),
            me: Default::default(),
        }
    }

    /// An in-process server ([`Options::in_process`], configuration in
    /// memory only).
    pub fn in_process() -> Server {
        let config = Config::load(None).expect("an in-memory config cannot fail");
        Server::new(Options::in_process(), config, None)
    }

    /// Wraps a server in its shared handle (remembered for
    /// [`Server::self_arc`], and made the engine's runtime).
    pub fn into_arc(self) -> Arc<Server> {
        let arc = Arc::new(self);
        let _ = arc.me.set(Arc::downgrade(&arc));
        let runtime: Weak<dyn Runtime> = Arc::downgrade(&arc) as Weak<dyn Runtime>;
        arc.engine.set_runtime(runtime);
        let acks = arc.acks.clone();
        arc.repl
            .set_on_ack(move || acks.send_modify(|n| *n = n.wrapping_add(1)));
        // Lua scripting (EVAL…, WHEREEVAL): one runtime per process.
        tile38_engine::script::install(tile38_script::LuaScripting::new());
        tile38_engine::script::refresh_filter_limits(&arc.engine);
        arc
    }

    /// The shared handle of a server made by [`Server::into_arc`].
    pub fn self_arc(&self) -> Option<Arc<Server>> {
        self.me.get().and_then(Weak::upgrade)
    }
}

/// A notification for `client` being killed (`CLIENT KILL`, shutdown), for
/// its connection's `select!`.
pub fn kill_notify(client: &ClientInfo) -> Arc<Notify> {
    let notify = Arc::new(Notify::new());
    let wake = notify.clone();
    client.on_kill(move || wake.notify_one());
    notify
}

impl Runtime for Server {
    fn check_leader(&self, host: &str, port: u16) -> Result<(), String> {
        let handle =
            tokio::runtime::Handle::try_current().map_err(|_| "cannot follow: no runtime")?;
        tokio::task::block_in_place(|| {
            handle.block_on(crate::repl::follower::check(self, host, port))
        })
    }

    fn start_following(&self, target: Option<Target>) -> Result<(), String> {
        let server = self.self_arc().ok_or("cannot follow")?;
        crate::repl::follower::start(&server, target);
        Ok(())
    }

    fn request_shrink(&self) {
        self.shrink_request.notify_one();
    }

    fn pending_events(&self) -> u64 {
        self.webhooks.get().map_or(0, |w| w.pending_events())
    }

    fn run_blocking(&self, f: &mut dyn FnMut()) {
        let on_worker = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if on_worker {
            tokio::task::block_in_place(f)
        } else {
            f()
        }
    }
}
