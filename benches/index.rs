//! Spatial index benchmarks at 1M points: insert, move, delete, and the
//! core of NEARBY (best-first kNN with Tile38's haversine), WITHIN (circle
//! of 1 km) and INTERSECTS (1 km box): the R-tree walk plus the exact test,
//! without the network. Run with `cargo bench --bench index`. The
//! `…_with_wide` benches run on a key shaped as `pair.py`'s `key:bench`
//! (150 000 objects, 757 of them 360° wide, as a LineString across the
//! antimeridian is): what the wide objects' own tree of pages is for
//! (`tile38_collection::tree`).

use std::sync::OnceLock;

use divan::{black_box, Bencher};
use tile38::Lcg;
use tile38_collection::{Collection, SetCond};
use tile38_geo::gomath::haversine;
use tile38_geo::predicate::Area;
use tile38_geo::{Position, Rect, Value};

fn main() {
    divan::main();
}

const N: usize = 1_000_000;

/// Deterministic uniform points over the inhabited latitudes.
fn random_point(rng: &mut Lcg) -> (f64, f64) {
    (rng.range(-60.0, 60.0), rng.range(-180.0, 180.0))
}

fn point(lat: f64, lon: f64) -> Value {
    Value::Point {
        x: lon,
        y: lat,
        z: 0.0,
    }
}

fn id(i: usize) -> Vec<u8> {
    format!("truck{i}").into_bytes()
}

fn loaded() -> &'static Collection {
    static COL: OnceLock<Collection> = OnceLock::new();
    COL.get_or_init(|| {
        let mut c = Collection::new();
        let mut rng = Lcg(7);
        for i in 0..N {
            let (lat, lon) = random_point(&mut rng);
            c.set(&id(i), point(lat, lon), vec![], None, SetCond::Always);
        }
        c
    })
}

/// Query centres: a fixed cycle of random points.
fn centres() -> Vec<(f64, f64)> {
    let mut rng = Lcg(99);
    (0..1024).map(|_| random_point(&mut rng)).collect()
}

#[divan::bench(sample_count = 10)]
fn insert_1m_points(b: Bencher) {
    let mut rng = Lcg(7);
    let pts: Vec<(f64, f64)> = (0..N).map(|_| random_point(&mut rng)).collect();
    b.bench_local(|| {
        let mut c = Collection::new();
        for (i, &(lat, lon)) in pts.iter().enumerate() {
            c.set(&id(i), point(lat, lon), vec![], None, SetCond::Always);
        }
        black_box(c.len())
    });
}

#[divan::bench]
fn move_one_of_1m(b: Bencher) {
    let mut c = Collection::new();
    let mut rng = Lcg(7);
    for i in 0..N {
        let (lat, lon) = random_point(&mut rng);
        c.set(&id(i), point(lat, lon), vec![], None, SetCond::Always);
    }
    moves(b, c, N, rng);
}

/// Moves point `id(k)` (`k` < `n`, in a stride) to a random position.
fn moves(b: Bencher, mut c: Collection, n: usize, mut rng: Lcg) {
    let mut k = 0;
    b.bench_local(|| {
        k = (k + 7919) % n;
        let (lat, lon) = random_point(&mut rng);
        c.set(&id(k), point(lat, lon), vec![], None, SetCond::Always)
    });
}

#[divan::bench]
fn delete_and_reinsert_one_of_1m(b: Bencher) {
    let mut c = Collection::new();
    let mut rng = Lcg(7);
    for i in 0..N {
        let (lat, lon) = random_point(&mut rng);
        c.set(&id(i), point(lat, lon), vec![], None, SetCond::Always);
    }
    let mut k = 0;
    b.bench_local(|| {
        k = (k + 7919) % N;
        let item = c.delete(&id(k)).expect("present");
        c.set(&id(k), item.value, vec![], None, SetCond::Always)
    });
}

fn nearby(c: &Collection, lat: f64, lon: f64, limit: usize) -> usize {
    let dist = move |r: &Rect| {
        haversine(
            lat.clamp(r.min.y, r.max.y),
            lon.clamp(r.min.x, r.max.x),
            lat,
            lon,
        )
    };
    c.nearest(dist).take(limit).count()
}

#[divan::bench(args = [1, 10])]
fn nearby_limit_in_1m(b: Bencher, limit: usize) {
    nearby_at_centres(b, loaded(), limit);
}

/// NEARBY … LIMIT `limit` at each query centre in turn.
fn nearby_at_centres(b: Bencher, c: &Collection, limit: usize) {
    let qs = centres();
    let mut k = 0;
    b.bench_local(|| {
        k = (k + 1) % qs.len();
        nearby(c, qs[k].0, qs[k].1, limit)
    });
}

fn search(c: &Collection, area: &Area, within: bool) -> usize {
    c.intersecting(area.bbox())
        .filter(|(_, item)| {
            if within {
                area.contains(&item.value)
            } else {
                area.intersects(&item.value)
            }
        })
        .count()
}

#[divan::bench]
fn within_circle_1km_in_1m(b: Bencher) {
    let c = loaded();
    let qs = centres();
    let mut k = 0;
    b.bench_local(|| {
        k = (k + 1) % qs.len();
        let area = Area::Circle {
            center: Position::new(qs[k].1, qs[k].0),
            meters: 1000.0,
        };
        search(c, &area, true)
    });
}

#[divan::bench]
fn intersects_bounds_1km_in_1m(b: Bencher) {
    bounds_1km(b, loaded());
}

/// INTERSECTS boxes of about 1 km around the query centres.
fn bounds_1km(b: Bencher, c: &Collection) {
    let qs = centres();
    let mut k = 0;
    // About 1 km of latitude; the box is square in degrees.
    let d = 0.009;
    b.bench_local(|| {
        k = (k + 1) % qs.len();
        let (lat, lon) = qs[k];
        let r = Rect::new(
            Position::new(lon - d, lat - d),
            Position::new(lon + d, lat + d),
        );
        search(c, &Area::Value(Value::Rect(r)), false)
    });
}

/// A wide search: WITHIN a 10°×10° box holds about 2 800 of the points.
#[divan::bench]
fn within_bounds_10deg_in_1m(b: Bencher) {
    let c = loaded();
    let r = Rect::new(Position::new(0.0, 0.0), Position::new(10.0, 10.0));
    let area = Area::Value(Value::Rect(r));
    b.bench_local(|| search(c, &area, true));
}

const WIDE_N: usize = 50_000;

/// Shaped as `pair.py`'s `key:bench`: 50 000 points, 50 000 squares of
/// 20 km and 50 000 short lines (as their boxes), one line in 66 across
/// the antimeridian, so 360° wide (753 of the generator's 50 000 were).
fn fill_with_wide(c: &mut Collection, rng: &mut Lcg) {
    for i in 0..WIDE_N {
        let (lat, lon) = random_point(rng);
        c.set(&id(i), point(lat, lon), vec![], None, SetCond::Always);
    }
    for i in 0..2 * WIDE_N {
        let (lat, lon) = random_point(rng);
        let (w, h) = if i < WIDE_N { (0.18, 0.18) } else { (0.3, 0.1) };
        let (x0, x1) = match i % 66 == 0 && i >= WIDE_N {
            true => (-179.9, 179.8),
            false => (lon.min(179.0), lon.min(179.0) + w),
        };
        let r = Rect::new(Position::new(x0, lat), Position::new(x1, lat + h));
        c.set(
            &id(WIDE_N + i),
            Value::Rect(r),
            vec![],
            None,
            SetCond::Always,
        );
    }
}

fn with_wide() -> &'static Collection {
    static COL: OnceLock<Collection> = OnceLock::new();
    COL.get_or_init(|| {
        let mut c = Collection::new();
        fill_with_wide(&mut c, &mut Lcg(7));
        c
    })
}

#[divan::bench]
fn move_one_of_150k_with_wide(b: Bencher) {
    let mut c = Collection::new();
    let mut rng = Lcg(7);
    fill_with_wide(&mut c, &mut rng);
    moves(b, c, WIDE_N, rng);
}

#[divan::bench]
fn nearby_limit_1_in_150k_with_wide(b: Bencher) {
    nearby_at_centres(b, with_wide(), 1);
}

#[divan::bench]
fn intersects_bounds_1km_in_150k_with_wide(b: Bencher) {
    bounds_1km(b, with_wide());
}

/// Where a moving object lands outside every page (7 % of `pair.py`'s
/// moves): `PageTree::choose` falls back to the nearest group of pages,
/// here among 8 000 full pages of random boxes up to 2° across.
#[divan::bench(sample_count = 200, sample_size = 500)]
fn choose_where_no_page_has_room(b: Bencher) {
    use tile38_collection::page::{Bbox, Page, CAP};
    use tile38_collection::tree::PageTree;
    let mut t = PageTree::default();
    let mut rng = Lcg(5);
    for i in 0..8000u32 {
        let (lat, lon) = random_point(&mut rng);
        let (w, h) = (rng.range(0.0, 2.0), rng.range(0.0, 2.0));
        let at = |x: f64, y: f64| Bbox {
            min: [x as f32, y as f32],
            max: [x as f32, y as f32],
        };
        let mut entries = vec![(at(lon, lat), i * 64), (at(lon + w, lat + h), i * 64 + 1)];
        entries.extend((2..CAP as u32).map(|k| (at(lon, lat), i * 64 + k)));
        let p = t.pages.insert(Page::new(&entries));
        t.link(p);
    }
    let points: Vec<Bbox> = centres()
        .into_iter()
        .map(|(lat, lon)| Bbox {
            min: [lon as f32, lat as f32],
            max: [lon as f32, lat as f32],
        })
        .collect();
    let mut k = 0;
    b.bench_local(|| {
        k = (k + 1) % points.len();
        black_box(t.choose(&points[k]))
    });
}
