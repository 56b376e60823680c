//! GET lookup latency: 100k objects with 17-byte ids (`truck000000012345`,
//! as redis-benchmark's `__rand_int__` makes them), 1M lookups in a
//! scattered order.
//!
//! `cargo run --profile ci -p tile38-collection --example getbench`

use std::time::Instant;
use tile38_collection::{Collection, SetCond};
use tile38_geo::Value;
fn main() {
    let mut c = Collection::new();
    let n = 100_000;
    for i in 0..n {
        c.set(
            format!("truck{i:012}").as_bytes(),
            Value::Point {
                x: -112.1,
                y: 33.5,
                z: 0.0,
            },
            vec![],
            None,
            SetCond::Always,
        );
    }
    let keys: Vec<Vec<u8>> = (0..1_000_000u64)
        .map(|i| format!("truck{:012}", (i * 7919) % n).into_bytes())
        .collect();
    for _ in 0..3 {
        let t = Instant::now();
        let mut found = 0;
        for k in &keys {
            found += c.get(k).is_some() as usize;
        }
        println!(
            "get: {:.1} ns ({found})",
            t.elapsed().as_secs_f64() * 1e9 / keys.len() as f64
        );
    }
}
