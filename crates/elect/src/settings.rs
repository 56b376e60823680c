//! The elector's settings (`--advertise`, the member id, lease timings,
//! `failover-max-lag`, Kubernetes credentials) and their defaults.

use std::path::PathBuf;
use std::time::Duration;

use crate::core::Timing;

/// How the Kubernetes backend finds the API server and its credentials.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum KubeCredentials {
    /// In order: in-cluster (`KUBERNETES_SERVICE_HOST`/`_PORT` set: the
    /// service-account token and CA under
    /// `/var/run/secrets/kubernetes.io/serviceaccount`), then the kubeconfig
    /// file `KUBECONFIG` names (the first of a `:` list), then
    /// `~/.kube/config`.
    #[default]
    Infer,
    /// A kubeconfig file (its current context; bearer token and CA or
    /// `insecure-skip-tls-verify`).
    Kubeconfig(PathBuf),
    /// The pod's service account.
    InCluster,
}

/// Elector settings.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `host:port` the other members follow when we lead (`--advertise`).
    pub advertise: String,
    /// Unique per member: the lock's holder identity. Default: the pod
    /// name (`POD_NAME`) if set, else the advertise address.
    pub member_id: String,
    /// How long the lock outlives its last renewal (default 10 s; etcd
    /// lease TTLs are whole seconds, so it is rounded up to one).
    pub lease: Duration,
    /// How often the holder renews and the others read the lock (default
    /// lease/3).
    pub renew: Option<Duration>,
    /// How long before the lock can expire for the others the holder steps
    /// down when it could not renew (default lease/5, at least 500 ms).
    pub margin: Option<Duration>,
    /// `failover-max-lag`: the most replication lag (bytes of AOF) a member
    /// may have to take the lock (default 1 MiB; see [`crate::core`]).
    pub max_lag: u64,
    /// A lagging candidate (lag > 0) waits this long before trying, plus
    /// [`Settings::lag_wait_per_mib`] per MiB of lag (defaults 300 ms and
    /// 1 s): the most caught-up candidate tries first.
    pub lag_wait_base: Duration,
    pub lag_wait_per_mib: Duration,
    /// Candidates publish their positions and only the most advanced one
    /// takes a free lock (`core::rank`; default on). Off: the lag wait
    /// alone orders them.
    pub rank: bool,
    /// Kubernetes credentials (ignored for etcd).
    pub kube: KubeCredentials,
    /// This member's pod, for [`crate::Elector::label_pod`] (Kubernetes
    /// only): defaults `POD_NAME` and `POD_NAMESPACE` (else the Lease's
    /// namespace); no pod name, no labelling.
    pub pod_name: Option<String>,
    pub pod_namespace: Option<String>,
}

impl Settings {
    /// Defaults for a member advertising `advertise`.
    pub fn new(advertise: &str) -> Settings {
        let env = |k| std::env::var(k).ok().filter(|s: &String| !s.is_empty());
        let pod_name = env("POD_NAME");
        let member_id = pod_name.clone().unwrap_or_else(|| advertise.to_string());
        Settings {
            advertise: advertise.to_string(),
            member_id,
            lease: Duration::from_secs(10),
            renew: None,
            margin: None,
            max_lag: 1 << 20,
            lag_wait_base: Duration::from_millis(300),
            lag_wait_per_mib: Duration::from_secs(1),
            rank: true,
            kube: KubeCredentials::Infer,
            pod_name,
            pod_namespace: env("POD_NAMESPACE"),
        }
    }

    /// The checked timings the core runs on.
    pub fn timing(&self) -> Result<Timing, String> {
        crate::url::check_host_port(&self.advertise).map_err(|e| format!("advertise: {e}"))?;
        if self.member_id.is_empty() {
            return Err("elect: empty member id".into());
        }
        let ms = |d: Duration| d.as_millis().min(u64::MAX as u128) as u64;
        let lease = ms(self.lease);
        if lease < 1000 {
            return Err("elect: lease duration must be at least 1s".into());
        }
        let renew = self.renew.map(ms).unwrap_or(lease / 3);
        let margin = self.margin.map(ms).unwrap_or((lease / 5).max(500));
        if renew == 0 || renew + margin >= lease {
            return Err(format!(
                "elect: renew interval ({renew}ms) plus safety margin ({margin}ms) must be under the lease ({lease}ms)"
            ));
        }
        Ok(Timing {
            lease_ms: lease,
            renew_ms: renew,
            margin_ms: margin,
            max_lag: self.max_lag,
            lag_wait_base_ms: ms(self.lag_wait_base),
            lag_wait_per_mib_ms: ms(self.lag_wait_per_mib),
            settle_ms: if self.rank {
                Timing::default_settle(renew)
            } else {
                0
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_checks() {
        let mut s = Settings::new("10.0.0.1:9851");
        s.member_id = "m".into();
        let t = s.timing().unwrap();
        assert_eq!((t.lease_ms, t.renew_ms, t.margin_ms), (10_000, 3333, 2000));
        assert_eq!(t.max_lag, 1 << 20);
        s.lease = Duration::from_millis(999);
        assert!(s.timing().unwrap_err().contains("at least 1s"));
        s.lease = Duration::from_secs(2);
        s.renew = Some(Duration::from_millis(1600));
        assert!(s.timing().unwrap_err().contains("must be under the lease"));
        s.renew = None;
        s.advertise = "nope".into();
        assert!(s.timing().unwrap_err().starts_with("advertise"));
        s.advertise = "h:1".into();
        s.member_id.clear();
        assert!(s.timing().is_err());
    }
}
