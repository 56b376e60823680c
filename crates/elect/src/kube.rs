//! The Kubernetes lock: a `coordination.k8s.io/v1` Lease. Read with GET;
//! created if absent (needs `create`, which RBAC cannot limit to one name,
//! so a deployment creates the Lease up front, as the chart does); taken,
//! renewed and released by PUT with the `resourceVersion` last read, so a
//! 409 Conflict means somebody else wrote first. The holder's id is
//! `holderIdentity`, its address and epoch are annotations
//! ([`crate::record`]), the epoch is `leaseTransitions`, raised on every
//! take. Expiry is judged by each reader on its own clock (the core:
//! unchanged for `leaseDurationSeconds`), as client-go does, so members'
//! wall clocks never matter; `renewTime` is informative.
//!
//! [`PodLabeler`] merge-patches this member's own pod labels
//! ([`Settings::pod_name`]) (the chart's
//! Services select on [`crate::ROLE_LABEL`]).
//!
//! Client: hand-written over the workspace's hyper + hyper-rustls (ring)
//! rather than `kube` + `k8s-openapi`. Measured here (kube 5.0, k8s-openapi
//! 0.29 `v1_33`, rustls on ring, `ci` profile, `--timings`):
//! k8s-openapi alone took 385 s of compile time, then kube-core 89 s and
//! kube-client 153 s in sequence after it, plus jsonpath-rust 178 s and
//! serde-saphyr 148 s, well over the two minutes a clean build may grow
//! (the machine was shared, but even a fourth of the serial k8s-openapi →
//! kube-core → kube-client chain is over two minutes). The lock needs four
//! JSON calls; the kubeconfig is read with `yaml-rust2` (4 s to build).

use hyper::{Method, StatusCode};
use serde_json::{json, Value};

use crate::core::{Acquired, Holder, Observation, Renewed};
use crate::http::micro_time_now;
use crate::kubeconfig::ApiClient;
use crate::record::{Record, ADVERTISE_ANNOTATION, EPOCH_ANNOTATION};
use crate::Settings;

/// One member's view of the Lease.
pub struct LeaseStore {
    api: ApiClient,
    path: String,
    collection: String,
    name: String,
    record: Record,
    duration_secs: u64,
    /// The Lease as last read or written (its `resourceVersion` guards
    /// the next write).
    last: Option<Value>,
    /// Our epoch while we hold it.
    held: Option<u64>,
}

/// Patches this member's pod labels ([`Settings::pod_name`]).
pub struct PodLabeler {
    api: ApiClient,
    path: String,
}

impl LeaseStore {
    pub async fn connect(
        s: &Settings,
        namespace: &str,
        lease: &str,
        record: Record,
        lease_ms: u64,
    ) -> Result<(LeaseStore, Option<PodLabeler>), String> {
        let api = ApiClient::new(&s.kube)?;
        let pods = s.pod_name.as_ref().map(|pod| {
            let ns = s.pod_namespace.as_deref().unwrap_or(namespace);
            PodLabeler {
                api: api.clone(),
                path: format!("/api/v1/namespaces/{ns}/pods/{pod}"),
            }
        });
        let collection = format!("/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases");
        let store = LeaseStore {
            api,
            path: format!("{collection}/{lease}"),
            collection,
            name: lease.to_string(),
            record,
            duration_secs: lease_ms.div_ceil(1000),
            last: None,
            held: None,
        };
        Ok((store, pods))
    }

    fn observation(lease: &Value) -> Observation {
        let spec = &lease["spec"];
        let id = spec["holderIdentity"].as_str().unwrap_or("");
        if id.is_empty() {
            return Observation::Free;
        }
        let notes = &lease["metadata"]["annotations"];
        Observation::Held {
            holder: Holder {
                id: id.to_string(),
                advertise: notes[ADVERTISE_ANNOTATION]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                epoch: spec["leaseTransitions"].as_u64().unwrap_or(0),
            },
            version: lease["metadata"]["resourceVersion"]
                .as_str()
                .unwrap_or("")
                .to_string(),
            expires_after: Some(spec["leaseDurationSeconds"].as_u64().unwrap_or(1) * 1000),
        }
    }

    /// GET the Lease (`None`: absent).
    async fn get(&mut self) -> Result<Option<Value>, String> {
        let (status, v) = self.api.call(Method::GET, &self.path, None).await?;
        match status {
            StatusCode::OK => {
                self.last = Some(v.clone());
                Ok(Some(v))
            }
            StatusCode::NOT_FOUND => {
                self.last = None;
                Ok(None)
            }
            s => Err(crate::http::message(s, &v)),
        }
    }

    pub async fn observe(&mut self) -> Result<Observation, String> {
        Ok(match self.get().await? {
            Some(lease) => Self::observation(&lease),
            None => Observation::Free,
        })
    }

    /// The Lease naming us holder of `epoch` (based on `base`, keeping its
    /// `resourceVersion` and other fields).
    fn ours(&self, base: Option<&Value>, epoch: u64, acquire: bool) -> Value {
        let mut lease = base.cloned().unwrap_or_else(|| {
            json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                   "metadata": {"name": self.name}})
        });
        let now = micro_time_now();
        let notes = &mut lease["metadata"]["annotations"];
        if !notes.is_object() {
            *notes = json!({});
        }
        notes[ADVERTISE_ANNOTATION] = json!(self.record.advertise);
        notes[EPOCH_ANNOTATION] = json!(epoch.to_string());
        let spec = &mut lease["spec"];
        if !spec.is_object() {
            *spec = json!({});
        }
        spec["holderIdentity"] = json!(self.record.id);
        spec["leaseDurationSeconds"] = json!(self.duration_secs);
        spec["leaseTransitions"] = json!(epoch);
        spec["renewTime"] = json!(now);
        if acquire {
            spec["acquireTime"] = json!(now);
        }
        lease
    }

    pub async fn acquire(&mut self) -> Acquired {
        if self.last.is_none() {
            if let Err(e) = self.get().await {
                return Acquired::Failed(e);
            }
        }
        let base = self.last.clone();
        let epoch = base
            .as_ref()
            .and_then(|l| l["spec"]["leaseTransitions"].as_u64())
            .unwrap_or(0)
            + 1;
        let lease = self.ours(base.as_ref(), epoch, true);
        let body = Some(("application/json", &lease));
        let sent = match &base {
            Some(_) => self.api.call(Method::PUT, &self.path, body).await,
            None => self.api.call(Method::POST, &self.collection, body).await,
        };
        match sent {
            Ok((s, v)) if s.is_success() => {
                self.last = Some(v);
                self.held = Some(epoch);
                Acquired::Won { epoch }
            }
            Ok((StatusCode::CONFLICT | StatusCode::NOT_FOUND, _)) => match self.observe().await {
                Ok(obs) => Acquired::Lost(obs),
                Err(e) => Acquired::Failed(e),
            },
            Ok((s, v)) => Acquired::Failed(crate::http::message(s, &v)),
            Err(e) => Acquired::Failed(e),
        }
    }

    pub async fn renew(&mut self) -> Renewed {
        let Some(epoch) = self.held else {
            return Renewed::Lost;
        };
        let lease = self.ours(self.last.as_ref(), epoch, false);
        match self
            .api
            .call(Method::PUT, &self.path, Some(("application/json", &lease)))
            .await
        {
            Ok((s, v)) if s.is_success() => {
                self.last = Some(v);
                Renewed::Ok
            }
            Ok((StatusCode::CONFLICT, _)) => self.after_conflict(epoch).await,
            Ok((StatusCode::NOT_FOUND, _)) => {
                self.held = None;
                Renewed::Lost
            }
            Ok((s, v)) => Renewed::Failed(crate::http::message(s, &v)),
            Err(e) => Renewed::Failed(e),
        }
    }

    /// A renewal met a newer version: still ours (someone edited another
    /// field) → retry with it; otherwise lost.
    async fn after_conflict(&mut self, epoch: u64) -> Renewed {
        match self.get().await {
            Ok(Some(lease))
                if lease["spec"]["holderIdentity"].as_str() == Some(&self.record.id)
                    && lease["spec"]["leaseTransitions"].as_u64() == Some(epoch) =>
            {
                Renewed::Failed("lease changed under us; retrying".into())
            }
            Ok(_) => {
                self.held = None;
                Renewed::Lost
            }
            Err(e) => Renewed::Failed(e),
        }
    }

    /// Clears `holderIdentity` if we still hold the Lease, so the others
    /// take it at once.
    pub async fn release(&mut self) {
        let (Some(_), Some(mut lease)) = (self.held.take(), self.last.clone()) else {
            return;
        };
        if lease["spec"]["holderIdentity"].as_str() != Some(&self.record.id) {
            return;
        }
        lease["spec"]["holderIdentity"] = Value::Null;
        lease["spec"]["renewTime"] = json!(micro_time_now());
        let body = Some(("application/json", &lease));
        if let Ok((s, v)) = self.api.call(Method::PUT, &self.path, body).await {
            if s.is_success() {
                self.last = Some(v);
            }
        }
    }
}

impl PodLabeler {
    /// Merge-patches `labels` into the pod's labels.
    pub async fn label(&self, labels: &[(&str, &str)]) -> Result<(), String> {
        let map: serde_json::Map<String, Value> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        let patch = json!({"metadata": {"labels": map}});
        let body = Some(("application/merge-patch+json", &patch));
        let (s, v) = self.api.call(Method::PATCH, &self.path, body).await?;
        if s.is_success() {
            Ok(())
        } else {
            Err(format!("label pod: {}", crate::http::message(s, &v)))
        }
    }
}
