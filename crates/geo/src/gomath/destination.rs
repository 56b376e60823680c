//! Points at a distance and bearing on tidwall/geojson's sphere
//! (`DestinationPoint`, `BearingTo`), term for term on Go's trigonometry
//! ([`super`]): circle, sector and buffer outlines are drawn from them.

use std::f64::consts::PI;

use super::{asin, atan2, cos, sin, EARTH_RADIUS};

/// The point `meters` away from `lat, lon` along the initial bearing
/// `bearing_degrees` on a sphere of radius 6,371 km (circle and sector
/// outlines), as `(lat, lon)` with the longitude normalised to ±180°.
pub fn destination_point(lat: f64, lon: f64, meters: f64, bearing_degrees: f64) -> (f64, f64) {
    Origin::new(lat, lon, meters).toward(Bearing::new(bearing_degrees))
}

/// A bearing's cosine and sine (Go's, of the bearing in radians).
#[derive(Clone, Copy)]
struct Bearing {
    cos: f64,
    sin: f64,
}

impl Bearing {
    fn new(degrees: f64) -> Bearing {
        let theta = degrees * (PI / 180.0);
        Bearing {
            cos: cos(theta),
            sin: sin(theta),
        }
    }
}

/// The terms of tidwall/geojson's `DestinationPoint` that depend only on
/// the start and the distance, computed once for several bearings: the
/// same Go-exact values as the one-shot formula (each term is a pure
/// function of its inputs), at a quarter of the trigonometry for a
/// circle's four compass points.
struct Origin {
    sin_phi1: f64,
    cos_phi1: f64,
    sin_delta: f64,
    cos_delta: f64,
    lambda1: f64,
}

impl Origin {
    fn new(lat: f64, lon: f64, meters: f64) -> Origin {
        let delta = meters / EARTH_RADIUS;
        let phi1 = lat * (PI / 180.0);
        Origin {
            sin_phi1: sin(phi1),
            cos_phi1: cos(phi1),
            sin_delta: sin(delta),
            cos_delta: cos(delta),
            lambda1: lon * (PI / 180.0),
        }
    }

    /// `φ2` in radians.
    fn phi2(&self, b: Bearing) -> f64 {
        asin(self.sin_phi1 * self.cos_delta + self.cos_phi1 * self.sin_delta * b.cos)
    }

    /// The destination's latitude only (no `atan2`).
    fn lat_toward(&self, b: Bearing) -> f64 {
        self.phi2(b) * (180.0 / PI)
    }

    fn toward(&self, b: Bearing) -> (f64, f64) {
        let phi2 = self.phi2(b);
        let lambda2 = self.lambda1
            + atan2(
                b.sin * self.sin_delta * self.cos_phi1,
                self.cos_delta - self.sin_phi1 * sin(phi2),
            );
        let lambda2 = go_mod(lambda2 + 3.0 * PI, 2.0 * PI) - PI;
        (phi2 * (180.0 / PI), lambda2 * (180.0 / PI))
    }
}

/// The compass bearings 0, 90, 180 and 270 degrees.
fn compass() -> &'static [Bearing; 4] {
    static COMPASS: std::sync::OnceLock<[Bearing; 4]> = std::sync::OnceLock::new();
    COMPASS.get_or_init(|| [0.0, 90.0, 180.0, 270.0].map(Bearing::new))
}

/// Half-axes `(lon°, lat°)` of the ellipse tidwall/geojson draws for a
/// circle of `meters` (already normalised) around `lat, lon`: half the
/// spans between the destination points due W–E and S–N. Circle areas and
/// point buffers are polygons on this ellipse.
pub fn circle_half_axes(lat: f64, lon: f64, meters: f64) -> (f64, f64) {
    let o = Origin::new(lat, lon, meters);
    let [n, e, s, w] = *compass();
    let max_y = o.lat_toward(n);
    let (_, max_x) = o.toward(e);
    let min_y = o.lat_toward(s);
    let (_, min_x) = o.toward(w);
    ((max_x - min_x) / 2.0, (max_y - min_y) / 2.0)
}

/// Initial bearing in degrees (0..360) from A to B.
pub fn bearing_to(lat_a: f64, lon_a: f64, lat_b: f64, lon_b: f64) -> f64 {
    let phi1 = lat_a * (PI / 180.0);
    let phi2 = lat_b * (PI / 180.0);
    let dl = (lon_b - lon_a) * (PI / 180.0);
    let y = sin(dl) * cos(phi2);
    let x = cos(phi1) * sin(phi2) - sin(phi1) * cos(phi2) * cos(dl);
    go_mod(atan2(y, x) * (180.0 / PI) + 360.0, 360.0)
}

/// Go's `math.Mod`: the remainder takes the sign of `x` (Rust's `%` agrees).
fn go_mod(x: f64, y: f64) -> f64 {
    x % y
}

#[cfg(test)]
mod destination_tests {
    use super::*;

    /// tidwall/geojson's `DestinationPoint` term for term, as it was
    /// written before [`Origin`] shared its terms.
    fn one_shot(lat: f64, lon: f64, meters: f64, bearing_degrees: f64) -> (f64, f64) {
        let delta = meters / EARTH_RADIUS;
        let theta = bearing_degrees * (PI / 180.0);
        let phi1 = lat * (PI / 180.0);
        let lambda1 = lon * (PI / 180.0);
        let phi2 = asin(sin(phi1) * cos(delta) + cos(phi1) * sin(delta) * cos(theta));
        let lambda2 = lambda1
            + atan2(
                sin(theta) * sin(delta) * cos(phi1),
                cos(delta) - sin(phi1) * sin(phi2),
            );
        let lambda2 = go_mod(lambda2 + 3.0 * PI, 2.0 * PI) - PI;
        (phi2 * (180.0 / PI), lambda2 * (180.0 / PI))
    }

    #[test]
    fn shared_terms_give_the_one_shot_bits() {
        let mut unit = crate::units(0x9e37_79b9_7f4a_7c15u64);
        for _ in 0..20_000 {
            let (lat, lon) = (unit() * 180.0 - 90.0, unit() * 360.0 - 180.0);
            let meters = 10f64.powf(unit() * 8.0);
            let bits = |(a, b): (f64, f64)| (a.to_bits(), b.to_bits());
            let bearing = unit() * 720.0 - 360.0;
            assert_eq!(
                bits(destination_point(lat, lon, meters, bearing)),
                bits(one_shot(lat, lon, meters, bearing))
            );
            let (n, e, s, w) = (
                one_shot(lat, lon, meters, 0.0).0,
                one_shot(lat, lon, meters, 90.0).1,
                one_shot(lat, lon, meters, 180.0).0,
                one_shot(lat, lon, meters, 270.0).1,
            );
            assert_eq!(
                bits(circle_half_axes(lat, lon, meters)),
                bits(((e - w) / 2.0, (n - s) / 2.0))
            );
        }
    }

    #[test]
    fn destination_then_distance_round_trips() {
        for bearing in [0.0, 45.0, 90.0, 180.0, 270.0, 359.0] {
            let (lat, lon) = destination_point(33.5, -112.1, 1000.0, bearing);
            let d = super::super::haversine(33.5, -112.1, lat, lon);
            assert!((d - 1000.0).abs() < 1e-6, "bearing {bearing}: {d}");
            let b = bearing_to(33.5, -112.1, lat, lon);
            assert!(
                (b - bearing).abs() < 1e-6 || (b - bearing).abs() > 359.9,
                "{b}"
            );
        }
    }
}
