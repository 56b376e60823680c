//! The boxes a collection indexes: which values get one (Tile38 leaves
//! strings, empty geometries and, here, NaN boxes out of its R-tree) and
//! conversions between the exact `f64` box and the index's `f32` one.

use tile38_geo::{Position, Rect, Value};

use crate::page::Bbox;

use super::Collection;

/// The exact box of a value as `[min x, min y, max x, max y]`; strings and
/// boxes with a NaN side are not indexed (no search can match them). An
/// infinite side is indexed as Tile38 indexes it (`SET … POINT inf …` is
/// found by NEARBY and widens `BOUNDS key`).
pub(super) fn envelope(value: &Value) -> Option<[f64; 4]> {
    if !value.is_spatial() || is_empty(value) {
        return None;
    }
    let r = value.bbox();
    let (min_x, max_x) = (r.min.x.min(r.max.x), r.min.x.max(r.max.x));
    let (min_y, max_y) = (r.min.y.min(r.max.y), r.min.y.max(r.max.y));
    let e = [min_x, min_y, max_x, max_y];
    e.iter().all(|v| !v.is_nan()).then_some(e)
}

/// A geometry without a position (an empty MultiPoint after a JDEL, a
/// point NaN in both coordinates): Tile38 leaves it out of its R-tree
/// (`if !obj.Empty()`, [`Value::is_empty`]).
pub(super) fn is_empty(value: &Value) -> bool {
    value.is_empty()
}

/// A rectangle stored with a min corner above its max on some axis.
pub(super) fn is_inverted(value: &Value) -> bool {
    matches!(value, Value::Rect(r) if r.min.x > r.max.x || r.min.y > r.max.y)
}

pub(super) fn bbox(e: &[f64; 4]) -> Bbox {
    Bbox::outward([e[0], e[1]], [e[2], e[3]])
}

pub(super) fn rect(e: &[f64; 4]) -> Rect {
    Rect::new(Position::new(e[0], e[1]), Position::new(e[2], e[3]))
}

impl Collection {
    /// Gives `slot` the index entry of its new envelope `to` (`was`: it had
    /// one before).
    pub(super) fn move_in_index(&mut self, slot: u32, was: bool, to: Option<[f64; 4]>) {
        match (was, to) {
            (true, Some(e)) => self.spatial.update(&mut self.store, slot, bbox(&e)),
            (true, None) => {
                self.spatial.remove(&mut self.store, slot);
            }
            (false, Some(e)) => self.spatial.insert(&mut self.store, slot, bbox(&e)),
            (false, None) => {}
        }
    }
}
