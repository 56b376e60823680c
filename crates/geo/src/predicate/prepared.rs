//! [`PreparedArea`]: an area made ready for a search, where the same area
//! is tested against every candidate. Ring boxes, convexity and winding
//! are computed once, long rings get a segment index, and a circle keeps
//! its radius haversine, centre cosine and 64-step outline. The answers are
//! those of [`Area::contains`] / [`Area::intersects`].

use super::circle::Circle;
use super::index::PolyIndex;
use super::object::{self, Children, Obj};
use super::shapes::{Base, Poly};
use super::Area;
use crate::geojson::{Geometry, Shape};
use crate::rect::{Position as P, Rect};
use crate::Value;

/// An [`Area`] prepared for many tests (see [`Area::prepare`]). Building it
/// allocates (indexes for polygon areas); testing with it does not. It can
/// move between threads but not be shared (it caches lazily).
pub struct PreparedArea<'a> {
    bbox: Rect,
    kind: Kind<'a>,
}

enum Kind<'a> {
    Value(&'a Value),
    Poly {
        rings: &'a [Vec<P>],
        index: PolyIndex,
    },
    Polys {
        polys: &'a [Vec<Vec<P>>],
        index: Vec<PolyIndex>,
    },
    Circle(Circle),
}

impl<'a> PreparedArea<'a> {
    pub(super) fn new(area: &'a Area) -> Self {
        let kind = match area {
            Area::Circle { center, meters } => Kind::Circle(Circle::new(*center, *meters)),
            Area::Value(v) => match v {
                Value::Geo(g) => prepare_geometry(g).unwrap_or(Kind::Value(v)),
                _ => Kind::Value(v),
            },
        };
        let bbox = match &kind {
            Kind::Circle(c) => c.rect(),
            _ => area.bbox(),
        };
        PreparedArea { bbox, kind }
    }

    /// The R-tree search rectangle, as [`Area::bbox`].
    pub fn bbox(&self) -> Rect {
        self.bbox
    }

    /// `obj WITHIN area`.
    pub fn contains(&self, obj: &Value) -> bool {
        self.with_obj(|area| object::contains(area, &Obj::from_value(obj)))
    }

    /// `obj INTERSECTS area`.
    pub fn intersects(&self, obj: &Value) -> bool {
        self.with_obj(|area| object::intersects(&Obj::from_value(obj), area))
    }

    fn with_obj<T>(&self, f: impl FnOnce(&Obj) -> T) -> T {
        match &self.kind {
            Kind::Value(v) => f(&Obj::from_value(v)),
            Kind::Poly { rings, index } => f(&Obj::Leaf(Base::Poly(Poly::indexed(rings, index)))),
            Kind::Polys { polys, index } => f(&Obj::Multi(Children::IndexedPolys(polys, index))),
            Kind::Circle(c) => f(&Obj::Circle(std::borrow::Cow::Borrowed(c))),
        }
    }
}

/// Polygon and MultiPolygon areas get prepared rings. Feature wrappers are
/// looked through: as an area, a Feature answers exactly as its geometry
/// does (it only differs as a leaf of `ForEach`, where "any leaf meets any
/// child" gives the same result either way).
fn prepare_geometry(g: &Geometry) -> Option<Kind<'_>> {
    let mut g = g;
    while let Shape::Feature(inner) = &g.shape {
        g = inner;
    }
    match &g.shape {
        Shape::Polygon(rings) => Some(Kind::Poly {
            rings,
            index: PolyIndex::new(rings),
        }),
        Shape::MultiPolygon(polys) => Some(Kind::Polys {
            polys,
            index: polys.iter().map(|p| PolyIndex::new(p)).collect(),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn prepared_areas_can_move_between_threads() {
        fn send<T: Send>() {}
        send::<super::PreparedArea<'static>>();
    }
}
