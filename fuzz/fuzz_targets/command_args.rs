//! Command parsing and execution against a real in-process server, for
//! every command of the command table (`cmd::lookup`) and `TIMEOUT`.
//!
//! Input format: byte 0 holds flags; the rest is split on `\n` into at most
//! [`MAX_LINES`] lines, each split on `0x00` into at most [`MAX_ARGS`]
//! arguments. Each line is one command: its first argument is the name.
//!
//! Flags:
//! * bit 0: JSON output mode (the connection starts in JSON).
//! * bit 1: no fixture: an empty database and no hooks.
//! * bit 2: broadcast: the first [`BROADCAST_LINES`] lines are also run once
//!   under every name of [`NAMES`] (`[name] + line`), so one line reaches
//!   the argument parser of every command.
//! * bit 3: one pipelined batch: the batch write lock is kept across lines
//!   (by default each line is a batch of its own and the lock is dropped
//!   after it, as a connection does at the end of a batch).
//! * bit 4: the commands arrive over HTTP (`cmd::execute_via` with
//!   `Via::Http`, no `Authorization` header): AUTH is answered as HTTP
//!   requests get it.
//!
//! Every input runs on a fresh `Server::in_process()` (configuration,
//! clients, replication state, counters all new), into which the fixture
//! (database and hooks) is moved. Building the fixture (319 objects) per
//! input would cost more than most inputs, and `Database` is not `Clone`,
//! so the harness keeps one fixture and repairs it after each input
//! ([`Pool::restore`]): keys the input created are dropped; a fixture key
//! is replaced by a fresh copy of its pristine collection if a write that
//! named it reported a change, if FLUSHDB did, or if its fingerprint
//! changed; the hooks are rebuilt if a hook command reported a change. A
//! key or the hooks changing with no command to explain it is a panic. So a
//! crash reproduces from its input alone. `T38FUZZ_CHECK_REPAIR=1` checks
//! the repair in full after every input; `T38FUZZ_STATS=1` counts repairs.
//!
//! Errors are rendered (`message`, `resp_text`) the way a connection does.
//!
//! Reply checks (disable with `T38FUZZ_NO_REPLY_CHECK=1`): a successful
//! RESP-mode reply must be exactly one well-formed RESP value, and a
//! successful JSON-mode reply must form valid JSON once wrapped the way
//! `conn.rs` wraps it (`{"ok":true` … `,"elapsed":"…"}`). The JSON check
//! stops for the rest of an input after a fuzzed `JSET` succeeds, because
//! `JSET … RAW` (and Tile38's loose numbers such as `.5`) store arbitrary
//! text by design.
//!
//! `T38FUZZ_TRACE=1` prints every command and its reply.
#![no_main]

use std::cell::RefCell;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use tile38_collection::{Collection, Database, SetCond};
use tile38_geo::Rect;
use tile38_proto::Args;
use tile38_server::cmd::hooks::Hooks;
use tile38_server::cmd::{self, Run, Via};
use tile38_server::conn::ConnState;
use tile38_server::reply::Reply;
use tile38_server::server::Server;

/// Lines (commands) read from one input.
const MAX_LINES: usize = 8;
/// Arguments per line.
const MAX_ARGS: usize = 64;
/// Lines that broadcast mode (flag bit 2) runs under every name.
const BROADCAST_LINES: usize = 1;

/// Every command of the table (`static TABLE` in `cmd/mod.rs`), in its
/// order, and `TIMEOUT` (handled before the table). Checked against
/// `cmd::lookup` at start-up; a command added to the table must be added
/// here too.
const NAMES: &[&str] = &[
    "SET",
    "GET",
    "PING",
    "DEL",
    "FSET",
    "FGET",
    "FEXISTS",
    "EXISTS",
    "SCAN",
    "SEARCH",
    "NEARBY",
    "WITHIN",
    "INTERSECTS",
    "TEST",
    "PDEL",
    "DROP",
    "FLUSHDB",
    "RENAME",
    "RENAMENX",
    "KEYS",
    "TYPE",
    "BOUNDS",
    "STATS",
    "EXPIRE",
    "PERSIST",
    "TTL",
    "JSET",
    "JGET",
    "JDEL",
    "SETHOOK",
    "SETCHAN",
    "DELHOOK",
    "DELCHAN",
    "PDELHOOK",
    "PDELCHAN",
    "HOOKS",
    "CHANS",
    "ECHO",
    "OUTPUT",
    "AUTH",
    "HEALTHZ",
    "SERVER",
    "INFO",
    "ROLE",
    "CONFIG",
    "READONLY",
    "GC",
    "AOFSHRINK",
    "CLIENT",
    "AOFMD5",
    "AOF",
    "FOLLOW",
    "REPLCONF",
    "TIMEOUT",
];

type Cmd = Vec<Vec<u8>>;

fn cmd(words: &[&str]) -> Cmd {
    words.iter().map(|w| w.as_bytes().to_vec()).collect()
}

fn cmd_s(words: &[String]) -> Cmd {
    words.iter().map(|w| w.as_bytes().to_vec()).collect()
}

/// A TTL far beyond any run (the fixture must not change while in use).
const LONG_TTL: &str = "100000000";

/// The fixture's keys, each with the commands that build it.
fn fixture_keys() -> Vec<(&'static str, Vec<Cmd>)> {
    // `fleet`: the big key. A 16×16 grid of points (with fields), 40 points
    // at one position (a full page of equal boxes gets sibling pages), far
    // points (antimeridian, poles, null island), every value type.
    let mut fleet = vec![
        cmd(&["SET", "fleet", "truck1", "POINT", "33", "-112"]),
        cmd(&[
            "SET", "fleet", "truck2", "FIELD", "speed", "90", "POINT", "33.5", "-112.5", "10",
        ]),
        cmd(&[
            "SET",
            "fleet",
            "poly",
            "OBJECT",
            r#"{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,0]]]}"#,
        ]),
        cmd(&["SET", "fleet", "str", "STRING", "hello"]),
        cmd(&["SET", "fleet", "bnd", "BOUNDS", "1", "2", "3", "4"]),
        cmd(&["SET", "fleet", "gh", "HASH", "9q8yy"]),
        cmd(&["FSET", "fleet", "truck1", "speed", "10", "name", "\"joe\""]),
        cmd(&["EXPIRE", "fleet", "truck1", LONG_TTL]),
    ];
    for i in 0..256 {
        let (row, col) = (i / 16, i % 16);
        let lat = format!("{}", 33.0 + row as f64 * 0.01);
        let lon = format!("{}", -112.0 + col as f64 * 0.013);
        let mut c = vec![
            "SET".to_string(),
            "fleet".into(),
            format!("t{i}"),
            "FIELD".into(),
            "speed".into(),
            format!("{}", i % 90),
        ];
        if i % 2 == 0 {
            c.extend(["FIELD".into(), "age".into(), format!("{}", i % 7)]);
        }
        if i % 3 == 0 {
            c.extend(["FIELD".into(), "name".into(), format!("v{}", i % 11)]);
        }
        if i % 5 == 0 {
            c.extend([
                "FIELD".into(),
                "info".into(),
                format!(
                    r#"{{"n":{i},"tags":["a","b{}"],"ok":{}}}"#,
                    i % 4,
                    i % 2 == 0
                ),
            ]);
        }
        c.extend(["POINT".into(), lat, lon]);
        if i % 17 == 0 {
            c.push(format!("{}", i));
        }
        fleet.push(cmd_s(&c));
    }
    for i in 0..40 {
        fleet.push(cmd_s(&[
            "SET".into(),
            "fleet".into(),
            format!("dup{i}"),
            "FIELD".into(),
            "speed".into(),
            format!("{}", i),
            "POINT".into(),
            "33.05".into(),
            "-111.95".into(),
        ]));
    }
    for (id, lat, lon) in [
        ("east", "0", "179.99"),
        ("west", "0", "-179.99"),
        ("north", "89.99", "10"),
        ("south", "-89.99", "-10"),
        ("zero", "0", "0"),
    ] {
        fleet.push(cmd(&["SET", "fleet", id, "POINT", lat, lon]));
    }
    fleet.extend([
        cmd(&[
            "SET",
            "fleet",
            "line",
            "OBJECT",
            r#"{"type":"LineString","coordinates":[[-112,33],[-111.9,33.1],[-111.8,33]]}"#,
        ]),
        cmd(&[
            "SET",
            "fleet",
            "mpoly",
            "FIELD",
            "speed",
            "5",
            "OBJECT",
            r#"{"type":"MultiPolygon","coordinates":[[[[-112.1,33.1],[-112,33.1],[-112,33.2],[-112.1,33.2],[-112.1,33.1]]],[[[-111.9,33.1],[-111.8,33.1],[-111.8,33.2],[-111.9,33.1]]]]}"#,
        ]),
        cmd(&[
            "SET",
            "fleet",
            "holed",
            "OBJECT",
            r#"{"type":"Polygon","coordinates":[[[-112,33],[-111.8,33],[-111.8,33.2],[-112,33.2],[-112,33]],[[-111.95,33.05],[-111.85,33.05],[-111.85,33.15],[-111.95,33.15],[-111.95,33.05]]]}"#,
        ]),
        cmd(&[
            "SET",
            "fleet",
            "feat",
            "OBJECT",
            r#"{"type":"Feature","id":7,"geometry":{"type":"Point","coordinates":[-111.99,33.01,5]},"properties":{"name":"Ann","speed":12,"tags":["x","y"],"nested":{"a":{"b":[1,2,{"c":true}]}}}}"#,
        ]),
        cmd(&[
            "SET",
            "fleet",
            "fc",
            "OBJECT",
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[-112.01,33.02]},"properties":{"k":1}},{"type":"Feature","geometry":{"type":"LineString","coordinates":[[-112,33],[-112.02,33.03]]},"properties":null}]}"#,
        ]),
        cmd(&[
            "SET",
            "fleet",
            "gc",
            "OBJECT",
            r#"{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[-112.03,33.04]},{"type":"MultiPoint","coordinates":[[-112.04,33.05],[-112.05,33.06]]},{"type":"MultiLineString","coordinates":[[[-112,33],[-112.1,33.1]]]}]}"#,
        ]),
        cmd(&[
            "SET",
            "fleet",
            "circle",
            "OBJECT",
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[-112,33]},"properties":{"type":"Circle","radius":100}}"#,
        ]),
        cmd(&["SET", "fleet", "bnd2", "FIELD", "speed", "30", "BOUNDS", "33.1", "-112.1", "33.2", "-112"]),
        cmd(&["SET", "fleet", "gh2", "HASH", "9tbnt"]),
        cmd(&["SET", "fleet", "s1", "FIELD", "speed", "1", "STRING", "a string"]),
        cmd(&["SET", "fleet", "s2", "STRING", "{\"json\":\"in a string\"}"]),
        cmd(&["SET", "fleet", "ttl2", "EX", LONG_TTL, "POINT", "33.02", "-112.02"]),
    ]);

    // `props`: GeoJSON with properties (WHERE expressions, JSET/JGET on
    // objects).
    let props = vec![
        cmd(&[
            "SET",
            "props",
            "p1",
            "OBJECT",
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2,3]},"properties":{"a":1},"id":"x"}"#,
        ]),
        cmd(&[
            "SET",
            "props",
            "p2",
            "FIELD",
            "speed",
            "50",
            "OBJECT",
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[-112,33]},"properties":{"name":"Bob","age":30,"tags":["red","green"],"address":{"city":"Phoenix","zip":"85001"}}}"#,
        ]),
        cmd(&[
            "SET",
            "props",
            "p3",
            "OBJECT",
            r#"{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[-112,33],[-111,33],[-111,34],[-112,34],[-112,33]]]},"properties":{"name":"area","age":3.5,"empty":{},"list":[]}}"#,
        ]),
    ];

    // `docs`: JSON documents (string objects) for JGET/JSET/JDEL paths.
    let friends = r#"{"name":{"first":"Tom","last":"Anderson"},"age":37,"children":["Sara","Alex","Jack"],"fav.movie":"Deer Hunter","friends":[{"first":"Dale","last":"Murphy","age":44,"nets":["ig","fb","tw"]},{"first":"Roger","last":"Craig","age":68,"nets":["fb","tw"]},{"first":"Jane","last":"Murphy","age":47,"nets":["ig","tw"]}]}"#;
    let deep = format!("{}1{}", r#"{"d":"#.repeat(24), "}".repeat(24));
    let docs = vec![
        cmd(&["JSET", "docs", "d1", "a.b", "1"]),
        cmd(&["JSET", "docs", "d1", "arr.2", "x", "STR"]),
        cmd(&["SET", "docs", "friends", "STRING", friends]),
        cmd(&["JSET", "docs", "deep", "x", &deep, "RAW"]),
        cmd(&[
            "JSET",
            "docs",
            "arr",
            "a",
            r#"[1,"two",3.5,null,true,{"k":[[]]}]"#,
            "RAW",
        ]),
        cmd(&["JSET", "docs", "esc", "a\\.b", "\u{e9}\\\"\t\u{1}", "STR"]),
    ];

    // `strs`: string objects (SEARCH orders them by value).
    let mut strs = Vec::new();
    for (i, v) in [
        "alpha",
        "beta",
        "Gamma",
        "delta",
        "",
        "1",
        "10",
        "2",
        "alpha",
        "z*",
        "\u{e9}t\u{e9}",
        "{\"a\":1}",
        "with space",
        "UPPER",
        "lower",
    ]
    .iter()
    .enumerate()
    {
        let mut c = vec!["SET".to_string(), "strs".into(), format!("s{i}")];
        if i % 2 == 0 {
            c.extend(["FIELD".into(), "n".into(), format!("{i}")]);
        }
        c.extend(["STRING".into(), v.to_string()]);
        strs.push(cmd_s(&c));
    }

    // `areas`: objects used as areas (`GET areas …`).
    let areas = vec![
        cmd(&[
            "SET",
            "areas",
            "poly1",
            "OBJECT",
            r#"{"type":"Polygon","coordinates":[[[-112.1,32.9],[-111.9,32.9],[-111.9,33.1],[-112.1,33.1],[-112.1,32.9]]]}"#,
        ]),
        cmd(&[
            "SET",
            "areas",
            "circ",
            "OBJECT",
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[-112,33.05]},"properties":{"type":"Circle","radius":2000}}"#,
        ]),
        cmd(&["SET", "areas", "pt", "POINT", "33.05", "-111.95"]),
        cmd(&[
            "SET", "areas", "box", "BOUNDS", "33", "-112.1", "33.1", "-111.9",
        ]),
        cmd(&["SET", "areas", "name", "STRING", "not an area"]),
    ];

    vec![
        ("fleet", fleet),
        ("props", props),
        ("docs", docs),
        ("strs", strs),
        ("areas", areas),
    ]
}

/// Hooks and channels of the fixture, set on every fresh server.
fn fixture_hooks() -> Vec<Cmd> {
    vec![
        cmd(&[
            "SETHOOK",
            "h1",
            "http://127.0.0.1:9999/hook",
            "NEARBY",
            "fleet",
            "FENCE",
            "POINT",
            "33",
            "-112",
            "5000",
        ]),
        cmd(&[
            "SETHOOK",
            "h2",
            "redis://127.0.0.1:6379/chan",
            "META",
            "a",
            "1",
            "META",
            "b",
            "2",
            "WITHIN",
            "fleet",
            "FENCE",
            "DETECT",
            "enter,exit",
            "BOUNDS",
            "33",
            "-113",
            "34",
            "-111",
        ]),
        cmd(&[
            "SETHOOK",
            "h3",
            "http://a/1,kafka://b:9092/topic",
            "EX",
            LONG_TTL,
            "INTERSECTS",
            "fleet",
            "FENCE",
            "GET",
            "areas",
            "poly1",
        ]),
        cmd(&[
            "SETHOOK",
            "h4",
            "mqtt://m:1883/t/x?qos=1",
            "WITHIN",
            "props",
            "FENCE",
            "COMMANDS",
            "set,del",
            "HASH",
            "9tbnt",
        ]),
        cmd(&[
            "SETCHAN", "c1", "WITHIN", "fleet", "FENCE", "CIRCLE", "33", "-112", "1000",
        ]),
        cmd(&[
            "SETCHAN", "c2", "NEARBY", "fleet", "FENCE", "ROAM", "fleet", "truck*", "1000",
        ]),
        cmd(&[
            "SETCHAN",
            "c3",
            "META",
            "m",
            "v",
            "INTERSECTS",
            "areas",
            "FENCE",
            "TILE",
            "1",
            "2",
            "3",
        ]),
    ]
}

/// A fixture key's state as far as the harness checks it.
#[derive(Debug, PartialEq)]
struct Print {
    len: usize,
    points: usize,
    strings: usize,
    weight: usize,
    spatial: usize,
    bounds: Option<Rect>,
    /// Σ per-object write sequence: every write of an object gives it a
    /// sequence number above all earlier ones, so any set, FSET, EXPIRE or
    /// delete changes this sum or `len`.
    seqs: u64,
}

impl Print {
    /// The checks that need no walk over the objects.
    fn cheap(col: &Collection) -> Print {
        Print {
            len: col.len(),
            points: col.num_points(),
            strings: col.num_strings(),
            weight: col.weight(),
            spatial: col.spatial_len(),
            bounds: None,
            seqs: 0,
        }
    }

    fn full(col: &Collection) -> Print {
        Print {
            bounds: col.bounds(),
            seqs: col.range(None, false).map(|(_, item)| item.seq).sum(),
            ..Print::cheap(col)
        }
    }
}

/// Everything observable about a collection, for `T38FUZZ_CHECK_REPAIR=1`:
/// objects with fields, deadlines and sequence numbers in id order, and the
/// ids in spatial index order (the order of search results).
fn deep_print(col: &Collection) -> Vec<u8> {
    let mut out = Vec::new();
    for (id, item) in col.range(None, false) {
        out.extend_from_slice(id);
        out.push(0);
        out.extend_from_slice(&item.value.to_text());
        for (n, v) in item.fields.iter() {
            out.extend_from_slice(n);
            out.push(b'=');
            out.extend_from_slice(&v.raw_bytes());
            out.push(b',');
        }
        out.extend_from_slice(format!(";{:?};{}\n", item.deadline(), item.seq).as_bytes());
    }
    let world = Rect::new(
        tile38_geo::Position::new(-1e300, -1e300),
        tile38_geo::Position::new(1e300, 1e300),
    );
    for (id, _) in col.intersecting(world) {
        out.extend_from_slice(id);
        out.push(b' ');
    }
    out
}

/// The hook definitions as AOFSHRINK writes them, without the seconds
/// left of an `EX` (they change as time passes).
fn hook_print(server: &Server) -> Vec<Vec<Vec<u8>>> {
    let mut records = cmd::hooks::shrink_records(server);
    for r in &mut records {
        if let Some(i) = r.iter().position(|w| w.as_slice() == b"ex") {
            r[i + 1].clear();
        }
    }
    records
}

/// A copy of `src` built the way an AOF load builds a collection (objects
/// in write order, indexes deferred, then packed in one go). Every copy of
/// the same source is identical, and no command is parsed.
fn copy(src: &Collection) -> Collection {
    let mut items: Vec<_> = src.range(None, false).collect();
    items.sort_by_key(|(_, item)| item.seq);
    let mut tmp = Database::new();
    tmp.defer_indexes();
    let col = tmp.get_or_create(b"k");
    for (id, item) in items {
        let fields = item
            .fields
            .iter()
            .map(|(n, v)| (Box::<[u8]>::from(n), v.clone()))
            .collect();
        col.set(
            id,
            item.value.clone(),
            fields,
            item.deadline(),
            SetCond::Always,
        );
    }
    tmp.build_indexes();
    tmp.remove(b"k").expect("just built")
}

struct Fixture {
    key: &'static str,
    /// Built once by the fixture commands; never handed out.
    pristine: Collection,
    cheap: Print,
    full: Print,
}

/// The fixture between inputs, and how to repair it.
struct Pool {
    /// The fixture database.
    db: Database,
    /// The fixture hooks and channels.
    hooks: Hooks,
    keys: Vec<Fixture>,
    hook_cmds: Vec<Cmd>,
    /// How many hooks and channels the fixture has.
    hook_count: usize,
    /// Builds the fixture hooks (never runs a fuzzed command).
    scratch: Server,
    scratch_conn: ConnState,
    stats: Option<Stats>,
    /// `T38FUZZ_CHECK_REPAIR=1`: compare every repaired key in full with a
    /// fresh copy (slow; to test the harness).
    check_repair: bool,
}

/// `T38FUZZ_STATS=1`: how often the fixture is repaired (printed every
/// 10,000 inputs that use it).
#[derive(Default, Debug)]
struct Stats {
    inputs: u64,
    /// Per key: copies made after a write that reported a change.
    rebuilt_written: Vec<u64>,
    /// Per key: copies made because the key changed though no write
    /// reported a change to it (FLUSHDB, a write reporting no change that
    /// still touched the key, such as an FSET of equal values).
    rebuilt_changed: Vec<u64>,
    hooks_rebuilt: u64,
}

fn new_conn(server: &Server, port: u16) -> ConnState {
    ConnState::new(server.register_client(SocketAddr::from((Ipv4Addr::LOCALHOST, port))))
}

/// Runs `cmds` on `server`; every one must succeed.
fn run_fixture(server: &Server, conn: &mut ConnState, cmds: &[Cmd]) {
    let mut args = Args::new();
    for c in cmds {
        args.clear();
        for a in c {
            args.push(a);
        }
        let mut reply = Reply::new(false);
        if let Err(e) = cmd::execute(server, conn, &mut args, &mut reply) {
            panic!("fixture command {:?} failed: {}", args, e.message());
        }
    }
    conn.lock.release();
}

impl Pool {
    fn new() -> Pool {
        // Rebuilding a key frees and allocates the same few hundred KB;
        // without this, glibc returns the memory to the system each time
        // and page faults take it back (GC still trims on demand).
        // SAFETY: plain glibc tuning calls, made before the fuzzing starts.
        unsafe {
            libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
            libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        }
        for name in NAMES {
            assert!(
                *name == "TIMEOUT" || cmd::lookup(name.as_bytes()).is_some(),
                "{name} is not in the command table"
            );
        }
        let scratch = Server::in_process();
        let mut scratch_conn = new_conn(&scratch, 2);
        let mut db = Database::new();
        let mut keys = Vec::new();
        for (key, cmds) in fixture_keys() {
            run_fixture(&scratch, &mut scratch_conn, &cmds);
            let mut built = scratch.db.write();
            let pristine = built.remove(key.as_bytes()).expect("fixture key built");
            assert!(
                built.is_empty(),
                "fixture commands only write their own key"
            );
            drop(built);
            let live = copy(&pristine);
            let (cheap, full) = (Print::cheap(&live), Print::full(&live));
            db.insert(key.as_bytes(), live);
            keys.push(Fixture {
                key,
                pristine,
                cheap,
                full,
            });
        }
        let stats = std::env::var_os("T38FUZZ_STATS").map(|_| Stats {
            rebuilt_written: vec![0; keys.len()],
            rebuilt_changed: vec![0; keys.len()],
            ..Stats::default()
        });
        let mut pool = Pool {
            db,
            hooks: Hooks::default(),
            keys,
            hook_cmds: fixture_hooks(),
            hook_count: 0,
            scratch,
            scratch_conn,
            stats,
            check_repair: std::env::var_os("T38FUZZ_CHECK_REPAIR").is_some(),
        };
        pool.build_hooks();
        pool.hook_count = cmd::hooks::count(&pool.scratch);
        assert_eq!(pool.hook_count, pool.hook_cmds.len());
        pool.hooks = std::mem::take(&mut *pool.scratch.hooks.lock());
        pool
    }

    /// Sets the fixture hooks on the scratch server (whose database is the
    /// fixture meanwhile: a fence's `GET key id` is looked up).
    fn build_hooks(&mut self) {
        std::mem::swap(&mut *self.scratch.db.write(), &mut self.db);
        *self.scratch.hooks.lock() = Hooks::default();
        run_fixture(&self.scratch, &mut self.scratch_conn, &self.hook_cmds);
        std::mem::swap(&mut *self.scratch.db.write(), &mut self.db);
    }

    fn key_index(&self, arg: &[u8]) -> Option<usize> {
        if !(4..=5).contains(&arg.len()) {
            return None;
        }
        self.keys.iter().position(|f| f.key.as_bytes() == arg)
    }

    /// Moves the fixture into a fresh server.
    fn lend(&mut self, server: &Server) {
        std::mem::swap(&mut *server.db.write(), &mut self.db);
        std::mem::swap(&mut *server.hooks.lock(), &mut self.hooks);
    }

    /// Takes the fixture back from `server` after an input and repairs it.
    fn restore(&mut self, server: &Server, dirty: &Dirty) {
        let mut db = std::mem::take(&mut *server.db.write());
        let stray: Vec<Vec<u8>> = db
            .iter()
            .map(|(k, _)| k.to_vec())
            .filter(|k| self.key_index(k).is_none())
            .collect();
        for k in stray {
            db.remove(&k);
        }
        for (i, f) in self.keys.iter().enumerate() {
            let bit = 1u64 << i;
            let written = dirty.all || dirty.written & bit != 0;
            let same = !written
                && db.get(f.key.as_bytes()).is_some_and(|col| {
                    Print::cheap(col) == f.cheap
                        && (dirty.named & bit == 0 || Print::full(col) == f.full)
                });
            if same {
                continue;
            }
            // A key no write named can only have changed through a bug
            // (or FLUSHDB, which names no key).
            assert!(
                dirty.named & bit != 0 || dirty.flushed,
                "fixture key {} changed though no write named it",
                f.key
            );
            db.insert(f.key.as_bytes(), copy(&f.pristine));
            if let Some(s) = &mut self.stats {
                if written {
                    s.rebuilt_written[i] += 1;
                } else {
                    s.rebuilt_changed[i] += 1;
                }
            }
        }
        if self.check_repair {
            for f in &self.keys {
                let now = db.get(f.key.as_bytes()).map(deep_print);
                assert!(
                    now == Some(deep_print(&copy(&f.pristine))),
                    "fixture key {} not restored",
                    f.key
                );
            }
        }
        self.db = db;
        if dirty.hooks {
            self.build_hooks();
            self.hooks = std::mem::take(&mut *self.scratch.hooks.lock());
            if let Some(s) = &mut self.stats {
                s.hooks_rebuilt += 1;
            }
        } else {
            assert_eq!(
                cmd::hooks::count(server),
                self.hook_count,
                "the fixture hooks changed though no hook command reported a change"
            );
            if self.check_repair {
                let now = hook_print(server);
                self.build_hooks();
                assert_eq!(now, hook_print(&self.scratch), "fixture hooks not restored");
            }
            self.hooks = std::mem::take(&mut *server.hooks.lock());
        }
        if let Some(s) = &mut self.stats {
            s.inputs += 1;
            if s.inputs % 10_000 == 0 {
                eprintln!("T38FUZZ_STATS {s:?}");
            }
        }
    }
}

/// What an input's write commands did to the fixture (a bit per key).
#[derive(Default)]
struct Dirty {
    /// Named by a write command (any outcome).
    named: u64,
    /// Named by a write command that reported a change (rebuilt without
    /// looking: a change undone later, such as SET then DEL of a new id,
    /// leaves the counts alone but not the index layout).
    written: u64,
    /// FLUSHDB reported a change: every key is rebuilt.
    all: bool,
    /// FLUSHDB ran.
    flushed: bool,
    /// A command that changes the hooks (SETHOOK, SETCHAN, DELHOOK,
    /// DELCHAN, PDELHOOK, PDELCHAN, FLUSHDB) reported a change.
    hooks: bool,
}

/// What a command may change in the fixture, known before it runs.
struct Touch {
    keys: u64,
    flush: bool,
    hooks: bool,
}

impl Dirty {
    /// What a command may change in the fixture: the fixture keys among
    /// a write command's arguments, FLUSHDB, the hooks. `None` for reads.
    fn touch(pool: &Pool, args: &Args) -> Option<Touch> {
        let mut name = args.get(0);
        if name.eq_ignore_ascii_case(b"timeout") && args.len() > 2 {
            name = args.get(2);
        }
        // Cheap tests first: most commands name no fixture key.
        let keys = args
            .iter()
            .skip(1)
            .filter_map(|a| pool.key_index(a))
            .fold(0, |m, i| m | 1u64 << i);
        let flush = name.eq_ignore_ascii_case(b"flushdb");
        let hooks = flush
            || name.len() >= 7 && {
                let l = name.to_ascii_lowercase();
                matches!(
                    l.as_slice(),
                    b"sethook" | b"setchan" | b"delhook" | b"delchan" | b"pdelhook" | b"pdelchan"
                )
            };
        if keys == 0 && !hooks {
            return None;
        }
        let spec = cmd::lookup(name)?;
        if !matches!(spec.run, Run::Write(_)) {
            return None;
        }
        // The hook commands change only `Server::hooks`.
        let keys = if hooks && !flush { 0 } else { keys };
        Some(Touch { keys, flush, hooks })
    }

    /// Records what a command did, given what it may change and whether it
    /// reported a change (`ConnState::wrote`).
    fn record(&mut self, t: Touch, wrote: bool) {
        self.named |= t.keys;
        self.flushed |= t.flush;
        if wrote {
            self.written |= t.keys;
            self.all |= t.flush;
            self.hooks |= t.hooks;
        }
    }
}

/// Length of the one RESP value at the start of `b`, if well formed.
fn resp_value(b: &[u8], depth: usize) -> Option<usize> {
    fn line(b: &[u8]) -> Option<(&[u8], usize)> {
        let i = b.iter().position(|&c| c == b'\n')?;
        (i >= 1 && b[i - 1] == b'\r').then(|| (&b[..i - 1], i + 1))
    }
    fn int(s: &[u8]) -> Option<i64> {
        std::str::from_utf8(s).ok()?.parse().ok()
    }
    if depth > 64 {
        return None;
    }
    let (&kind, rest) = b.split_first()?;
    let (text, mut n) = line(rest)?;
    n += 1;
    match kind {
        b'+' | b'-' => (!text.contains(&b'\r')).then_some(n),
        b':' => int(text).map(|_| n),
        b'$' => match int(text)? {
            -1 => Some(n),
            len if len >= 0 => {
                let len = len as usize;
                (b.get(n + len..n + len + 2)? == b"\r\n").then_some(n + len + 2)
            }
            _ => None,
        },
        b'*' => match int(text)? {
            -1 => Some(n),
            count if count >= 0 => {
                for _ in 0..count {
                    n += resp_value(&b[n..], depth + 1)?;
                }
                Some(n)
            }
            _ => None,
        },
        _ => None,
    }
}

struct Checks {
    enabled: bool,
    /// A fuzzed JSET succeeded: documents may hold non-JSON text now.
    docs_tainted: bool,
    /// `T38FUZZ_TRACE=1`: print every command and its reply.
    trace: bool,
}

fn check_reply(reply: &Reply, checks: &Checks, shown: impl Fn() -> Vec<String>) {
    if !checks.enabled || reply.raw {
        return;
    }
    if !reply.json {
        let n = resp_value(&reply.buf, 0);
        assert_eq!(
            n,
            Some(reply.buf.len()),
            "{:?}: RESP reply is not exactly one value: {:?}",
            shown(),
            String::from_utf8_lossy(&reply.buf)
        );
    } else if !checks.docs_tainted {
        let mut body = b"{\"ok\":true".to_vec();
        body.extend_from_slice(&reply.buf);
        body.extend_from_slice(b",\"elapsed\":\"1s\"}");
        match serde_json::from_slice::<serde::de::IgnoredAny>(&body) {
            Ok(_) => {}
            // serde_json stops at 128 levels; stored JSON may nest deeper.
            Err(e) if e.to_string().contains("recursion limit") => {}
            Err(e) => panic!(
                "{:?}: JSON reply is invalid ({e}): {}",
                shown(),
                String::from_utf8_lossy(&body)
            ),
        }
    }
}

/// Runs `[name] + tail` (`name` empty: `tail` alone) as one command,
/// recording in `dirty` what it may have changed in the fixture.
#[allow(clippy::too_many_arguments)]
fn run(
    pool: &Pool,
    server: &Server,
    conn: &mut ConnState,
    args: &mut Args,
    name: &[u8],
    tail: &[&[u8]],
    json: bool,
    http: bool,
    checks: &mut Checks,
    dirty: &mut Dirty,
) {
    args.clear();
    if !name.is_empty() {
        args.push(name);
    }
    for a in tail {
        args.push(a);
    }
    if args.is_empty() {
        return;
    }
    let prefix = name;
    let name = if name.is_empty() { tail[0] } else { name };
    let touch = Dirty::touch(pool, args);
    conn.wrote = false;
    let mut reply = Reply::new(conn.output.unwrap_or(json));
    // (TIMEOUT changes `args`; messages below show the command as given.)
    let via = if http { Via::Http(None) } else { Via::Stream };
    let res = cmd::execute_via(server, conn, args, &mut reply, via);
    // The connection makes the mode sticky after every command.
    conn.output = Some(reply.json);
    if let Some(t) = touch {
        dirty.record(t, conn.wrote);
    }
    let shown = || {
        let prefix = (!prefix.is_empty()).then_some(prefix);
        prefix
            .iter()
            .chain(tail)
            .map(|a| String::from_utf8_lossy(&a[..a.len().min(300)]).into_owned())
            .collect::<Vec<_>>()
    };
    if checks.trace {
        match &res {
            Ok(()) => eprintln!(
                "> {:?}\n< {:?}",
                shown(),
                String::from_utf8_lossy(&reply.buf[..reply.buf.len().min(300)])
            ),
            Err(e) => eprintln!("> {:?}\n< ERR {}", shown(), e.message()),
        }
    }
    match res {
        Ok(()) => {
            check_reply(&reply, checks, shown);
            if name.eq_ignore_ascii_case(b"jset") {
                checks.docs_tainted = true;
            }
        }
        Err(e) => {
            std::hint::black_box(e.message());
            std::hint::black_box(e.resp_text(name));
        }
    }
}

thread_local! {
    static POOL: RefCell<Option<Pool>> = const { RefCell::new(None) };
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let json = flags & 1 != 0;
    let fixture = flags & 2 == 0;
    let broadcast = flags & 4 != 0;
    let pipeline = flags & 8 != 0;
    let http = flags & 16 != 0;
    static ENV: std::sync::OnceLock<(bool, bool)> = std::sync::OnceLock::new();
    let (enabled, trace) = *ENV.get_or_init(|| {
        let set = |name| std::env::var_os(name).is_some();
        (!set("T38FUZZ_NO_REPLY_CHECK"), set("T38FUZZ_TRACE"))
    });
    let mut checks = Checks {
        enabled,
        docs_tainted: false,
        trace,
    };

    POOL.with_borrow_mut(|pool| {
        let pool = pool.get_or_insert_with(Pool::new);
        let server = Arc::new(Server::in_process());
        let mut conn = new_conn(&server, 1);
        let mut args = Args::new();
        let mut dirty = Dirty::default();
        if fixture {
            pool.lend(&server);
        }

        let mut tail: Vec<&[u8]> = Vec::new();
        for (n, line) in rest.split(|&b| b == b'\n').take(MAX_LINES).enumerate() {
            tail.clear();
            if !line.is_empty() {
                tail.extend(line.split(|&b| b == 0).take(MAX_ARGS));
            }
            if broadcast && n < BROADCAST_LINES {
                // FLUSHDB takes no arguments: broadcast, it would wipe the
                // fixture on every empty line (and cost a rebuild).
                for name in NAMES.iter().filter(|n| **n != "FLUSHDB") {
                    let name = name.as_bytes();
                    run(
                        pool,
                        &server,
                        &mut conn,
                        &mut args,
                        name,
                        &tail,
                        json,
                        http,
                        &mut checks,
                        &mut dirty,
                    );
                }
            }
            run(
                pool,
                &server,
                &mut conn,
                &mut args,
                b"",
                &tail,
                json,
                http,
                &mut checks,
                &mut dirty,
            );
            // A connection drops its batch write lock at the end of every
            // batch.
            if !pipeline {
                conn.lock.release();
            }
        }
        conn.lock.release();
        server.unregister_client(conn.client.id);

        if fixture {
            pool.restore(&server, &dirty);
        }
    });
});
