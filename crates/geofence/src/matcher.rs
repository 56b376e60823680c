//! Evaluating one fence against one change: Tile38's
//! `fence.go:FenceMatch`/`fenceMatch`, plus the WHERE gate the 1.37
//! oracle shows (spec §6.1):
//!
//! 1. `drop`: a drop message.
//! 2. No object: nothing.
//! 3. MATCH on the id.
//! 4. Non-spatial (STRING) objects: nothing.
//! 5. `fset` under NOFIELDS: nothing.
//! 6. `del`: a del message.
//! 7. ROAM: nearby/faraway (SET only), detect `roam`. Otherwise
//!    inside/exit/enter/outside from the old and new objects, the WHERE
//!    gate, and `cross` when the segment between the two centres meets
//!    the area.
//! 8. The DETECT fallback (enter→inside, exit/cross→outside).
//! 9. COUNT output: nothing.
//! 10. The group (enter: new, cross: renewed, else current or new).
//! 11. The messages with their companions.
//! 12. COMMANDS keeps only messages of the listed commands (after the
//!     group update, as in Tile38).

use tile38_collection::{Database, Item};
use tile38_geo::geojson::Shape;
use tile38_geo::predicate::Area;
use tile38_geo::{Geometry, Rect, Value};

use crate::change::Details;
use crate::fence::{detects, Command, Detect, Fence, Region};
use crate::groups::{GroupId, Groups};
use crate::message::{self, Head};
use crate::roam;
use crate::{Event, FenceId};

/// What evaluating fences for one change shares: the database (ROAM), the
/// group table, the time, and reused buffers.
pub(crate) struct Ctx<'a> {
    pub db: &'a Database,
    pub groups: &'a mut Groups,
    /// `"<RFC 3339>"`, quoted.
    pub time_json: &'a [u8],
    pub secs: i64,
    pub body: &'a mut Vec<u8>,
    pub nested: &'a mut Vec<u8>,
    pub pattern: &'a mut Vec<u8>,
}

/// `obj` against the area: WITHIN is containment, NEARBY (a circle) and
/// INTERSECTS are intersection (`fenceMatchObject`).
fn geo_match(region: &Region, v: &Value) -> bool {
    match region {
        Region::Within(a) => a.contains(v),
        Region::Intersects(a) | Region::Nearby(a) => a.intersects(v),
        Region::Roam(_) => false,
    }
}

fn area(region: &Region) -> Option<&Area> {
    match region {
        Region::Within(a) | Region::Intersects(a) | Region::Nearby(a) => Some(a),
        Region::Roam(_) => None,
    }
}

fn rects_meet(a: &Rect, b: &Rect) -> bool {
    let (ax0, ax1) = (a.min.x.min(a.max.x), a.min.x.max(a.max.x));
    let (ay0, ay1) = (a.min.y.min(a.max.y), a.min.y.max(a.max.y));
    let (bx0, bx1) = (b.min.x.min(b.max.x), b.min.x.max(b.max.x));
    let (by0, by1) = (b.min.y.min(b.max.y), b.min.y.max(b.max.y));
    ax0 <= bx1 && ax1 >= bx0 && ay0 <= by1 && ay1 >= by0
}

/// Whether the segment between the centres of `old` and `new` meets the
/// area (always as INTERSECTS, also for WITHIN fences: "cross").
fn crosses(fence: &Fence, old: &Value, new: &Value) -> bool {
    let (Some(a), Some(bbox)) = (area(&fence.spec().region), fence.bbox) else {
        return false;
    };
    let (p, q) = (old.center(), new.center());
    // The segment lies in its own box: most moves far from the fence end
    // here, without building the line.
    if !rects_meet(&Rect::new(p, q), &bbox) {
        return false;
    }
    let line = Value::Geo(std::sync::Arc::new(Geometry::new(Shape::LineString(vec![
        p, q,
    ]))));
    a.intersects(&line)
}

/// Step 7 for an area fence: the raw detect, or `None` when the WHERE
/// gate drops the change.
fn classify(fence: &Fence, d: &Details, obj: &Item) -> Option<Detect> {
    let region = &fence.spec().region;
    let fset = d.command == Command::Fset;
    let m1_geo = d.old.is_some_and(|o| geo_match(region, &o.value));
    let m1 = m1_geo && d.old.is_some_and(|o| fence.passes(d.id, o));
    let m2_geo = geo_match(region, &obj.value);
    let m2_pass = m2_geo.then(|| fence.passes(d.id, obj));
    let m2 = m2_pass == Some(true);
    // The gate (1.37, not in the stored Go source): a change whose new
    // object fails the filters reports nothing unless it leaves a match.
    if !fset && !m1 && !m2 && !m2_pass.unwrap_or_else(|| fence.passes(d.id, obj)) {
        return None;
    }
    Some(match (m1, m2) {
        (true, true) => Detect::Inside,
        (true, false) => Detect::Exit,
        (false, true) if fset => Detect::Inside,
        (false, true) => Detect::Enter,
        (false, false) => {
            // `nocross`: a position inside the area that failed the filter.
            let nocross = m1_geo || m2_geo;
            match d.old {
                Some(old) if !fset && !nocross && crosses(fence, &old.value, &obj.value) => {
                    Detect::Cross
                }
                _ => Detect::Outside,
            }
        }
    })
}

/// Step 8: the detect to report, or `None` when DETECT excludes it.
fn fallback(fence: &Fence, mut detect: Detect) -> Option<Detect> {
    let set = fence.spec().detect;
    while !detects(set, detect) {
        detect = match detect {
            Detect::Enter => Detect::Inside,
            Detect::Exit | Detect::Cross => Detect::Outside,
            _ => return None,
        };
    }
    Some(detect)
}

fn push(out: &mut Vec<Event>, fence: FenceId, detect: Option<Detect>, json: String) {
    out.push(Event {
        fence,
        detect,
        json,
    });
}

/// Evaluates `fence` for the change `d`, appending its messages to `out`
/// in `fenceMatch` order.
pub(crate) fn fence_match(
    cx: &mut Ctx,
    fid: FenceId,
    fence: &Fence,
    d: &Details,
    out: &mut Vec<Event>,
) {
    let spec = fence.spec();
    let accept = spec.commands.is_none_or(|s| s.contains(d.command));
    if d.command == Command::Drop {
        if accept {
            push(out, fid, None, message::drop(fence, cx.time_json));
        }
        return;
    }
    let Some(obj) = d.obj else { return };
    if !fence.id_matches(d.id)
        || !obj.value.is_spatial()
        || (d.command == Command::Fset && spec.nofields)
    {
        return;
    }
    if d.command == Command::Del {
        if accept {
            push(out, fid, None, message::del(fence, d.id, cx.time_json));
        }
        return;
    }
    let mut roaming = None;
    let raw = match &spec.region {
        Region::Roam(r) => {
            if d.command == Command::Set {
                let (near, far) = roam::matches(cx.db, fence, r, d.id, obj, d.old);
                if near.is_empty() && far.is_empty() {
                    return;
                }
                roaming = Some((r, near, far));
            }
            Detect::Roam
        }
        _ => match classify(fence, d, obj) {
            Some(detect) => detect,
            None => return,
        },
    };
    let Some(detect) = fallback(fence, raw) else {
        return;
    };
    if spec.output == crate::fence::Output::Count {
        return;
    }
    let group = group(cx.groups, fence, d, detect, cx.secs);
    if !accept {
        return;
    }
    cx.body.clear();
    message::write_body(cx.body, fence, d.id, obj);
    let head = Head {
        fence,
        command: d.command,
        group,
        time_json: cx.time_json,
    };
    if let Some((r, near, far)) = roaming {
        for (kind, list) in [("nearby", &near), ("faraway", &far)] {
            for n in list {
                roam::write_nested(cx.nested, cx.pattern, kind, cx.db, r, n);
                let json = head.roam_message(cx.body, cx.nested);
                push(out, fid, Some(Detect::Roam), json);
            }
        }
        return;
    }
    push(out, fid, Some(detect), head.message(detect, cx.body));
    let companion = match detect {
        Detect::Enter => Some(Detect::Inside),
        Detect::Exit | Detect::Cross => Some(Detect::Outside),
        _ => None,
    };
    if let Some(c) = companion.filter(|&c| detects(spec.detect, c)) {
        push(out, fid, Some(c), head.message(c, cx.body));
    }
}

/// Step 10 (`groupConnect` / `groupDisconnect` / `groupGet`).
fn group(groups: &mut Groups, fence: &Fence, d: &Details, detect: Detect, secs: i64) -> GroupId {
    let (hook, key, id) = (fence.name(), d.key, d.id);
    match detect {
        // A cross drops the group and starts a new one: one connect does
        // both.
        Detect::Enter | Detect::Cross => groups.connect(hook, key, id, secs),
        _ => groups.get_or_connect(hook, key, id, secs),
    }
}
