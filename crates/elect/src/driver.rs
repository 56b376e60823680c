//! The election task: runs the [`Core`] against a store on the monotonic
//! clock, bounds every store request so a hung store cannot delay a
//! step-down, and publishes each decision (a `watch` channel) and the
//! [`Status`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::{oneshot, watch};

use crate::core::{Acquired, Core, Observation, Renewed, Step};
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
        self.tx.send_if_modified(|cur| {
            let changed = *cur != d;
            *cur = d.clone();
            changed
        });
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
        }
    }
    core.step_down(out.now());
    out.publish(&core);
    let _ = tokio::time::timeout(request, store.release()).await;
    out.tx.send_replace(Decision::Stopped);
    out.status.lock().state = Decision::Stopped.state_name();
}
