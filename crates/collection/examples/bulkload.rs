//! The collection's share of an AOF load: N point SETs with one field into
//! a collection whose indexes are deferred, then the bulk build of the id
//! order and the spatial index; the same N SETs with the indexes kept up
//! one write at a time, for comparison. Best of several rounds.
//!
//! `cargo run --release -p tile38-collection --example bulkload -- 1000000`
//! (`ROUNDS=n` sets the rounds, default 5).

use std::time::{Duration, Instant};

use tile38_collection::{Collection, SetCond};
use tile38_geo::{FieldValue, Value};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    // The points of benches/restart.sh: the same generator and seed.
    let mut state = 42u64;
    let mut unit = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let points: Vec<Value> = (0..n)
        .map(|_| {
            let y = unit() * 180.0 - 90.0;
            let x = unit() * 360.0 - 180.0;
            Value::Point { x, y, z: 0.0 }
        })
        .collect();
    let ids: Vec<String> = (0..n).map(|i| format!("truck{i}")).collect();
    let speeds: Vec<FieldValue> = (0..n)
        .map(|i| FieldValue::parse((i % 100).to_string().as_bytes()))
        .collect();
    let fill = |c: &mut Collection| {
        for i in 0..n {
            let fields = vec![(b"speed"[..].into(), speeds[i].clone())];
            c.set(
                ids[i].as_bytes(),
                points[i].clone(),
                fields,
                None,
                SetCond::Always,
            );
        }
    };
    let best = |f: &mut dyn FnMut() -> Duration| (0..rounds).map(|_| f()).min().unwrap_or_default();
    let (mut sets, mut build) = (Duration::MAX, Duration::MAX);
    for _ in 0..rounds {
        let mut c = Collection::new();
        c.defer_indexes();
        let t = Instant::now();
        fill(&mut c);
        sets = sets.min(t.elapsed());
        let t = Instant::now();
        c.build_indexes();
        build = build.min(t.elapsed());
    }
    let live = best(&mut || {
        let mut c = Collection::new();
        let t = Instant::now();
        fill(&mut c);
        t.elapsed()
    });
    println!(
        "{n} points, best of {rounds}: deferred sets {sets:?} + bulk build {build:?}; \
         sets with live indexes {live:?}"
    );
}
