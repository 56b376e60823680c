//! The area cases of the Tile38 1.37 conformance corpus (`within`,
//! `intersects`, `testcmd`: sector, sector_small, clipby, buffer_*,
//! hash_quadkey_tile, quadkey_*), checked on the shapes themselves with a
//! small point-in-polygon test, plus property tests.

use super::*;
use crate::geojson::{Coord, Geometry, Shape};

mod properties;

/// Even–odd ray casting (boundaries are not exercised here).
fn in_ring(ring: &[Coord], p: Position) -> bool {
    let mut inside = false;
    for w in ring.windows(2) {
        let (a, b) = (w[0], w[1]);
        if (a.y > p.y) != (b.y > p.y) && p.x < a.x + (p.y - a.y) * (b.x - a.x) / (b.y - a.y) {
            inside = !inside;
        }
    }
    inside
}

/// Whether `p` is inside any polygon of a buffer/clip/sector result.
fn covers(g: &Geometry, p: Position) -> bool {
    match &g.shape {
        Shape::Polygon(rings) => {
            in_ring(&rings[0], p) && !rings[1..].iter().any(|hole| in_ring(hole, p))
        }
        Shape::GeometryCollection(children) | Shape::FeatureCollection(children) => {
            children.iter().any(|c| covers(c, p))
        }
        Shape::Feature(inner) => covers(inner, p),
        _ => false,
    }
}

fn geo(v: &Value) -> &Geometry {
    match v {
        Value::Geo(g) => g,
        other => panic!("not GeoJSON: {other:?}"),
    }
}

/// `POINT lat lon` / an OBJECT's vertex, as a position.
fn ll(lat: f64, lon: f64) -> Position {
    Position::new(lon, lat)
}

// The `mykey` objects of the sector cases (lat, lon).
const POINT1: (f64, f64) = (37.7335, -122.4412);
const POINT2: (f64, f64) = (37.7335, -122.44121);
const POINT6: (f64, f64) = (-5.0, 5.0);
const POINT7: (f64, f64) = (33.0, 21.0);
/// Vertices of line3, poly4, multipoly5 and poly8's exterior.
const VERTICES: [(f64, f64); 8] = [
    (37.7341129, -122.4408378),
    (37.733, -122.4408378),
    (37.733, -122.44),
    (37.7341129, -122.44),
    (37.731981251280985, -122.44091033935547),
    (37.731981251280985, -122.43994474411011),
    (37.73254976045042, -122.43994474411011),
    (37.73254976045042, -122.44091033935547),
];

fn sector_at(lat: f64, lon: f64, meters: f64, b1: f64, b2: f64) -> Value {
    sector(ll(lat, lon), meters, b1, b2).unwrap()
}

#[test]
fn within_sector() {
    let inside = [POINT1, POINT2].into_iter().chain(VERTICES);
    // WITHIN mykey IDS SECTOR 37.72999 -122.44760 1000 0 90 → 7 objects.
    let s = sector_at(37.72999, -122.44760, 1000.0, 0.0, 90.0);
    for (lat, lon) in inside.clone() {
        assert!(covers(geo(&s), ll(lat, lon)), "{lat} {lon}");
    }
    for (lat, lon) in [POINT6, POINT7] {
        assert!(!covers(geo(&s), ll(lat, lon)));
    }
    // … 90 0 → nothing (the long way round misses the north-east).
    let s = sector_at(37.72999, -122.44760, 1000.0, 90.0, 0.0);
    assert!(inside
        .clone()
        .all(|(lat, lon)| !covers(geo(&s), ll(lat, lon))));
    // … 270 90 → the same 7.
    let s = sector_at(37.72999, -122.44760, 1000.0, 270.0, 90.0);
    assert!(inside
        .clone()
        .all(|(lat, lon)| covers(geo(&s), ll(lat, lon))));
}

#[test]
fn small_sectors() {
    // within/sector_small: points 1 and 2 are ~90 m away, the shapes ~300 m.
    let near = [(37.7324, -122.4424), (37.73241, -122.44241)];
    let s = sector_at(37.731930, -122.443270, 1000.0, 0.0, 90.0);
    assert!(near
        .into_iter()
        .chain(VERTICES[..4].iter().copied())
        .all(|(la, lo)| covers(geo(&s), ll(la, lo))));
    let s = sector_at(37.731930, -122.443270, 100.0, 0.0, 90.0);
    assert!(near.iter().all(|&(la, lo)| covers(geo(&s), ll(la, lo))));
    assert!(VERTICES[..4]
        .iter()
        .all(|&(la, lo)| !covers(geo(&s), ll(la, lo))));
    // intersects/sector_small: 1000 m reaches POINT1/2, 100 m nothing.
    let s = sector_at(37.731930, -122.443270, 1000.0, 0.0, 90.0);
    assert!([POINT1, POINT2]
        .iter()
        .all(|&(la, lo)| covers(geo(&s), ll(la, lo))));
    let s = sector_at(37.731930, -122.443270, 100.0, 0.0, 90.0);
    assert!([POINT1, POINT2]
        .iter()
        .all(|&(la, lo)| !covers(geo(&s), ll(la, lo))));
}

// The `g` objects of hash_quadkey_tile / quadkey_area (as lon/lat boxes).
fn g_objects() -> Vec<(&'static str, Rect)> {
    let pt = |lat: f64, lon: f64| Rect::point(ll(lat, lon));
    let bx = |a: f64, b: f64, c: f64, d: f64| Rect::new(ll(a, b), ll(c, d));
    vec![
        ("a", pt(10.0, 10.0)),
        ("b", pt(10.0, 20.0)),
        ("c", pt(20.0, 10.0)),
        ("d", pt(20.0, 20.0)),
        ("e", pt(15.0, 15.0)),
        ("box", bx(12.0, 12.0, 18.0, 18.0)),
        ("big", bx(0.0, 0.0, 30.0, 30.0)),
        ("line", bx(5.0, 5.0, 25.0, 25.0)),
    ]
}

fn within(a: &Rect, area: &Rect) -> bool {
    a.min.x >= area.min.x && a.max.x <= area.max.x && a.min.y >= area.min.y && a.max.y <= area.max.y
}

fn overlaps(a: &Rect, b: &Rect) -> bool {
    a.min.x <= b.max.x && a.max.x >= b.min.x && a.min.y <= b.max.y && a.max.y >= b.min.y
}

#[test]
fn quadkey_and_tile_areas() {
    for key in [&b"1"[..], b"12"] {
        let area = quadkey(key).unwrap();
        assert!(g_objects().iter().all(|(_, r)| within(r, &area)), "{key:?}");
    }
    // Quadrant 3 is the south-east: "big" only touches its lat-0 edge.
    let q3 = quadkey(b"3").unwrap();
    assert!(g_objects().iter().all(|(_, r)| !within(r, &q3)));
    assert_eq!(quadkey(b"4"), None);
    assert_eq!(quadkey(b"pqowie"), None);
    assert_eq!(quadkey(b"123"), Some(tile(5, 3, 3)));
    let t = tile(4, 7, 4);
    assert!(g_objects().iter().all(|(_, r)| !overlaps(r, &t)));
    let world = tile(0, 0, 0);
    assert_eq!(
        world,
        Rect::new(ll(-85.05112878, -180.0), ll(85.05112878, 180.0))
    );
    assert!(g_objects().iter().all(|(_, r)| within(r, &world)));
}

#[test]
fn clipby_shrinks_the_area() {
    let jagged = Value::from_geometry(
        Geometry::parse(br#"{"type":"Polygon","coordinates":[[[-122.47781753540039,37.74655746554895],[-122.48777389526366,37.7355619376922],[-122.4707794189453,37.73271097867418],[-122.46528625488281,37.735969208590504],[-122.45189666748047,37.73922729512254],[-122.4565315246582,37.75008654795525],[-122.46683120727538,37.75307256315459],[-122.47781753540039,37.74655746554895]]]}"#)
            .unwrap(),
    );
    let points = [
        ll(37.73963454585715, -122.4810791015625),
        ll(37.75130811419222, -122.47438430786133),
        ll(37.74816932695052, -122.47713088989258),
        ll(37.74503040657439, -122.47571468353271),
    ];
    let hits =
        |area: &Value| -> Vec<usize> { (0..4).filter(|&i| covers(geo(area), points[i])).collect() };
    assert_eq!(hits(&jagged), [0, 3]);
    let b1 = Rect::new(
        ll(37.737734023260884, -122.47816085815431),
        ll(37.74886496155229, -122.45464324951172),
    );
    let b2 = Rect::new(
        ll(37.74411415606583, -122.48034954071045),
        ll(37.7536833241461, -122.47163772583008),
    );
    assert_eq!(hits(&clip(&jagged, b1)), [3]);
    assert_eq!(hits(&clip(&jagged, b2)), [3]);
    assert_eq!(hits(&clip(&clip(&jagged, b2), b1)), [3]);
}

const ROUTE: &str = r#"{"type":"LineString","coordinates":[[-116.40289306640624,34.125447565116126],[-116.36444091796875,34.14818102254435],[-116.0980224609375,34.15045403191448],[-115.74920654296874,34.127721186043985],[-115.54870605468749,34.075412438417395],[-115.5267333984375,34.11407854333859],[-115.21911621093749,34.048108084909835],[-115.25207519531249,33.8339199536547],[-115.40588378906249,33.71748624018193]]}"#;

#[test]
fn buffered_route_catches_the_trucks() {
    let route = Value::from_geometry(Geometry::parse(ROUTE.as_bytes()).unwrap());
    let area = buffer(&route, 1000.0).unwrap();
    let trucks = [
        (34.10825132729329, -115.6436347961428),
        (34.07199987534163, -115.5435562133782),
        (34.05123715497616, -115.2148246765137),
        (33.71520164474084, -115.4110336303711),
        (34.12345809664606, -116.4070129394531),
    ];
    for (lat, lon) in trucks {
        assert!(covers(geo(&area), ll(lat, lon)), "{lat} {lon}");
        // Without the buffer the route misses them (COUNT 0).
        assert!(!covers(geo(&route), ll(lat, lon)));
        // The same trucks a degree further north are far away.
        assert!(!covers(geo(&area), ll(lat + 1.0, lon)));
    }
}

#[test]
fn buffered_point_and_bounds() {
    // INTERSECTS g BUFFER 200000 IDS POINT 16 16 → big, line, box, e.
    let area = buffer(
        &Value::Point {
            x: 16.0,
            y: 16.0,
            z: 0.0,
        },
        200_000.0,
    )
    .unwrap();
    assert!(covers(geo(&area), ll(15.0, 15.0)));
    for (name, r) in g_objects() {
        let expected = matches!(name, "big" | "line" | "box" | "e");
        let bbox = area.bbox();
        assert_eq!(
            overlaps(&r, &bbox) && (r.min != r.max || covers(geo(&area), r.min)),
            expected,
            "{name}"
        );
    }
    let bounds = Value::Rect(Rect::new(ll(14.0, 14.0), ll(16.0, 16.0)));
    assert_eq!(
        buffer(&bounds, 10.0).unwrap_err(),
        "cannot buffer Polygon type"
    );
    // CLIPBY first turns the rectangle into a Polygon, which buffers.
    let clipped = clip(&bounds, Rect::new(ll(0.0, 0.0), ll(15.0, 15.0)));
    assert!(buffer(&clipped, 10.0).is_ok());
}
