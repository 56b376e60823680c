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
//! circle. A search needs only the polygon's box to find candidates, and
//! most candidates are points (tested by haversine), so the box is worked
//! out from the half-axes alone ([`Circle::rect`]) and the polygon is
//! built only when a candidate needs it.

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

/// The extreme cosines and sines of [`unit_steps`]: `(min cos, max cos,
/// min sin, max sin)`.
fn unit_extremes() -> (f64, f64, f64, f64) {
    static EXTREMES: std::sync::OnceLock<(f64, f64, f64, f64)> = std::sync::OnceLock::new();
    *EXTREMES.get_or_init(|| {
        unit_steps().iter().fold(
            (
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY,
            ),
            |(c0, c1, s0, s1), &(c, s)| (c0.min(c), c1.max(c), s0.min(s), s1.max(s)),
        )
    })
}

/// The box of the ring [`Outline::build`] draws on half-axes `(lons,
/// lats)` around `center`, without drawing it: each vertex is `center +
/// axis × t` for `t` among the table's cosines (sines), and `center + axis
/// × t` rounds monotonically in `t`, so each side of the box is reached at
/// an extreme `t`. `None` when a value is not finite (Go's box skips NaN
/// vertices, which only the drawn ring shows).
fn outline_rect(center: P, (lons, lats): (f64, f64)) -> Option<R> {
    if ![center.x, center.y, lons, lats]
        .iter()
        .all(|v| v.is_finite())
    {
        return None;
    }
    let (c0, c1, s0, s1) = unit_extremes();
    let (xa, xb) = (center.x + lons * c0, center.x + lons * c1);
    let (ya, yb) = (center.y + lats * s0, center.y + lats * s1);
    Some(R::new(
        P::new(xa.min(xb), ya.min(yb)),
        P::new(xa.max(xb), ya.max(yb)),
    ))
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
    /// The polygon on half-axes `axes` (`None`: a radius of zero or less).
    fn build(center: P, axes: Option<(f64, f64)>) -> Outline {
        let Some((lons, lats)) = axes else {
            return Outline::Dot(center);
        };
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
    /// The outline's half-axes (`None` for a radius of zero or less), once
    /// needed.
    axes: OnceCell<Option<(f64, f64)>>,
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
            axes: OnceCell::new(),
            outline: OnceCell::new(),
        }
    }

    fn axes(&self) -> Option<(f64, f64)> {
        // A NaN radius draws a ring of NaN vertices (not `<= 0`).
        *self.axes.get_or_init(|| {
            if self.meters <= 0.0 {
                return None;
            }
            let c = self.center;
            Some(circle_half_axes(c.y, c.x, normalize_distance(self.meters)))
        })
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
                let o = Arc::new(Outline::build(self.center, self.axes()));
                *last.borrow_mut() = Some((key, Arc::clone(&o)));
                o
            })
        })
    }

    /// The outline's box, the polygon drawn only if it already is or the
    /// box needs it ([`outline_rect`]).
    pub fn rect(&self) -> R {
        if let Some(o) = self.outline.get() {
            return o.rect();
        }
        match self.axes() {
            None => R::point(self.center),
            Some(axes) => outline_rect(self.center, axes).unwrap_or_else(|| self.outline().rect()),
        }
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
    fn box_without_the_polygon_is_the_polygons_box() {
        let mut unit = crate::units(0x2545_f491_4f6c_dd1du64);
        let mut cases = vec![
            (0.0, 179.999, 5000.0),
            (89.99, 10.0, 3000.0),
            (-90.0, 0.0, 1.0),
        ];
        cases.extend([(1e-300, 0.0, 1e-300), (0.0, -180.0, 2e7), (45.0, 45.0, 1e9)]);
        cases.extend([(0.0, 0.0, f64::NAN), (0.0, 0.0, 0.0), (f64::NAN, 1.0, 10.0)]);
        for _ in 0..20_000 {
            let m = 10f64.powf(unit() * 9.0 - 2.0);
            cases.push((unit() * 180.0 - 90.0, unit() * 360.0 - 180.0, m));
        }
        for (lat, lon, meters) in cases {
            let c = Circle::new(P::new(lon, lat), meters);
            let fast = c.rect();
            let finite = [lat, lon, meters].iter().all(|v| v.is_finite());
            assert!(
                !finite || c.outline.get().is_none(),
                "drawn: {lat} {lon} {meters}"
            );
            let drawn = Circle::new(P::new(lon, lat), meters).outline().rect();
            let bits = |r: R| [r.min.x, r.min.y, r.max.x, r.max.y].map(f64::to_bits);
            assert_eq!(bits(fast), bits(drawn), "{lat} {lon} {meters}");
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
