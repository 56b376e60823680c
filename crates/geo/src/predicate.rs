//! Spatial predicates with Tile38's semantics (tidwall/geojson +
//! tidwall/geometry): `obj WITHIN area` and `obj INTERSECTS area`.
//!
//! INTERFACE STUB (bbox-only) — replaced by the predicates work.

use crate::rect::{Position, Rect};
use crate::Value;

/// A search area: any stored value, or a geodesic circle (Tile38 keeps
/// circles as their own type so points are tested by distance).
#[derive(Clone, Debug)]
pub enum Area {
    Value(Value),
    Circle { center: Position, meters: f64 },
}

impl Area {
    pub fn bbox(&self) -> Rect {
        match self {
            Area::Value(v) => v.bbox(),
            Area::Circle { center, .. } => Rect::point(*center),
        }
    }

    /// `obj WITHIN self`.
    pub fn contains(&self, obj: &Value) -> bool {
        let (a, b) = (obj.bbox(), self.bbox());
        a.min.x >= b.min.x && a.max.x <= b.max.x && a.min.y >= b.min.y && a.max.y <= b.max.y
    }

    /// `obj INTERSECTS self`.
    pub fn intersects(&self, obj: &Value) -> bool {
        let (a, b) = (obj.bbox(), self.bbox());
        a.min.x <= b.max.x && a.max.x >= b.min.x && a.min.y <= b.max.y && a.max.y >= b.min.y
    }
}

/// `a WITHIN b` for two areas (TEST).
pub fn area_within(a: &Area, b: &Area) -> bool {
    match a {
        Area::Value(v) => b.contains(v),
        Area::Circle { .. } => false,
    }
}

/// `a INTERSECTS b` for two areas (TEST).
pub fn area_intersects(a: &Area, b: &Area) -> bool {
    match a {
        Area::Value(v) => b.intersects(v),
        Area::Circle { .. } => false,
    }
}
