//! Event JSON, byte for byte as Tile38 1.37 writes it
//! (`fence.go:makemsg`, `fenceMatch`, `extendRoamMessage`;
//! `scanner.go:writeObject` with `fullFields`):
//!
//! ```text
//! set-like: {"command","group","detect"[,"hook"][,"meta"],"key","time","id",<payload>[,"fields"][,"distance"][,"nearby"|"faraway"]}
//! del:      {"command":"del"[,"hook"][,"meta"],"key","id","time"}
//! drop:     {"command":"drop"[,"hook"][,"meta"],"key","time"}
//! ```
//!
//! A set-like message is a head (everything up to `"time":…,`) and a body
//! (`"id":…}`); the body is written once per evaluation and shared by the
//! messages of that evaluation (enter + inside, one per nearby object).

use tile38_collection::Item;
use tile38_geo::{geohash, gomath, Position, Value};
use tile38_proto::fmt::{write_f64, write_json_str};

use crate::fence::{Command, Detect, Fence, Output};
use crate::groups::GroupId;

/// Text of the finished message (the parts are JSON, so valid UTF-8
/// unless a stored object carried invalid bytes through).
pub(crate) fn into_string(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// `{"command":"del"…}` (`fenceMatch`).
pub(crate) fn del(fence: &Fence, id: &[u8], time_json: &[u8]) -> String {
    let mut out = Vec::with_capacity(40 + fence.hook_json.len() + fence.key_json.len() + id.len());
    out.extend_from_slice(b"{\"command\":\"del\"");
    out.extend_from_slice(&fence.hook_json);
    out.extend_from_slice(&fence.key_json);
    out.extend_from_slice(b",\"id\":");
    write_json_str(&mut out, id);
    out.extend_from_slice(b",\"time\":");
    out.extend_from_slice(time_json);
    out.push(b'}');
    into_string(out)
}

/// `{"command":"drop"…}`.
pub(crate) fn drop(fence: &Fence, time_json: &[u8]) -> String {
    let mut out = Vec::with_capacity(40 + fence.hook_json.len() + fence.key_json.len());
    out.extend_from_slice(b"{\"command\":\"drop\"");
    out.extend_from_slice(&fence.hook_json);
    out.extend_from_slice(&fence.key_json);
    out.extend_from_slice(b",\"time\":");
    out.extend_from_slice(time_json);
    out.push(b'}');
    into_string(out)
}

/// The parts every set-like message of one evaluation shares.
pub(crate) struct Head<'a> {
    pub fence: &'a Fence,
    pub command: Command,
    pub group: GroupId,
    pub time_json: &'a [u8],
}

impl Head<'_> {
    /// The head's exact length (so a message is one allocation): the
    /// fixed text of `write`, the 24-digit group, the variable parts.
    fn len(&self, detect: Detect) -> usize {
        69 + self.command.as_str().len()
            + detect.as_str().len()
            + self.fence.hook_json.len()
            + self.fence.key_json.len()
            + self.time_json.len()
    }

    fn write(&self, out: &mut Vec<u8>, detect: Detect) {
        out.extend_from_slice(b"{\"command\":\"");
        out.extend_from_slice(self.command.as_str().as_bytes());
        out.extend_from_slice(b"\",\"group\":\"");
        self.group.write_hex(out);
        out.extend_from_slice(b"\",\"detect\":\"");
        out.extend_from_slice(detect.as_str().as_bytes());
        out.push(b'"');
        out.extend_from_slice(&self.fence.hook_json);
        out.extend_from_slice(&self.fence.key_json);
        out.extend_from_slice(b",\"time\":");
        out.extend_from_slice(self.time_json);
        out.push(b',');
    }

    /// `makemsg`: head + body.
    pub fn message(&self, detect: Detect, body: &[u8]) -> String {
        let mut out = Vec::with_capacity(self.len(detect) + body.len());
        self.write(&mut out, detect);
        debug_assert_eq!(out.len(), self.len(detect));
        out.extend_from_slice(body);
        into_string(out)
    }

    /// `extendRoamMessage`: head + body with `,"nearby"|"faraway":{…}`
    /// inserted before the body's closing brace.
    pub fn roam_message(&self, body: &[u8], nested: &[u8]) -> String {
        let mut out = Vec::with_capacity(self.len(Detect::Roam) + body.len() + nested.len());
        self.write(&mut out, Detect::Roam);
        out.extend_from_slice(&body[..body.len() - 1]);
        out.extend_from_slice(nested);
        out.push(b'}');
        into_string(out)
    }
}

/// Writes the body of a set-like message: `"id":…` and the payload in the
/// fence's output form, `"fields"`, `"distance"`, closing `}`. `false`
/// (nothing written) for COUNT, whose writer emits nothing.
pub(crate) fn write_body(out: &mut Vec<u8>, fence: &Fence, id: &[u8], item: &Item) -> bool {
    let spec = fence.spec();
    let distance = spec.distance.then(|| distance(fence, &item.value));
    match spec.output {
        Output::Count => return false,
        Output::Ids => {
            out.extend_from_slice(b"\"id\":");
            // 1.37 quirk: with DISTANCE the id member holds an object.
            if let Some(d) = distance {
                out.extend_from_slice(b"{\"id\":");
                write_json_str(out, id);
                out.extend_from_slice(b",\"distance\":");
                write_f64(out, d);
                out.push(b'}');
            } else {
                write_json_str(out, id);
            }
            out.push(b'}');
            return true;
        }
        form => {
            out.extend_from_slice(b"\"id\":");
            write_json_str(out, id);
            write_payload(out, &item.value, form);
        }
    }
    if !spec.nofields && !item.fields.is_empty() {
        out.extend_from_slice(b",\"fields\":{");
        for (i, (name, v)) in item.fields.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_json_str(out, name);
            out.push(b':');
            v.write_json(out);
        }
        out.push(b'}');
    }
    if let Some(d) = distance {
        out.extend_from_slice(b",\"distance\":");
        write_f64(out, d);
    }
    out.push(b'}');
    true
}

/// `,"object"|"point"|"bounds"|"hash":…` (`scanner.go:writeObject`).
fn write_payload(out: &mut Vec<u8>, v: &Value, form: Output) {
    match form {
        Output::Points => {
            let c = v.center();
            out.extend_from_slice(b",\"point\":{\"lat\":");
            write_f64(out, c.y);
            out.extend_from_slice(b",\"lon\":");
            write_f64(out, c.x);
            if let Some(z) = v.z() {
                out.extend_from_slice(b",\"z\":");
                write_f64(out, z);
            }
            out.push(b'}');
        }
        Output::Bounds => {
            let r = v.bbox();
            out.extend_from_slice(b",\"bounds\":{\"sw\":{\"lat\":");
            write_f64(out, r.min.y);
            out.extend_from_slice(b",\"lon\":");
            write_f64(out, r.min.x);
            out.extend_from_slice(b"},\"ne\":{\"lat\":");
            write_f64(out, r.max.y);
            out.extend_from_slice(b",\"lon\":");
            write_f64(out, r.max.x);
            out.extend_from_slice(b"}}");
        }
        Output::Hashes(p) => {
            out.extend_from_slice(b",\"hash\":\"");
            write_geohash(out, v.center(), p);
            out.push(b'"');
        }
        _ => {
            out.extend_from_slice(b",\"object\":");
            v.write_json(out);
        }
    }
}

/// `geohash.EncodeWithPrecision` without an intermediate `String`.
fn write_geohash(out: &mut Vec<u8>, c: Position, precision: u8) {
    const BASE32: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let chars = u32::from(precision.clamp(1, 12));
    let hash = geohash::encode_int(c.y, c.x) >> (64 - 5 * chars);
    for k in (0..chars).rev() {
        out.push(BASE32[((hash >> (5 * k)) & 0x1f) as usize]);
    }
}

/// `obj.Geo().Distance(fence.obj)`: haversine between the centres (0 for
/// ROAM fences, which have no area).
fn distance(fence: &Fence, v: &Value) -> f64 {
    match fence.center {
        Some(a) => meters(a, v.center()),
        None => 0.0,
    }
}

/// tidwall/geojson's `Distance` between two centres (`geo.DistanceTo`).
pub(crate) fn meters(a: Position, b: Position) -> f64 {
    gomath::distance_to(a.y, a.x, b.y, b.x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geohash_matches_the_geo_crate() {
        for (lat, lon) in [(5.0, 5.0), (3.0, 3.0), (33.5, -112.25), (-80.0, 170.0)] {
            for p in 1..=12u8 {
                let mut out = Vec::new();
                write_geohash(&mut out, Position::new(lon, lat), p);
                assert_eq!(out, geohash::encode(lat, lon, p.into()).into_bytes());
            }
        }
    }
}
