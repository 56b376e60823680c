//! `SECTOR lat lon meters b1 b2`: the circular-sector polygon Tile38 builds
//! with `github.com/iwpnd/sectr` v0.1.2 and then parses as GeoJSON.
//!
//! sectr has its own spherical destination formula (earth radius
//! 6 371 008.8 m, no longitude normalisation, arc vertices rounded to 1e-8°)
//! and steps the bearing by `(i*360)/64` in *integer* arithmetic, i.e. by 5
//! or 6 degrees: 0, 5, 11, 16, 22, 28, …, then the end bearing exactly. The
//! ring is `centre, arc…, end, centre`; the centre is not rounded.

use std::f64::consts::PI;

use crate::geojson::{Coord, GeoJsonError, Geometry, Shape};
use crate::gomath::{asin, atan2, cos, sin};
use crate::rect::Position;
use crate::Value;

/// sectr's mean earth radius (not Tile38's 6 371 000 m).
const EARTH_RADIUS: f64 = 6_371_008.8;
/// Angular resolution: a full turn in this many integer steps.
const STEPS: i64 = 64;

fn degrees_to_radians(degrees: f64) -> f64 {
    degrees * PI / 180.0
}

fn radians_to_degrees(radians: f64) -> f64 {
    radians * 180.0 / PI
}

/// Rounds to 1e-8 degree (~1.1 mm) as sectr does, half away from zero.
fn round8(degrees: f64) -> f64 {
    (degrees * 100_000_000.0).round() / 100_000_000.0
}

/// sectr's `destination`. `sin`/`cos`/`asin` are Go's; `atan2` is the
/// platform's (a last-bit difference there almost never survives the
/// rounding to 1e-8°).
fn destination(center: Position, distance: f64, bearing: f64) -> Coord {
    let phi1 = degrees_to_radians(center.y);
    let lambda1 = degrees_to_radians(center.x);
    let theta = degrees_to_radians(bearing);
    let delta = distance / EARTH_RADIUS;
    let phi2 = asin(sin(phi1) * cos(delta) + cos(phi1) * sin(delta) * cos(theta));
    let lambda2 = lambda1
        + atan2(
            sin(theta) * sin(delta) * cos(phi1),
            cos(delta) - sin(phi1) * sin(phi2),
        );
    Coord::new(
        round8(radians_to_degrees(lambda2)),
        round8(radians_to_degrees(phi2)),
    )
}

/// A bearing as an angle in `[0, 360]` (Go's `math.Mod` keeps the sign of
/// the dividend, as Rust's `%` does).
fn bearing_to_angle(bearing: f64) -> f64 {
    let angle = bearing % 360.0;
    if angle < 0.0 {
        angle + 360.0
    } else {
        angle
    }
}

/// See [`crate::area::sector`].
pub(super) fn sector(
    center: Position,
    meters: f64,
    bearing1: f64,
    bearing2: f64,
) -> Result<Value, String> {
    let invalid = || GeoJsonError::InvalidData.to_string();
    // sectr loops forever on a NaN angle (no comparison ever succeeds), so
    // Tile38 never answers; refusing is the only sane reply.
    if !bearing1.is_finite() || !bearing2.is_finite() {
        return Err(invalid());
    }
    let start = bearing_to_angle(bearing1);
    let angle2 = bearing_to_angle(bearing2);
    // Equal angles (b1 == b2, or 0 and 360) give the full circle.
    let end = if start < angle2 {
        angle2
    } else {
        angle2 + 360.0
    };

    let mut ring = vec![center];
    let mut alpha = start;
    let mut i: i64 = 1;
    loop {
        if alpha < end {
            ring.push(destination(center, meters, alpha));
            alpha = start + ((i * 360) / STEPS) as f64;
        }
        if alpha >= end {
            ring.push(destination(center, meters, end));
            ring.push(center);
            break;
        }
        i += 1;
    }
    // Tile38 serialises the sector with encoding/json, which refuses NaN and
    // ±Inf; the empty text then fails to parse as GeoJSON.
    if ring.iter().any(|p| !p.x.is_finite() || !p.y.is_finite()) {
        return Err(invalid());
    }
    Ok(Value::Geo(std::sync::Arc::new(Geometry::new(
        Shape::Polygon(vec![ring]),
    ))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(v: &Value) -> Vec<(f64, f64)> {
        match v {
            Value::Geo(g) => match &g.shape {
                Shape::Polygon(rings) => rings[0].iter().map(|p| (p.x, p.y)).collect(),
                other => panic!("not a polygon: {other:?}"),
            },
            other => panic!("not geo: {other:?}"),
        }
    }

    /// The example in sectr's README (`NewSector({13.37, 52.25}, 100, 0, 90)`).
    #[test]
    fn sectr_readme_example() {
        let v = sector(Position::new(13.37, 52.25), 100.0, 0.0, 90.0).unwrap();
        let expected = [
            (13.37, 52.25),
            (13.37, 52.25089932),
            (13.37012803, 52.2508959),
            (13.3702803, 52.2508828),
            (13.37040491, 52.25086448),
            (13.37055029, 52.25083383),
            (13.37068965, 52.25079405),
            (13.37080006, 52.25075423),
            (13.37092446, 52.2506989),
            (13.37103872, 52.25063591),
            (13.3711253, 52.25057807),
            (13.37121783, 52.25050289),
            (13.37128479, 52.25043599),
            (13.37135219, 52.25035138),
            (13.37140478, 52.25026293),
            (13.37143686, 52.25018697),
            (13.37146091, 52.250094),
            (13.37146896, 52.24999999),
            (13.37, 52.25),
        ];
        assert_eq!(ring(&v), expected);
    }

    #[test]
    fn bearings_wrap_and_reverse() {
        let c = Position::new(-122.4476, 37.72999);
        // 90 → 0 goes the long way round (90 … 360).
        let long_way = ring(&sector(c, 1000.0, 90.0, 0.0).unwrap());
        // Centre, 48 arc vertices (90, 95, …, 354), the end (360), centre.
        assert_eq!(long_way.len(), 51);
        // -270 is 90; 450 is 90.
        assert_eq!(
            ring(&sector(c, 1000.0, -270.0, 0.0).unwrap()),
            ring(&sector(c, 1000.0, 450.0, 360.0).unwrap())
        );
        // Equal angles: a full circle of 64 steps plus the closing vertices.
        assert_eq!(
            ring(&sector(c, 1000.0, 0.0, 360.0).unwrap()).len(),
            1 + 64 + 1 + 1
        );
    }

    #[test]
    fn non_finite_input_is_invalid_data() {
        let c = Position::new(1.0, 2.0);
        for (center, meters, b1, b2) in [
            (c, 100.0, f64::NAN, 90.0),
            (c, 100.0, 0.0, f64::INFINITY),
            (c, f64::NAN, 0.0, 90.0),
            (c, f64::INFINITY, 0.0, 90.0),
            (Position::new(f64::NAN, 2.0), 100.0, 0.0, 90.0),
        ] {
            assert_eq!(sector(center, meters, b1, b2).unwrap_err(), "invalid data");
        }
        // Finite oddities are accepted: negative radius, huge bearings.
        assert!(sector(c, -100.0, 0.0, 90.0).is_ok());
        assert!(sector(c, 100.0, 1e300, -1e300).is_ok());
    }
}
