//! Tile38 behaviours that follow from the tidwall/geojson source rather
//! than from the recorded corpus: boundaries, holes, collection
//! aggregation, Feature leaves, circles, degenerate input.

use super::testutil::*;
use super::*;

const SQUARE: &str = r#"{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]]]}"#;
/// SQUARE with a hole from 4 to 6.
const FRAME: &str = r#"{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[4,4],[6,4],[6,6],[4,6],[4,4]]]}"#;

fn within(o: &Value, a: &Area) -> bool {
    a.contains(o)
}

#[test]
fn polygon_boundaries_are_inside() {
    let sq = area(obj(SQUARE));
    for (lat, lon) in [(5.0, 0.0), (0.0, 0.0), (10.0, 10.0), (0.0, 5.0), (5.0, 5.0)] {
        assert!(within(&point(lat, lon), &sq), "{lat} {lon}");
        assert!(sq.intersects(&point(lat, lon)), "{lat} {lon}");
    }
    assert!(!within(&point(5.0, 10.000001), &sq));
    let frame = area(obj(FRAME));
    assert!(!within(&point(5.0, 5.0), &frame), "inside the hole");
    assert!(within(&point(5.0, 4.0), &frame), "on the hole's edge");
    assert!(!frame.intersects(&point(5.0, 5.0)));
}

#[test]
fn holes_and_intersections() {
    let frame = area(obj(FRAME));
    // A polygon in the hole neither intersects nor is within ...
    let small = obj(
        r#"{"type":"Polygon","coordinates":[[[4.5,4.5],[5.5,4.5],[5.5,5.5],[4.5,5.5],[4.5,4.5]]]}"#,
    );
    assert!(!frame.intersects(&small) && !within(&small, &frame));
    // ... but a line in the hole intersects: only exteriors are compared.
    let line = obj(r#"{"type":"LineString","coordinates":[[4.5,4.5],[5.5,5.5]]}"#);
    assert!(frame.intersects(&line) && !within(&line, &frame));
    // A polygon around the hole with the same hole is within the frame.
    let ring = obj(
        r#"{"type":"Polygon","coordinates":[[[3,3],[7,3],[7,7],[3,7],[3,3]],[[4,4],[6,4],[6,6],[4,6],[4,4]]]}"#,
    );
    assert!(within(&ring, &frame));
}

#[test]
fn rectangles_touch_and_invert() {
    let r = area(bounds(0.0, 0.0, 10.0, 10.0));
    assert!(
        r.intersects(&bounds(10.0, 10.0, 20.0, 20.0)),
        "shared corner"
    );
    assert!(within(&bounds(0.0, 0.0, 10.0, 10.0), &r));
    assert!(within(&point(10.0, 0.0), &r));
    // `SET … BOUNDS 34 -112 33 -115`: min/max kept as given; contains no
    // point, and as an object only its sides are compared.
    let inverted = bounds(34.0, -112.0, 33.0, -115.0);
    let inv = area(inverted.clone());
    assert!(!within(&point(33.5, -113.5), &inv) && !inv.intersects(&point(33.5, -113.5)));
    assert!(within(&inverted, &area(bounds(30.0, -120.0, 40.0, -100.0))));
}

#[test]
fn point_and_line_areas_are_exact() {
    assert!(within(&point(1.0, 2.0), &area(point(1.0, 2.0))));
    assert!(within(&bounds(1.0, 2.0, 1.0, 2.0), &area(point(1.0, 2.0))));
    assert!(!within(&point(f64::NAN, 2.0), &area(point(f64::NAN, 2.0))));
    let line = area(obj(
        r#"{"type":"LineString","coordinates":[[0,0],[10,0],[10,10]]}"#,
    ));
    assert!(within(
        &obj(r#"{"type":"LineString","coordinates":[[5,0],[10,0],[10,5]]}"#),
        &line
    ));
    // Go walks this one back and forth forever; here it is not within.
    let past_corner = obj(r#"{"type":"LineString","coordinates":[[5,0],[10,0],[20,0]]}"#);
    assert!(!within(&past_corner, &line));
    assert!(line.intersects(&past_corner));
}

#[test]
fn collections_aggregate_like_tile38() {
    let two = area(obj(
        r#"{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,1],[0,0]]],[[[5,5],[6,5],[6,6],[5,6],[5,5]]]]}"#,
    ));
    let mp = obj(r#"{"type":"MultiPoint","coordinates":[[0.5,0.5],[5.5,5.5]]}"#);
    assert!(within(&mp, &two), "each point in some polygon");
    // A Feature is one leaf: it must fit in a single polygon.
    let feature = obj(
        r#"{"type":"Feature","geometry":{"type":"MultiPoint","coordinates":[[0.5,0.5],[5.5,5.5]]},"properties":{}}"#,
    );
    assert!(!within(&feature, &two));
    assert!(two.intersects(&feature));
    let out = obj(r#"{"type":"MultiPoint","coordinates":[[0.5,0.5],[3,3]]}"#);
    assert!(!within(&out, &two) && two.intersects(&out));
    // An empty member makes a collection fail WITHIN, not INTERSECTS.
    let with_empty = obj(
        r#"{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[5,5]},{"type":"MultiPoint","coordinates":[]}]}"#,
    );
    let sq = area(obj(SQUARE));
    assert!(!within(&with_empty, &sq) && sq.intersects(&with_empty));
    // Empty collections are within and intersect nothing ...
    let empty = obj(r#"{"type":"GeometryCollection","geometries":[]}"#);
    assert!(!within(&empty, &sq) && !sq.intersects(&empty));
    assert!(!within(&point(5.0, 5.0), &area(empty.clone())));
    // ... except a circle, which checks each (of no) member.
    let c = Area::Circle {
        center: Position::new(0.0, 0.0),
        meters: 1000.0,
    };
    assert!(within(&empty, &c) && !c.intersects(&empty));
}

/// A point between the circle and its 64-gon: halfway between two outline
/// vertices, just inside the radius (degrees are square at the equator).
fn sliver_point() -> (f64, f64) {
    let r_deg = 100_000.0 / 6_371_000.0 * 180.0 / std::f64::consts::PI;
    let t = 2.8125f64.to_radians();
    (0.9992 * r_deg * t.sin(), 0.9992 * r_deg * t.cos())
}

#[test]
fn circles_use_distance_for_points_and_polygons_otherwise() {
    let c = Area::Circle {
        center: Position::new(0.0, 0.0),
        meters: 100_000.0,
    };
    let (lat, lon) = sliver_point();
    assert!(within(&point(lat, lon), &c) && c.intersects(&point(lat, lon)));
    let feature = obj(&format!(
        r#"{{"type":"Feature","geometry":{{"type":"Point","coordinates":[{lon},{lat}]}},"properties":{{}}}}"#
    ));
    assert!(
        !within(&feature, &c),
        "a Feature is tested against the 64-gon"
    );
    assert!(c.intersects(&feature), "but intersects by distance");
    let line = obj(&format!(
        r#"{{"type":"LineString","coordinates":[[{lon},{lat}],[0,0]]}}"#
    ));
    assert!(!within(&line, &c) && c.intersects(&line));
    let bbox = c.bbox();
    assert!(bbox.max.x > 0.899 && bbox.max.x < 0.9 && bbox.min.y < -0.899);
}

#[test]
fn zero_radius_circles_and_circle_pairs() {
    let dot = Area::Circle {
        center: Position::new(3.0, 4.0),
        meters: 0.0,
    };
    assert!(within(&point(4.0, 3.0), &dot) && !within(&point(4.0, 3.0000001), &dot));
    assert!(within(&bounds(4.0, 3.0, 4.0, 3.0), &dot));
    assert_eq!(dot.bbox(), Rect::point(Position::new(3.0, 4.0)));
    let a = Area::Circle {
        center: Position::new(0.0, 0.0),
        meters: 1000.0,
    };
    let b = Area::Circle {
        center: Position::new(0.015, 0.0),
        meters: 1000.0,
    };
    // TEST CIRCLE WITHIN CIRCLE checks overlap, not containment.
    assert!(area_within(&a, &b) && area_intersects(&a, &b));
    assert!(!area_within(&a, &area(point(0.0, 0.0))));
    assert!(area_within(&a, &area(bounds(-1.0, -1.0, 1.0, 1.0))));
    assert!(area_intersects(&a, &area(point(0.0, 0.001))));
    assert!(area_within(&area(point(0.0, 0.001)), &a));
}

#[test]
fn degenerate_inputs_do_not_match_spuriously() {
    use crate::geojson::{Geometry, Shape};
    let sq = area(obj(SQUARE));
    let no_rings = Value::Geo(std::sync::Arc::new(Geometry::new(Shape::Polygon(vec![]))));
    assert!(!within(&no_rings, &sq) && !sq.intersects(&no_rings));
    assert!(!area(no_rings).contains(&point(0.0, 0.0)));
    let flat = obj(r#"{"type":"Polygon","coordinates":[[[0,0],[10,10],[0,0],[0,0]]]}"#);
    let _ = (within(&flat, &sq), sq.intersects(&flat));
    let nan = Area::Circle {
        center: Position::new(f64::NAN, 0.0),
        meters: f64::NAN,
    };
    assert!(!within(&point(0.0, 0.0), &nan));
    let _ = (nan.bbox(), nan.intersects(&obj(SQUARE)));
}

#[test]
fn nan_cross_products_count_as_collinear() {
    // tidwall/geojson v1.4.6 `eqZero` is `!(x < 0 || x > 0)`: a ring
    // segment with a NaN end meets every segment it is tested with.
    let tri = obj(
        r#"{"type":"Polygon","coordinates":[[[-112.03,32.99],[-111.99,32.99],[-112.01,33.03],[-112.03,32.99]]]}"#,
    );
    let line = obj(r#"{"type":"LineString","coordinates":[[-112.015,33.005],[-112.005,33.015]]}"#);
    for b in [
        bounds(33.0, f64::NAN, 33.02, -112.0),
        bounds(f64::NAN, -112.02, f64::NAN, -112.0),
        bounds(f64::NAN, f64::NAN, f64::NAN, -112.0),
    ] {
        assert!(area(b.clone()).intersects(&tri), "{b:?}");
    }
    // Every side NaN: the rectangles' boxes still meet, the ring segments
    // all collapse to NaN and the outline is never crossed twice.
    assert!(!area(bounds(f64::NAN, f64::NAN, f64::NAN, f64::NAN)).intersects(&tri));
    let nan_lon = Area::Circle {
        center: Position::new(f64::NAN, 33.01),
        meters: 1000.0,
    };
    assert!(nan_lon.intersects(&line));
    // Receiver and argument matter (Go swaps rings by area, NaN here).
    assert!(!nan_lon.intersects(&tri) && area_intersects(&nan_lon, &area(tri.clone())));
    // Finite rings are untouched: a box beside the triangle misses it.
    assert!(!area(bounds(33.0, -111.98, 33.02, -111.9)).intersects(&tri));
}

#[test]
fn circle_receiver_tests_simple_points_against_its_outline() {
    let c = Area::Circle {
        center: Position::new(0.0, 0.0),
        meters: 100_000.0,
    };
    let (lat, lon) = sliver_point();
    // A stored plain point (SimplePoint): the 64-gon decides.
    assert!(!area_intersects(&c, &area(point(lat, lon))));
    assert!(area_within(&area(point(lat, lon)), &c));
    // A geojson.Point (TEST POINT/OBJECT area, a point with z): distance.
    let z = Value::Point {
        x: lon,
        y: lat,
        z: 5.0,
    };
    assert!(area_intersects(&c, &area(z)));
    let geo = Value::Geo(std::sync::Arc::new(crate::geojson::Geometry::new(
        crate::geojson::Shape::Point(Position::new(lon, lat)),
    )));
    assert!(area_intersects(&c, &area(geo)));
    // A NaN radius builds a NaN outline: nothing, not even the centre.
    let nan_r = Area::Circle {
        center: Position::new(0.0, 0.0),
        meters: f64::NAN,
    };
    assert!(!area_intersects(&nan_r, &area(point(0.0, 0.0))));
}
