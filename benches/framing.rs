//! Micro-benchmarks of the hot path below the network: framing a pipelined
//! batch, formatting floats, parsing GeoJSON and updating a collection.
//! Run with `cargo bench --bench framing`.

use divan::{black_box, Bencher};
use tile38_collection::{Collection, SetCond};
use tile38_geo::{Geometry, Value};
use tile38_proto::{parse_next, resp, Args, Limits};

fn main() {
    divan::main();
}

/// 16 pipelined `SET fleet truckN POINT 33.5 -112.1` RESP commands.
fn pipeline() -> Vec<u8> {
    let mut buf = Vec::new();
    for i in 0..16 {
        let id = format!("truck{i:012}");
        let args: [&[u8]; 6] = [
            b"SET",
            b"fleet",
            id.as_bytes(),
            b"POINT",
            b"33.5",
            b"-112.1",
        ];
        resp::command(&mut buf, args.into_iter());
    }
    buf
}

#[divan::bench]
fn parse_resp_pipeline_of_16(b: Bencher) {
    let buf = pipeline();
    let limits = Limits::default();
    let mut args = Args::new();
    b.bench_local(|| {
        let mut pos = 0;
        while let Ok(Some(f)) = parse_next(&buf[pos..], &mut args, &limits) {
            pos += f.consumed;
        }
        black_box(pos)
    });
}

#[divan::bench(args = [33.5, -112.1, 0.0000001, 123.45678912345679, 1e21])]
fn format_f64(b: Bencher, v: f64) {
    let mut out = Vec::with_capacity(64);
    b.bench_local(|| {
        out.clear();
        tile38_proto::fmt::write_f64(&mut out, black_box(v));
        black_box(out.len())
    });
}

/// Go's `ParseFloat` on argument texts: the plain decimals of coordinates
/// (the fast path), and an exponent and an underscore (the full grammar).
#[divan::bench(args = ["75.04814", "-112.268812", "33", "1.5e3", "1_000.5"])]
fn parse_float_argument(b: Bencher, s: &str) {
    b.bench_local(|| black_box(tile38_geo::number::parse_float(black_box(s.as_bytes()))));
}

#[divan::bench]
fn parse_geojson_feature(b: Bencher) {
    let json = br#"{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]]]},"properties":{"zone":"A"}}"#;
    b.bench_local(|| black_box(Geometry::parse(black_box(json)).is_ok()));
}

#[divan::bench]
fn collection_update_point(b: Bencher) {
    let mut c = Collection::new();
    let ids: Vec<String> = (0..100_000).map(|i| format!("truck{i:012}")).collect();
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
    let mut i = 0usize;
    b.bench_local(|| {
        i = (i + 7919) % ids.len();
        let v = Value::Point {
            x: -112.1 + (i % 10) as f64 * 0.001,
            y: 33.5,
            z: 0.0,
        };
        black_box(c.set(ids[i].as_bytes(), v, Vec::new(), None, SetCond::Always))
    });
}
