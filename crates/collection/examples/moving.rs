//! Moving-objects workload: loads N random points (default 1M), times
//! NEARBY-style kNN (limit 1 and 10) and 1 km / 10° box searches, moves
//! random objects M times (default 1M) timing each move, and times the
//! searches again, to see whether the index degrades under moves; then
//! times deleting and inserting again.
//!
//! `cargo run --profile ci -p tile38-collection --example moving -- 200000 1000000`

use std::time::Instant;
use tile38_collection::{Collection, SetCond};
use tile38_geo::gomath::haversine;
use tile38_geo::{Position, Rect, Value};
struct Lcg(u64);
impl Lcg {
    fn unit(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn point(&mut self) -> (f64, f64) {
        (self.unit() * 120.0 - 60.0, self.unit() * 360.0 - 180.0)
    }
}
fn pt(lat: f64, lon: f64) -> Value {
    Value::Point {
        x: lon,
        y: lat,
        z: 0.0,
    }
}
fn queries(c: &Collection, label: &str) {
    let mut rng = Lcg(99);
    let qs: Vec<(f64, f64)> = (0..20000).map(|_| rng.point()).collect();
    for limit in [1usize, 10] {
        let t = Instant::now();
        let mut n = 0;
        for &(lat, lon) in &qs {
            n += c
                .nearest(move |r: &Rect| {
                    haversine(
                        lat.clamp(r.min.y, r.max.y),
                        lon.clamp(r.min.x, r.max.x),
                        lat,
                        lon,
                    )
                })
                .take(limit)
                .count();
        }
        println!(
            "{label}: nearby {limit}: {:.2} µs ({n})",
            t.elapsed().as_secs_f64() * 1e6 / qs.len() as f64
        );
    }
    let t = Instant::now();
    let mut n = 0;
    for &(lat, lon) in &qs {
        let d = 0.009;
        n += c
            .intersecting(Rect::new(
                Position::new(lon - d, lat - d),
                Position::new(lon + d, lat + d),
            ))
            .count();
    }
    println!(
        "{label}: box 1km: {:.2} µs ({n})",
        t.elapsed().as_secs_f64() * 1e6 / qs.len() as f64
    );
    let t = Instant::now();
    let mut n = 0;
    for &(lat, lon) in qs.iter().take(2000) {
        n += c
            .intersecting(Rect::new(
                Position::new(lon - 5.0, lat - 5.0),
                Position::new(lon + 5.0, lat + 5.0),
            ))
            .count();
    }
    println!(
        "{label}: box 10deg: {:.2} µs ({n})",
        t.elapsed().as_secs_f64() * 1e6 / 2000.0
    );
}
fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(1_000_000, |s| s.parse().unwrap());
    let moves: usize = std::env::args()
        .nth(2)
        .map_or(1_000_000, |s| s.parse().unwrap());
    let mut c = Collection::new();
    let mut rng = Lcg(7);
    let t = Instant::now();
    for i in 0..n {
        let (lat, lon) = rng.point();
        c.set(
            format!("truck{i}").as_bytes(),
            pt(lat, lon),
            vec![],
            None,
            SetCond::Always,
        );
    }
    println!(
        "insert: {:.2} µs",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
    queries(&c, "fresh");
    if moves > 0 {
        let t = Instant::now();
        let mut k = 0;
        let mut worst = 0f64;
        let mut slow = 0;
        for _ in 0..moves {
            k = (k + 7919) % n;
            let (lat, lon) = rng.point();
            let t1 = Instant::now();
            c.set(
                format!("truck{k}").as_bytes(),
                pt(lat, lon),
                vec![],
                None,
                SetCond::Always,
            );
            let e = t1.elapsed().as_secs_f64();
            if e > 0.001 {
                slow += 1;
            }
            worst = worst.max(e);
        }
        println!(
            "moves: {:.2} µs, worst {:.1} ms, {slow} over 1 ms",
            t.elapsed().as_secs_f64() * 1e6 / moves as f64,
            worst * 1e3
        );
        queries(&c, "moved");
        let t = Instant::now();
        for _ in 0..100_000 {
            k = (k + 7919) % n;
            let id = format!("truck{k}");
            let item = c.delete(id.as_bytes()).expect("present");
            c.set(id.as_bytes(), item.value, vec![], None, SetCond::Always);
        }
        println!(
            "delete+reinsert: {:.2} µs",
            t.elapsed().as_secs_f64() * 1e6 / 1e5
        );
    }
}
