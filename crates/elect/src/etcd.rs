//! The etcd v3 lock: a key bound to a lease, taken with a transaction
//! `create_revision(key) == 0 → put key=record (lease)`; renewal is a lease
//! keep-alive; release revokes the lease (which deletes the key). The epoch
//! is the key's create revision: etcd's revision only grows, and every new
//! holder creates the key anew, so it grows on each change of holder and
//! every member reads the same number.
//!
//! Transport: etcd's own v3 JSON gateway (`POST /v3/lease/grant`,
//! `/v3/lease/keepalive`, `/v3/lease/revoke`, `/v3/kv/txn`, `/v3/kv/range`;
//! keys and values base64) over the workspace's hyper client. The
//! `etcd-client` crate needs `protoc` at build time, which a fresh machine
//! does not have; the gateway is part of every etcd v3 server (3.4 serves
//! it under `/v3/`), and five small JSON calls are all the lock needs.
//! Each call tries the endpoints in order, starting with the last one that
//! answered.
//!
//! Candidacies (`core::rank`): `NAME/candidates/<id>` holds a candidate's
//! position under a lease of its own (the lock's TTL), kept alive by each
//! new publication and revoked when it withdraws, so a dead candidate's
//! entry disappears by itself; the candidates are read with one prefix
//! range.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

use crate::core::{Acquired, Candidate, Holder, Observation, Position, Renewed};
use crate::http;
use crate::record::{candidate_from_json, candidate_json, Record};

/// One member's view of the etcd lock.
pub struct EtcdStore {
    client: Client<HttpConnector, Full<Bytes>>,
    endpoints: Vec<String>,
    /// The endpoint that answered last.
    current: usize,
    key: String,
    record: Record,
    ttl_secs: u64,
    /// Our lease while we hold the lock.
    lease: Option<i64>,
    /// The lease our candidacy entry lives under.
    cand_lease: Option<i64>,
}

/// An int64 field, which the gateway encodes as a JSON string.
fn int(v: &Value, k: &str) -> i64 {
    match v.get(k) {
        Some(Value::String(s)) => s.parse().unwrap_or(0),
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        _ => 0,
    }
}

impl EtcdStore {
    pub fn new(endpoints: Vec<String>, key: String, record: Record, lease_ms: u64) -> EtcdStore {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        http.set_connect_timeout(Some(std::time::Duration::from_secs(2)));
        EtcdStore {
            client: Client::builder(TokioExecutor::new()).build(http),
            endpoints,
            current: 0,
            key,
            record,
            ttl_secs: lease_ms.div_ceil(1000),
            lease: None,
            cand_lease: None,
        }
    }

    /// POSTs `body` to `path` on the first endpoint that answers.
    async fn call(&mut self, path: &str, body: Value) -> Result<Value, String> {
        let body = Bytes::from(body.to_string());
        let mut last = String::new();
        for i in 0..self.endpoints.len() {
            let at = (self.current + i) % self.endpoints.len();
            let uri = format!("http://{}{path}", self.endpoints[at]);
            match self.post(&uri, body.clone()).await {
                Ok(v) => {
                    self.current = at;
                    return Ok(v);
                }
                Err(e) => last = format!("etcd {}: {e}", self.endpoints[at]),
            }
        }
        Err(last)
    }

    async fn post(&self, uri: &str, body: Bytes) -> Result<Value, String> {
        let body = Some(("application/json", body.to_vec()));
        let (status, v) = http::send(&self.client, hyper::Method::POST, uri, &[], body).await?;
        if !status.is_success() {
            return Err(http::message(status, &v));
        }
        Ok(v)
    }

    /// The lock as a key-value from a range or a txn's failure branch.
    fn observation(kvs: Option<&Value>) -> Result<Observation, String> {
        let Some(kv) = kvs.and_then(|k| k.as_array()).and_then(|a| a.first()) else {
            return Ok(Observation::Free);
        };
        let value = kv.get("value").and_then(Value::as_str).unwrap_or("");
        let value = B64.decode(value).map_err(|e| format!("lock value: {e}"))?;
        let rec = Record::from_json(&value)?;
        Ok(Observation::Held {
            holder: Holder {
                id: rec.id,
                advertise: rec.advertise,
                epoch: int(kv, "create_revision") as u64,
            },
            version: int(kv, "mod_revision").to_string(),
            expires_after: None,
        })
    }

    /// Reads the lock.
    pub async fn observe(&mut self) -> Result<Observation, String> {
        let key = B64.encode(&self.key);
        let v = self.call("/v3/kv/range", json!({ "key": key })).await?;
        Self::observation(v.get("kvs"))
    }

    /// Tries to take the lock: a fresh lease, then the create-if-absent
    /// transaction (the lease is revoked if the lock was taken).
    pub async fn acquire(&mut self) -> Acquired {
        let id = match self.grant().await {
            Ok(id) => id,
            Err(e) => return Acquired::Failed(e),
        };
        let key = B64.encode(&self.key);
        let txn = json!({
            "compare": [{"target": "CREATE", "result": "EQUAL", "key": key, "create_revision": "0"}],
            "success": [{"request_put": {"key": key, "value": B64.encode(self.record.to_json()), "lease": id.to_string()}}],
            "failure": [{"request_range": {"key": key}}],
        });
        let v = match self.call("/v3/kv/txn", txn).await {
            Ok(v) => v,
            Err(e) => {
                self.revoke(id).await;
                return Acquired::Failed(e);
            }
        };
        if v.get("succeeded").and_then(Value::as_bool) == Some(true) {
            self.lease = Some(id);
            let epoch = v.get("header").map_or(0, |h| int(h, "revision")) as u64;
            return Acquired::Won { epoch };
        }
        self.revoke(id).await;
        let kvs = v
            .pointer("/responses/0/response_range/kvs")
            .or(v.pointer("/responses/0/Response/ResponseRange/kvs"));
        match Self::observation(kvs) {
            Ok(obs) => Acquired::Lost(obs),
            Err(e) => Acquired::Failed(e),
        }
    }

    /// A fresh lease of the lock's TTL.
    async fn grant(&mut self) -> Result<i64, String> {
        let grant = self
            .call("/v3/lease/grant", json!({ "TTL": self.ttl_secs }))
            .await?;
        match int(&grant, "ID") {
            0 => {
                let msg = grant.get("error").and_then(Value::as_str);
                Err(format!(
                    "etcd lease grant: {}",
                    msg.unwrap_or("no lease ID")
                ))
            }
            id => Ok(id),
        }
    }

    /// One keep-alive of lease `id`: whether it still lives (TTL > 0).
    async fn keepalive(&mut self, id: i64) -> Result<bool, String> {
        let v = self
            .call("/v3/lease/keepalive", json!({ "ID": id.to_string() }))
            .await?;
        let r = v.get("result").unwrap_or(&v);
        Ok(int(r, "TTL") > 0)
    }

    /// Keeps our lease alive: `Lost` once etcd reports it gone (TTL ≤ 0).
    pub async fn renew(&mut self) -> Renewed {
        let Some(id) = self.lease else {
            return Renewed::Lost;
        };
        match self.keepalive(id).await {
            Ok(true) => Renewed::Ok,
            Ok(false) => {
                self.lease = None;
                Renewed::Lost
            }
            Err(e) => Renewed::Failed(e),
        }
    }

    /// The prefix of the candidacy keys.
    fn cand_prefix(&self) -> String {
        format!("{}/candidates/", self.key)
    }

    /// Publishes our position as a candidate (under our candidacy lease,
    /// kept alive here or granted anew).
    pub async fn announce(&mut self, pos: Position) -> Result<(), String> {
        let alive = match self.cand_lease {
            Some(id) => self.keepalive(id).await?,
            None => false,
        };
        let id = match (alive, self.cand_lease) {
            (true, Some(id)) => id,
            _ => {
                let id = self.grant().await?;
                self.cand_lease = Some(id);
                id
            }
        };
        let key = B64.encode(format!("{}{}", self.cand_prefix(), self.record.id));
        let value = B64.encode(candidate_json(&self.record.id, pos, None));
        let put = json!({ "key": key, "value": value, "lease": id.to_string() });
        self.call("/v3/kv/put", put).await.map(drop)
    }

    /// The published candidacies (ours included).
    pub async fn candidates(&mut self) -> Result<Vec<Candidate>, String> {
        let prefix = self.cand_prefix();
        // The range end of a prefix: its last byte ('/') plus one.
        let end = format!("{}0", &prefix[..prefix.len() - 1]);
        let range = json!({ "key": B64.encode(&prefix), "range_end": B64.encode(end) });
        let v = self.call("/v3/kv/range", range).await?;
        let kvs = v.get("kvs").and_then(Value::as_array);
        let mut out = Vec::new();
        for kv in kvs.into_iter().flatten() {
            let value = kv.get("value").and_then(Value::as_str).unwrap_or("");
            // A malformed entry is nobody's: skipped, not an error that
            // would keep every candidate from ranking.
            let parsed = B64.decode(value).ok().map(|v| candidate_from_json(&v));
            if let Some(Ok((c, _))) = parsed {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// Removes our candidacy: revokes its lease (which deletes the key).
    pub async fn withdraw(&mut self) {
        if let Some(id) = self.cand_lease.take() {
            self.revoke(id).await;
        }
    }

    /// Gives the lock back: revokes our lease, which deletes the key (and
    /// our candidacy's, if any).
    pub async fn release(&mut self) {
        if let Some(id) = self.lease.take() {
            self.revoke(id).await;
        }
        self.withdraw().await;
    }

    async fn revoke(&mut self, id: i64) {
        let _ = self
            .call("/v3/lease/revoke", json!({ "ID": id.to_string() }))
            .await;
    }
}
