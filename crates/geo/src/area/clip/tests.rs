//! Clip outputs recorded from Tile38 1.37 (`intersects/clip_objects`,
//! `testcmd/clip`) and the edge cases of the port.

use super::*;

fn rect(min_x: f64, min_y: f64, max_x: f64, max_y: f64) -> Rect {
    Rect::new(Position::new(min_x, min_y), Position::new(max_x, max_y))
}

/// `BOUNDS minlat minlon maxlat maxlon` as a rectangle.
fn bounds(min_lat: f64, min_lon: f64, max_lat: f64, max_lon: f64) -> Rect {
    rect(min_lon, min_lat, max_lon, max_lat)
}

fn geo(json: &str) -> Value {
    Value::from_geometry(Geometry::parse(json.as_bytes()).unwrap())
}

fn text(v: &Value) -> String {
    String::from_utf8(v.to_text()).unwrap()
}

fn clipped(obj: &Value, r: Rect) -> String {
    text(&clip_value(obj, &r))
}

/// `INTERSECTS g CLIP BOUNDS 12 12 16 16` on the objects that match.
#[test]
fn intersects_clip_objects() {
    let r = bounds(12.0, 12.0, 16.0, 16.0);
    let square = r#"{"type":"Polygon","coordinates":[[[12,16],[12,12],[16,12],[16,16],[12,16],[12,12],[12,16]]]}"#;
    let big = Value::Rect(bounds(0.0, 0.0, 30.0, 30.0));
    assert_eq!(clipped(&big, r), square);
    let boxed = Value::Rect(bounds(12.0, 12.0, 18.0, 18.0));
    assert_eq!(clipped(&boxed, r), square);
    let line = geo(r#"{"type":"LineString","coordinates":[[5,5],[25,25]]}"#);
    assert_eq!(
        clipped(&line, r),
        r#"{"type":"LineString","coordinates":[[12,12],[16,16]]}"#
    );
    let e = Value::Point {
        x: 15.0,
        y: 15.0,
        z: 0.0,
    };
    assert_eq!(clipped(&e, r), r#"{"type":"Point","coordinates":[15,15]}"#);
}

const POLY_IN: &str = r#"{"type":"Polygon","coordinates":[[[-122.44037926197052,37.73313523548048],[-122.44017541408539,37.73313523548048],[-122.44017541408539,37.73336857568778],[-122.44037926197052,37.73336857568778],[-122.44037926197052,37.73313523548048]]]}"#;
const POLY_HOLES: &str = r#"{"type":"Polygon","coordinates":[[[-122.4408378,37.7341129],[-122.4408378,37.733],[-122.44,37.733],[-122.44,37.7341129],[-122.4408378,37.7341129]],[[-122.44060993194579,37.73345766902749],[-122.44044363498686,37.73345766902749],[-122.44044363498686,37.73355524732416],[-122.44060993194579,37.73355524732416],[-122.44060993194579,37.73345766902749]],[[-122.44060724973677,37.7336888869566],[-122.4402102828026,37.7336888869566],[-122.4402102828026,37.7339752567853],[-122.44060724973677,37.7339752567853],[-122.44060724973677,37.7336888869566]]]}"#;
const MULTI: &str = r#"{"type":"MultiPolygon","coordinates":[[[[-122.4408378,37.7341129],[-122.4408378,37.733],[-122.44,37.733],[-122.44,37.7341129],[-122.4408378,37.7341129]]],[[[-122.44091033935547,37.731981251280985],[-122.43994474411011,37.731981251280985],[-122.43994474411011,37.73254976045042],[-122.44091033935547,37.73254976045042],[-122.44091033935547,37.731981251280985]]]]}"#;

/// `TEST OBJECT … INTERSECTS CLIP BOUNDS …`.
#[test]
fn test_command_clip() {
    // Entirely inside: unchanged.
    let r = bounds(
        37.732906137107,
        -122.44126439094543,
        37.73421283683962,
        -122.43980526924135,
    );
    assert_eq!(clipped(&geo(POLY_IN), r), POLY_IN);
    // The clip rectangle is the exterior itself: every ring unchanged.
    let r = bounds(37.733, -122.4408378, 37.7341129, -122.44);
    assert_eq!(clipped(&geo(POLY_HOLES), r), POLY_HOLES);
    // A MultiPolygon becomes a FeatureCollection of clipped Polygons.
    let r = bounds(
        37.73227823422744,
        -122.44120001792908,
        37.73319038868677,
        -122.43955314159392,
    );
    assert_eq!(
        clipped(&geo(MULTI), r),
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[-122.4408378,37.73319038868677],[-122.4408378,37.733],[-122.44,37.733],[-122.44,37.73319038868677],[-122.4408378,37.73319038868677]]]},"properties":{}},{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[-122.44091033935547,37.73227823422744],[-122.43994474411011,37.73227823422744],[-122.43994474411011,37.73254976045042],[-122.44091033935547,37.73254976045042],[-122.44091033935547,37.73227823422744]]]},"properties":{}}]}"#
    );
}

#[test]
fn entirely_outside() {
    let r = rect(100.0, 100.0, 101.0, 101.0);
    let p = Value::Point {
        x: 1.0,
        y: 1.0,
        z: 0.0,
    };
    assert_eq!(clipped(&p, r), r#"{"type":"MultiPoint","coordinates":[]}"#);
    let line = geo(r#"{"type":"LineString","coordinates":[[0,0],[1,1]]}"#);
    assert_eq!(
        clipped(&line, r),
        r#"{"type":"MultiLineString","coordinates":[]}"#
    );
    assert_eq!(
        clipped(&Value::Rect(rect(0.0, 0.0, 1.0, 1.0)), r),
        r#"{"type":"MultiPolygon","coordinates":[]}"#
    );
    assert_eq!(
        clipped(&geo(MULTI), r),
        r#"{"type":"FeatureCollection","features":[]}"#
    );
    let feature =
        geo(r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1,1]},"id":3}"#);
    assert_eq!(
        clipped(&feature, r),
        r#"{"type":"Feature","geometry":{"type":"MultiPoint","coordinates":[]},"id":3,"properties":{}}"#
    );
    let s = Value::String(b"text"[..].into());
    assert_eq!(clipped(&s, r), "text");
}

#[test]
fn lines_that_leave_and_come_back() {
    // tile38's own clip test: the middle vertex pokes out of the top.
    let line = geo(r#"{"type":"LineString","coordinates":[[1,1],[2,2],[3,1]]}"#);
    assert_eq!(
        clipped(&line, rect(1.5, 0.5, 2.5, 1.8)),
        r#"{"type":"MultiLineString","coordinates":[[[1.5,1.5],[1.8,1.8]],[[2.2,1.8],[2.5,1.5]]]}"#
    );
}

#[test]
fn polygons_with_holes() {
    // tile38's own clip tests (shapes only checked there).
    let poly = geo(
        r#"{"type":"Polygon","coordinates":[[[2,2],[1,2],[1.5,1.5],[1,1],[2,1],[2,2]],[[1.9,1.9],[1.2,1.9],[1.45,1.65],[1.9,1.5],[1.9,1.9]]]}"#,
    );
    let rings = |v: &Value| match v {
        Value::Geo(g) => match &g.shape {
            Shape::Polygon(rings) => rings.len(),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    assert_eq!(rings(&clip_value(&poly, &rect(1.3, 1.3, 1.4, 2.15))), 2);
    assert_eq!(rings(&clip_value(&poly, &rect(1.1, 0.8, 1.15, 2.1))), 1);
}

#[test]
fn features_and_collections() {
    let r = rect(0.0, 0.0, 10.0, 10.0);
    let f = geo(
        r#"{"type":"Feature","id":"x","geometry":{"type":"LineString","coordinates":[[-5,5],[5,5]]},"properties":{"a":1}}"#,
    );
    assert_eq!(
        clipped(&f, r),
        r#"{"type":"Feature","geometry":{"type":"LineString","coordinates":[[0,5],[5,5]]},"id":"x","properties":{"a":1}}"#
    );
    let fc = geo(
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[50,50]},"properties":{}},{"type":"Feature","geometry":{"type":"Point","coordinates":[5,5]},"id":2}],"bbox":[0,0,1,1]}"#,
    );
    assert_eq!(
        clipped(&fc, r),
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[5,5]},"id":2,"properties":{}}]}"#
    );
    let gc = geo(
        r#"{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[5,5]},{"type":"Point","coordinates":[50,5]},{"type":"MultiLineString","coordinates":[[[-1,1],[1,1]],[[20,20],[30,30]]]}]}"#,
    );
    assert_eq!(
        clipped(&gc, r),
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[5,5]},"properties":{}},{"type":"Feature","geometry":{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"LineString","coordinates":[[0,1],[1,1]]},"properties":{}}]},"properties":{}}]}"#
    );
}

#[test]
fn points_keep_z_until_reshaped() {
    let r = rect(0.0, 0.0, 10.0, 10.0);
    let p = Value::Point {
        x: 1.0,
        y: 2.0,
        z: 3.0,
    };
    assert_eq!(clipped(&p, r), r#"{"type":"Point","coordinates":[1,2,3]}"#);
    let mp = geo(r#"{"type":"MultiPoint","coordinates":[[1,2,3],[50,50,4],[5,6,7,8],[7,7]]}"#);
    assert_eq!(
        clipped(&mp, r),
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2,3]},"properties":{}},{"type":"Feature","geometry":{"type":"Point","coordinates":[5,6,7,8]},"properties":{}},{"type":"Feature","geometry":{"type":"Point","coordinates":[7,7]},"properties":{}}]}"#
    );
    let line = geo(r#"{"type":"LineString","coordinates":[[1,1,9],[2,2,9]]}"#);
    assert_eq!(
        clipped(&line, r),
        r#"{"type":"LineString","coordinates":[[1,1],[2,2]]}"#
    );
}

#[test]
fn degenerate_rectangles() {
    let poly = Value::Rect(rect(0.0, 0.0, 10.0, 10.0));
    // A POINT area clips to its zero-size rectangle.
    let v = clip_value(&poly, &Rect::point(Position::new(5.0, 5.0)));
    assert!(
        text(&v).starts_with(r#"{"type":"Polygon","coordinates":[[[5,5],"#),
        "{}",
        text(&v)
    );
    // An inverted rectangle: nothing is inside.
    let inverted = rect(10.0, 10.0, 0.0, 0.0);
    assert_eq!(
        clipped(
            &Value::Point {
                x: 5.0,
                y: 5.0,
                z: 0.0
            },
            inverted
        ),
        r#"{"type":"MultiPoint","coordinates":[]}"#
    );
    // NaN bounds: a point is never contained (`x >= NaN` is false) but
    // every outcode is 0, so lines and rings pass untouched.
    let nan = rect(f64::NAN, 0.0, f64::NAN, 1.0);
    assert_eq!(
        clipped(
            &Value::Point {
                x: 5.0,
                y: 0.5,
                z: 0.0
            },
            nan
        ),
        r#"{"type":"MultiPoint","coordinates":[]}"#
    );
    let line = geo(r#"{"type":"LineString","coordinates":[[5,0.5],[600,0.7]]}"#);
    assert_eq!(clipped(&line, nan), text(&line));
}
