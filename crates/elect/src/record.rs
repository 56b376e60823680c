//! The lock record: what the lock says about its holder, so every member
//! can follow it. etcd stores it as the lock key's JSON value
//! (`{"id":…,"advertise":…}`, the epoch is the key's create revision);
//! a Kubernetes Lease carries the id as `holderIdentity` and the address
//! and epoch as annotations ([`ADVERTISE_ANNOTATION`], [`EPOCH_ANNOTATION`]).
//!
//! A candidate's published position (`core::rank`) is the JSON
//! `{"id":…,"epoch":…,"offset":…}` (plus `"round"` on a Lease: the
//! `leaseTransitions` it was published under): etcd, the value of
//! `NAME/candidates/<id>`; Kubernetes, the Lease annotation
//! [`CANDIDATE_ANNOTATION`]`<id>`.

use serde_json::{json, Value};

use crate::core::{Candidate, Position};

/// Lease annotation prefix of a candidate's position (`…<member id>`).
pub const CANDIDATE_ANNOTATION: &str = "tile38.io/candidate.";

/// A candidate's position as stored, with the round it belongs to.
pub fn candidate_json(id: &str, pos: Position, round: Option<u64>) -> String {
    let mut v = json!({"id": id, "epoch": pos.epoch, "offset": pos.offset});
    if let Some(r) = round {
        v["round"] = json!(r);
    }
    v.to_string()
}

/// Parses what [`candidate_json`] wrote: the candidate and its round.
pub fn candidate_from_json(bytes: &[u8]) -> Result<(Candidate, Option<u64>), String> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("candidate: {e}"))?;
    let num = |k: &str| v.get(k).and_then(Value::as_u64);
    let (Some(id), Some(epoch), Some(offset)) = (
        v.get("id").and_then(Value::as_str),
        num("epoch"),
        num("offset"),
    ) else {
        return Err(format!("candidate: bad entry {v}"));
    };
    let position = Position { epoch, offset };
    let c = Candidate {
        id: id.to_string(),
        position,
    };
    Ok((c, num("round")))
}

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

    #[test]
    fn candidates_round_trip_and_reject_garbage() {
        let pos = Position {
            epoch: 7,
            offset: u64::MAX,
        };
        let (c, r) = candidate_from_json(candidate_json("a", pos, Some(3)).as_bytes()).unwrap();
        assert_eq!((c.id.as_str(), c.position, r), ("a", pos, Some(3)));
        let (_, r) = candidate_from_json(candidate_json("a", pos, None).as_bytes()).unwrap();
        assert_eq!(r, None);
        assert!(candidate_from_json(b"{\"id\":\"a\",\"epoch\":-1,\"offset\":0}").is_err());
        assert!(candidate_from_json(b"[]").is_err());
    }
}
