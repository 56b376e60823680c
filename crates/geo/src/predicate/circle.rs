//! Tile38's geodesic circle (tidwall/geojson `Circle`, 64 steps) and the
//! Go-exact math behind it.
//!
//! * A point is in the circle when the haversine of its distance to the
//!   centre is at most the haversine of the radius (`containsPoint`); the
//!   radius is first folded into half the earth's circumference
//!   (`NormalizeDistance`).
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
use std::f64::consts::{FRAC_PI_2, FRAC_PI_4, PI};
use std::sync::Arc;

use super::geom::rect_center;
use super::object::{self, Obj};
use super::series::{PointSeries, Series};
use super::shapes::{Base, Poly, Ring};
use crate::gomath::{asin, cos, sin};
use crate::rect::{Position as P, Rect as R};

/// tidwall/geojson's earth radius in meters.
const EARTH_RADIUS: f64 = 6371e3;
const RADIANS: f64 = PI / 180.0;
const DEGREES: f64 = 180.0 / PI;
const PI_R: f64 = PI * EARTH_RADIUS;
const STEPS: f64 = 64.0;

/// Go's `math.Atan2` (Cephes, pure Go on amd64); the platform `atan2` can
/// differ in the last bit, which moves circle outlines.
fn go_atan2(y: f64, x: f64) -> f64 {
    if y.is_nan() || x.is_nan() {
        return f64::NAN;
    }
    if y == 0.0 {
        return if x >= 0.0 && !x.is_sign_negative() {
            0f64.copysign(y)
        } else {
            PI.copysign(y)
        };
    }
    if x == 0.0 {
        return FRAC_PI_2.copysign(y);
    }
    if x.is_infinite() {
        let v = match (x > 0.0, y.is_infinite()) {
            (true, true) => FRAC_PI_4,
            (true, false) => 0.0,
            (false, true) => 3.0 * FRAC_PI_4,
            (false, false) => PI,
        };
        return v.copysign(y);
    }
    if y.is_infinite() {
        return FRAC_PI_2.copysign(y);
    }
    let q = go_atan(y / x);
    if x < 0.0 {
        if q <= 0.0 {
            q + PI
        } else {
            q - PI
        }
    } else {
        q
    }
}

fn go_atan(x: f64) -> f64 {
    if x == 0.0 {
        x
    } else if x > 0.0 {
        satan(x)
    } else {
        -satan(-x)
    }
}

#[allow(clippy::excessive_precision)]
fn satan(x: f64) -> f64 {
    const MOREBITS: f64 = 6.123233995736765886130e-17;
    const TAN3PIO8: f64 = 2.41421356237309504880;
    if x <= 0.66 {
        xatan(x)
    } else if x > TAN3PIO8 {
        FRAC_PI_2 - xatan(1.0 / x) + MOREBITS
    } else {
        FRAC_PI_4 + xatan((x - 1.0) / (x + 1.0)) + 0.5 * MOREBITS
    }
}

#[allow(clippy::excessive_precision)]
fn xatan(x: f64) -> f64 {
    const P0: f64 = -8.750608600031904122785e-01;
    const P1: f64 = -1.615753718733365076637e+01;
    const P2: f64 = -7.500855792314704667340e+01;
    const P3: f64 = -1.228866684490136173410e+02;
    const P4: f64 = -6.485021904942025371773e+01;
    const Q0: f64 = 2.485846490142306297962e+01;
    const Q1: f64 = 1.650270098316988542046e+02;
    const Q2: f64 = 4.328810604912902668951e+02;
    const Q3: f64 = 4.853903996359136964868e+02;
    const Q4: f64 = 1.945506571482613964425e+02;
    let z = x * x;
    let z = z * ((((P0 * z + P1) * z + P2) * z + P3) * z + P4)
        / (((((z + Q0) * z + Q1) * z + Q2) * z + Q3) * z + Q4);
    x * z + x
}

/// tidwall/geojson `geo.Haversine`: the haversine (not the distance).
fn haversine(lat_a: f64, lon_a: f64, lat_b: f64, lon_b: f64) -> f64 {
    let (p1, l1) = (lat_a * RADIANS, lon_a * RADIANS);
    let (p2, l2) = (lat_b * RADIANS, lon_b * RADIANS);
    let (sp, sl) = (sin((p2 - p1) / 2.0), sin((l2 - l1) / 2.0));
    sp * sp + cos(p1) * cos(p2) * sl * sl
}

/// `geo.DistanceTo` in meters.
fn distance(lat_a: f64, lon_a: f64, lat_b: f64, lon_b: f64) -> f64 {
    EARTH_RADIUS * 2.0 * asin(haversine(lat_a, lon_a, lat_b, lon_b).sqrt())
}

/// `geo.NormalizeDistance`: distances wrap around the earth.
fn normalize_distance(meters: f64) -> f64 {
    let m = meters % (2.0 * PI_R);
    if m <= PI_R {
        m
    } else {
        2.0 * PI_R - m
    }
}

/// `geo.DestinationPoint` as `(lat, lon)`.
fn destination(lat: f64, lon: f64, meters: f64, bearing: f64) -> (f64, f64) {
    let d = meters / EARTH_RADIUS;
    let t = bearing * RADIANS;
    let p1 = lat * RADIANS;
    let l1 = lon * RADIANS;
    let p2 = asin(sin(p1) * cos(d) + cos(p1) * sin(d) * cos(t));
    let l2 = l1 + go_atan2(sin(t) * sin(d) * cos(p1), cos(d) - sin(p1) * sin(p2));
    let l2 = (l2 + 3.0 * PI) % (2.0 * PI) - PI;
    (p2 * DEGREES, l2 * DEGREES)
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
        let m = normalize_distance(meters);
        let (max_y, _) = destination(center.y, center.x, m, 0.0);
        let (_, max_x) = destination(center.y, center.x, m, 90.0);
        let (min_y, _) = destination(center.y, center.x, m, 180.0);
        let (_, min_x) = destination(center.y, center.x, m, 270.0);
        let lons = (max_x - min_x) / 2.0;
        let lats = (max_y - min_y) / 2.0;
        let mut points = Vec::with_capacity(STEPS as usize + 2);
        // 360/64 is exact, so this visits 0, 5.625, ..., 360 like Go.
        let mut th = 0.0;
        while th <= 360.0 {
            let r = RADIANS * th;
            points.push(P::new(center.x + lons * cos(r), center.y + lats * sin(r)));
            th += 360.0 / STEPS;
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
            Obj::Leaf(Base::Point(p)) => self.contains_point(*p),
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
    fn atan2_matches_libm_closely() {
        for (y, x) in [
            (1.0, 2.0),
            (-3.0, 0.5),
            (0.2, -7.0),
            (-1.0, -1.0),
            (5.0, 1e-3),
        ] {
            assert!((go_atan2(y, x) - f64::atan2(y, x)).abs() < 1e-15, "{y} {x}");
        }
        assert_eq!(go_atan2(0.0, -1.0), PI);
        assert_eq!(go_atan2(-0.0, 1.0).to_bits(), (-0.0f64).to_bits());
        assert!(go_atan2(f64::NAN, 1.0).is_nan());
    }

    #[test]
    fn outline_is_an_ellipse_through_the_compass_points() {
        let c = Circle::new(P::new(-122.4412, 37.7335), 1000.0);
        let Outline::Ring { points, rect } = c.outline() else {
            panic!("ring expected");
        };
        assert_eq!(points.len(), 66);
        assert_eq!(points[0], points[65]);
        let (n, _) = destination(37.7335, -122.4412, 1000.0, 0.0);
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
        assert_eq!(normalize_distance(2.0 * PI_R - 1000.0), 1000.0);
        let c = Circle::new(P::new(0.0, 0.0), 2.0 * PI_R - 1.0);
        assert!(c.contains_point(P::new(0.0, 0.0)));
        assert!(!c.contains_point(P::new(0.0, 1.0)));
    }
}
