//! Command parse + apply without sockets: an in-process `Server` (no AOF)
//! and `tile38_engine::Session::execute`, as a connection calls it for each
//! framed command. Measures the command table, argument parsing, the
//! database lock and the reply writing of the hot commands.
//! Run with `cargo bench --bench command`.

mod common;

use std::sync::OnceLock;

use divan::{black_box, Bencher};
use tile38::Lcg;
use tile38_engine::{Engine, Reply};
use tile38_proto::Args;

fn main() {
    divan::main();
}

/// Objects in the `fleet` collection the searches run against.
const FLEET: usize = 100_000;

/// One session: runs commands as a RESP connection would.
struct Session {
    server: Engine,
    conn: tile38_engine::Session,
    args: Args,
    reply: Reply,
}

impl Session {
    fn new() -> Session {
        let (server, conn) = common::in_process_server();
        Session {
            server,
            conn,
            args: Args::new(),
            reply: Reply::new(false),
        }
    }

    /// Runs one command; returns the reply's length.
    fn run(&mut self, words: &[&[u8]]) -> usize {
        self.args.clear();
        for w in words {
            self.args.push(w);
        }
        self.reply.reset(false);
        let res = self
            .conn
            .execute(&self.server, &mut self.args, &mut self.reply);
        // A connection releases the batch's write lock after each batch.
        self.conn.lock.release();
        assert!(res.is_ok(), "{words:?}");
        self.reply.buf.len()
    }

    /// Runs the one RESP request in `buf`, as a connection would.
    fn run_frame(&mut self, buf: &[u8]) {
        let limits = tile38_proto::Limits::default();
        tile38_proto::parse_next(buf, &mut self.args, &limits)
            .expect("framed")
            .expect("complete");
        self.reply.reset(false);
        let res = self
            .conn
            .execute(&self.server, &mut self.args, &mut self.reply);
        self.conn.lock.release();
        assert!(res.is_ok(), "{:?}", res.err());
    }
}

fn coord(v: f64) -> Vec<u8> {
    format!("{v:.5}").into_bytes()
}

/// A session whose `fleet` holds `FLEET` random points `truck0…`.
fn loaded() -> Session {
    let mut s = Session::new();
    let mut rng = Lcg(7);
    for i in 0..FLEET {
        let (lat, lon) = (
            coord(rng.range(-90.0, 90.0)),
            coord(rng.range(-180.0, 180.0)),
        );
        let id = format!("truck{i}");
        s.run(&[b"SET", b"fleet", id.as_bytes(), b"POINT", &lat, &lon]);
    }
    s
}

/// Random query points, prepared outside the timed loop.
fn points(n: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut rng = Lcg(11);
    (0..n)
        .map(|_| {
            (
                coord(rng.range(-90.0, 90.0)),
                coord(rng.range(-180.0, 180.0)),
            )
        })
        .collect()
}

#[divan::bench]
fn ping(b: Bencher) {
    let mut s = Session::new();
    b.bench_local(|| black_box(s.run(&[b"PING"])));
}

/// `SET fleet truckN <extra…> POINT lat lon`, moving 10k ids around.
fn set_points(b: Bencher, extra: &[&'static [u8]]) {
    let mut s = Session::new();
    let ids: Vec<String> = (0..10_000).map(|i| format!("truck{i}")).collect();
    let pts = points(10_000);
    let mut i = 0;
    b.bench_local(|| {
        i = (i + 1) % ids.len();
        let (lat, lon) = &pts[i];
        let mut words: [&[u8]; 12] = [b""; 12];
        words[..3].copy_from_slice(&[b"SET", b"fleet", ids[i].as_bytes()]);
        words[3..3 + extra.len()].copy_from_slice(extra);
        let n = 3 + extra.len();
        words[n..n + 3].copy_from_slice(&[b"POINT", lat, lon]);
        black_box(s.run(&words[..n + 3]))
    });
}

#[divan::bench]
fn set_point(b: Bencher) {
    set_points(b, &[]);
}

#[divan::bench]
fn set_point_with_field(b: Bencher) {
    set_points(b, &[b"FIELD", b"speed", b"42"]);
}

/// `SET fleet id:N POINT lat lon` with a new id each time, into a key of
/// `FLEET` points: `tile38-benchmark`'s SET test, pure inserts (the index
/// places every object anew).
#[divan::bench]
fn set_point_new_id(b: Bencher) {
    use std::io::Write;
    let mut s = loaded();
    let pts = points(10_000);
    let (mut n, mut id) = (0usize, Vec::with_capacity(24));
    b.bench_local(|| {
        n += 1;
        id.clear();
        write!(id, "id:{n}").expect("to a Vec");
        let (lat, lon) = &pts[n % pts.len()];
        black_box(s.run(&[b"SET", b"fleet", &id, b"POINT", lat, lon]))
    });
}

fn fleet() -> &'static std::sync::Mutex<Session> {
    static S: OnceLock<std::sync::Mutex<Session>> = OnceLock::new();
    S.get_or_init(|| std::sync::Mutex::new(loaded()))
}

#[divan::bench]
fn get_point(b: Bencher) {
    let mut s = fleet().lock().unwrap();
    let ids: Vec<String> = (0..10_000).map(|i| format!("truck{i}")).collect();
    let mut i = 0;
    b.bench_local(|| {
        i = (i + 1) % ids.len();
        black_box(s.run(&[b"GET", b"fleet", ids[i].as_bytes(), b"POINT"]))
    });
}

/// The searches of `tile38-benchmark`, over 100k points, COUNT output.
#[divan::bench(args = [
    "nearby-limit-1", "nearby-limit-10", "nearby-limit-100", "nearby-1km", "nearby-100km",
    "within-circle-1km", "intersects-bounds-1km",
])]
fn search_in_100k(b: Bencher, which: &str) {
    let mut s = fleet().lock().unwrap();
    let pts = points(1024);
    let mut i = 0;
    b.bench_local(|| {
        i = (i + 1) % pts.len();
        let (lat, lon) = (&pts[i].0[..], &pts[i].1[..]);
        let n = match which {
            "nearby-limit-1" => s.run(&[
                b"NEARBY", b"fleet", b"LIMIT", b"1", b"COUNT", b"POINT", lat, lon,
            ]),
            "nearby-limit-10" => s.run(&[
                b"NEARBY", b"fleet", b"LIMIT", b"10", b"COUNT", b"POINT", lat, lon,
            ]),
            "nearby-limit-100" => s.run(&[
                b"NEARBY", b"fleet", b"LIMIT", b"100", b"COUNT", b"POINT", lat, lon,
            ]),
            "nearby-1km" => s.run(&[b"NEARBY", b"fleet", b"COUNT", b"POINT", lat, lon, b"1000"]),
            "nearby-100km" => {
                s.run(&[b"NEARBY", b"fleet", b"COUNT", b"POINT", lat, lon, b"100000"])
            }
            "within-circle-1km" => {
                s.run(&[b"WITHIN", b"fleet", b"COUNT", b"CIRCLE", lat, lon, b"1000"])
            }
            _ => s.run(&[
                b"INTERSECTS",
                b"fleet",
                b"COUNT",
                b"BOUNDS",
                b"26.48018",
                b"150.88448",
                b"26.49817",
                b"150.90457",
            ]),
        };
        black_box(n)
    });
}

/// What `--metrics-addr` adds to each command: the `cmd` label, two clock
/// reads, the hand-over to a shard once per 16-command batch, and the
/// fold into the summary's sketches (every 4096 samples).
#[divan::bench(sample_size = 1000)]
fn metrics_timing_per_command(b: Bencher) {
    use tile38_server::metrics::{summary::Durations, CmdTimer};
    let durations = Durations::default();
    let mut timer = CmdTimer::default();
    let mut n = 0u32;
    b.bench_local(|| {
        let running = timer.begin(true, b"SET");
        timer.end(black_box(running));
        n += 1;
        if n.is_multiple_of(16) {
            timer.flush(&durations, 7);
        }
    });
}

/// Objects per kind in `key:bench`, as `pair.py` leaves it (`-n 30000`).
const MIXED_PER_KIND: u64 = 30_000;

/// A request generator whose ids start after `first_id`.
fn state(first_id: u64) -> tile38_bench::workloads::State {
    tile38_bench::workloads::State {
        rng: tile38_bench::workloads::Rng::new(first_id + 1),
        next_id: first_id,
        rect: None,
    }
}

/// Runs `n` requests of `test`, as `tile38-benchmark` writes them.
fn run_test(
    s: &mut Session,
    test: &tile38_bench::workloads::Test,
    st: &mut tile38_bench::workloads::State,
    n: u64,
) {
    let mut buf = Vec::new();
    for _ in 0..n {
        buf.clear();
        test.write(st, &mut buf);
        s.run_frame(&buf);
    }
}

/// `key:bench` as `pair.py` leaves it before its searches: Tile38's
/// benchmark `SET` tests (30k points, 30k 20 km rectangles, 30k 20 km
/// lines, 30k strings, all over the globe, so the rectangles and lines
/// near the poles span many degrees of longitude).
fn mixed() -> &'static std::sync::Mutex<Session> {
    static S: OnceLock<std::sync::Mutex<Session>> = OnceLock::new();
    S.get_or_init(|| {
        let mut s = Session::new();
        let sets = tile38_bench::workloads::selected(Some("SET"), false);
        for t in &sets {
            let mut st = state(t.id_block * MIXED_PER_KIND);
            run_test(&mut s, t, &mut st, MIXED_PER_KIND);
        }
        std::sync::Mutex::new(s)
    })
}

/// Tile38's benchmark searches as `pair.py` runs them, over the mixed
/// `key:bench` (`tile38-benchmark -t NEARBY,WITHIN,INTERSECTS` requests,
/// generated by our `tile38-bench` crate).
#[divan::bench(args = [
    "NEARBY (limit 1)", "NEARBY (limit 10)", "NEARBY (limit 100)", "NEARBY (point 1km)",
    "NEARBY (point 100km)", "WITHIN (within-circle 1km)", "INTERSECTS (intersects-circle 1km)",
    "WITHIN (within-bounds 100km)",
    "INTERSECTS (intersects-bounds 10km)", "INTERSECTS (intersects-az limit 5)",
])]
fn search_mixed_bench_key(b: Bencher, which: &str) {
    let mut s = mixed().lock().unwrap();
    let tests = tile38_bench::workloads::selected(Some("NEARBY,WITHIN,INTERSECTS"), false);
    let test = tests.iter().find(|t| t.name == which).expect("test name");
    if let Some(setup) = test.setup() {
        s.run_frame(&setup);
    }
    let mut st = state(0);
    b.bench_local(|| run_test(&mut s, test, &mut st, 1));
}

/// Tile38's benchmark `SET` tests as `pair.py`'s pipeline-16 pass runs
/// them: every id already holds an object of the mixed `key:bench`, so
/// each SET moves it (the index's remove and insert).
#[divan::bench(args = ["SET (point)", "SET (rect)", "SET (line)"], sample_size = 64)]
fn set_moving_in_bench_key(b: Bencher, which: &str) {
    let mut s = mixed().lock().unwrap();
    let tests = tile38_bench::workloads::selected(Some("SET"), false);
    let test = tests.iter().find(|t| t.name == which).expect("test name");
    let first = test.id_block * MIXED_PER_KIND;
    let mut st = state(first);
    st.rng = tile38_bench::workloads::Rng::new(99);
    b.bench_local(|| {
        if st.next_id >= first + MIXED_PER_KIND {
            st.next_id = first;
        }
        run_test(&mut s, test, &mut st, 1)
    });
}

/// A pipelined batch of 16 moving `SET (point)` requests under one hold
/// of the write lock, as a connection runs it, with the batch's ids
/// looked up ahead first (`tile38_engine::ahead`, `true`) or not. Each
/// batch moves the next 16 ids of the mixed `key:bench`
/// (`benches/README.md`, sixteenth session).
#[divan::bench(args = [false, true], sample_size = 16)]
fn set_moving_batch_of_16(b: Bencher, ahead: bool) {
    let mut s = mixed().lock().unwrap();
    let s = &mut *s;
    let tests = tile38_bench::workloads::selected(Some("SET"), false);
    let test = (tests.iter().find(|t| t.name == "SET (point)")).expect("test name");
    let first = test.id_block * MIXED_PER_KIND;
    let mut st = state(first);
    st.rng = tile38_bench::workloads::Rng::new(98);
    let limits = tile38_proto::Limits::default();
    let mut frames = vec![Vec::new(); 16];
    let mut look = tile38_engine::ahead::Ahead::default();
    b.bench_local(|| {
        for f in &mut frames {
            if st.next_id >= first + MIXED_PER_KIND {
                st.next_id = first;
            }
            f.clear();
            test.write(&mut st, f);
        }
        s.conn.lock.try_take(&s.server.db);
        let frame = |f: &[u8], args: &mut Args| {
            let parsed = tile38_proto::parse_next(f, args, &limits);
            assert!(matches!(parsed, Ok(Some(_))));
        };
        if ahead {
            look.clear();
            for f in &frames {
                frame(f, &mut s.args);
                look.note(&s.args);
            }
            look.prefetch(s.conn.lock.held().expect("held"));
        }
        for f in &frames {
            frame(f, &mut s.args);
            s.reply.reset(false);
            let res = s.conn.execute(&s.server, &mut s.args, &mut s.reply);
            assert!(res.is_ok());
        }
        s.conn.lock.release();
    });
}

/// `tile38-benchmark`'s Arizona query over a key whose candidates include
/// a line just outside the state's south-western border (as a mixed
/// `key:bench` left one, making the row run at a third of its speed): the
/// line's segment spans several of the outline's y-bands, so its test
/// walks the outline's segment hierarchy instead of scanning 2,800
/// segments.
#[divan::bench]
fn intersects_arizona_near_its_border(b: Bencher) {
    let mut s = Session::new();
    let tests = tile38_bench::workloads::selected(Some("INTERSECTS"), false);
    let az = tests
        .iter()
        .find(|t| t.name == "INTERSECTS (intersects-az limit 5)")
        .expect("the Arizona test");
    s.run_frame(&az.setup().expect("the Arizona set-up"));
    let line =
        br#"{"type":"LineString","coordinates":[[-114.48685,31.790866],[-114.275033,31.970731]]}"#;
    s.run(&[b"SET", b"edge", b"line", b"OBJECT", line]);
    s.run(&[
        b"SET",
        b"edge",
        b"inside",
        b"POINT",
        b"32.55169",
        b"-113.95912",
    ]);
    let query: [&[u8]; 8] = [
        b"INTERSECTS",
        b"edge",
        b"LIMIT",
        b"5",
        b"COUNT",
        b"GET",
        b"key:bench:geo",
        b"az",
    ];
    b.bench_local(|| black_box(s.run(&query)));
}
