//! Property tests: clip results stay in the rectangle, objects inside are
//! unchanged, nothing panics on degenerate input, and TILE/QUADKEY agree.

use proptest::prelude::*;

use super::*;

fn coord() -> impl Strategy<Value = f64> + Clone {
    -200.0f64..200.0
}

fn position() -> impl Strategy<Value = Position> + Clone {
    (coord(), coord()).prop_map(|(x, y)| Position::new(x, y))
}

/// A normalised rectangle (min ≤ max), possibly zero-sized.
fn rectangle() -> impl Strategy<Value = Rect> {
    (position(), 0.0f64..100.0, 0.0f64..100.0)
        .prop_map(|(p, w, h)| Rect::new(p, Position::new(p.x + w, p.y + h)))
}

/// Any float, specials included.
fn wild() -> impl Strategy<Value = f64> + Clone {
    prop_oneof![
        4 => coord(),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(1e308),
        1 => Just(-1e308),
        1 => Just(0.0),
        1 => any::<f64>(),
    ]
}

fn closed_ring(points: Vec<Position>) -> Vec<Coord> {
    let mut ring = points;
    ring.push(ring[0]);
    ring
}

/// LineStrings, Polygons (with a hole), Multi*, collections and Features,
/// from arbitrary coordinates.
fn geometry(
    c: impl Strategy<Value = Position> + Clone + 'static,
) -> impl Strategy<Value = Geometry> {
    let line = prop::collection::vec(c.clone(), 2..8);
    let ring = prop::collection::vec(c.clone(), 3..8).prop_map(closed_ring);
    let leaf = prop_oneof![
        c.clone().prop_map(Shape::Point),
        prop::collection::vec(c, 0..5).prop_map(Shape::MultiPoint),
        line.clone().prop_map(Shape::LineString),
        prop::collection::vec(line, 0..3).prop_map(Shape::MultiLineString),
        prop::collection::vec(ring.clone(), 1..3).prop_map(Shape::Polygon),
        prop::collection::vec(prop::collection::vec(ring, 1..2), 0..3)
            .prop_map(Shape::MultiPolygon),
    ]
    .prop_map(Geometry::new);
    leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Shape::GeometryCollection),
            prop::collection::vec(inner.clone(), 0..4).prop_map(Shape::FeatureCollection),
            inner.prop_map(|g| Shape::Feature(Box::new(g))),
        ]
        .prop_map(Geometry::new)
    })
}

fn all_positions(g: &Geometry, out: &mut Vec<Position>) {
    match &g.shape {
        Shape::Point(p) | Shape::Circle { center: p, .. } => out.push(*p),
        Shape::MultiPoint(ps) | Shape::LineString(ps) => out.extend(ps),
        Shape::MultiLineString(ls) | Shape::Polygon(ls) => ls.iter().for_each(|l| out.extend(l)),
        Shape::MultiPolygon(ps) => ps.iter().flatten().for_each(|l| out.extend(l)),
        Shape::GeometryCollection(cs) | Shape::FeatureCollection(cs) => {
            cs.iter().for_each(|c| all_positions(c, out))
        }
        Shape::Feature(inner) => all_positions(inner, out),
    }
}

/// Go's intersection formula rounds, so a vertex computed on one edge may
/// sit a few ulps outside the perpendicular edges.
fn near_inside(r: &Rect, p: Position) -> bool {
    let tol = 1e-9
        * (1.0
            + r.min
                .x
                .abs()
                .max(r.max.x.abs())
                .max(r.min.y.abs())
                .max(r.max.y.abs()));
    p.x >= r.min.x - tol && p.x <= r.max.x + tol && p.y >= r.min.y - tol && p.y <= r.max.y + tol
}

/// The QuadKey of a tile (Bing's `TileXYToQuadKey`).
fn quadkey_of(x: i64, y: i64, z: u64) -> Vec<u8> {
    (1..=z)
        .rev()
        .map(|bit| {
            let mask = 1i64 << (bit - 1);
            b'0' + u8::from(x & mask != 0) + 2 * u8::from(y & mask != 0)
        })
        .collect()
}

proptest! {
    #[test]
    fn clip_stays_in_the_rectangle(g in geometry(position()), r in rectangle()) {
        let out = clip(&Value::Geo(std::sync::Arc::new(g)), r);
        let mut ps = Vec::new();
        all_positions(geo(&out), &mut ps);
        for p in ps {
            prop_assert!(near_inside(&r, p), "{p:?} outside {r:?}");
        }
    }

    #[test]
    fn clipped_rects_stay_in_the_rectangle(a in rectangle(), r in rectangle()) {
        let out = clip(&Value::Rect(a), r);
        let mut ps = Vec::new();
        all_positions(geo(&out), &mut ps);
        prop_assert!(ps.iter().all(|&p| near_inside(&r, p)));
    }

    #[test]
    fn inside_is_unchanged(g in geometry(position()), offset in position()) {
        // Put every position inside a rectangle 1 unit larger each way (not
        // just the bbox, which ignores holes).
        let mut ps = Vec::new();
        all_positions(&g, &mut ps);
        let b = ps.iter().fold(g.bbox(), |mut r, &p| {
            r.extend(p);
            r
        });
        let r = Rect::new(
            Position::new(b.min.x - 1.0 - offset.x.abs(), b.min.y - 1.0),
            Position::new(b.max.x + 1.0, b.max.y + 1.0 + offset.y.abs()),
        );
        let out = clip(&Value::Geo(std::sync::Arc::new(g.clone())), r);
        match &g.shape {
            // Simple shapes come back identical.
            Shape::Point(_) | Shape::LineString(_) | Shape::Polygon(_) => {
                prop_assert_eq!(geo(&out), &g);
            }
            // Collections are rebuilt as FeatureCollections holding the
            // same positions.
            _ => {
                let (mut before, mut after) = (Vec::new(), Vec::new());
                all_positions(&g, &mut before);
                all_positions(geo(&out), &mut after);
                prop_assert_eq!(before, after);
            }
        }
        // A BOUNDS rectangle inside prints exactly as before.
        let rect_value = Value::Rect(b);
        prop_assert_eq!(clip(&rect_value, r).to_text(), rect_value.to_text());
    }

    #[test]
    fn degenerate_input_does_not_panic(
        g in geometry((wild(), wild()).prop_map(|(x, y)| Position::new(x, y))),
        bounds in (wild(), wild(), wild(), wild()),
        meters in wild(),
        bearings in (wild(), wild()),
    ) {
        let r = Rect::new(Position::new(bounds.0, bounds.1), Position::new(bounds.2, bounds.3));
        let v = Value::Geo(std::sync::Arc::new(g));
        let _ = clip(&v, r).to_text();
        let _ = clip(&Value::Rect(r), Rect::new(r.max, r.min)).to_text();
        let _ = clip(&Value::Point { x: bounds.0, y: bounds.2, z: 0.0 }, r);
        let _ = buffer(&v, meters);
        let _ = sector(Position::new(bounds.0, bounds.1), meters, bearings.0, bearings.1);
    }

    #[test]
    fn empty_geometries_clip_to_empty(r in rectangle()) {
        for json in [
            r#"{"type":"MultiPoint","coordinates":[]}"#,
            r#"{"type":"MultiLineString","coordinates":[]}"#,
            r#"{"type":"MultiPolygon","coordinates":[]}"#,
            r#"{"type":"GeometryCollection","geometries":[]}"#,
            r#"{"type":"FeatureCollection","features":[]}"#,
        ] {
            let v = Value::Geo(std::sync::Arc::new(Geometry::parse(json.as_bytes()).unwrap()));
            prop_assert_eq!(
                String::from_utf8(clip(&v, r).to_text()).unwrap(),
                r#"{"type":"FeatureCollection","features":[]}"#
            );
        }
    }

    #[test]
    fn tiles_and_quadkeys_agree(z in 0u64..=30, fx in 0.0f64..1.0, fy in 0.0f64..1.0) {
        let size = 1i64 << z;
        let (x, y) = (((size as f64) * fx) as i64, ((size as f64) * fy) as i64);
        let t = tile(x, y, z);
        prop_assert_eq!(quadkey(&quadkey_of(x, y, z)), Some(t));
        prop_assert!(t.min.x < t.max.x && t.min.y < t.max.y, "{:?}", t);
        // Neighbours share their edges exactly.
        if x + 1 < size {
            prop_assert_eq!(tile(x + 1, y, z).min.x, t.max.x);
        }
        if y + 1 < size {
            prop_assert_eq!(tile(x, y + 1, z).max.y, t.min.y);
        }
        // The four children tile their parent.
        if z < 30 {
            let kids: Vec<Rect> = (0..4).map(|i| tile(2 * x + (i & 1), 2 * y + (i >> 1), z + 1)).collect();
            prop_assert_eq!(kids[0].min.x, t.min.x);
            prop_assert_eq!(kids[0].max.y, t.max.y);
            prop_assert_eq!(kids[3].max.x, t.max.x);
            prop_assert_eq!(kids[3].min.y, t.min.y);
        }
    }
}
