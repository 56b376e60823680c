//! Property tests: after any sequence of sets (new, moved, same place,
//! strings, whole clusters at one position), field updates, expiry changes
//! and deletes, every index agrees with the objects: the spatial index holds
//! exactly the spatial objects, each under its own box (pages split and
//! dissolve on the way), a box search equals a brute-force scan, nearest
//! search returns every object in exact-distance order, SCAN order is id
//! order, and the expiry index holds exactly the objects with a deadline.

use proptest::prelude::*;
use tile38_collection::{Collection, SetCond};
use tile38_geo::{FieldValue, Position, Rect, Value};

#[derive(Clone, Debug)]
enum Op {
    Point(u8, i8, i8),
    /// A point off the grid (an `f32`-inexact coordinate).
    Fine(u8, i8, i8),
    Rect(u8, i8, i8, u8, u8),
    Str(u8),
    /// Ids `from..from + n` all to one position.
    Cluster(u8, u8, i8, i8),
    Field(u8, u8),
    Expire(u8, Option<i64>),
    Delete(u8),
    /// Deletes ids `from..from + n`.
    DeleteRun(u8, u8),
}

fn op() -> impl Strategy<Value = Op> {
    // Few ids and a coarse grid: many updates in place and shared boxes;
    // clusters of up to 100 ids fill and split pages.
    let id = 0u8..200;
    let c = -5i8..5;
    prop_oneof![
        4 => (id.clone(), c.clone(), c.clone()).prop_map(|(i, x, y)| Op::Point(i, x, y)),
        2 => (id.clone(), any::<i8>(), any::<i8>()).prop_map(|(i, x, y)| Op::Fine(i, x, y)),
        2 => (id.clone(), c.clone(), c.clone(), 0u8..4, 0u8..4)
            .prop_map(|(i, x, y, w, h)| Op::Rect(i, x, y, w, h)),
        1 => id.clone().prop_map(Op::Str),
        1 => (id.clone(), 1u8..100, c.clone(), c.clone())
            .prop_map(|(i, n, x, y)| Op::Cluster(i, n, x, y)),
        1 => (id.clone(), 0u8..3).prop_map(|(i, v)| Op::Field(i, v)),
        1 => (id.clone(), proptest::option::of(0i64..100)).prop_map(|(i, e)| Op::Expire(i, e)),
        2 => id.clone().prop_map(Op::Delete),
        1 => (id, 1u8..100).prop_map(|(i, n)| Op::DeleteRun(i, n)),
    ]
}

fn name(i: u8) -> Vec<u8> {
    // Some ids longer than the 15 inline bytes.
    if i.is_multiple_of(7) {
        format!("a-long-object-id-{i}").into_bytes()
    } else {
        format!("id{i}").into_bytes()
    }
}

fn point(x: f64, y: f64) -> Value {
    Value::Point { x, y, z: 0.0 }
}

fn ids(from: u8, n: u8) -> impl Iterator<Item = u8> {
    (u16::from(from)..(u16::from(from) + u16::from(n)).min(200)).map(|i| i as u8)
}

fn apply(c: &mut Collection, op: &Op) {
    match *op {
        Op::Point(i, x, y) => {
            c.set(
                &name(i),
                point(x.into(), y.into()),
                vec![],
                None,
                SetCond::Always,
            );
        }
        Op::Fine(i, x, y) => {
            let v = point(f64::from(x) / 10.3, f64::from(y) / 10.7);
            c.set(&name(i), v, vec![], None, SetCond::Always);
        }
        Op::Rect(i, x, y, w, h) => {
            // A width of 3 is 25 degrees: a wide object, which gets a page
            // of its own (`spatial::WIDE`).
            let w = if w == 3 { 25.0 } else { f64::from(w) };
            let min = Position::new(f64::from(x), f64::from(y));
            let max = Position::new(min.x + w, min.y + f64::from(h));
            let v = Value::Rect(Rect::new(min, max));
            c.set(&name(i), v, vec![], None, SetCond::Always);
        }
        Op::Str(i) => {
            // Few texts: ties in SEARCH order, broken by id.
            let v = Value::String(format!("s{}", i % 7).into_bytes().into());
            c.set(&name(i), v, vec![], None, SetCond::Always);
        }
        Op::Cluster(from, n, x, y) => {
            for i in ids(from, n) {
                c.set(
                    &name(i),
                    point(x.into(), y.into()),
                    vec![],
                    None,
                    SetCond::Always,
                );
            }
        }
        Op::Field(i, v) => {
            let f = vec![(b"f"[..].into(), FieldValue::parse(v.to_string().as_bytes()))];
            // Half of them keep the old list (a new list replaces it).
            c.set_fields(&name(i), f, i % 2 == 0);
        }
        Op::Expire(i, e) => {
            c.set_expires(&name(i), e);
        }
        Op::Delete(i) => {
            c.delete(&name(i));
        }
        Op::DeleteRun(from, n) => {
            for i in ids(from, n) {
                c.delete(&name(i));
            }
        }
    }
}

/// `[min x, min y, max x, max y]` of a spatial value.
fn envelope(v: &Value) -> Option<[f64; 4]> {
    v.is_spatial().then(|| {
        let r = v.bbox();
        [r.min.x, r.min.y, r.max.x, r.max.y]
    })
}

fn meets(e: &[f64; 4], q: &[f64; 4]) -> bool {
    e[0] <= q[2] && e[2] >= q[0] && e[1] <= q[3] && e[3] >= q[1]
}

/// Euclidean distance from `(px, py)` to a box.
fn box_dist(r: &Rect, px: f64, py: f64) -> f64 {
    let dx = (r.min.x - px).max(px - r.max.x).max(0.0);
    let dy = (r.min.y - py).max(py - r.max.y).max(0.0);
    dx.hypot(dy)
}

fn sorted(mut v: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    v.sort();
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn index_equals_id_map(ops in proptest::collection::vec(op(), 1..300),
                           qx in -6i8..6, qy in -6i8..6, qw in 0u8..6, qh in 0u8..6,
                           px in -60i8..60, py in -60i8..60) {
        let mut c = Collection::new();
        for op in &ops {
            apply(&mut c, op);
        }
        c.check();
        let items: Vec<(Vec<u8>, Value)> = c
            .range(None, false)
            .map(|(id, item)| (id.to_vec(), item.value.clone()))
            .collect();
        prop_assert!(items.windows(2).all(|w| w[0].0 < w[1].0));
        let spatial = items.iter().filter(|(_, v)| v.is_spatial()).count();
        prop_assert_eq!(c.spatial_len(), spatial);
        // Every object is found under exactly its own box.
        for (id, v) in &items {
            if v.is_spatial() {
                let found = c
                    .intersecting(v.bbox())
                    .filter(|(f, _)| f.as_bytes() == id)
                    .count();
                prop_assert_eq!(found, 1);
                // Nor is it found by boxes a hair beside it (its f32 box
                // may reach there; its exact box does not).
                let r = v.bbox();
                let hair = |x: f64| x.abs() * 1e-12 + 1e-300;
                let beside = [
                    Rect::new(Position::new(r.max.x + hair(r.max.x), r.min.y), Position::new(r.max.x + 1.0, r.max.y)),
                    Rect::new(Position::new(r.min.x - 1.0, r.min.y), Position::new(r.min.x - hair(r.min.x), r.max.y)),
                    Rect::new(Position::new(r.min.x, r.max.y + hair(r.max.y)), Position::new(r.max.x, r.max.y + 1.0)),
                    Rect::new(Position::new(r.min.x, r.min.y - 1.0), Position::new(r.max.x, r.min.y - hair(r.min.y))),
                ];
                for q in beside {
                    prop_assert!(!c.intersecting(q).any(|(f, _)| f.as_bytes() == id));
                }
            }
        }
        // A window search equals a brute-force scan of the map.
        let (x0, y0) = (f64::from(qx) / 1.7, f64::from(qy) / 1.3);
        let q = [x0, y0, x0 + f64::from(qw), y0 + f64::from(qh)];
        let qr = Rect::new(Position::new(q[2], q[3]), Position::new(q[0], q[1]));
        let got = sorted(c.intersecting(qr).map(|(id, _)| id.to_vec()).collect());
        let want = sorted(
            items
                .iter()
                .filter(|(_, v)| envelope(v).is_some_and(|e| meets(&e, &q)))
                .map(|(id, _)| id.clone())
                .collect(),
        );
        prop_assert_eq!(got, want);
        // Nearest search: every spatial object once, by exact distance.
        let (px, py) = (f64::from(px) / 9.9, f64::from(py) / 9.7);
        let near: Vec<(f64, Vec<u8>)> = c
            .nearest(move |r: &Rect| box_dist(r, px, py))
            .map(|(d, id, _)| (d, id.to_vec()))
            .collect();
        prop_assert_eq!(near.len(), spatial);
        prop_assert!(near.windows(2).all(|w| w[0].0 <= w[1].0));
        for (d, id) in &near {
            let v = &items.iter().find(|(i, _)| i == id).expect("listed").1;
            prop_assert_eq!(*d, box_dist(&v.bbox(), px, py));
        }
        // Bounds are the exact union of the boxes.
        let union = items
            .iter()
            .filter(|(_, v)| v.is_spatial())
            .map(|(_, v)| v.bbox())
            .reduce(|a, b| a.union(&b));
        prop_assert_eq!(c.bounds(), union);
        // The expiry index holds exactly the objects with a deadline.
        let with_deadline = c.range(None, false).filter(|(_, it)| it.expires.is_some()).count();
        prop_assert_eq!(c.expired(i64::MAX).len(), with_deadline);
        // Deleting everything leaves an empty index.
        for (id, _) in &items {
            c.delete(id);
        }
        c.check();
        prop_assert_eq!((c.spatial_len(), c.weight(), c.num_points()), (0, 0, 0));
    }
}

/// Thousands of objects at one spot moving between ten spots and back
/// (the case that made removal O(n) in a plain R-tree).
#[test]
fn crowds_at_one_position_move_cheaply() {
    let mut c = Collection::new();
    let n = 5000;
    for i in 0..n {
        c.set(
            format!("t{i}").as_bytes(),
            point(-112.1, 33.5),
            vec![],
            None,
            SetCond::Always,
        );
    }
    let mut k = 0usize;
    for round in 0..20_000 {
        k = (k + 7919) % n;
        let x = -112.1 + (round % 10) as f64 * 0.001;
        c.set(
            format!("t{k}").as_bytes(),
            point(x, 33.5),
            vec![],
            None,
            SetCond::Always,
        );
    }
    c.check();
    let at = |x: f64| c.intersecting(Rect::point(Position::new(x, 33.5))).count();
    let total: usize = (0..10).map(|j| at(-112.1 + j as f64 * 0.001)).sum();
    assert_eq!(total, n);
    for i in 0..n {
        c.delete(format!("t{i}").as_bytes());
    }
    c.check();
    assert_eq!(c.spatial_len(), 0);
}

/// What searches see of a collection: hits of a few windows (sorted),
/// nearest neighbours as (distance, id) with ties sorted, the bounds,
/// and the string objects in SEARCH order both ways.
type Seen = (
    Vec<Vec<Vec<u8>>>,
    Vec<(f64, Vec<u8>)>,
    Option<Rect>,
    [Vec<Vec<u8>>; 2],
);

fn searches(c: &Collection) -> Seen {
    let windows = [
        (-6.0, -6.0, 6.0, 6.0),
        (-1.5, -2.0, 2.3, 0.7),
        (0.0, 0.0, 0.0, 0.0),
    ];
    let hits = windows
        .iter()
        .map(|&(x0, y0, x1, y1)| {
            let q = Rect::new(Position::new(x0, y0), Position::new(x1, y1));
            sorted(c.intersecting(q).map(|(id, _)| id.to_vec()).collect())
        })
        .collect();
    let mut near: Vec<(f64, Vec<u8>)> = c
        .nearest(|r: &Rect| box_dist(r, 0.3, -0.2))
        .map(|(d, id, _)| (d, id.to_vec()))
        .collect();
    near.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    let strings = [false, true].map(|desc| c.by_value(desc).map(|(id, _)| id.to_vec()).collect());
    (hits, near, c.bounds(), strings)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Indexes deferred at any point of a sequence and built in bulk at
    /// the end answer every search as the ones maintained write by write,
    /// and stay correct under the writes that follow. An id-order read
    /// while deferred (PDEL) is right too.
    #[test]
    fn bulk_built_index_equals_insert_built(ops in proptest::collection::vec(op(), 1..300),
                                            defer_at in 0usize..300,
                                            read_at in 0usize..400,
                                            from in 0u8..200,
                                            after in proptest::collection::vec(op(), 0..60)) {
        let (mut live, mut bulk) = (Collection::new(), Collection::new());
        let ids = |c: &Collection, from: &[u8], desc: bool| -> Vec<Vec<u8>> {
            c.range(Some(from), desc).map(|(id, _)| id.to_vec()).collect()
        };
        for (i, op) in ops.iter().enumerate() {
            if i == defer_at.min(ops.len() - 1) {
                bulk.defer_indexes();
                bulk.check();
            }
            if i == read_at {
                prop_assert_eq!(ids(&bulk, &name(from), false), ids(&live, &name(from), false));
                prop_assert_eq!(ids(&bulk, &name(from), true), ids(&live, &name(from), true));
            }
            apply(&mut live, op);
            apply(&mut bulk, op);
        }
        bulk.check();
        prop_assert_eq!(ids(&bulk, b"", false), ids(&live, b"", false));
        bulk.build_indexes();
        bulk.check();
        prop_assert_eq!(bulk.spatial_len(), live.spatial_len());
        prop_assert_eq!(searches(&bulk), searches(&live));
        for op in &after {
            apply(&mut live, op);
            apply(&mut bulk, op);
        }
        bulk.check();
        prop_assert_eq!(searches(&bulk), searches(&live));
    }
}

/// A bulk build of many objects (enough for two threads), a crowd at one
/// spot included, keeps the invariants (one tree entry per distinct page
/// box) and later moves too.
#[test]
fn bulk_build_of_crowds_then_moves() {
    let mut c = Collection::new();
    c.defer_indexes();
    for i in 0..30_000u32 {
        let v = if i % 4 == 0 {
            point(-112.1, 33.5)
        } else {
            point(f64::from(i % 97) / 7.0, f64::from(i % 89) / 3.0)
        };
        c.set(format!("t{i}").as_bytes(), v, vec![], None, SetCond::Always);
    }
    c.build_indexes();
    c.check();
    let crowd = c
        .intersecting(Rect::point(Position::new(-112.1, 33.5)))
        .count();
    assert_eq!(crowd, 7500);
    let scanned: Vec<_> = c.range(None, false).map(|(id, _)| id.to_vec()).collect();
    assert_eq!(scanned.len(), 30_000);
    assert!(scanned.windows(2).all(|w| w[0] < w[1]));
    for i in (0..30_000u32).step_by(3) {
        let v = point(f64::from(i % 13), -f64::from(i % 11));
        c.set(format!("t{i}").as_bytes(), v, vec![], None, SetCond::Always);
    }
    c.check();
    assert_eq!(c.spatial_len(), 30_000);
}
