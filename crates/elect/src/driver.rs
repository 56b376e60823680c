//! The election task: runs the [`Core`] against a store on the monotonic
//! clock, bounds every store request so a hung store cannot delay a
//! step-down, and publishes each decision (a `watch` channel) and the
//! [`Status`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::{oneshot, watch};

use crate::core::{Acquired, Candidate, Core, Observation, Position, Ranked, Renewed, Step};
use crate::etcd::EtcdStore;
use crate::kube::{LeaseStore, PodLabeler};
use crate::record::Record;
use crate::{Candidacy, Decision, ElectUrl, Settings, Status};

/// The lock store.
pub enum Store {
    Etcd(EtcdStore),
    Kube(LeaseStore),
}

impl Store {
    /// Builds the store `url` names (Kubernetes: loads the credentials)
    /// and, for Kubernetes, the pod labeller.
    pub async fn connect(
        url: &ElectUrl,
        s: &Settings,
    ) -> Result<(Store, Option<PodLabeler>), String> {
        let record = Record {
            id: s.member_id.clone(),
            advertise: s.advertise.clone(),
        };
        let lease_ms = s.timing()?.lease_ms;
        match url {
            ElectUrl::Etcd { endpoints, key } => Ok((
                Store::Etcd(EtcdStore::new(
                    endpoints.clone(),
                    key.clone(),
                    record,
                    lease_ms,
                )),
                None,
            )),
            ElectUrl::Kubernetes { namespace, lease } => {
                let (store, pods) =
                    LeaseStore::connect(s, namespace, lease, record, lease_ms).await?;
                Ok((Store::Kube(store), pods))
            }
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Store::Etcd(_) => "etcd",
            Store::Kube(_) => "kubernetes",
        }
    }

    async fn observe(&mut self) -> Result<Observation, String> {
        match self {
            Store::Etcd(s) => s.observe().await,
            Store::Kube(s) => s.observe().await,
        }
    }

    async fn acquire(&mut self) -> Acquired {
        match self {
            Store::Etcd(s) => s.acquire().await,
            Store::Kube(s) => s.acquire().await,
        }
    }

    async fn renew(&mut self) -> Renewed {
        match self {
            Store::Etcd(s) => s.renew().await,
            Store::Kube(s) => s.renew().await,
        }
    }

    async fn release(&mut self) {
        match self {
            Store::Etcd(s) => s.release().await,
            Store::Kube(s) => s.release().await,
        }
    }

    async fn announce(&mut self, pos: Position) -> Result<(), String> {
        match self {
            Store::Etcd(s) => s.announce(pos).await,
            Store::Kube(s) => s.announce(pos).await,
        }
    }

    async fn candidates(&mut self) -> Result<Vec<Candidate>, String> {
        match self {
            Store::Etcd(s) => s.candidates().await,
            Store::Kube(s) => s.candidates().await,
        }
    }

    async fn withdraw(&mut self) {
        match self {
            Store::Etcd(s) => s.withdraw().await,
            // The winner's take clears every candidacy on the Lease, and
            // entries of an older round are ignored: nothing to do.
            Store::Kube(_) => {}
        }
    }
}

/// Logs a ranking's outcome (a repeated deferral to the same member once).
fn log_ranked(r: &Ranked, pos: Option<Position>, last: &mut Option<String>) {
    let at = pos.map_or(String::new(), |p| {
        format!(" epoch={} offset={}", p.epoch, p.offset)
    });
    let line = match r {
        Ranked::Best { of } => format!("elect: candidate{at}: best of {of}, taking the lock"),
        Ranked::Defer { to } => format!(
            "elect: candidate{at}: deferring to {} (epoch={} offset={})",
            to.id, to.position.epoch, to.position.offset
        ),
        Ranked::Overdue => format!(
            "elect: candidate{at}: the better candidate did not take the lock, trying anyway"
        ),
        Ranked::Failed(e) => format!("elect: candidate{at}: reading the candidates failed: {e}"),
    };
    if last.as_deref() != Some(&line) {
        tracing::info!("{line}");
        *last = Some(line);
    }
}

/// Where the task publishes.
struct Out {
    tx: watch::Sender<Decision>,
    status: Arc<Mutex<Status>>,
    origin: Instant,
    advertise: String,
}

impl Out {
    fn now(&self) -> u64 {
        self.origin.elapsed().as_millis() as u64
    }

    fn at(&self, ms: u64) -> tokio::time::Instant {
        (self.origin + Duration::from_millis(ms)).into()
    }

    fn publish(&self, core: &Core) {
        let d = core.decision().clone();
        // The status first: whoever wakes on the decision reads a status
        // that already counts it.
        self.set_status(core, &d);
        self.tx.send_if_modified(|cur| {
            let changed = *cur != d;
            *cur = d.clone();
            changed
        });
    }

    fn set_status(&self, core: &Core, d: &Decision) {
        let c = core.counters(self.now());
        let mut st = self.status.lock();
        st.state = d.state_name();
        st.epoch = core.epoch();
        if core.leading() {
            st.holder_id = Some(core.id().to_string());
            st.holder = Some(self.advertise.clone());
        } else {
            st.holder_id = core.holder().map(|h| h.id.clone());
            st.holder = core.holder().map(|h| h.advertise.clone());
        }
        st.elections_won = c.elections_won;
        st.failovers_observed = c.failovers_observed;
        st.leaderless_ms = c.leaderless_ms;
        // Each new store error is logged once (a refused token, an
        // unreachable store), not on every retry.
        if c.last_error.is_some() && c.last_error != st.last_error {
            tracing::warn!("elect: {}", c.last_error.as_deref().unwrap_or_default());
        }
        st.last_error = c.last_error;
    }
}

/// Runs until `stop` fires (or the elector is dropped), then releases the
/// lock if held and publishes [`Decision::Stopped`].
pub async fn run(
    mut core: Core,
    mut store: Store,
    settings: Settings,
    candidacy: Arc<dyn Candidacy>,
    tx: watch::Sender<Decision>,
    status: Arc<Mutex<Status>>,
    mut stop: oneshot::Receiver<()>,
) {
    let out = Out {
        tx,
        status,
        origin: Instant::now(),
        advertise: settings.advertise,
    };
    let t = *core.timing();
    // A read or a take: at most one renew interval (and at least 1 s).
    let request = Duration::from_millis(t.renew_ms.max(1000));
    let mut last_ranked = None;
    loop {
        let now = out.now();
        let step = core.poll(now, candidacy.lag());
        out.publish(&core);
        match step {
            Step::Wait(until) => {
                tokio::select! {
                    _ = tokio::time::sleep_until(out.at(until)) => {}
                    _ = &mut stop => break,
                }
            }
            Step::Observe => match tokio::time::timeout(request, store.observe()).await {
                Ok(Ok(obs)) => core.observed(out.now(), obs),
                Ok(Err(e)) => core.observe_failed(out.now(), e),
                Err(_) => core.observe_failed(out.now(), "lock read timed out".into()),
            },
            Step::Acquire => {
                let sent = out.now();
                let r = tokio::time::timeout(request, store.acquire()).await;
                let r = r.unwrap_or_else(|_| Acquired::Failed("lock take timed out".into()));
                core.acquired(sent, out.now(), r);
            }
            Step::Renew => {
                let sent = out.now();
                // Never wait for a renewal past the moment we must step down.
                let left = core.valid_until().unwrap_or(sent).saturating_sub(sent);
                let limit = Duration::from_millis(left.min(t.renew_ms));
                let r = tokio::time::timeout(limit, store.renew()).await;
                let r = r.unwrap_or_else(|_| Renewed::Failed("lock renewal timed out".into()));
                core.renewed(sent, out.now(), r);
            }
            Step::StepDown => {
                let _ = tokio::time::timeout(request, store.release()).await;
            }
            Step::Announce => {
                let (sent, pos) = (out.now(), candidacy.position());
                let r = tokio::time::timeout(request, store.announce(pos)).await;
                let r = r.unwrap_or_else(|_| Err("candidacy publish timed out".into()));
                core.announced(sent, out.now(), pos, r);
            }
            Step::Rank => {
                let r = tokio::time::timeout(request, store.candidates()).await;
                let r = r.unwrap_or_else(|_| Err("candidates read timed out".into()));
                let ranked = core.ranked(out.now(), r);
                log_ranked(&ranked, core.announced_position(), &mut last_ranked);
            }
            Step::Withdraw => {
                // A leader withdraws its candidacy too: as with a renewal,
                // never wait past the moment it must step down (it would
                // go on leading after its lease, found by `core_props`).
                let left = core.valid_until().map(|v| v.saturating_sub(out.now()));
                let limit = left.map_or(request, |ms| request.min(Duration::from_millis(ms)));
                let _ = tokio::time::timeout(limit, store.withdraw()).await;
                core.withdrawn();
            }
        }
    }
    core.step_down(out.now());
    out.publish(&core);
    let _ = tokio::time::timeout(request, store.release()).await;
    out.tx.send_replace(Decision::Stopped);
    out.status.lock().state = Decision::Stopped.state_name();
}
