//! The deepest object [`super::parse`] accepts must be safe for every
//! recursive consumer (serialising, boxes, predicates, clipping,
//! buffering, cloning, dropping) on a server thread's stack, and a deeper
//! one must be refused in time linear in its size.

use super::parse::MAX_DEPTH;
use crate::predicate::Area;
use crate::{area, Geometry, Position, Rect, Value};

const SQUARE: &str = r#"{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]]]}"#;

/// `levels` nested objects around `SQUARE`: GeometryCollections,
/// FeatureCollections and Features in turn.
fn rect(a: f64, b: f64) -> Rect {
    Rect::new(Position::new(a, a), Position::new(b, b))
}

fn nested(levels: usize) -> String {
    let mut open = String::new();
    let mut close = String::new();
    for k in 0..levels {
        match k % 3 {
            0 => {
                open.push_str(r#"{"type":"GeometryCollection","geometries":["#);
                close.insert_str(0, "]}");
            }
            1 => {
                open.push_str(r#"{"type":"FeatureCollection","features":["#);
                close.insert_str(0, "]}");
            }
            _ => {
                open.push_str(r#"{"type":"Feature","properties":{"a":[1]},"geometry":"#);
                close.insert(0, '}');
            }
        }
    }
    open + SQUARE + &close
}

#[test]
fn the_deepest_accepted_object_fits_a_quarter_of_a_server_stack() {
    crate::on_quarter_stack(|| {
        let text = nested(MAX_DEPTH);
        let g = Geometry::parse(text.as_bytes()).expect("accepted");
        let json = g.to_json();
        let again = Geometry::parse(&json).expect("re-parsed");
        assert_eq!(again.to_json(), json);
        let v = Value::from_geometry(g.clone());
        assert_eq!(v.bbox(), rect(0.0, 10.0));
        assert_eq!(v.num_points(), 5);
        let area = Area::Value(v.clone());
        let inside = Value::Rect(rect(1.0, 2.0));
        assert!(area.contains(&inside) && area.intersects(&inside));
        let prepared = area.prepare();
        assert!(prepared.contains(&inside) && prepared.intersects(&v));
        assert!(Area::Value(inside.clone()).intersects(&v));
        assert!(prepared.contains(&v));
        let clipped = area::clip(&v, rect(1.0, 2.0));
        assert_eq!(clipped.bbox(), rect(1.0, 2.0));
        let _ = area::buffer(&v, 10.0);
        drop((v, clipped));
    });
}

#[test]
fn deeper_objects_are_refused_quickly() {
    for levels in [MAX_DEPTH + 1, 100_000] {
        let text = nested(levels);
        let t = std::time::Instant::now();
        assert!(Geometry::parse(text.as_bytes()).is_err(), "{levels}");
        assert!(
            t.elapsed().as_secs_f64() < 2.0,
            "{levels}: {:?}",
            t.elapsed()
        );
    }
}
