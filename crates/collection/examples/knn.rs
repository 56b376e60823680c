//! NEARBY core at 1M points (as `benches/index.rs`): best-first kNN with
//! Tile38's haversine, limit 1 and 10, timed over 100k queries.
//!
//! `cargo run --profile ci -p tile38-collection --example knn`

use std::time::Instant;
use tile38_collection::{Collection, SetCond};
use tile38_geo::gomath::haversine;
use tile38_geo::{Rect, Value};

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

fn main() {
    let mut c = Collection::new();
    let mut rng = Lcg(7);
    for i in 0..1_000_000 {
        let (lat, lon) = rng.point();
        let v = Value::Point {
            x: lon,
            y: lat,
            z: 0.0,
        };
        c.set(
            format!("truck{i}").as_bytes(),
            v,
            vec![],
            None,
            SetCond::Always,
        );
    }
    let mut rng = Lcg(99);
    let qs: Vec<(f64, f64)> = (0..1024).map(|_| rng.point()).collect();
    for limit in [1, 10, 1, 10] {
        let t = Instant::now();
        let mut n = 0;
        for k in 0..100_000 {
            let (lat, lon) = qs[k % qs.len()];
            let dist = move |r: &Rect| {
                haversine(
                    lat.clamp(r.min.y, r.max.y),
                    lon.clamp(r.min.x, r.max.x),
                    lat,
                    lon,
                )
            };
            n += c.nearest(dist).take(limit).count();
        }
        let us = t.elapsed().as_secs_f64() * 1e6 / 100_000.0;
        println!("limit {limit}: {us:.2} µs ({n})");
    }
}
