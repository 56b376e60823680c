//! Dispatch hardening (issue 13 items 2, 3a), against the real binary:
//!
//! * commands parse before any lock: a huge SET (pipelined after a small
//!   one, so the connection's batch lock is held when it arrives) leaves
//!   PING and GET on other connections answering;
//! * every client count is checked: a WHEREIN count that used to wrap
//!   around answers at once and writes go on; a table of counts, zoom
//!   levels, bearings, radii and durations gets Tile38's answers (or an
//!   `invalid argument` where Tile38 hangs or crashes).
//!
//! The gates TIMEOUT and HTTP requests pass (item 7b) are in
//! `hardening_gates.rs`.

use std::io::{BufReader, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tile38::{read_resp, resp_cmd, wait_until, TestServer};

/// Points in the big object: about 160 MB of GeoJSON, which takes the
/// server around a second to parse.
const BIG_POINTS: usize = 10_000_000;

fn text(reply: &[u8]) -> String {
    String::from_utf8_lossy(reply).into_owned()
}

/// A GeoJSON MultiPoint of `n` points.
fn multipoint(n: usize) -> Vec<u8> {
    let mut obj = Vec::with_capacity(n * 17 + 64);
    obj.extend_from_slice(b"{\"type\":\"MultiPoint\",\"coordinates\":[");
    for i in 0..n {
        if i > 0 {
            obj.push(b',');
        }
        write!(obj, "[{}.{},{}.{}]", i % 170, i % 997, i % 80, i % 991).unwrap();
    }
    obj.extend_from_slice(b"]}");
    obj
}

/// `SET key id OBJECT <MultiPoint of n points>` as one RESP request.
fn big_set(key: &str, id: &str, n: usize) -> Vec<u8> {
    let obj = multipoint(n);
    let mut req = Vec::with_capacity(obj.len() + 128);
    write!(req, "*5\r\n$3\r\nSET\r\n${}\r\n{key}\r\n", key.len()).unwrap();
    write!(req, "${}\r\n{id}\r\n$6\r\nOBJECT\r\n", id.len()).unwrap();
    write!(req, "${}\r\n", obj.len()).unwrap();
    req.extend_from_slice(&obj);
    req.extend_from_slice(b"\r\n");
    req
}

#[test]
fn a_big_write_parses_without_stalling_other_clients() {
    // No AOF: what is measured is the parse, not the copy into the log.
    let s = TestServer::start(&["--appendonly", "no"]);
    let mut setup = s.resp();
    assert_eq!(
        setup.cmd_str(&["SET", "fleet", "small", "POINT", "33", "-112"]),
        "+OK\r\n"
    );
    // A small write first in the same batch: the connection holds the
    // write lock when the big one arrives.
    let mut req = resp_cmd(&["SET", "fleet", "tiny", "POINT", "1", "2"]);
    req.extend(big_set("fleet", "big", BIG_POINTS));
    let mut big = s.raw();
    big.set_read_timeout(Some(Duration::from_secs(300)))
        .unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let finished = done.clone();
    let writer = std::thread::spawn(move || {
        let started = Instant::now();
        big.write_all(&req).unwrap();
        drop(req);
        let mut r = BufReader::new(big);
        let replies = [read_resp(&mut r).unwrap(), read_resp(&mut r).unwrap()];
        finished.store(true, Ordering::SeqCst);
        (started.elapsed(), replies)
    });
    // New connections all along: PING, then a GET that needs the lock.
    let (mut worst_ping, mut worst_get) = (Duration::ZERO, Duration::ZERO);
    wait_until(Duration::from_secs(300), || {
        let t = Instant::now();
        let mut c = s.resp();
        assert_eq!(c.cmd_str(&["PING"]), "+PONG\r\n");
        worst_ping = worst_ping.max(t.elapsed());
        let t = Instant::now();
        let reply = c.cmd_str(&["GET", "fleet", "small", "POINT"]);
        assert!(reply.starts_with("*2\r\n"), "{reply}");
        worst_get = worst_get.max(t.elapsed());
        done.load(Ordering::SeqCst)
    });
    let (took, replies) = writer.join().unwrap();
    eprintln!("big SET {took:?}; worst PING {worst_ping:?}, GET {worst_get:?}");
    assert_eq!(text(&replies[0]), "+OK\r\n");
    assert_eq!(text(&replies[1]), "+OK\r\n");
    assert!(
        took > Duration::from_millis(500),
        "the big SET took only {took:?}: too fast to show a stall"
    );
    assert!(
        worst_ping < took / 3 && worst_get < took / 3,
        "other clients stalled: PING {worst_ping:?}, GET {worst_get:?}, big SET {took:?}"
    );
    assert_eq!(
        setup.cmd_str(&["EXISTS", "fleet", "big"]),
        ":1\r\n",
        "the big object is stored"
    );
}

#[test]
fn a_wherein_count_that_wrapped_answers_and_writes_go_on() {
    let s = TestServer::start(&[]);
    let mut setup = s.resp();
    assert_eq!(
        setup.cmd_str(&["SET", "fleet", "a", "FIELD", "speed", "5", "POINT", "1", "2"]),
        "+OK\r\n"
    );
    let mut scan = s.raw();
    scan.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    scan.write_all(&resp_cmd(&[
        "SCAN",
        "fleet",
        "WHEREIN",
        "speed",
        "18446744073709551613",
        "x",
    ]))
    .unwrap();
    // A write on another connection while the SCAN is being served.
    let mut write = s.raw();
    write
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write
        .write_all(&resp_cmd(&["SET", "fleet", "b", "POINT", "3", "4"]))
        .unwrap();
    let reply = read_resp(&mut BufReader::new(&mut write)).expect("the SET answers");
    assert_eq!(text(&reply), "+OK\r\n");
    let reply = read_resp(&mut BufReader::new(&mut scan)).expect("the SCAN answers");
    assert_eq!(
        text(&reply),
        "-ERR wrong number of arguments for 'scan' command\r\n"
    );
}

/// One request and its exact RESP reply (Tile38 1.37's, or for what hangs
/// or crashes Tile38, an `invalid argument`).
struct Case(&'static [&'static str], &'static str);

const CASES: &[Case] = &[
    // WHEREIN: a Go unsigned count, at most the arguments left.
    Case(
        &[
            "SCAN",
            "fleet",
            "WHEREIN",
            "speed",
            "9223372036854775807",
            "x",
        ],
        "-ERR wrong number of arguments for 'scan' command\r\n",
    ),
    Case(
        &["SCAN", "fleet", "WHEREIN", "speed", "+1", "5", "IDS"],
        "-ERR invalid argument '+1'\r\n",
    ),
    Case(
        &["SCAN", "fleet", "WHEREIN", "speed", "1", "5", "IDS"],
        "*2\r\n:0\r\n*1\r\n$1\r\na\r\n",
    ),
    // CURSOR, LIMIT, SPARSE, HASHES: Go unsigned integers.
    Case(
        &["SCAN", "fleet", "LIMIT", "+5", "IDS"],
        "-ERR invalid argument '+5'\r\n",
    ),
    Case(
        &["SCAN", "fleet", "CURSOR", "+1", "IDS"],
        "-ERR invalid argument '+1'\r\n",
    ),
    Case(
        &["SCAN", "fleet", "HASHES", "+5"],
        "-ERR invalid argument '+5'\r\n",
    ),
    Case(
        &[
            "WITHIN", "fleet", "SPARSE", "+2", "IDS", "BOUNDS", "30", "-115", "35", "-110",
        ],
        "-ERR invalid argument '+2'\r\n",
    ),
    Case(
        &["SCAN", "fleet", "LIMIT", "18446744073709551615", "IDS"],
        "*2\r\n:0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n",
    ),
    Case(
        &["SCAN", "fleet", "CURSOR", "18446744073709551615", "IDS"],
        "*2\r\n:0\r\n*0\r\n",
    ),
    Case(
        &[
            "NEARBY",
            "fleet",
            "LIMIT",
            "18446744073709551615",
            "IDS",
            "POINT",
            "33",
            "-112",
        ],
        "*2\r\n:0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n",
    ),
    // SPARSE 16 (4^16 cells) answers at once: empty quadrants are not split.
    Case(
        &[
            "WITHIN", "fleet", "SPARSE", "16", "IDS", "BOUNDS", "30", "-115", "35", "-110",
        ],
        "*2\r\n:0\r\n*2\r\n$1\r\nb\r\n$1\r\na\r\n",
    ),
    Case(
        &[
            "NEARBY", "fleet", "SPARSE", "16", "IDS", "POINT", "33", "-112", "100000",
        ],
        "*2\r\n:0\r\n*2\r\n$1\r\nb\r\n$1\r\na\r\n",
    ),
    // TILE: x, y ≥ 0 and z ≤ 23 for the searches, not for TEST.
    Case(
        &["WITHIN", "fleet", "IDS", "TILE", "0", "0", "24"],
        "-ERR invalid argument '24'\r\n",
    ),
    Case(
        &[
            "WITHIN",
            "fleet",
            "IDS",
            "TILE",
            "0",
            "0",
            "18446744073709551615",
        ],
        "-ERR invalid argument '18446744073709551615'\r\n",
    ),
    Case(
        &["WITHIN", "fleet", "IDS", "TILE", "-1", "-1", "x"],
        "-ERR invalid argument '-1'\r\n",
    ),
    Case(
        &[
            "INTERSECTS",
            "fleet",
            "IDS",
            "BOUNDS",
            "30",
            "-115",
            "35",
            "-110",
            "CLIPBY",
            "TILE",
            "0",
            "0",
            "24",
        ],
        "-ERR invalid argument '24'\r\n",
    ),
    Case(
        &["TEST", "POINT", "1", "2", "WITHIN", "TILE", "0", "0", "64"],
        ":1\r\n",
    ),
    // SECTOR bearings Tile38 never returns from.
    Case(
        &[
            "WITHIN", "fleet", "IDS", "SECTOR", "33", "-112", "1000", "0", "NaN",
        ],
        "-ERR invalid argument 'NaN'\r\n",
    ),
    Case(
        &[
            "WITHIN", "fleet", "IDS", "SECTOR", "33", "-112", "1000", "inf", "10",
        ],
        "-ERR invalid argument 'inf'\r\n",
    ),
    // `WHERE field "" …` crashes Tile38; an empty bound matches nothing.
    Case(
        &["SCAN", "fleet", "WHERE", "speed", "", "5", "IDS"],
        "*2\r\n:0\r\n*0\r\n",
    ),
    // A NaN radius is no negative radius.
    Case(
        &["WITHIN", "fleet", "IDS", "CIRCLE", "33", "-112", "NaN"],
        "*2\r\n:0\r\n*0\r\n",
    ),
    Case(
        &["NEARBY", "fleet", "IDS", "POINT", "33", "-112", "NaN"],
        "*2\r\n:0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n",
    ),
    Case(
        &[
            "TEST", "POINT", "1", "2", "WITHIN", "CIRCLE", "1", "2", "NaN",
        ],
        ":1\r\n",
    ),
    // TIMEOUT: Go's float seconds, converted as Go does.
    Case(&["TIMEOUT", "NaN", "GET", "fleet", "a"], "-ERR timeout\r\n"),
    Case(
        &["TIMEOUT", "9.3e9", "GET", "fleet", "a"],
        "-ERR timeout\r\n",
    ),
    Case(&["TIMEOUT", "0", "PING"], "-ERR timeout\r\n"),
    Case(
        &["TIMEOUT", "1e400", "GET", "fleet", "a"],
        "-ERR invalid argument '1e400'\r\n",
    ),
    Case(&["TIMEOUT", "1", "PING"], "-ERR unknown command 'PING'\r\n"),
    Case(
        &["TIMEOUT", "", "GET", "fleet", "a"],
        "-ERR wrong number of arguments for 'timeout' command\r\n",
    ),
    Case(
        &["TIMEOUT", "7e9", "GET", "fleet", "a", "POINT"],
        "*2\r\n$2\r\n33\r\n$4\r\n-112\r\n",
    ),
];

#[test]
fn counts_from_clients_are_checked() {
    let s = TestServer::start(&[]);
    let mut c = s.resp();
    for args in [
        [
            "SET", "fleet", "a", "FIELD", "speed", "5", "POINT", "33", "-112",
        ],
        [
            "SET", "fleet", "b", "FIELD", "speed", "7", "POINT", "33.1", "-112.1",
        ],
    ] {
        assert_eq!(c.cmd_str(&args), "+OK\r\n");
    }
    let failed: Vec<String> = CASES
        .iter()
        .filter_map(|Case(args, want)| {
            let got = c.cmd_str(args);
            (got != *want).then(|| format!("{args:?}\n  want {want:?}\n  got  {got:?}"))
        })
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn expire_seconds_past_a_go_duration_expire_the_object() {
    let s = TestServer::start(&[]);
    let mut c = s.resp();
    for (id, secs) in [("a", "1e300"), ("b", "7.5e9"), ("c", "inf"), ("d", "NaN")] {
        assert_eq!(c.cmd_str(&["SET", "k", id, "POINT", "1", "2"]), "+OK\r\n");
        assert_eq!(c.cmd_str(&["EXPIRE", "k", id, secs]), ":1\r\n");
    }
    assert_eq!(
        c.cmd_str(&["SET", "k", "kept", "POINT", "1", "2"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd_str(&["EXPIRE", "k", "kept", "7e9"]), ":1\r\n");
    let swept = wait_until(Duration::from_secs(10), || {
        c.cmd_str(&["SCAN", "k", "IDS"]) == "*2\r\n:0\r\n*1\r\n$4\r\nkept\r\n"
    });
    assert!(swept, "{}", c.cmd_str(&["SCAN", "k", "IDS"]));
}

/// `SET … EX` and `EXPIRE` with seconds past a Go duration (NaN, ±inf,
/// 1e300, 9.3e9) wrap as Tile38's int64 arithmetic does: TTL reads
/// 9223372036 until the sweep removes the object (Tile38 1.37 answers the
/// same pipeline identically; before, `SET … EX inf` never expired here).
#[test]
fn ttl_of_an_overflowed_expiry_reads_as_tile38s_until_swept() {
    let s = TestServer::start(&[]);
    let mut raw = s.raw();
    let mut batch = Vec::new();
    let odd = ["inf", "-inf", "nan", "1e300", "9.3e9", "-9.3e9"];
    for (i, ex) in odd.iter().enumerate() {
        let id = format!("o{i}");
        batch.extend(resp_cmd(&["SET", "k", &id, "EX", ex, "POINT", "1", "2"]));
        batch.extend(resp_cmd(&["TTL", "k", &id]));
    }
    batch.extend(resp_cmd(&["SET", "k", "e", "POINT", "1", "2"]));
    batch.extend(resp_cmd(&["EXPIRE", "k", "e", "inf"]));
    batch.extend(resp_cmd(&["TTL", "k", "e"]));
    batch.extend(resp_cmd(&[
        "SET", "k", "big", "EX", "9.2e9", "POINT", "1", "2",
    ]));
    batch.extend(resp_cmd(&["TTL", "k", "big"]));
    raw.write_all(&batch).unwrap();
    let mut r = BufReader::new(raw);
    let mut next = || text(&read_resp(&mut r).unwrap());
    for ex in odd {
        assert_eq!(next(), "+OK\r\n", "SET EX {ex}");
        assert_eq!(next(), ":9223372036\r\n", "TTL after EX {ex}");
    }
    assert_eq!((next(), next()), ("+OK\r\n".into(), ":1\r\n".into()));
    assert_eq!(next(), ":9223372036\r\n", "TTL after EXPIRE inf");
    assert_eq!(next(), "+OK\r\n");
    // 9.2e9 s fits a duration but the deadline wraps past 2262: Tile38
    // reads the wrapped difference back, 9199999999.
    assert_eq!(next(), ":9199999999\r\n");
    let mut c = s.resp();
    let swept = wait_until(Duration::from_secs(10), || {
        c.cmd_str(&["SCAN", "k", "COUNT"]) == ":0\r\n"
    });
    assert!(swept, "{}", c.cmd_str(&["SCAN", "k", "IDS"]));
}
