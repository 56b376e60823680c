//! The append-only file: appending a record (what every write pays on the
//! command path; the writer thread does the `write(2)`s), and replaying a
//! file at startup, both framing alone and framing + applying every
//! command to an in-process server. Run with `cargo bench --bench aof`.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use divan::{black_box, Bencher};
use tile38::{temp_dir, Lcg};
use tile38_aof::Aof;
use tile38_engine::Engine;
use tile38_proto::resp;

fn main() {
    divan::main();
}

/// Records in the replayed file.
const RECORDS: usize = 100_000;

fn set_record(out: &mut Vec<u8>, rng: &mut Lcg, i: usize) {
    let id = format!("truck{i}");
    let speed = format!("{}", i % 100);
    let lat = format!("{:.5}", rng.range(-90.0, 90.0));
    let lon = format!("{:.5}", rng.range(-180.0, 180.0));
    let args: [&[u8]; 9] = [
        b"set",
        b"fleet",
        id.as_bytes(),
        b"field",
        b"speed",
        speed.as_bytes(),
        b"point",
        lat.as_bytes(),
        lon.as_bytes(),
    ];
    resp::command(out, args.into_iter());
}

/// A file of `RECORDS` point SETs with one field (built once).
fn aof_file() -> &'static Path {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let path = temp_dir("bench-aof").join("appendonly.aof");
        let mut data = Vec::new();
        let mut rng = Lcg(3);
        for i in 0..RECORDS {
            set_record(&mut data, &mut rng, i);
        }
        std::fs::write(&path, data).expect("write aof");
        path
    })
}

fn server() -> Engine {
    common::in_process_server().0
}

/// One `set fleet truckN field speed N point lat lon` appended (buffered;
/// the writer thread writes it out).
#[divan::bench]
fn append_set_record(b: Bencher) {
    let dir = temp_dir("bench-append");
    let aof = Aof::open(&dir.join("appendonly.aof")).expect("open aof");
    let ids: Vec<String> = (0..10_000).map(|i| format!("truck{i}")).collect();
    let mut i = 0;
    b.bench_local(|| {
        i = (i + 1) % ids.len();
        let args: [&[u8]; 6] = [
            b"set",
            b"fleet",
            ids[i].as_bytes(),
            b"point",
            b"33.5",
            b"-112.1",
        ];
        black_box(aof.append(args.into_iter()))
    });
    aof.sync().expect("sync");
    drop(aof);
    let _ = std::fs::remove_dir_all(dir);
}

/// Framing only: every record of the file parsed, nothing applied.
#[divan::bench(sample_count = 10)]
fn load_100k_records_framing_only(b: Bencher) {
    let path = aof_file();
    b.bench_local(|| {
        let stats = tile38_aof::load(path, |args| {
            black_box(args.len());
            Ok(())
        })
        .expect("load");
        assert_eq!(stats.commands, RECORDS as u64);
    });
}

/// A startup replay: every record applied to a fresh server, as
/// `tile38-server` does before it serves.
#[divan::bench(sample_count = 10)]
fn replay_100k_point_sets(b: Bencher) {
    let path = aof_file();
    b.with_inputs(server).bench_local_values(|s| {
        let stats =
            tile38_aof::load(path, |args| tile38_engine::cmd::replay(&s, args)).expect("replay");
        assert_eq!(stats.commands, RECORDS as u64);
        s
    });
}
