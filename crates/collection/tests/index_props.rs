//! Property tests: after any sequence of sets (new, moved, same place,
//! strings), field updates, expiry changes and deletes, the R-tree holds
//! exactly the spatial objects of the id map, each under its own bounding
//! box, and a box search equals a brute-force scan of the map.

use proptest::prelude::*;
use rstar::Envelope as _;
use tile38_collection::spatial::Envelope;
use tile38_collection::{Collection, SetCond};
use tile38_geo::{FieldValue, Position, Rect, Value};

#[derive(Clone, Debug)]
enum Op {
    Point(u8, i8, i8),
    Rect(u8, i8, i8, u8, u8),
    Str(u8),
    Field(u8, u8),
    Expire(u8, Option<i64>),
    Delete(u8),
}

fn op() -> impl Strategy<Value = Op> {
    // Few ids and a coarse grid: many updates in place and shared boxes.
    let id = 0u8..40;
    let c = -5i8..5;
    prop_oneof![
        4 => (id.clone(), c.clone(), c.clone()).prop_map(|(i, x, y)| Op::Point(i, x, y)),
        2 => (id.clone(), c.clone(), c.clone(), 0u8..4, 0u8..4)
            .prop_map(|(i, x, y, w, h)| Op::Rect(i, x, y, w, h)),
        1 => id.clone().prop_map(Op::Str),
        1 => (id.clone(), 0u8..3).prop_map(|(i, v)| Op::Field(i, v)),
        1 => (id.clone(), proptest::option::of(0i64..100)).prop_map(|(i, e)| Op::Expire(i, e)),
        2 => id.prop_map(Op::Delete),
    ]
}

fn name(i: u8) -> Vec<u8> {
    format!("id{i}").into_bytes()
}

fn apply(c: &mut Collection, op: &Op) {
    match *op {
        Op::Point(i, x, y) => {
            let v = Value::Point {
                x: f64::from(x),
                y: f64::from(y),
                z: 0.0,
            };
            c.set(&name(i), v, vec![], None, SetCond::Always);
        }
        Op::Rect(i, x, y, w, h) => {
            let min = Position::new(f64::from(x), f64::from(y));
            let max = Position::new(min.x + f64::from(w), min.y + f64::from(h));
            c.set(
                &name(i),
                Value::Rect(Rect::new(min, max)),
                vec![],
                None,
                SetCond::Always,
            );
        }
        Op::Str(i) => {
            let v = Value::String(format!("s{i}").into_bytes().into());
            c.set(&name(i), v, vec![], None, SetCond::Always);
        }
        Op::Field(i, v) => {
            let f = vec![(b"f"[..].into(), FieldValue::parse(v.to_string().as_bytes()))];
            c.set_fields(&name(i), f);
        }
        Op::Expire(i, e) => {
            c.set_expires(&name(i), e);
        }
        Op::Delete(i) => {
            c.delete(&name(i));
        }
    }
}

fn envelope(v: &Value) -> Option<Envelope> {
    v.is_spatial().then(|| {
        let r = v.bbox();
        Envelope::from_corners([r.min.x, r.min.y], [r.max.x, r.max.y])
    })
}

fn sorted(mut v: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    v.sort();
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn index_equals_id_map(ops in proptest::collection::vec(op(), 1..200),
                           qx in -6i8..6, qy in -6i8..6, qw in 0u8..6, qh in 0u8..6) {
        let mut c = Collection::new();
        for op in &ops {
            apply(&mut c, op);
        }
        let items: Vec<(Vec<u8>, Value)> = c
            .range(None, false)
            .map(|(id, item)| (id.to_vec(), item.value.clone()))
            .collect();
        let spatial = items.iter().filter(|(_, v)| v.is_spatial()).count();
        prop_assert_eq!(c.spatial_len(), spatial);
        // Every object is found under exactly its own box.
        for (id, v) in &items {
            if v.is_spatial() {
                let found: Vec<_> = c
                    .intersecting(v.bbox())
                    .filter(|(f, _)| f.as_bytes() == id)
                    .collect();
                prop_assert_eq!(found.len(), 1);
            }
        }
        // A window search equals a brute-force scan of the map.
        let (x0, y0) = (f64::from(qx), f64::from(qy));
        let q = Envelope::from_corners([x0, y0], [x0 + f64::from(qw), y0 + f64::from(qh)]);
        let qr = Rect::new(Position::new(x0, y0), Position::new(q.upper()[0], q.upper()[1]));
        let got = sorted(c.intersecting(qr).map(|(id, _)| id.to_vec()).collect());
        let want = sorted(
            items
                .iter()
                .filter(|(_, v)| envelope(v).is_some_and(|e| e.intersects(&q)))
                .map(|(id, _)| id.clone())
                .collect(),
        );
        prop_assert_eq!(got, want);
        // The expiry index holds exactly the objects with a deadline.
        let with_deadline = c.range(None, false).filter(|(_, it)| it.expires.is_some()).count();
        prop_assert_eq!(c.expired(i64::MAX).len(), with_deadline);
        // Deleting everything leaves an empty index.
        for (id, _) in &items {
            c.delete(id);
        }
        prop_assert_eq!((c.spatial_len(), c.weight(), c.num_points()), (0, 0, 0));
    }
}
