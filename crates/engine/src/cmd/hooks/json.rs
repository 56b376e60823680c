//! HOOKS/CHANS in JSON: one definition as a JSON object.

use super::Hook;
use crate::reply::Reply;

/// One definition as a JSON object; `ttl` is whole seconds left, rounded
/// down, never below 0.
pub(super) fn write_json(out: &mut Reply, name: &[u8], h: &Hook, now: i64) {
    let ttl = h.expires.map_or(-1, |at| {
        ((at.saturating_sub(now) as f64 / 1e9) as i64).max(0)
    });
    let list = |out: &mut Reply, items: &[Vec<u8>]| {
        out.push(b"[");
        for (n, s) in items.iter().enumerate() {
            if n > 0 {
                out.push(b",");
            }
            out.json_str(s);
        }
        out.push(b"]");
    };
    out.push(b"{\"name\":");
    out.json_str(name);
    out.push(b",\"key\":");
    out.json_str(&h.key);
    out.push(b",\"ttl\":");
    out.json_i64(ttl);
    if !h.channel {
        out.push(b",\"endpoints\":");
        list(out, &h.endpoints);
    }
    out.push(b",\"command\":");
    list(out, &h.command);
    out.push(b",\"meta\":{");
    for (n, (k, v)) in h.metas.iter().enumerate() {
        if n > 0 {
            out.push(b",");
        }
        out.json_str(k);
        out.push(b":");
        out.json_str(v);
    }
    out.push(b"}}");
}
