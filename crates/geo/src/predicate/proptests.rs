//! Property tests: agreement with brute-force definitions on small integer
//! coordinates (where Go's floating-point tests are exact), internal
//! consistency, and no panic or hang on arbitrary input (NaN, infinities,
//! empty and unclosed rings, zero-area polygons, nested collections).

use proptest::prelude::*;

use super::*;
use crate::geojson::{Geometry, Shape};
use crate::gomath::haversine;

fn small() -> impl Strategy<Value = f64> {
    (-20i32..=20).prop_map(f64::from)
}

fn pos() -> impl Strategy<Value = Position> {
    (small(), small()).prop_map(|(x, y)| Position::new(x, y))
}

fn pt(p: Position) -> Value {
    Value::Point {
        x: p.x,
        y: p.y,
        z: 0.0,
    }
}

fn geo(shape: Shape) -> Value {
    Value::Geo(std::sync::Arc::new(Geometry::new(shape)))
}

fn ring(points: &[Position]) -> Vec<Position> {
    let mut r = points.to_vec();
    r.push(points[0]);
    r
}

/// A rectangle with min <= max.
fn sorted_rect(a: Position, b: Position) -> Rect {
    Rect::new(
        Position::new(a.x.min(b.x), a.y.min(b.y)),
        Position::new(a.x.max(b.x), a.y.max(b.y)),
    )
}

/// Twice the signed area of abc (exact on small integers).
fn orient(a: Position, b: Position, p: Position) -> f64 {
    (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x)
}

/// Well-formed small shapes: points, rectangles, triangles (possibly flat),
/// rectangle polygons, segments and multipoints.
fn simple_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        pos().prop_map(pt),
        (pos(), pos()).prop_map(|(a, b)| Value::Rect(sorted_rect(a, b))),
        (pos(), pos(), pos()).prop_map(|(a, b, c)| geo(Shape::Polygon(vec![ring(&[a, b, c])]))),
        (pos(), pos()).prop_map(|(a, b)| {
            let r = sorted_rect(a, b);
            let (lo, hi) = (r.min, r.max);
            let corners = [lo, Position::new(hi.x, lo.y), hi, Position::new(lo.x, hi.y)];
            geo(Shape::Polygon(vec![ring(&corners)]))
        }),
        (pos(), pos()).prop_map(|(a, b)| geo(Shape::LineString(vec![a, b]))),
        prop::collection::vec(pos(), 1..4).prop_map(|p| geo(Shape::MultiPoint(p))),
    ]
}

fn wild() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => small(),
        1 => any::<f64>(),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
    ]
}

fn wild_pos() -> impl Strategy<Value = Position> {
    (wild(), wild()).prop_map(|(x, y)| Position::new(x, y))
}

/// Rings of any length, closed or not.
fn wild_ring() -> impl Strategy<Value = Vec<Position>> {
    (prop::collection::vec(wild_pos(), 0..7), any::<bool>()).prop_map(|(mut r, close)| {
        if close && !r.is_empty() {
            r.push(r[0]);
        }
        r
    })
}

fn wild_geometry() -> impl Strategy<Value = Geometry> {
    let leaf = prop_oneof![
        wild_pos().prop_map(Shape::Point),
        prop::collection::vec(wild_pos(), 0..5).prop_map(Shape::MultiPoint),
        prop::collection::vec(wild_pos(), 0..6).prop_map(Shape::LineString),
        prop::collection::vec(prop::collection::vec(wild_pos(), 0..5), 0..3)
            .prop_map(Shape::MultiLineString),
        prop::collection::vec(wild_ring(), 0..3).prop_map(Shape::Polygon),
        prop::collection::vec(prop::collection::vec(wild_ring(), 0..3), 0..3)
            .prop_map(Shape::MultiPolygon),
    ]
    .prop_map(Geometry::new);
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Shape::GeometryCollection),
            prop::collection::vec(inner.clone(), 0..4).prop_map(Shape::FeatureCollection),
            inner.prop_map(|g| Shape::Feature(Box::new(g))),
        ]
        .prop_map(Geometry::new)
    })
}

fn wild_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        wild_pos().prop_map(pt),
        (wild_pos(), wild_pos()).prop_map(|(a, b)| Value::Rect(Rect::new(a, b))),
        wild_geometry().prop_map(|g| Value::Geo(std::sync::Arc::new(g))),
        Just(Value::String(b"text".to_vec().into())),
    ]
}

fn wild_area() -> impl Strategy<Value = Area> {
    let meters = prop_oneof![
        (0.0..5e6f64),
        Just(0.0),
        Just(-1.0),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(3e7),
    ];
    prop_oneof![
        3 => wild_value().prop_map(Area::Value),
        1 => (wild_pos(), meters).prop_map(|(center, meters)| Area::Circle { center, meters }),
    ]
}

/// A star-shaped ring with many vertices (so that prepared areas index it),
/// on integer coordinates.
fn star() -> impl Strategy<Value = Vec<Position>> {
    (
        prop::collection::vec(2i32..=20, 32..160),
        -5i32..5,
        -5i32..5,
    )
        .prop_map(|(radii, cx, cy)| {
            let n = radii.len() as f64;
            let mut r: Vec<Position> = radii
                .iter()
                .enumerate()
                .map(|(i, &rad)| {
                    let a = i as f64 / n * std::f64::consts::TAU;
                    Position::new(
                        (f64::from(cx) + f64::from(rad) * a.cos()).round(),
                        (f64::from(cy) + f64::from(rad) * a.sin()).round(),
                    )
                })
                .collect();
            r.push(r[0]);
            r
        })
}

proptest! {
    #[test]
    fn prepared_areas_agree(
        ext in star(), hole in prop::option::of(star()), objs in prop::collection::vec(simple_value(), 1..8),
        multi in any::<bool>(),
    ) {
        let hole: Vec<Position> = hole
            .map(|h| h.iter().map(|p| Position::new(p.x / 4.0, p.y / 4.0)).collect())
            .unwrap_or_default();
        let mut rings = vec![ext];
        if !hole.is_empty() {
            rings.push(hole);
        }
        let shape = if multi {
            Shape::MultiPolygon(vec![rings.clone(), vec![ring(&[
                Position::new(30.0, 30.0), Position::new(31.0, 30.0), Position::new(31.0, 31.0),
            ])]])
        } else {
            Shape::Polygon(rings)
        };
        let area = Area::Value(geo(shape));
        let prepared = area.prepare();
        for o in &objs {
            prop_assert_eq!(area.contains(o), prepared.contains(o), "{:?}", o);
            prop_assert_eq!(area.intersects(o), prepared.intersects(o), "{:?}", o);
        }
    }

    #[test]
    fn point_in_rect_is_closed_box_test(p in pos(), a in pos(), b in pos()) {
        // Possibly inverted, as SET … BOUNDS keeps it.
        let r = Rect::new(a, b);
        let area = Area::Value(Value::Rect(r));
        let brute = p.x >= r.min.x && p.x <= r.max.x && p.y >= r.min.y && p.y <= r.max.y;
        prop_assert_eq!(area.contains(&pt(p)), brute);
        prop_assert_eq!(area.intersects(&pt(p)), brute);
    }

    #[test]
    fn rect_polygon_agrees_with_rect(p in pos(), a in pos(), b in pos()) {
        let r = sorted_rect(a, b);
        let (lo, hi) = (r.min, r.max);
        let corners = [lo, Position::new(hi.x, lo.y), hi, Position::new(lo.x, hi.y)];
        let poly = Area::Value(geo(Shape::Polygon(vec![ring(&corners)])));
        let rect = Area::Value(Value::Rect(r));
        prop_assert_eq!(poly.contains(&pt(p)), rect.contains(&pt(p)));
        prop_assert_eq!(poly.intersects(&pt(p)), rect.intersects(&pt(p)));
    }

    #[test]
    fn point_in_triangle_matches_orientation(
        p in pos(), a in pos(), b in pos(), c in pos(), reverse in any::<bool>()
    ) {
        prop_assume!(orient(a, b, c) != 0.0);
        let pts = if reverse { [c, b, a] } else { [a, b, c] };
        let area = Area::Value(geo(Shape::Polygon(vec![ring(&pts)])));
        let d = [orient(a, b, p), orient(b, c, p), orient(c, a, p)];
        let brute = d.iter().all(|&v| v >= 0.0) || d.iter().all(|&v| v <= 0.0);
        prop_assert_eq!(area.contains(&pt(p)), brute);
        prop_assert_eq!(area.intersects(&pt(p)), brute);
    }

    #[test]
    fn within_implies_intersects(a in simple_value(), b in simple_value()) {
        let (a, b) = (Area::Value(a), Area::Value(b));
        if area_within(&a, &b) {
            prop_assert!(area_intersects(&a, &b), "{:?} within {:?}", a, b);
        }
    }

    #[test]
    fn points_in_circles_by_distance(
        lat in -80.0..80.0f64, lon in -179.0..179.0f64,
        dlat in -2.0..2.0f64, dlon in -2.0..2.0f64, meters in 0.0..300_000.0f64,
    ) {
        let area = Area::Circle { center: Position::new(lon, lat), meters };
        let p = Value::Point { x: lon + dlon, y: lat + dlat, z: 0.0 };
        let within = area.contains(&p);
        prop_assert_eq!(within, area.intersects(&p));
        let d = haversine(lat + dlat, lon + dlon, lat, lon);
        if d < meters * (1.0 - 1e-9) {
            prop_assert!(within);
        } else if d > meters * (1.0 + 1e-9) {
            prop_assert!(!within);
        }
    }

    #[test]
    fn arbitrary_input_never_panics(a in wild_area(), b in wild_area(), v in wild_value()) {
        let _ = (a.bbox(), a.contains(&v), a.intersects(&v));
        let p = a.prepare();
        prop_assert_eq!(p.contains(&v), a.contains(&v));
        prop_assert_eq!(p.intersects(&v), a.intersects(&v));
        let _ = (area_within(&a, &b), area_intersects(&a, &b));
        let _ = (area_within(&b, &a), area_intersects(&b, &a));
    }
}
