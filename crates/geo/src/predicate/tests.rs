//! Geometric facts recorded from a real Tile38 1.37 (the conformance
//! corpus: `within`, `intersects` and `testcmd` groups), replayed on the
//! predicates. A search is emulated as Tile38 runs it: objects whose box
//! meets the area's box, then the exact test.

use super::testutil::*;
use super::*;
use crate::geojson::Geometry;

/// Area polygon of the `mykey` WITHIN cases.
const AREA_W: &str = r#"{"type":"Polygon","coordinates":[[[-122.44126439094543,37.72906137107],[-122.43980526924135,37.72906137107],[-122.43980526924135,37.73421283683962],[-122.44126439094543,37.73421283683962],[-122.44126439094543,37.72906137107]]]}"#;
/// Area polygon of the `mykey` INTERSECTS cases.
const AREA_I: &str = r#"{"type":"Polygon","coordinates":[[[-122.44126439094543,37.732906137107],[-122.43980526924135,37.732906137107],[-122.43980526924135,37.73421283683962],[-122.44126439094543,37.73421283683962],[-122.44126439094543,37.732906137107]]]}"#;
const LINE3: &str =
    r#"{"type":"LineString","coordinates":[[-122.4408378,37.7341129],[-122.4408378,37.733]]}"#;
const POLY4: &str = r#"{"type":"Polygon","coordinates":[[[-122.4408378,37.7341129],[-122.4408378,37.733],[-122.44,37.733],[-122.44,37.7341129],[-122.4408378,37.7341129]]]}"#;
const MULTIPOLY5: &str = r#"{"type":"MultiPolygon","coordinates":[[[[-122.4408378,37.7341129],[-122.4408378,37.733],[-122.44,37.733],[-122.44,37.7341129],[-122.4408378,37.7341129]]],[[[-122.44091033935547,37.731981251280985],[-122.43994474411011,37.731981251280985],[-122.43994474411011,37.73254976045042],[-122.44091033935547,37.73254976045042],[-122.44091033935547,37.731981251280985]]]]}"#;
/// POLY4 with two rectangular holes.
const POLY8: &str = r#"{"type":"Polygon","coordinates":[[[-122.4408378,37.7341129],[-122.4408378,37.733],[-122.44,37.733],[-122.44,37.7341129],[-122.4408378,37.7341129]],[[-122.44060993194579,37.73345766902749],[-122.44044363498686,37.73345766902749],[-122.44044363498686,37.73355524732416],[-122.44060993194579,37.73355524732416],[-122.44060993194579,37.73345766902749]],[[-122.44060724973677,37.7336888869566],[-122.4402102828026,37.7336888869566],[-122.4402102828026,37.7339752567853],[-122.44060724973677,37.7339752567853],[-122.44060724973677,37.7336888869566]]]}"#;
/// Inside POLY8, clear of its holes.
const POLY9: &str = r#"{"type":"Polygon","coordinates":[[[-122.44037926197052,37.73313523548048],[-122.44017541408539,37.73313523548048],[-122.44017541408539,37.73336857568778],[-122.44037926197052,37.73336857568778],[-122.44037926197052,37.73313523548048]]]}"#;
/// Straddles POLY8's second hole.
const POLY10: &str = r#"{"type":"Polygon","coordinates":[[[-122.44040071964262,37.73359343010089],[-122.4402666091919,37.73359343010089],[-122.4402666091919,37.73373767596864],[-122.44040071964262,37.73373767596864],[-122.44040071964262,37.73359343010089]]]}"#;
/// Entirely inside POLY8's second hole.
const POLY_IN_HOLE: &str = r#"{"type":"Polygon","coordinates":[[[-122.44051605463028,37.73375464605226],[-122.44028002023695,37.73375464605226],[-122.44028002023695,37.733903134117966],[-122.44051605463028,37.733903134117966],[-122.44051605463028,37.73375464605226]]]}"#;
const POLY13: &str = r#"{"type":"Polygon","coordinates":[[[-122.44073867797852,37.733211601447465],[-122.44011640548705,37.733211601447465],[-122.44011640548705,37.7340516218859],[-122.44073867797852,37.7340516218859],[-122.44073867797852,37.733211601447465]],[[-122.44060993194579,37.73345766902749],[-122.44060993194579,37.73355524732416],[-122.44044363498686,37.73355524732416],[-122.44044363498686,37.73345766902749],[-122.44060993194579,37.73345766902749]],[[-122.44060724973677,37.7336888869566],[-122.44060724973677,37.7339752567853],[-122.4402102828026,37.7339752567853],[-122.4402102828026,37.7336888869566],[-122.44060724973677,37.7336888869566]]]}"#;
const POLY13_SOLID: &str = r#"{"type":"Polygon","coordinates":[[[-122.44073867797852,37.733211601447465],[-122.44011640548705,37.733211601447465],[-122.44011640548705,37.7340516218859],[-122.44073867797852,37.7340516218859],[-122.44073867797852,37.733211601447465]]]}"#;
/// A frame whose two holes hold MULTIPOLY5's two polygons.
const POLY14: &str = r#"{"type":"Polygon","coordinates":[[[-122.44154334068298,37.73179457567642],[-122.43935465812682,37.73179457567642],[-122.43935465812682,37.7343740514423],[-122.44154334068298,37.7343740514423],[-122.44154334068298,37.73179457567642]],[[-122.44104981422423,37.73286371140448],[-122.44104981422423,37.73424677678513],[-122.43990182876587,37.73424677678513],[-122.43990182876587,37.73286371140448],[-122.44104981422423,37.73286371140448]],[[-122.44109272956847,37.731870943026074],[-122.43976235389708,37.731870943026074],[-122.43976235389708,37.7326855231885],[-122.44109272956847,37.7326855231885],[-122.44109272956847,37.731870943026074]]]}"#;
const JAGGED: &str = r#"{"type":"Polygon","coordinates":[[[-122.47781753540039,37.74655746554895],[-122.48777389526366,37.7355619376922],[-122.4707794189453,37.73271097867418],[-122.46528625488281,37.735969208590504],[-122.45189666748047,37.73922729512254],[-122.4565315246582,37.75008654795525],[-122.46683120727538,37.75307256315459],[-122.47781753540039,37.74655746554895]]]}"#;

fn mykey() -> Vec<(&'static str, Value)> {
    vec![
        ("point1", point(37.7335, -122.4412)),
        ("point2", point(37.7335, -122.44121)),
        ("line3", obj(LINE3)),
        ("poly4", obj(POLY4)),
        ("multipoly5", obj(MULTIPOLY5)),
        ("point6", point(-5.0, 5.0)),
        ("point7", point(33.0, 21.0)),
        ("poly8", obj(POLY8)),
        ("point9", point(37.7335, -122.4412)),
    ]
}

/// The `g` key of the bounds/point/hash/quadkey/tile cases.
fn g() -> Vec<(&'static str, Value)> {
    vec![
        ("a", point(10.0, 10.0)),
        ("b", point(10.0, 20.0)),
        ("c", point(20.0, 10.0)),
        ("d", point(20.0, 20.0)),
        ("e", point(15.0, 15.0)),
        ("box", bounds(12.0, 12.0, 18.0, 18.0)),
        ("big", bounds(0.0, 0.0, 30.0, 30.0)),
        (
            "line",
            obj(r#"{"type":"LineString","coordinates":[[5,5],[25,25]]}"#),
        ),
        ("s", Value::String(b"text".to_vec().into())),
    ]
}

const ALL_G: &[&str] = &["a", "b", "big", "box", "c", "d", "e", "line"];

fn get(fixture: &[(&'static str, Value)], id: &str) -> Value {
    fixture.iter().find(|(i, _)| *i == id).unwrap().1.clone()
}

#[test]
fn within_object_polygon() {
    let ids = search(&mykey(), &area(obj(AREA_W)), Within);
    let want = [
        "line3",
        "multipoly5",
        "point1",
        "point2",
        "point9",
        "poly4",
        "poly8",
    ];
    assert_eq!(ids, want);
}

#[test]
fn intersects_object_polygon() {
    let ids = search(&mykey(), &area(obj(AREA_I)), Intersects);
    let want = [
        "line3",
        "multipoly5",
        "point1",
        "point2",
        "point9",
        "poly4",
        "poly8",
    ];
    assert_eq!(ids, want);
}

#[test]
fn within_get_areas_with_holes() {
    let key2 = vec![("poly9", obj(POLY9)), ("poly10", obj(POLY10))];
    assert_eq!(search(&key2, &area(obj(POLY8)), Within), ["poly9"]);
    assert_eq!(
        search(&key2, &area(obj(MULTIPOLY5)), Within),
        ["poly10", "poly9"]
    );

    let key5 = vec![("poly13", obj(POLY13)), ("poly14", obj(POLY14))];
    let key6 = vec![
        ("multipoly5", obj(MULTIPOLY5)),
        ("poly13", obj(POLY13_SOLID)),
    ];
    assert_eq!(search(&key5, &area(obj(MULTIPOLY5)), Within), ["poly13"]);
    assert!(search(&key6, &area(obj(POLY14)), Within).is_empty());
    assert_eq!(
        search(&key5, &area(obj(MULTIPOLY5)), Intersects),
        ["poly13"]
    );
    assert!(search(&key6, &area(obj(POLY14)), Intersects).is_empty());
}

#[test]
fn within_concave_polygon_and_bounds() {
    let pts = vec![
        ("point1", point(37.73963454585715, -122.4810791015625)),
        ("point2", point(37.75130811419222, -122.47438430786133)),
        ("point3", point(37.74816932695052, -122.47713088989258)),
        ("point4", point(37.74503040657439, -122.47571468353271)),
    ];
    assert_eq!(
        search(&pts, &area(obj(JAGGED)), Within),
        ["point1", "point4"]
    );
    let b1 = bounds(
        37.737734023260884,
        -122.47816085815431,
        37.74886496155229,
        -122.45464324951172,
    );
    assert_eq!(search(&pts, &area(b1), Within), ["point3", "point4"]);
    let b2 = bounds(
        37.74411415606583,
        -122.48034954071045,
        37.7536833241461,
        -122.47163772583008,
    );
    assert_eq!(
        search(&pts, &area(b2), Within),
        ["point2", "point3", "point4"]
    );
}

#[test]
fn within_rect_point_hash_quadkey_areas() {
    let g = g();
    assert_eq!(
        search(&g, &area(bounds(9.0, 9.0, 21.0, 21.0)), Within),
        ["a", "b", "box", "c", "d", "e"]
    );
    assert_eq!(search(&g, &area(point(15.0, 15.0)), Within), ["e"]);
    assert_eq!(search(&g, &area(point(10.0, 10.0)), Within), ["a"]);
    // HASH s1, s, s1z.
    assert_eq!(
        search(&g, &area(bounds(5.625, 0.0, 11.25, 11.25)), Within),
        ["a"]
    );
    assert_eq!(
        search(&g, &area(bounds(0.0, 0.0, 45.0, 45.0)), Within),
        ALL_G
    );
    assert_eq!(
        search(&g, &area(bounds(9.84375, 9.84375, 11.25, 11.25)), Within),
        ["a"]
    );
    // QUADKEY 1, 12, 3.
    assert_eq!(
        search(&g, &area(bounds(0.0, 0.0, MAX_LAT, 180.0)), Within),
        ALL_G
    );
    assert_eq!(
        search(&g, &area(bounds(0.0, 0.0, 66.51326044311186, 90.0)), Within),
        ALL_G
    );
    assert!(search(&g, &area(bounds(-MAX_LAT, 0.0, 0.0, 180.0)), Within).is_empty());
}

#[test]
fn within_geojson_areas() {
    let g = g();
    let within = |json: &str| search(&g, &area(obj(json)), Within);
    assert_eq!(
        within(
            r#"{"type":"MultiPolygon","coordinates":[[[[9,9],[11,9],[11,11],[9,11],[9,9]]],[[[19,19],[21,19],[21,21],[19,21],[19,19]]]]}"#
        ),
        ["a", "d"]
    );
    assert_eq!(
        within(
            r#"{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[9,9],[21,9],[21,21],[9,21],[9,9]]]},"properties":{}}"#
        ),
        ["a", "b", "box", "c", "d", "e"]
    );
    assert_eq!(
        within(
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[9,9],[11,9],[11,11],[9,11],[9,9]]]},"properties":{}}]}"#
        ),
        ["a"]
    );
    // Points on a line area are within it.
    assert_eq!(
        within(r#"{"type":"LineString","coordinates":[[10,10],[20,20]]}"#),
        ["a", "d", "e"]
    );
    assert_eq!(within(r#"{"type":"Point","coordinates":[10,10]}"#), ["a"]);
}

#[test]
fn intersects_rect_point_hash_quadkey_tile_areas() {
    let g = g();
    let hits = |a: Value| search(&g, &area(a), Intersects);
    assert_eq!(hits(bounds(9.0, 9.0, 21.0, 21.0)), ALL_G);
    assert_eq!(
        hits(bounds(14.0, 14.0, 16.0, 16.0)),
        ["big", "box", "e", "line"]
    );
    assert_eq!(hits(bounds(29.0, 29.0, 40.0, 40.0)), ["big"]);
    assert!(hits(bounds(100.0, 100.0, 101.0, 101.0)).is_empty());
    assert_eq!(hits(point(15.0, 15.0)), ["big", "box", "e", "line"]);
    assert_eq!(hits(point(10.0, 10.0)), ["a", "big", "line"]);
    assert_eq!(hits(point(0.0, 30.0)), ["big"]);
    assert_eq!(hits(bounds(5.625, 0.0, 11.25, 11.25)), ["a", "big", "line"]);
    assert_eq!(hits(bounds(0.0, 0.0, 66.51326044311186, 90.0)), ALL_G);
    // TILE 4 7 4 and TILE 0 0 0.
    assert!(hits(bounds(0.0, -90.0, 21.943045533438177, -67.5)).is_empty());
    assert_eq!(hits(bounds(-MAX_LAT, -180.0, MAX_LAT, 180.0)), ALL_G);
    // CLIP does not change which objects match.
    assert_eq!(
        hits(bounds(12.0, 12.0, 16.0, 16.0)),
        ["big", "box", "e", "line"]
    );
}

#[test]
fn intersects_geojson_areas() {
    let g = g();
    let hits = |json: &str| search(&g, &area(obj(json)), Intersects);
    assert_eq!(
        hits(r#"{"type":"LineString","coordinates":[[10,20],[20,10]]}"#),
        ["b", "big", "box", "c", "e", "line"]
    );
    assert_eq!(
        hits(r#"{"type":"MultiPoint","coordinates":[[10,10],[20,20]]}"#),
        ["a", "big", "d", "line"]
    );
    assert_eq!(
        hits(r#"{"type":"Point","coordinates":[15,15]}"#),
        ["big", "box", "e", "line"]
    );
    assert_eq!(
        hits(
            r#"{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[10,10]},{"type":"Point","coordinates":[20,20]}]}"#
        ),
        ["a", "big", "d", "line"]
    );
    assert_eq!(
        hits(
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[20,10]},"properties":{}}"#
        ),
        ["b", "big"]
    );
}

#[test]
fn intersects_circle() {
    let k = vec![
        ("1", point(37.7335, -122.4412)),
        ("2", point(37.7335, -122.44121)),
        ("3", obj(LINE3)),
        ("4", obj(POLY4)),
        (
            "5",
            obj(
                r#"{"type":"MultiPolygon","coordinates":[[[[-122.4408378,37.7341129],[-122.4408378,37.733],[-122.44,37.733],[-122.44,37.7341129],[-122.4408378,37.7341129]]]]}"#,
            ),
        ),
        ("6", point(-5.0, 5.0)),
        ("7", point(33.0, 21.0)),
    ];
    let c = |m| Area::Circle {
        center: Position::new(-122.4412, 37.7335),
        meters: m,
    };
    assert_eq!(search(&k, &c(70.0), Intersects), ["1", "2", "3", "4", "5"]);
    assert_eq!(search(&k, &c(10.0), Intersects), ["1", "2"]);
}

#[test]
fn string_values_match_nothing() {
    let k = vec![
        ("s", Value::String(b"hello".to_vec().into())),
        ("p", point(1.0, 2.0)),
    ];
    let s = area(get(&k, "s"));
    assert!(search(&k, &s, Intersects).is_empty());
    assert!(search(&k, &s, Within).is_empty());
    assert!(!area(point(1.0, 2.0)).contains(&get(&k, "s")));
}

#[test]
fn test_command_within() {
    let k = mykey();
    let a = area(obj(AREA_W));
    for id in ["point1", "line3", "poly4", "multipoly5", "poly8"] {
        assert!(area_within(&area(get(&k, id)), &a), "{id}");
    }
    for id in ["point6", "point7"] {
        assert!(!area_within(&area(get(&k, id)), &a), "{id}");
    }
    assert!(area_within(&area(obj(POLY9)), &area(obj(POLY8))));
    assert!(!area_within(&area(obj(POLY10)), &area(obj(POLY8))));
    let p1 = area(get(&k, "point1"));
    // HASH 123, QUADKEY 123 and TILE 1 2 3 are cells far from point1;
    // then POINT 1 2 and BOUNDS 1 2 3 4.
    assert!(!area_within(
        &p1,
        &area(bounds(-88.59375, -178.59375, -88.4531, -178.2422))
    ));
    assert!(!area_within(&p1, &area(bounds(0.0, 0.0, 85.0, 180.0))));
    assert!(!area_within(&p1, &area(point(1.0, 2.0))));
    assert!(!area_within(&p1, &area(bounds(1.0, 2.0, 3.0, 4.0))));
    let p6 = area(get(&k, "point6"));
    assert!(area_within(&p6, &p6));
    assert!(area_within(&area(obj(POLY9)), &area(obj(AREA_W))));
    assert!(!area_within(&area(obj(POLY9)), &area(obj(LINE3))));
}

#[test]
fn test_command_intersects() {
    let k = mykey();
    let a = area(obj(AREA_I));
    for id in ["point1", "line3", "multipoly5"] {
        assert!(area_intersects(&area(get(&k, id)), &a), "{id}");
    }
    assert!(!area_intersects(&area(get(&k, "point6")), &a));
    let p8 = area(obj(POLY8));
    assert!(area_intersects(&area(obj(POLY9)), &p8));
    assert!(area_intersects(&area(obj(POLY10)), &p8));
    assert!(
        !area_intersects(&area(obj(POLY_IN_HOLE)), &p8),
        "inside a hole"
    );
    assert!(area_intersects(&area(obj(POLY9)), &a));
    assert!(!area_intersects(&area(obj(POLY9)), &area(obj(LINE3))));
    // The CLIP cases: the objects intersect their clip rectangles.
    let b = bounds(
        37.732906137107,
        -122.44126439094543,
        37.73421283683962,
        -122.43980526924135,
    );
    assert!(area_intersects(&area(obj(POLY9)), &area(b)));
    let b = bounds(37.733, -122.4408378, 37.7341129, -122.44);
    assert!(area_intersects(&p8, &area(b)));
    let b = bounds(
        37.73227823422744,
        -122.44120001792908,
        37.73319038868677,
        -122.43955314159392,
    );
    assert!(area_intersects(&area(obj(MULTIPOLY5)), &area(b)));
    let b = bounds(
        37.73315644825698,
        -122.44054287672043,
        37.73349585185455,
        -122.44008690118788,
    );
    assert!(!area_intersects(&area(obj(POLY_IN_HOLE)), &area(b)));
}

#[test]
fn geometry_parse_round_trip_is_usable() {
    // Guard for the helpers: plain points become Value::Point.
    let v =
        Value::from_geometry(Geometry::parse(br#"{"type":"Point","coordinates":[1,2]}"#).unwrap());
    assert!(matches!(v, Value::Point { x, y, .. } if x == 1.0 && y == 2.0));
}
