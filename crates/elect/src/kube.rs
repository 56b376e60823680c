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
//! Candidacies (`core::rank`) are annotations on the Lease itself
//! ([`CANDIDATE_ANNOTATION`]`<id>`, merge patches, which the Role's
//! `patch` on that one Lease allows; one GET reads them all). Each names
//! the round it was published in (`leaseTransitions`): a take raises it,
//! and also clears them, so older rounds' entries never count. Expiry is
//! judged on the lock's own fields (holder, transitions, renew and
//! acquire times), not on `resourceVersion`, which candidacies change.
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

use crate::core::{Acquired, Candidate, Holder, Observation, Position, Renewed};
use crate::http::micro_time_now;
use crate::kubeconfig::ApiClient;
use crate::record::{candidate_from_json, candidate_json, Record, CANDIDATE_ANNOTATION};
use crate::record::{ADVERTISE_ANNOTATION, EPOCH_ANNOTATION};
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
    /// The lock's fields ([`lock_version`]) as the last [`LeaseStore::observe`]
    /// found them: the state the core judged. A take goes ahead only on
    /// that state, never on a newer one a candidacy's read or patch
    /// brought back (someone may have taken the lock meanwhile).
    judged: Option<String>,
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
            judged: None,
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
            version: lock_version(lease),
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
        let lease = self.get().await?;
        self.judged = lease.as_ref().map(lock_version);
        Ok(lease.map_or(Observation::Free, |l| Self::observation(&l)))
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
        if let Some(map) = notes.as_object_mut() {
            map.retain(|k, _| !k.starts_with(CANDIDATE_ANNOTATION));
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
        // A conflict caused by a candidacy annotation alone (the lock's
        // own fields unchanged) is retried with the new version.
        for _ in 0..3 {
            let base = self.last.clone();
            if base.as_ref().map(lock_version) != self.judged {
                // The lock changed since the core judged it: let it judge
                // again.
                let obs = base.as_ref().map_or(Observation::Free, Self::observation);
                self.judged = base.as_ref().map(lock_version);
                return Acquired::Lost(obs);
            }
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
                    return Acquired::Won { epoch };
                }
                // Read again: the check above retries or reports it.
                Ok((StatusCode::CONFLICT | StatusCode::NOT_FOUND, _)) => {
                    if let Err(e) = self.get().await {
                        return Acquired::Failed(e);
                    }
                }
                Ok((s, v)) => return Acquired::Failed(crate::http::message(s, &v)),
                Err(e) => return Acquired::Failed(e),
            }
        }
        Acquired::Failed("lease kept changing under the take".into())
    }

    /// Publishes our position as a candidate of the current round.
    pub async fn announce(&mut self, pos: Position) -> Result<(), String> {
        let Some(last) = &self.last else {
            return Err("no lease read yet".into());
        };
        let round = last["spec"]["leaseTransitions"].as_u64().unwrap_or(0);
        let key = format!("{CANDIDATE_ANNOTATION}{}", annotation_name(&self.record.id));
        let value = candidate_json(&self.record.id, pos, Some(round));
        let patch = json!({"metadata": {"annotations": {key: value}}});
        let body = Some(("application/merge-patch+json", &patch));
        let (s, v) = self.api.call(Method::PATCH, &self.path, body).await?;
        if !s.is_success() {
            return Err(format!("candidacy: {}", crate::http::message(s, &v)));
        }
        self.last = Some(v);
        Ok(())
    }

    /// The candidacies of the current round (ours included).
    pub async fn candidates(&mut self) -> Result<Vec<Candidate>, String> {
        let Some(lease) = self.get().await? else {
            return Ok(Vec::new());
        };
        let round = lease["spec"]["leaseTransitions"].as_u64().unwrap_or(0);
        let notes = lease["metadata"]["annotations"].as_object();
        let entries = notes.into_iter().flatten();
        Ok(entries
            .filter(|(k, _)| k.starts_with(CANDIDATE_ANNOTATION))
            .filter_map(|(_, v)| candidate_from_json(v.as_str()?.as_bytes()).ok())
            .filter(|(_, r)| *r == Some(round))
            .map(|(c, _)| c)
            .collect())
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

/// The lock's own fields, which change on every take, renewal and
/// release (and not when a candidacy is published).
fn lock_version(lease: &Value) -> String {
    let spec = &lease["spec"];
    format!(
        "{}|{}|{}|{}",
        spec["holderIdentity"], spec["leaseTransitions"], spec["renewTime"], spec["acquireTime"]
    )
}

/// A member id as the name part of an annotation key (alphanumerics,
/// `-`, `_`, `.`; at most 63 characters with the prefix's `candidate.`).
fn annotation_name(id: &str) -> String {
    let clean: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    clean.chars().take(63 - "candidate.".len()).collect()
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
