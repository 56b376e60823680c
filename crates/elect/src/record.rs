//! The lock record: what the lock says about its holder, so every member
//! can follow it. etcd stores it as the lock key's JSON value
//! (`{"id":…,"advertise":…}`, the epoch is the key's create revision);
//! a Kubernetes Lease carries the id as `holderIdentity` and the address
//! and epoch as annotations ([`ADVERTISE_ANNOTATION`], [`EPOCH_ANNOTATION`]).

use serde_json::{json, Value};

/// Lease annotation with the holder's advertised `host:port`.
pub const ADVERTISE_ANNOTATION: &str = "tile38.io/advertise";
/// Lease annotation with the holder's epoch (= `leaseTransitions`).
pub const EPOCH_ANNOTATION: &str = "tile38.io/epoch";

/// A holder's identity and address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub id: String,
    pub advertise: String,
}

impl Record {
    /// The JSON value etcd stores.
    pub fn to_json(&self) -> Vec<u8> {
        json!({"id": self.id, "advertise": self.advertise})
            .to_string()
            .into_bytes()
    }

    /// Parses what [`Record::to_json`] wrote.
    pub fn from_json(bytes: &[u8]) -> Result<Record, String> {
        let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("lock record: {e}"))?;
        let field = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| format!("lock record: no {k:?}"))
        };
        Ok(Record {
            id: field("id")?,
            advertise: field("advertise")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let r = Record {
            id: "tile38-0".into(),
            advertise: "10.0.0.1:9851".into(),
        };
        assert_eq!(Record::from_json(&r.to_json()).unwrap(), r);
        assert!(Record::from_json(b"{}").is_err());
        assert!(Record::from_json(b"\xff").is_err());
    }
}
