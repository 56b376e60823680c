//! Automatic failover for tile38-server (issue 20, items 1–3): which member
//! holds the leader lock, kept in a store the platform already trusts
//! (Patroni's model), never in a consensus of our own.
//!
//! - [`ElectUrl`]: `--elect etcd://host:port[,…]/NAME` or
//!   `kubernetes://NAMESPACE/LEASE-NAME`.
//! - [`core`]: the sans-IO decision core (when to observe, try, renew, step
//!   down; the lag-proportional wait; epochs), driven with explicit times.
//! - [`etcd`] / [`kube`]: the two lock stores; [`record`]: what the lock
//!   says about its holder.
//! - [`stamp`]: the position's epoch kept across a restart (the file's
//!   format and when it counts).
//! - [`Elector`]: the handle the server holds; a tokio task runs the core
//!   against a store and publishes each [`Decision`] on a `watch` channel.
//!
//! The server reports its candidacy through [`Candidacy::lag`] and obeys the
//! decisions: `Lead` → stop following and accept writes; `Follow` → follow
//! that address; `NoLeader` and `SteppingDown` → refuse writes at once.
//! This crate knows nothing of the engine or the server.
//!
//! Wiring, in outline (the server owns the follow loop and the write gate):
//!
//! ```text
//! let url = ElectUrl::parse(&args.elect)?;
//! let mut s = Settings::new(&args.advertise);        // + lease, max_lag, …
//! let lag = move || repl.lag_bytes_if_synced();       // Option<u64>
//! let elector = Elector::start(&url, s, Arc::new(lag)).await?;
//! let mut rx = elector.decisions();
//! loop {
//!     match rx.borrow_and_update().clone() {
//!         Decision::Lead { epoch } => { /* FOLLOW no one; writes on */ }
//!         Decision::Follow { leader, .. } => { /* FOLLOW leader; writes off */ }
//!         _ => { /* writes off (READONLY) */ }
//!     }
//!     elector.label_pod(&[(ROLE_LABEL, "leader" | "follower")]).await;
//!     if rx.changed().await.is_err() { break }
//! }
//! // SIGTERM: elector.release().await before exiting.
//! ```

pub mod core;
pub mod driver;
pub mod etcd;
mod http;
pub mod kube;
mod kubeconfig;
pub mod record;
pub mod settings;
pub mod stamp;
pub mod url;

use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::{oneshot, watch};

pub use crate::core::{Candidate, Core, Position, Timing};
pub use crate::settings::{KubeCredentials, Settings};
pub use crate::url::ElectUrl;

/// What this member must do now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Not decided yet (the store was not read yet): take no writes.
    Starting,
    /// We hold the lock: stop following, accept writes.
    Lead { epoch: u64 },
    /// `leader` (its advertised `host:port`) holds the lock: follow it.
    Follow { leader: String, epoch: u64 },
    /// Nobody holds the lock (or its holder is unknown/expired): take no
    /// writes, keep whatever data we have.
    NoLeader,
    /// We held the lock but could not renew it in time: stop accepting
    /// writes now. Emitted before the lock can expire for the others
    /// (see [`core`] for the margin).
    SteppingDown { epoch: u64 },
    /// [`Elector::release`] ran: the elector is stopped and holds nothing.
    Stopped,
}

impl Decision {
    /// Whether writes may be accepted under this decision.
    pub fn may_write(&self) -> bool {
        matches!(self, Decision::Lead { .. })
    }

    /// The state name shown by ROLE/INFO/SERVER.
    pub fn state_name(&self) -> &'static str {
        match self {
            Decision::Starting => "starting",
            Decision::Lead { .. } => "leader",
            Decision::Follow { .. } => "follower",
            Decision::NoLeader => "candidate",
            Decision::SteppingDown { .. } => "stepping-down",
            Decision::Stopped => "stopped",
        }
    }
}

/// What the server tells the elector about this member.
pub trait Candidacy: Send + Sync + 'static {
    /// Called on every step of the election loop (a few times per renew
    /// interval): keep it cheap.
    ///
    /// Replication lag in bytes of the leader's AOF not yet applied here;
    /// `None` when this member cannot lead (e.g. it never completed a sync
    /// with a leader it was told to follow). A member that has no data and
    /// never followed anybody (a fresh cluster) should say `Some(0)`.
    fn lag(&self) -> Option<u64>;

    /// Where this member's data stands ([`Position`]: the epoch of the
    /// leader whose AOF it holds a prefix of, and how many bytes of it),
    /// published when the lock is free so that only the most advanced
    /// candidate takes it (`core::rank`). Read when it is published.
    ///
    /// The default, for a candidacy that knows only its lag, ranks the
    /// less lagged first: epoch 0, offset `u64::MAX - lag`.
    fn position(&self) -> Position {
        Position {
            epoch: 0,
            offset: u64::MAX - self.lag().unwrap_or(u64::MAX),
        }
    }
}

impl<F: Fn() -> Option<u64> + Send + Sync + 'static> Candidacy for F {
    fn lag(&self) -> Option<u64> {
        self()
    }
}

/// A snapshot of the elector for ROLE, INFO, SERVER and metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// `etcd` or `kubernetes`.
    pub backend: &'static str,
    /// The `--elect` URL and this member's id.
    pub lock: String,
    pub member_id: String,
    /// [`Decision::state_name`] of the current decision.
    pub state: &'static str,
    /// The epoch of the current holder (0: none seen yet).
    pub epoch: u64,
    /// The current holder's member id and advertised address.
    pub holder_id: Option<String>,
    pub holder: Option<String>,
    /// Times this member took the lock.
    pub elections_won: u64,
    /// Changes of holder this member saw (its own wins included).
    pub failovers_observed: u64,
    /// Total milliseconds this member saw no holder.
    pub leaderless_ms: u64,
    /// The last store error (cleared by the next success).
    pub last_error: Option<String>,
}

/// The running elector.
pub struct Elector {
    decisions: watch::Receiver<Decision>,
    status: Arc<Mutex<Status>>,
    stop: Mutex<Option<oneshot::Sender<()>>>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    pods: Option<kube::PodLabeler>,
}

impl Elector {
    /// Connects to the store named by `url` (credentials, first read not
    /// required) and spawns the election task on the current tokio runtime.
    pub async fn start(
        url: &ElectUrl,
        settings: Settings,
        candidacy: Arc<dyn Candidacy>,
    ) -> Result<Elector, String> {
        let timing = settings.timing()?;
        let (store, pods) = driver::Store::connect(url, &settings).await?;
        let status = Arc::new(Mutex::new(Status {
            backend: store.backend(),
            lock: url.to_string(),
            member_id: settings.member_id.clone(),
            state: Decision::Starting.state_name(),
            ..Status::default()
        }));
        let (tx, rx) = watch::channel(Decision::Starting);
        let (stop_tx, stop_rx) = oneshot::channel();
        let core = Core::new(settings.member_id.clone(), timing);
        let task = tokio::spawn(driver::run(
            core,
            store,
            settings,
            candidacy,
            tx,
            status.clone(),
            stop_rx,
        ));
        Ok(Elector {
            decisions: rx,
            status,
            stop: Mutex::new(Some(stop_tx)),
            task: Mutex::new(Some(task)),
            pods,
        })
    }

    /// The decisions, latest first; `changed()` wakes on each new one.
    pub fn decisions(&self) -> watch::Receiver<Decision> {
        self.decisions.clone()
    }

    /// The current decision.
    pub fn decision(&self) -> Decision {
        self.decisions.borrow().clone()
    }

    /// The visible state.
    pub fn status(&self) -> Status {
        self.status.lock().clone()
    }

    /// Stops the elector and, if it holds the lock, gives it up in the
    /// store so another member takes over at once (clean shutdown,
    /// SIGTERM). Publishes [`Decision::Stopped`]. Idempotent. Dropping the
    /// `Elector` does the same in the background.
    pub async fn release(&self) {
        if let Some(stop) = self.stop.lock().take() {
            let _ = stop.send(());
        }
        let task = self.task.lock().take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }

    /// Ends the election task at once without giving the lock back, as a
    /// crash would: the others take over once the lock expires. The
    /// decision channel closes (its last value stays readable).
    pub fn abort(&self) {
        if let Some(task) = self.task.lock().take() {
            task.abort();
        }
    }

    /// Patches this member's own pod labels ([`Settings::pod_name`] in
    /// [`Settings::pod_namespace`], from `POD_NAME`/`POD_NAMESPACE`; merge
    /// patch), e.g. `tile38.io/role: leader`. Returns `Ok(false)` without
    /// doing anything when there is no pod name or the lock is not a
    /// Kubernetes Lease.
    pub async fn label_pod(&self, labels: &[(&str, &str)]) -> Result<bool, String> {
        match &self.pods {
            Some(p) => p.label(labels).await.map(|_| true),
            None => Ok(false),
        }
    }
}

/// The pod label the chart's Services select on.
pub const ROLE_LABEL: &str = "tile38.io/role";
