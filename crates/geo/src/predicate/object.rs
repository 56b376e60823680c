//! Object-level semantics of tidwall/geojson: how Point, Rect, LineString,
//! Polygon, the Multi* types, GeometryCollection, FeatureCollection, Feature
//! and Circle dispatch `Within`, `Contains` and `Intersects` onto the
//! geometry-level shapes (`Spatial().WithinX` / `IntersectsX`).
//!
//! The rules that decide most boundary cases:
//!
//! * `a.Within(b)` is `b.Contains(a)`; a leaf area `b` asks
//!   `a.Spatial().WithinX(b)`, i.e. `b.ContainsX(a)` at geometry level.
//! * `a.Intersects(b)` is `b.Spatial().IntersectsX(a)` with `b` as the
//!   receiver, except that a Point tested against a Circle uses the
//!   circle's haversine distance.
//! * A collection (Multi*, GeometryCollection, FeatureCollection) is within
//!   an area only if *every* child is (an empty child, or a child whose box
//!   misses the area's box, makes it fail); an empty collection is within
//!   nothing.
//! * A collection area contains an object if each non-empty leaf of the
//!   object (collections are flattened, Features are leaves) lies in *one*
//!   child of the area; an object with no non-empty leaf is not contained.
//! * A collection intersects an area if any child intersects any leaf of it.
//! * A Feature behaves as its geometry, but counts as one leaf above.
//! * A stored 2D point without z (`SET … POINT lat lon`, or an OBJECT
//!   Point with no other member) is Tile38's `geojson.SimplePoint`, every
//!   other point a `geojson.Point`. They differ in one place: a Circle
//!   receiver (`TEST CIRCLE … INTERSECTS GET …`) tests a `Point` by
//!   haversine distance but a `SimplePoint` against its 64-step polygon
//!   (tidwall/geojson v1.4.6 circle.go `Intersects` has no SimplePoint
//!   case, while `Contains` has one).

use std::borrow::Cow;

use super::circle::Circle;
use super::geom::rect_intersects_rect;
use super::index::PolyIndex;
use super::shapes::{self, Base, Poly};
use crate::geojson::{Geometry, Shape};
use crate::rect::{Position as P, Rect as R};
use crate::Value;

/// Children of a collection, borrowed from the stored shape.
#[derive(Clone, Copy)]
pub(super) enum Children<'a> {
    Points(&'a [P]),
    Lines(&'a [Vec<P>]),
    Polys(&'a [Vec<Vec<P>>]),
    /// Polygons of a prepared area, with their prepared rings.
    IndexedPolys(&'a [Vec<Vec<P>>], &'a [PolyIndex]),
    Geoms(&'a [Geometry]),
}

impl<'a> Children<'a> {
    pub fn len(&self) -> usize {
        match self {
            Children::Points(c) => c.len(),
            Children::Lines(c) => c.len(),
            Children::Polys(c) | Children::IndexedPolys(c, _) => c.len(),
            Children::Geoms(c) => c.len(),
        }
    }

    pub fn get(&self, i: usize) -> Obj<'a> {
        match *self {
            Children::Points(c) => Obj::Leaf(Base::Point(c[i])),
            Children::Lines(c) => Obj::line(&c[i]),
            Children::Polys(c) => Obj::Leaf(Base::Poly(Poly::from_rings(&c[i]))),
            Children::IndexedPolys(c, ix) => Obj::Leaf(Base::Poly(Poly::indexed(&c[i], &ix[i]))),
            Children::Geoms(c) => Obj::from_geometry(&c[i]),
        }
    }

    pub fn iter(self) -> impl Iterator<Item = Obj<'a>> {
        (0..self.len()).map(move |i| self.get(i))
    }

    /// Go's `collection.Search`: the non-empty children whose box meets `r`.
    fn search(self, r: R) -> impl Iterator<Item = Obj<'a>> {
        self.iter()
            .filter(move |c| c.rect_opt().is_some_and(|cr| rect_intersects_rect(&cr, &r)))
    }
}

/// A GeoJSON object as tidwall/geojson models it.
pub(super) enum Obj<'a> {
    /// Point, Rect, LineString or Polygon.
    Leaf(Base<'a>),
    /// A `geojson.SimplePoint`: a [`Value::Point`] without z.
    SimplePoint(P),
    /// MultiPoint, MultiLineString, MultiPolygon, GeometryCollection or
    /// FeatureCollection.
    Multi(Children<'a>),
    /// A Feature and its geometry.
    Feature(&'a Geometry),
    /// A circle area (borrowed) or a Circle object (built from its shape).
    Circle(Cow<'a, Circle>),
    /// Not spatial (a string value): never within or intersecting anything.
    None,
}

impl<'a> Obj<'a> {
    pub fn from_value(v: &'a Value) -> Self {
        match v {
            Value::Point { x, y, z } if *z == 0.0 => Obj::SimplePoint(P::new(*x, *y)),
            Value::Point { x, y, .. } => Obj::Leaf(Base::Point(P::new(*x, *y))),
            Value::Rect(r) => Obj::Leaf(Base::Rect(*r)),
            Value::Geo(g) => Obj::from_geometry(g),
            Value::String(_) => Obj::None,
        }
    }

    pub fn from_geometry(g: &'a Geometry) -> Self {
        match &g.shape {
            Shape::Point(p) => Obj::Leaf(Base::Point(*p)),
            Shape::MultiPoint(c) => Obj::Multi(Children::Points(c)),
            Shape::LineString(c) => Obj::line(c),
            Shape::MultiLineString(c) => Obj::Multi(Children::Lines(c)),
            Shape::Polygon(rings) => Obj::Leaf(Base::Poly(Poly::from_rings(rings))),
            Shape::MultiPolygon(c) => Obj::Multi(Children::Polys(c)),
            Shape::GeometryCollection(c) | Shape::FeatureCollection(c) => {
                Obj::Multi(Children::Geoms(c))
            }
            Shape::Feature(inner) => Obj::Feature(inner),
            Shape::Circle { center, meters } => {
                Obj::Circle(Cow::Owned(Circle::new(*center, *meters)))
            }
        }
    }

    fn line(points: &'a [P]) -> Self {
        Obj::Leaf(Base::Line(super::series::PointSeries::line(points)))
    }

    /// Go's `Empty()`.
    pub fn empty(&self) -> bool {
        match self {
            Obj::Leaf(b) => b.empty(),
            Obj::SimplePoint(_) | Obj::Circle(_) => false,
            other => other.rect_opt().is_none(),
        }
    }

    /// Go's `Rect()`: a collection's box is the union of its non-empty
    /// children's boxes (zero when there is none).
    pub fn rect(&self) -> R {
        match self {
            Obj::Leaf(b) => b.rect(),
            Obj::SimplePoint(p) => R::point(*p),
            other => other.rect_opt().unwrap_or_default(),
        }
    }

    /// `Rect()` of a non-empty object, `None` for an empty one: one walk
    /// over a collection answers both, where Go keeps the two precomputed
    /// (asking a nested collection for each separately made every level
    /// walk all the levels below it again and again).
    fn rect_opt(&self) -> Option<R> {
        match self {
            Obj::Leaf(b) => (!b.empty()).then(|| b.rect()),
            Obj::SimplePoint(p) => Some(R::point(*p)),
            Obj::Multi(c) => c
                .iter()
                .filter_map(|c| c.rect_opt())
                .reduce(|a, b| union_rects(a, &b)),
            Obj::Feature(g) => Obj::from_geometry(g).rect_opt(),
            Obj::Circle(c) => Some(c.rect()),
            Obj::None => None,
        }
    }

    /// Go's `ForEach`: collections are flattened, everything else (Features
    /// included) is one leaf. Returns false when `f` stopped the walk.
    fn for_each(&self, f: &mut dyn FnMut(&Obj) -> bool) -> bool {
        match self {
            Obj::Multi(c) => c.iter().all(|child| child.for_each(f)),
            leaf => f(leaf),
        }
    }
}

/// `unionRects`, one comparison per side as in Go.
fn union_rects(mut a: R, b: &R) -> R {
    if b.min.x < a.min.x {
        a.min.x = b.min.x;
    }
    if b.max.x > a.max.x {
        a.max.x = b.max.x;
    }
    if b.min.y < a.min.y {
        a.min.y = b.min.y;
    }
    if b.max.y > a.max.y {
        a.max.y = b.max.y;
    }
    a
}

/// `area.Contains(o)`, i.e. `o.Within(area)`.
pub(super) fn contains(area: &Obj, o: &Obj) -> bool {
    match area {
        Obj::Leaf(b) => within_base(o, b),
        Obj::SimplePoint(p) => within_base(o, &Base::Point(*p)),
        Obj::Multi(c) => multi_contains(*c, o),
        Obj::Feature(g) => contains(&Obj::from_geometry(g), o),
        Obj::Circle(c) => c.contains(o),
        Obj::None => false,
    }
}

/// `o.Intersects(area)`, with `o` as the receiver.
pub(super) fn intersects(o: &Obj, area: &Obj) -> bool {
    match (o, area) {
        (Obj::Leaf(Base::Point(p)) | Obj::SimplePoint(p), Obj::Circle(c)) => c.contains_point(*p),
        (Obj::Leaf(b), _) => spatial_intersects(area, b),
        (Obj::SimplePoint(p), _) => spatial_intersects(area, &Base::Point(*p)),
        (Obj::Multi(c), _) => multi_intersects(*c, area),
        (Obj::Feature(g), _) => intersects(&Obj::from_geometry(g), area),
        (Obj::Circle(c), _) => c.intersects(area),
        (Obj::None, _) => false,
    }
}

/// `o.Spatial().WithinX(x)`: is `o` inside the shape `x`?
pub(super) fn within_base(o: &Obj, x: &Base) -> bool {
    match o {
        Obj::Leaf(b) => shapes::contains(x, b),
        Obj::SimplePoint(p) => shapes::contains(x, &Base::Point(*p)),
        Obj::Multi(c) => {
            // Every child must be found (by box) and be within; the count
            // includes empty children, which are never found.
            if o.empty() {
                return false;
            }
            let mut within = 0;
            for child in c.search(x.rect()) {
                if !within_base(&child, x) {
                    break;
                }
                within += 1;
            }
            within == c.len()
        }
        Obj::Feature(g) => within_base(&Obj::from_geometry(g), x),
        Obj::Circle(c) => c.with_polygon(|poly| shapes::contains(x, &Base::Poly(poly))),
        Obj::None => false,
    }
}

/// `s.Spatial().IntersectsX(b)` with `s` (an area) as the receiver.
pub(super) fn spatial_intersects(s: &Obj, b: &Base) -> bool {
    match s {
        Obj::Leaf(x) => shapes::intersects(x, b),
        Obj::SimplePoint(p) => shapes::intersects(&Base::Point(*p), b),
        Obj::Multi(c) => c
            .search(b.rect())
            .any(|child| spatial_intersects(&child, b)),
        Obj::Feature(g) => spatial_intersects(&Obj::from_geometry(g), b),
        Obj::Circle(c) => c.with_polygon(|poly| shapes::intersects(&Base::Poly(poly), b)),
        Obj::None => false,
    }
}

/// `collection.Contains(o)`: each non-empty leaf of `o` inside one child.
fn multi_contains(c: Children, o: &Obj) -> bool {
    if c.iter().all(|child| child.empty()) {
        return false;
    }
    let mut contained = false;
    o.for_each(&mut |geom| {
        if geom.empty() {
            return true;
        }
        contained = c.search(geom.rect()).any(|child| contains(&child, geom));
        contained
    });
    contained
}

/// `collection.Intersects(area)`: a child meets a non-empty leaf of `area`.
fn multi_intersects(c: Children, area: &Obj) -> bool {
    let mut hit = false;
    area.for_each(&mut |geom| {
        if geom.empty() {
            return true;
        }
        hit = c.search(geom.rect()).any(|child| intersects(&child, geom));
        !hit
    });
    hit
}
