//! Tile38's geodesic circle (tidwall/geojson `Circle`, 64 steps) and the
//! Go-exact math behind it.
//!
//! * A point is in the circle when the haversine of its distance to the
//!   centre is at most the haversine of the radius (`containsPoint`); the
//!   radius is first folded into half the earth's circumference
//!   (`NormalizeDistance`). The one exception: `Intersects` with the
//!   circle as receiver sends a `SimplePoint` (a stored plain point) to
//!   the polygon below (tidwall/geojson v1.4.6 circle.go).
//! * Every other shape is tested against a 64-step polygon: an ellipse
//!   whose half-axes are the longitude/latitude offsets of the destination
//!   points due east/west and north/south (`makeCircleObject`). A radius
//!   of zero or less gives a zero-area rectangle at the centre instead.
//! * The search box of a circle area is that polygon's bounding box.
//!
//! Building the polygon costs about 70 sines and cosines, so the last one
//! built is kept per thread: a search tests many objects against the same
//! circle.

use std::cell::{Cell, OnceCell, RefCell};
use std::f64::consts::PI;
use std::sync::Arc;

use super::geom::rect_center;
use super::object::{self, Obj};
use super::series::{PointSeries, Series};
use super::shapes::{Base, Poly, Ring};
use crate::gomath::{
    asin, circle_half_axes, cos, geo_haversine as haversine, normalize_distance, sin,
};
use crate::rect::{Position as P, Rect as R};

/// tidwall/geojson's earth radius in meters.
const EARTH_RADIUS: f64 = 6371e3;
const RADIANS: f64 = PI / 180.0;
const STEPS: f64 = 64.0;

/// `geo.DistanceTo` in meters, as tidwall/geojson's circle computes it.
fn distance(lat_a: f64, lon_a: f64, lat_b: f64, lon_b: f64) -> f64 {
    EARTH_RADIUS * 2.0 * asin(haversine(lat_a, lon_a, lat_b, lon_b).sqrt())
}

/// `(cos θ, sin θ)` of the outline's angles 0, 5.625, …, 360 (360/64 is
/// exact, so this visits the same angles as Go), computed once: every
/// circle uses the same ones.
fn unit_steps() -> &'static [(f64, f64)] {
    static STEPS_TABLE: std::sync::OnceLock<Vec<(f64, f64)>> = std::sync::OnceLock::new();
    STEPS_TABLE.get_or_init(|| {
        let mut out = Vec::with_capacity(STEPS as usize + 1);
        let mut th = 0.0;
        while th <= 360.0 {
            let r = RADIANS * th;
            out.push((cos(r), sin(r)));
            th += 360.0 / STEPS;
        }
        out
    })
}

/// The polygon standing in for a circle.
pub(super) enum Outline {
    Ring {
        points: Vec<P>,
        rect: R,
    },
    /// Radius <= 0: `Polygon{Exterior: Rect{center, center}}`.
    Dot(P),
}

impl Outline {
    fn build(center: P, meters: f64) -> Outline {
        if meters <= 0.0 {
            return Outline::Dot(center);
        }
        let (lons, lats) = circle_half_axes(center.y, center.x, normalize_distance(meters));
        let mut points = Vec::with_capacity(STEPS as usize + 2);
        for &(c, s) in unit_steps() {
            points.push(P::new(center.x + lons * c, center.y + lats * s));
        }
        points.push(points[0]);
        let rect = PointSeries::ring(&points).rect();
        Outline::Ring { points, rect }
    }

    pub fn rect(&self) -> R {
        match self {
            Outline::Ring { rect, .. } => *rect,
            Outline::Dot(c) => R::point(*c),
        }
    }

    pub fn poly(&self) -> Poly<'_> {
        match self {
            Outline::Ring { points, .. } => Poly {
                ext: Ring::Points(PointSeries::ring(points)),
                holes: &[],
                hole_index: &[],
            },
            Outline::Dot(c) => Poly::from_rect(R::point(*c)),
        }
    }
}

type OutlineKey = (u64, u64, u64);

thread_local! {
    /// The last outline built on this thread.
    static LAST_OUTLINE: RefCell<Option<(OutlineKey, Arc<Outline>)>> = const { RefCell::new(None) };
}

/// A circle area: centre (x = lon, y = lat) and radius in meters.
#[derive(Clone)]
pub(super) struct Circle {
    center: P,
    meters: f64,
    /// Haversine of the normalised radius; 0 unless the radius is > 0.
    haversine: f64,
    /// Cosine of the centre's latitude, once needed.
    cos_lat: Cell<Option<f64>>,
    outline: OnceCell<Arc<Outline>>,
}

impl Circle {
    pub fn new(center: P, meters: f64) -> Circle {
        let haversine = if meters > 0.0 {
            let s = sin(0.5 * normalize_distance(meters) / EARTH_RADIUS);
            s * s
        } else {
            0.0
        };
        Circle {
            center,
            meters,
            haversine,
            cos_lat: Cell::new(None),
            outline: OnceCell::new(),
        }
    }

    /// `containsPoint`: haversine distance to the centre within the radius
    /// (`geo.Haversine(p.Y, p.X, center.Y, center.X)`, term for term).
    pub fn contains_point(&self, p: P) -> bool {
        let (p1, l1) = (p.y * RADIANS, p.x * RADIANS);
        let (p2, l2) = (self.center.y * RADIANS, self.center.x * RADIANS);
        let cos_p2 = self.cos_lat.get().unwrap_or_else(|| {
            let c = cos(p2);
            self.cos_lat.set(Some(c));
            c
        });
        let (sp, sl) = (sin((p2 - p1) / 2.0), sin((l2 - l1) / 2.0));
        sp * sp + cos(p1) * cos_p2 * sl * sl <= self.haversine
    }

    pub fn outline(&self) -> &Outline {
        self.outline.get_or_init(|| {
            let key = (
                self.center.x.to_bits(),
                self.center.y.to_bits(),
                self.meters.to_bits(),
            );
            LAST_OUTLINE.with(|last| {
                if let Some((k, o)) = &*last.borrow() {
                    if *k == key {
                        return Arc::clone(o);
                    }
                }
                let o = Arc::new(Outline::build(self.center, self.meters));
                *last.borrow_mut() = Some((key, Arc::clone(&o)));
                o
            })
        })
    }

    pub fn rect(&self) -> R {
        self.outline().rect()
    }

    /// The 64-step polygon as a ring of positions (a radius ≤ 0 gives the
    /// closed ring of the zero-size rectangle at the centre).
    pub fn ring(&self) -> Vec<P> {
        match self.outline() {
            Outline::Ring { points, .. } => points.clone(),
            Outline::Dot(c) => vec![*c; 5],
        }
    }

    pub fn with_polygon<T>(&self, f: impl FnOnce(Poly) -> T) -> T {
        f(self.outline().poly())
    }

    /// `Circle.Distance(other)` for two circles: between the centres of the
    /// outlines' boxes.
    fn distance_to(&self, other: &Circle) -> f64 {
        let a = rect_center(&other.rect());
        let b = rect_center(&self.rect());
        distance(a.y, a.x, b.y, b.x)
    }

    /// `Circle.Contains(o)`: `o` within the circle.
    pub fn contains(&self, o: &Obj) -> bool {
        match o {
            Obj::Leaf(Base::Point(p)) | Obj::SimplePoint(p) => self.contains_point(*p),
            // Tile38 tests overlap here, not containment.
            Obj::Circle(other) => other.distance_to(self) < other.meters + self.meters,
            Obj::Multi(children) => children.iter().all(|c| self.contains(&c)),
            Obj::None => false,
            _ => self.with_polygon(|poly| object::within_base(o, &Base::Poly(poly))),
        }
    }

    /// `Circle.Intersects(area)`, the circle being the receiver (TEST).
    pub fn intersects(&self, area: &Obj) -> bool {
        match area {
            Obj::Leaf(Base::Point(p)) => self.contains_point(*p),
            // v1.4.6 has no SimplePoint case here: the polygon decides.
            Obj::SimplePoint(_) => {
                self.with_polygon(|poly| object::spatial_intersects(area, &Base::Poly(poly)))
            }
            Obj::Circle(other) => other.distance_to(self) <= other.meters + self.meters,
            Obj::Multi(children) => children.iter().any(|c| self.intersects(&c)),
            Obj::Feature(g) => self.intersects(&Obj::from_geometry(g)),
            Obj::None => false,
            _ => self.with_polygon(|poly| object::spatial_intersects(area, &Base::Poly(poly))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outline_is_an_ellipse_through_the_compass_points() {
        let c = Circle::new(P::new(-122.4412, 37.7335), 1000.0);
        let Outline::Ring { points, rect } = c.outline() else {
            panic!("ring expected");
        };
        assert_eq!(points.len(), 66);
        assert_eq!(points[0], points[65]);
        let (n, _) = crate::gomath::destination_point(37.7335, -122.4412, 1000.0, 0.0);
        assert!((rect.max.y - n).abs() < 1e-12);
        assert!((distance(37.7335, -122.4412, n, -122.4412) - 1000.0).abs() < 1e-6);
        assert!(rect.min.x < -122.4412 && rect.max.x > -122.4412);
        assert!(matches!(
            Circle::new(P::new(1.0, 2.0), 0.0).outline(),
            Outline::Dot(_)
        ));
    }

    #[test]
    fn point_test_is_the_haversine_formula() {
        let c = Circle::new(P::new(-122.4412, 37.7335), 70.0);
        for (x, y) in [
            (-122.4408378, 37.7341129),
            (-122.44121, 37.7335),
            (-122.44, 37.733),
        ] {
            let h = haversine(y, x, 37.7335, -122.4412);
            assert_eq!(c.contains_point(P::new(x, y)), h <= c.haversine);
            assert_eq!(c.contains_point(P::new(x, y)), h <= c.haversine, "cached");
        }
    }

    #[test]
    fn radius_wraps_around_the_earth() {
        assert_eq!(normalize_distance(1000.0), 1000.0);
        let pi_r = PI * EARTH_RADIUS;
        assert_eq!(normalize_distance(2.0 * pi_r + 1000.0), 1000.0);
        let c = Circle::new(P::new(0.0, 0.0), 2.0 * pi_r - 1.0);
        assert!(c.contains_point(P::new(0.0, 0.0)));
        assert!(!c.contains_point(P::new(0.0, 1.0)));
    }
}
