//! Spatial predicates with Tile38 1.37's semantics: `obj WITHIN area` and
//! `obj INTERSECTS area`, as tidwall/geojson v1.4 computes them.
//!
//! Tile38 answers `WITHIN` with `obj.Within(area)` (which is
//! `area.Contains(obj)`) and `INTERSECTS` with `obj.Intersects(area)`, for
//! every object whose bounding box meets [`Area::bbox`]; `TEST a WITHIN b`
//! is `a.Within(b)`. This module ports those methods, quirks included:
//!
//! * boundaries count: a point on a polygon edge or rectangle side is
//!   within it; touching shapes intersect; a point on a hole's edge is in
//!   the polygon;
//! * a line inside a hole *intersects* the polygon (lines are compared with
//!   the exterior only), while a point or polygon inside a hole does not;
//! * `BOUNDS` objects and areas are Go `Rect`s, kept as given: an inverted
//!   rectangle (`SET … BOUNDS 34 -112 33 -115`) contains no point;
//! * circles test points by haversine distance and everything else against
//!   a 64-step polygon (see `circle`);
//! * collections and Features follow the aggregation rules in `object`;
//! * where Go never returns, these functions do: `Line.ContainsLine`
//!   walking back and forth between two segments answers `false`, and a ray
//!   cast at an infinite latitude stops nudging the point.
//!
//! Layout (each module says what it owns):
//!
//! * `geom`: rectangle, segment and ray-cast primitives;
//! * `series`: the `Series` view of rings, lines and rectangles-as-rings;
//! * `ring`: point/segment/ring-in-ring algorithms;
//! * `shapes`: the point, rect, line and polygon `Contains`/`Intersects`
//!   tables;
//! * `object`: GeoJSON object dispatch (collections, Features);
//! * `circle`: the geodesic circle and the Go-exact math behind it;
//! * `index`, `prepared`: [`PreparedArea`], an area made ready for a search
//!   (ring boxes and shape facts computed once, segment buckets for long
//!   rings, circle constants), with the same answers.
//!
//! Nothing here allocates for points tested against points, rectangles,
//! polygons or circles. A search should call [`Area::prepare`] once and test
//! every candidate with the result; [`Area::contains`] and
//! [`Area::intersects`] are the one-shot forms (they recompute ring boxes on
//! each call).

mod circle;
mod geom;
mod index;
mod object;
mod prepared;
mod ring;
mod segtree;
mod series;
mod shapes;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod quirks;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod testutil;

use circle::Circle;
use object::Obj;
pub use prepared::PreparedArea;

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
    /// The rectangle Tile38 searches its R-tree with: the value's bounding
    /// box, or for a circle the box of its 64-step polygon (so a point that
    /// is within the radius but outside that box is never a candidate).
    pub fn bbox(&self) -> Rect {
        match self {
            Area::Value(v) => v.bbox(),
            Area::Circle { center, meters } => Circle::new(*center, *meters).rect(),
        }
    }

    /// `obj WITHIN self`.
    pub fn contains(&self, obj: &Value) -> bool {
        self.with_obj(|area| object::contains(area, &Obj::from_value(obj)))
    }

    /// `obj INTERSECTS self`.
    pub fn intersects(&self, obj: &Value) -> bool {
        self.with_obj(|area| object::intersects(&Obj::from_value(obj), area))
    }

    /// The area as a stored value: a circle becomes its 64-step polygon
    /// (what Tile38 buffers for `BUFFER … CIRCLE`).
    pub fn to_value(&self) -> Value {
        match self {
            Area::Value(v) => v.clone(),
            Area::Circle { center, meters } => {
                let ring = Circle::new(*center, *meters).ring();
                Value::from_geometry(crate::Geometry::new(crate::geojson::Shape::Polygon(vec![
                    ring,
                ])))
            }
        }
    }

    /// This area made ready to be tested against many objects.
    pub fn prepare(&self) -> PreparedArea<'_> {
        PreparedArea::new(self)
    }

    fn with_obj<T>(&self, f: impl FnOnce(&Obj) -> T) -> T {
        match self {
            Area::Value(v) => f(&Obj::from_value(v)),
            Area::Circle { center, meters } => f(&Obj::Circle(std::borrow::Cow::Owned(
                Circle::new(*center, *meters),
            ))),
        }
    }
}

/// `a WITHIN b` for two areas (TEST).
/// The box of Tile38's circle of `meters` around `center` (its 64-step
/// polygon's box; a point for a radius of zero or less).
pub(crate) fn circle_rect(center: Position, meters: f64) -> Rect {
    Circle::new(center, meters).rect()
}

/// The closed 64-step ring of Tile38's circle (five copies of the centre
/// for a radius of zero or less).
pub(crate) fn circle_ring(center: Position, meters: f64) -> Vec<Position> {
    Circle::new(center, meters).ring()
}

pub fn area_within(a: &Area, b: &Area) -> bool {
    a.with_obj(|a| b.with_obj(|b| object::contains(b, a)))
}

/// `a INTERSECTS b` for two areas (TEST); `a` is the receiver, as in Go.
pub fn area_intersects(a: &Area, b: &Area) -> bool {
    a.with_obj(|a| b.with_obj(|b| object::intersects(a, b)))
}
