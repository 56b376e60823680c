//! Data directories written by a real Tile38 1.37 (`tests/data/fixtures`,
//! copied from `shared/` by `scripts/refresh-test-data.sh`):
//! our server must load each recorded AOF and serve exactly the recorded
//! state. For every fixture, the AOF is copied into a fresh data directory
//! as `appendonly.aof`, the real server starts there, and every line of the
//! `*.expected.txt` file is checked byte for byte on one RESP connection,
//! with the README's TTL rule: a non-negative expected TTL `v` accepts any
//! `r` with `v - (seconds since our server started) - 1 <= r <= v`.
//! For development, `TILE38_SHARED=DIR` reads `DIR/fixtures` instead.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tile38::{temp_dir, wait_until, Resp, TestServer};

fn fixtures() -> PathBuf {
    std::env::var_os("TILE38_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data"))
        .join("fixtures")
}

/// The expected files' escapes: `\r`, `\n`, `\\`, `\xNN`.
fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        match b.get(i + 1) {
            Some(b'r') => out.push(b'\r'),
            Some(b'n') => out.push(b'\n'),
            Some(b'\\') => out.push(b'\\'),
            Some(b'x') => {
                let hex = std::str::from_utf8(&b[i + 2..i + 4]).expect("hex escape");
                out.push(u8::from_str_radix(hex, 16).expect("hex escape"));
                i += 2;
            }
            other => panic!("bad escape {other:?} in {s:?}"),
        }
        i += 2;
    }
    out
}

/// The integer of a `:n\r\n` reply.
fn int_reply(r: &[u8]) -> Option<i64> {
    std::str::from_utf8(r.strip_prefix(b":")?)
        .ok()?
        .trim_end()
        .parse()
        .ok()
}

/// Starts our server on a copy of `aof`, checks `expected`; returns the
/// mismatches (empty when all lines match) and how many lines were checked.
fn check_fixture(aof: &str, expected: &str) -> (Vec<String>, usize) {
    let dir = temp_dir("fixture");
    let data = dir.join("appendonly.aof");
    std::fs::write(&data, std::fs::read(fixtures().join(aof)).expect(aof)).unwrap();
    let started = Instant::now();
    let server = TestServer::start_in(&dir, &[]);
    let mut c = server.resp();
    assert!(
        wait_until(Duration::from_secs(30), || {
            !c.cmd_str(&["GET", "x", "y"]).contains("LOADING")
        }),
        "{aof}: still loading"
    );
    let text = std::fs::read_to_string(fixtures().join(expected)).expect(expected);
    let (bad, n) = compare(&mut c, &text, started);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    (bad, n)
}

fn compare(c: &mut Resp, text: &str, started: Instant) -> (Vec<String>, usize) {
    let mut bad = Vec::new();
    let mut n = 0;
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (cmd, reply) = line.split_once('\t').expect("command<TAB>reply");
        let want = unescape(reply);
        let args: Vec<&str> = cmd.split(' ').collect();
        let got = c.cmd(&args);
        n += 1;
        let ok = match int_reply(&want) {
            Some(v) if cmd.starts_with("TTL ") && v >= 0 => int_reply(&got).is_some_and(|r| {
                let lo = v as f64 - started.elapsed().as_secs_f64() - 1.0;
                lo <= r as f64 && r <= v
            }),
            _ => got == want,
        };
        if !ok {
            bad.push(format!(
                "{cmd}\n  got:  {:?}\n  want: {:?}",
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&want)
            ));
        }
    }
    (bad, n)
}

fn assert_fixture(aof: &str, expected: &str) {
    assert!(
        fixtures().join(aof).exists(),
        "missing fixture {}",
        fixtures().join(aof).display()
    );
    let (bad, n) = check_fixture(aof, expected);
    assert!(n > 0, "{expected}: no lines checked");
    assert!(
        bad.is_empty(),
        "{aof}: {} of {n} lines differ:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

/// Tile38's own AOF: every kind of write, hooks and channels included
/// (`SETCHAN … META`, `EX`, `PDELCHAN`, `SETHOOK`, `DELHOOK`, `PDELHOOK`) and
/// the server-generated `del` / `delchan` expiry records.
#[test]
fn tile38_appendonly_aof_loads() {
    assert_fixture(
        "tile38-1.37-appendonly.aof",
        "tile38-1.37-appendonly.expected.txt",
    );
}

/// Tile38's AOFSHRINK output: lower-case verbs, JSON field values,
/// fractional `ex`, `setchan`/`sethook` with lower-case `meta`.
#[test]
fn tile38_shrunk_aof_loads() {
    assert_fixture("tile38-1.37-shrunk.aof", "tile38-1.37-shrunk.expected.txt");
}

/// The fixture README's step 5: our AOFSHRINK of Tile38's data, restarted,
/// serves the same state (TTLs only need to be positive and not larger).
#[test]
fn our_shrink_of_tile38_data_loads_to_the_same_state() {
    let dir = temp_dir("fixture-shrink");
    let data = dir.join("appendonly.aof");
    std::fs::write(
        &data,
        std::fs::read(fixtures().join("tile38-1.37-appendonly.aof")).unwrap(),
    )
    .unwrap();
    let started = Instant::now();
    let server = TestServer::start_in(&dir, &[]);
    let mut c = server.resp();
    assert_eq!(c.cmd_str(&["AOFSHRINK"]), "+OK\r\n");
    assert!(
        wait_until(Duration::from_secs(20), || server
            .logs()
            .iter()
            .any(|l| l.contains("AOF rewritten"))),
        "no rewrite"
    );
    let text = std::fs::read_to_string(&data).unwrap();
    assert!(
        text.contains("$7\r\nsethook\r\n") && text.contains("$7\r\nsetchan\r\n"),
        "{text}"
    );
    server.terminate();
    let server = TestServer::start_in(&dir, &[]);
    let mut c = server.resp();
    let expected =
        std::fs::read_to_string(fixtures().join("tile38-1.37-appendonly.expected.txt")).unwrap();
    let (bad, n) = compare(&mut c, &expected, started);
    assert!(n > 0);
    assert!(
        bad.is_empty(),
        "{} of {n} lines differ:\n{}",
        bad.len(),
        bad.join("\n")
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn expected_file_escapes() {
    assert_eq!(unescape(r"*1\r\n$2\r\nab\\\x41"), b"*1\r\n$2\r\nab\\A");
}
