//! The fence index: per watched key, which fences a change must be
//! evaluated against, following Tile38's candidate rules
//! (`aof.go:getQueueCandidates`, `hooks.go:cmdSetHook`, `live.go`):
//!
//! * **always**: fences that see every change of their key. Hooks and
//!   channels whose DETECT is absent or has `outside` (`hooksOut`: they
//!   report `outside`, every `del` and `drop`), live fences of the same
//!   kind, and live ROAM fences. ROAM hooks and channels with another
//!   DETECT are never evaluated (no area), as in Tile38.
//! * **areas**: the other fences, in an R-tree of their area's box
//!   (`hookTree`), found when the box meets the old or the new object's
//!   box; those with `cross` in DETECT are also found through the box of
//!   both positions (`hookCross`).
//! * **dels**: live fences in `areas`, which Tile38 still evaluates for
//!   every change (live fences filter by key only): that matters only for
//!   `del` and `drop`, which need no geometry.
//! * **unboxed**: area fences whose box is not finite, evaluated for every
//!   set-like change (they cannot go in the R-tree; their predicates
//!   decide).
//!
//! So a write costs the always-list plus the fences whose boxes it
//! touches, not every fence of the key. Only fences someone hears are in
//! the index ([`crate::Geofence::set_heard`]): 10 000 channels nobody
//! subscribes to cost a write nothing. The lists are ordered sets, so that
//! muting or unmuting one fence is a logarithmic step, not a scan.

use std::collections::BTreeSet;

use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};
use tile38_geo::Rect;

use crate::fence::{Detect, Fence, Region, Target};
use crate::FenceId;

type Entry = GeomWithData<Rectangle<[f64; 2]>, FenceId>;

/// The fences of one key.
#[derive(Default)]
pub(crate) struct KeyIndex {
    always: BTreeSet<FenceId>,
    areas: RTree<Entry>,
    cross: RTree<Entry>,
    dels: BTreeSet<FenceId>,
    unboxed: BTreeSet<FenceId>,
    /// Fences of the key, heard or not (kept by [`crate::Geofence`]).
    pub fences: usize,
    /// Of those, the heard ones (the ones indexed here).
    pub heard: usize,
}

/// A box as the R-tree wants it: corners ordered, all finite.
fn corners(r: &Rect) -> Option<([f64; 2], [f64; 2])> {
    let lo = [r.min.x.min(r.max.x), r.min.y.min(r.max.y)];
    let hi = [r.min.x.max(r.max.x), r.min.y.max(r.max.y)];
    lo.iter()
        .chain(&hi)
        .all(|v| v.is_finite())
        .then_some((lo, hi))
}

/// Where a fence goes.
enum Place {
    Always,
    /// A ROAM hook or channel whose DETECT lacks `outside`: Tile38 never
    /// evaluates it (no area for `hookTree`, not in `hooksOut`).
    Never,
    Area {
        rect: ([f64; 2], [f64; 2]),
        cross: bool,
    },
    Unboxed,
}

fn place(fence: &Fence) -> Place {
    let roam = matches!(fence.spec().region, Region::Roam(_));
    if fence.sees_everything() || (roam && fence.target() == Target::Live) {
        return Place::Always;
    }
    if roam {
        return Place::Never;
    }
    let cross = fence
        .spec()
        .detect
        .is_some_and(|d| d.contains(Detect::Cross));
    match fence.bbox.as_ref().and_then(corners) {
        Some(rect) => Place::Area { rect, cross },
        None => Place::Unboxed,
    }
}

fn entry(rect: ([f64; 2], [f64; 2]), id: FenceId) -> Entry {
    GeomWithData::new(Rectangle::from_corners(rect.0, rect.1), id)
}

impl KeyIndex {
    pub fn insert(&mut self, id: FenceId, fence: &Fence) {
        match place(fence) {
            Place::Always => {
                self.always.insert(id);
            }
            Place::Never => {}
            Place::Area { rect, cross } => {
                self.areas.insert(entry(rect, id));
                if cross {
                    self.cross.insert(entry(rect, id));
                }
                if fence.target() == Target::Live {
                    self.dels.insert(id);
                }
            }
            Place::Unboxed => {
                self.unboxed.insert(id);
                if fence.target() == Target::Live {
                    self.dels.insert(id);
                }
            }
        }
    }

    pub fn remove(&mut self, id: FenceId, fence: &Fence) {
        let drop_id = |set: &mut BTreeSet<FenceId>| set.remove(&id);
        match place(fence) {
            Place::Always => {
                drop_id(&mut self.always);
            }
            Place::Never => {}
            Place::Area { rect, cross } => {
                self.areas.remove(&entry(rect, id));
                if cross {
                    self.cross.remove(&entry(rect, id));
                }
                drop_id(&mut self.dels);
            }
            Place::Unboxed => {
                drop_id(&mut self.unboxed);
                drop_id(&mut self.dels);
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.fences == 0
    }

    /// Appends the candidates for a change to `out` (may repeat a fence).
    /// `old`/`obj` are the boxes of the change's old and new object;
    /// `del_or_drop` adds the live fences that see every del and drop.
    pub fn candidates(
        &self,
        old: Option<Rect>,
        obj: Option<Rect>,
        del_or_drop: bool,
        out: &mut Vec<FenceId>,
    ) {
        out.extend(&self.always);
        if del_or_drop {
            out.extend(&self.dels);
        } else if obj.is_some() {
            out.extend(&self.unboxed);
        }
        let search = |tree: &RTree<Entry>, r: &Rect, out: &mut Vec<FenceId>| {
            if let Some((lo, hi)) = corners(r) {
                let q = AABB::from_corners(lo, hi);
                out.extend(tree.locate_in_envelope_intersecting(q).map(|e| e.data));
            }
        };
        for r in old.iter().chain(obj.iter()) {
            search(&self.areas, r, out);
        }
        if let (Some(a), Some(b)) = (old, obj) {
            if self.cross.size() > 0 {
                search(&self.cross, &a.union(&b), out);
            }
        }
    }
}
