//! Objects sharing one position: 100k points at one spot, then M moves
//! (default 1000) of one of them to one of ten nearby spots, as the
//! `framing` bench does, with the latency distribution of the moves.
//!
//! `cargo run --profile ci -p tile38-collection --example crowd -- 100000`

use std::time::Instant;
use tile38_collection::{Collection, SetCond};
use tile38_geo::Value;
fn main() {
    let moves: usize = std::env::args().nth(1).map_or(1000, |s| s.parse().unwrap());
    let mut c = Collection::new();
    let ids: Vec<String> = (0..100_000).map(|i| format!("truck{i:012}")).collect();
    let t = Instant::now();
    for id in &ids {
        c.set(
            id.as_bytes(),
            Value::Point {
                x: -112.1,
                y: 33.5,
                z: 0.0,
            },
            Vec::new(),
            None,
            SetCond::Always,
        );
    }
    println!("load: {:.2} µs", t.elapsed().as_secs_f64() * 1e6 / 1e5);
    let mut i = 0usize;
    let mut lat = vec![];
    let t = Instant::now();
    for _ in 0..moves {
        i = (i + 7919) % ids.len();
        let v = Value::Point {
            x: -112.1 + (i % 10) as f64 * 0.001,
            y: 33.5,
            z: 0.0,
        };
        let t1 = Instant::now();
        c.set(ids[i].as_bytes(), v, Vec::new(), None, SetCond::Always);
        lat.push(t1.elapsed().as_nanos() as u64);
    }
    let total = t.elapsed().as_secs_f64();
    lat.sort();
    let p = |q: f64| lat[((lat.len() - 1) as f64 * q) as usize];
    println!(
        "moves {moves}: mean {:.2} µs, p50 {} ns, p90 {} ns, p99 {} ns, max {} ns",
        total * 1e6 / moves as f64,
        p(0.5),
        p(0.9),
        p(0.99),
        p(1.0)
    );
}
