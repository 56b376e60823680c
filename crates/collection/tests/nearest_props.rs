//! Property tests of the best-first walk (`Collection::nearest_bounded`):
//! over keys of many pages (points on a coarse grid so that distances tie,
//! crowds at one position, boxes), with boxes ordered by a bound below the
//! exact distance and an optional cutoff, the walk reports exactly the
//! objects within the cutoff, each once, with its exact distance, in the
//! order of a brute-force sort (ties in any order, as the engine reorders
//! them), and ends without visiting the rest.

use proptest::prelude::*;
use tile38_collection::{Collection, SetCond};
use tile38_geo::{Position, Rect, Value};

#[derive(Clone, Debug)]
enum Obj {
    /// A grid point (many equal distances).
    Grid(i8, i8),
    /// A point off the grid.
    Fine(i16, i16),
    /// `n` objects at one position (pages of one box).
    Crowd(u8, i8, i8),
    Rect(i8, i8, u8, u8),
}

fn obj() -> impl Strategy<Value = Obj> {
    prop_oneof![
        4 => (-20i8..20, -20i8..20).prop_map(|(x, y)| Obj::Grid(x, y)),
        4 => (any::<i16>(), any::<i16>()).prop_map(|(x, y)| Obj::Fine(x, y)),
        1 => (1u8..80, -20i8..20, -20i8..20).prop_map(|(n, x, y)| Obj::Crowd(n, x, y)),
        1 => (-20i8..20, -20i8..20, 0u8..5, 0u8..5).prop_map(|(x, y, w, h)| Obj::Rect(x, y, w, h)),
    ]
}

fn point(x: f64, y: f64) -> Value {
    Value::Point { x, y, z: 0.0 }
}

fn load(objs: &[Obj], moves: usize) -> Collection {
    let mut c = Collection::new();
    let mut n = 0u32;
    let mut put = |c: &mut Collection, v: Value| {
        c.set(format!("o{n}").as_bytes(), v, vec![], None, SetCond::Always);
        n += 1;
    };
    for o in objs {
        match *o {
            Obj::Grid(x, y) => put(&mut c, point(x.into(), y.into())),
            Obj::Fine(x, y) => put(&mut c, point(f64::from(x) / 1638.3, f64::from(y) / 1637.1)),
            Obj::Crowd(k, x, y) => {
                for _ in 0..k {
                    put(&mut c, point(x.into(), y.into()));
                }
            }
            Obj::Rect(x, y, w, h) => {
                let min = Position::new(x.into(), y.into());
                let max = Position::new(min.x + f64::from(w), min.y + f64::from(h));
                put(&mut c, Value::Rect(Rect::new(min, max)));
            }
        }
    }
    // Some objects move again (pages split, shrink and dissolve).
    for i in 0..moves.min(n as usize) {
        let v = point((i % 17) as f64 - 8.0, (i % 13) as f64 - 6.0);
        c.set(
            format!("o{}", i * 7 % n as usize).as_bytes(),
            v,
            vec![],
            None,
            SetCond::Always,
        );
    }
    c
}

/// Euclidean distance from `(px, py)` to a box.
fn box_dist(r: &Rect, px: f64, py: f64) -> f64 {
    let dx = (r.min.x - px).max(px - r.max.x).max(0.0);
    let dy = (r.min.y - py).max(py - r.max.y).max(0.0);
    dx.hypot(dy)
}

/// A lower bound of [`box_dist`]: the larger gap, scaled down.
fn gap_bound(r: &Rect, px: f64, py: f64, scale: f64) -> f64 {
    let dx = (r.min.x - px).max(px - r.max.x).max(0.0);
    let dy = (r.min.y - py).max(py - r.max.y).max(0.0);
    dx.max(dy) * scale
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn walk_equals_brute_force_sort(objs in proptest::collection::vec(obj(), 1..400),
                                    moves in 0usize..200,
                                    px in -25i16..25, py in -25i16..25,
                                    scale in 0.0f64..=1.0,
                                    cutoff in proptest::option::of(0.0f64..15.0)) {
        let c = load(&objs, moves);
        let (px, py) = (f64::from(px) / 1.9, f64::from(py) / 2.3);
        let cutoff = cutoff.unwrap_or(f64::INFINITY);
        let got: Vec<(f64, Vec<u8>)> = c
            .nearest_bounded(
                move |r: &Rect| gap_bound(r, px, py, scale),
                move |r: &Rect| box_dist(r, px, py),
                cutoff,
            )
            .map(|(d, id, _)| (d, id.to_vec()))
            .collect();
        let mut want: Vec<(f64, Vec<u8>)> = c
            .range(None, false)
            .filter(|(_, item)| item.value.is_spatial())
            .map(|(id, item)| (box_dist(&item.value.bbox(), px, py), id.to_vec()))
            .filter(|(d, _)| *d <= cutoff)
            .collect();
        want.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        // In distance order as walked; the same (distance, id) pairs.
        prop_assert!(got.windows(2).all(|w| w[0].0 <= w[1].0));
        let mut sorted = got.clone();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        prop_assert_eq!(sorted, want);
    }
}

/// A walk stopped after k results gives the k nearest (LIMIT), and a
/// cutoff of 0 reports only the objects at the query point.
#[test]
fn prefix_and_zero_cutoff() {
    let objs: Vec<Obj> = (0..3000)
        .map(|i| {
            Obj::Fine(
                (i * 7919 % 65536 - 32768) as i16,
                (i * 104_729 % 65536 - 32768) as i16,
            )
        })
        .chain([Obj::Crowd(70, 0, 0)])
        .collect();
    let c = load(&objs, 0);
    let all: Vec<f64> = c
        .nearest(|r: &Rect| box_dist(r, 0.0, 0.0))
        .map(|(d, _, _)| d)
        .collect();
    assert_eq!(all.len(), 3070);
    assert!(all.windows(2).all(|w| w[0] <= w[1]));
    for k in [1, 10, 100] {
        let first: Vec<f64> = c
            .nearest(|r: &Rect| box_dist(r, 0.0, 0.0))
            .take(k)
            .map(|(d, _, _)| d)
            .collect();
        assert_eq!(first, all[..k]);
    }
    let at = c
        .nearest_bounded(
            |r: &Rect| gap_bound(r, 0.0, 0.0, 0.5),
            |r: &Rect| box_dist(r, 0.0, 0.0),
            0.0,
        )
        .count();
    assert_eq!(at, 70);
}
