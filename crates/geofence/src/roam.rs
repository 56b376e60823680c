//! ROAM fences (`fence.go:fenceMatchRoam`, `fenceMatchNearbys`,
//! `extendRoamMessage`): which objects of the roam key are near an
//! object's new and old positions, which of them are new (`nearby`) and
//! which were left behind (`faraway`).
//!
//! Tile38 quirks kept:
//! * The search area is the box around the circle (`geo.RectFromCenter`);
//!   there is no radius check (the source compares an object's distance to
//!   itself), so objects in the box's corners count.
//! * The object itself is skipped by id even when the roam key is another
//!   key; MATCH does not apply to the targets.
//! * `meters` is truncated to millimetres; faraway meters are measured to
//!   the new position.

use std::f64::consts::{FRAC_PI_2, PI};

use tile38_collection::{glob, Collection, Database, Item};
use tile38_geo::gomath::{asin, cos, sin, EARTH_RADIUS};
use tile38_geo::predicate::Area;
use tile38_geo::{Position, Rect, Value};
use tile38_proto::fmt::{write_f64, write_json_str};

use crate::fence::{Fence, Roam};
use crate::message::meters;

/// One object near the roaming one.
pub(crate) struct Near<'a> {
    pub id: &'a [u8],
    pub value: &'a Value,
    pub meters: f64,
}

/// `geo.RectFromCenter` (tidwall/geojson): the box around a circle
/// (janmatuschek.de bounding coordinates), as a lon/lat rectangle.
pub(crate) fn rect_from_center(lat: f64, lon: f64, meters: f64) -> Rect {
    if meters > EARTH_RADIUS {
        return Rect::new(Position::new(-180.0, -90.0), Position::new(180.0, 90.0));
    }
    let (radians, degrees) = (PI / 180.0, 180.0 / PI);
    let (lat, lon) = (lat * radians, lon * radians);
    let r = meters / EARTH_RADIUS;
    let (mut min_lat, mut max_lat) = (lat - r, lat + r);
    let lat_t = asin(sin(lat) / cos(r));
    // Go's math.Acos is Pi/2 - Asin.
    let lon_d = FRAC_PI_2 - asin((cos(r) - sin(lat_t) * sin(lat)) / (cos(lat_t) * cos(lat)));
    let (mut min_lon, mut max_lon) = (lon - lon_d, lon + lon_d);
    if max_lat > FRAC_PI_2 {
        min_lon = -PI;
        max_lat = FRAC_PI_2;
        max_lon = PI;
    }
    if min_lat < -FRAC_PI_2 {
        min_lat = -FRAC_PI_2;
        min_lon = -PI;
        max_lon = PI;
    }
    if min_lon < -PI || max_lon > PI {
        min_lon = -PI;
        max_lon = PI;
    }
    // Normalised to -180..180 like the source (which folds a full-width
    // box's east edge onto -180: kept).
    min_lon = (min_lon + 3.0 * PI) % (2.0 * PI) - PI;
    max_lon = (max_lon + 3.0 * PI) % (2.0 * PI) - PI;
    Rect::new(
        Position::new(min_lon * degrees, min_lat * degrees),
        Position::new(max_lon * degrees, max_lat * degrees),
    )
}

/// `fenceMatchNearbys`: the objects of the roam key near `obj`, other than
/// `id` itself, whose id matches the roam pattern.
fn nearbys<'a>(
    col: &'a Collection,
    fence: &Fence,
    roam: &Roam,
    id: &[u8],
    obj: &Item,
) -> Vec<Near<'a>> {
    let center = obj.value.center();
    let rect = rect_from_center(center.y, center.x, roam.meters);
    let area = Area::Value(Value::Rect(rect));
    let mut out = Vec::new();
    for (oid, item) in col.intersecting(rect) {
        let oid = oid.as_bytes();
        if oid == id || !area.intersects(&item.value) {
            continue;
        }
        let id_match = if fence.roam_glob {
            glob::matches(&roam.id, oid)
        } else {
            roam.id == oid
        };
        if id_match {
            out.push(Near {
                id: oid,
                value: &item.value,
                meters: meters(center, item.value.center()),
            });
        }
    }
    out
}

/// `fenceMatchRoam`: (nearby, faraway), each sorted by meters then id.
pub(crate) fn matches<'a>(
    db: &'a Database,
    fence: &Fence,
    roam: &Roam,
    id: &[u8],
    obj: &Item,
    old: Option<&Item>,
) -> (Vec<Near<'a>>, Vec<Near<'a>>) {
    let Some(col) = db.get(&roam.key) else {
        return (Vec::new(), Vec::new());
    };
    let mut near = nearbys(col, fence, roam, id, obj);
    let mut far = match old {
        Some(old) => nearbys(col, fence, roam, id, old),
        None => Vec::new(),
    };
    // Still near ("dwelling"): not faraway; with NODWELL not nearby either.
    far.retain(|f| {
        let Some(j) = near.iter().position(|n| n.id == f.id) else {
            return true;
        };
        if fence.spec().nodwell {
            near.swap_remove(j);
        }
        false
    });
    let center = obj.value.center();
    for f in &mut far {
        f.meters = meters(f.value.center(), center);
    }
    let by_meters = |a: &Near, b: &Near| a.meters.total_cmp(&b.meters).then(a.id.cmp(b.id));
    near.sort_by(by_meters);
    far.sort_by(by_meters);
    (near, far)
}

/// Writes `,"nearby"|"faraway":{"key","id","object","meters"[,"scan"]}`
/// into `out` (cleared first); `pattern` is a reused buffer.
pub(crate) fn write_nested(
    out: &mut Vec<u8>,
    pattern: &mut Vec<u8>,
    kind: &str,
    db: &Database,
    roam: &Roam,
    n: &Near,
) {
    out.clear();
    out.extend_from_slice(b",\"");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\":{\"key\":");
    write_json_str(out, &roam.key);
    out.extend_from_slice(b",\"id\":");
    write_json_str(out, n.id);
    out.extend_from_slice(b",\"object\":");
    n.value.write_json(out);
    out.extend_from_slice(b",\"meters\":");
    write_f64(out, (n.meters * 1000.0).floor() / 1000.0);
    if let Some(scan) = &roam.scan {
        out.extend_from_slice(b",\"scan\":[");
        if let Some(col) = db.get(&roam.key) {
            write_scan(out, pattern, col, n.id, scan);
        }
        out.push(b']');
    }
    out.push(b'}');
}

/// The `scan` list: the target itself, then (ascending) every other
/// object whose id matches `<target id><scan>`. Every later entry starts
/// with a comma, even when the target is gone (as in the source).
fn write_scan(out: &mut Vec<u8>, pattern: &mut Vec<u8>, col: &Collection, id: &[u8], scan: &[u8]) {
    if let Some(me) = col.get(id) {
        out.extend_from_slice(b"{\"id\":");
        write_json_str(out, id);
        out.extend_from_slice(b",\"self\":true,\"object\":");
        me.value.write_json(out);
        out.push(b'}');
    }
    pattern.clear();
    pattern.extend_from_slice(id);
    pattern.extend_from_slice(scan);
    let prefix = glob::literal_prefix(pattern);
    for (oid, item) in col.range(Some(prefix), false) {
        let oid = oid.as_bytes();
        if !oid.starts_with(prefix) {
            break;
        }
        if oid != id && glob::matches(pattern, oid) {
            out.extend_from_slice(b",{\"id\":");
            write_json_str(out, oid);
            out.extend_from_slice(b",\"object\":");
            item.value.write_json(out);
            out.push(b'}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rect_from_center_is_a_box_around_the_circle() {
        let r = rect_from_center(33.0, -115.0, 1000.0);
        let d = 1000.0 / EARTH_RADIUS * 180.0 / PI;
        assert!((r.max.y - 33.0 - d).abs() < 1e-12 && (33.0 - r.min.y - d).abs() < 1e-12);
        assert!(r.min.x < -115.0 - d && r.max.x > -115.0 + d);
        let whole = rect_from_center(0.0, 0.0, 7e6);
        assert_eq!((whole.min.x, whole.max.y), (-180.0, 90.0));
    }
}
