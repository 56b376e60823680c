//! AOF persistence across restarts: every object type with fields and EX,
//! FSET/DEL/PDEL/DROP/JSET/RENAME replayed byte-exactly after SIGTERM; a
//! torn last record and a zero-filled tail are truncated; a corrupt AOF
//! (also a length running past the end with records after it) aborts
//! startup; plain-text AOF lines load; a follower streams past zeros inside
//! its leader's AOF. What is journaled and when it reaches the file is in
//! `persistence_journal.rs`; config-file persistence in
//! `persistence_config.rs`.

use std::process::{Command, Stdio};
use std::time::Duration;

use tile38::{bin_path, resp_cmd, temp_dir, wait_until, Resp, TestServer};

mod common {
    pub mod persistence;
}
use common::persistence::{aof, stop};

/// The `TTL` integer of `key id`.
fn ttl(c: &mut Resp, key: &str, id: &str) -> i64 {
    let r = c.cmd_str(&["TTL", key, id]);
    r.trim()
        .strip_prefix(':')
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("TTL reply {r:?}"))
}

#[rustfmt::skip]
const WRITES: &[&[&str]] = &[
    &["SET", "fleet", "point", "FIELD", "speed", "50", "FIELD", "name", "\"bob\"", "POINT", "33", "-112"],
    &["SET", "fleet", "pointz", "EX", "1000", "POINT", "33.5", "-112.25", "10"],
    &["SET", "fleet", "bounds", "BOUNDS", "30", "-110", "31", "-109"],
    &["SET", "fleet", "hash", "HASH", "9my5xp7"],
    &["SET", "fleet", "poly", "OBJECT", r#"{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]]]}"#],
    &["SET", "fleet", "line", "FIELD", "meta", r#"{"a":[1,2]}"#, "OBJECT", r#"{"type":"LineString","coordinates":[[1,1],[2,2.5]]}"#],
    &["SET", "fleet", "feature", "OBJECT", r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"x":"y"},"id":7}"#],
    &["SET", "fleet", "fc", "OBJECT", r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"MultiPoint","coordinates":[[1,2],[3,4]]},"properties":{}}]}"#],
    &["SET", "fleet", "gc", "OBJECT", r#"{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[5,6]},{"type":"MultiLineString","coordinates":[[[0,0],[1,1]]]}]}"#],
    &["SET", "fleet", "mpoly", "OBJECT", r#"{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]]]}"#],
    &["SET", "notes", "s1", "FIELD", "n", "1.50", "STRING", "hello world"],
    &["SET", "notes", "s2", "EX", "2000", "STRING", "temporary"],
    &["FSET", "fleet", "point", "speed", "60", "color", "red"],
    &["FSET", "fleet", "point", "name", "0"],
    &["EXPIRE", "fleet", "hash", "3000"],
    &["SET", "fleet", "gone", "POINT", "1", "1"],
    &["DEL", "fleet", "gone"],
    &["SET", "fleet", "tmp1", "POINT", "1", "1"],
    &["SET", "fleet", "tmp2", "POINT", "1", "1"],
    &["PDEL", "fleet", "tmp*"],
    &["SET", "dropme", "a", "POINT", "1", "1"],
    &["DROP", "dropme"],
    &["JSET", "docs", "d1", "user.name", "tom"],
    &["JSET", "docs", "d1", "user.age", "30"],
    &["JSET", "docs", "d1", "tags", r#"["a","b"]"#, "RAW"],
    // Journaled by us (Tile38 forgets a JDEL across a restart).
    &["JDEL", "docs", "d1", "user.age"],
    &["SET", "old", "o1", "FIELD", "f", "1", "POINT", "2", "3"],
    &["RENAME", "old", "renamed"],
    &["SET", "fleet", "persisted", "EX", "50", "POINT", "1", "1"],
    &["PERSIST", "fleet", "persisted"],
];

/// Read commands whose replies must be identical after a restart.
fn snapshot(c: &mut Resp) -> Vec<(String, String)> {
    let mut reads: Vec<String> = [
        "KEYS *",
        "SCAN fleet",
        "SCAN notes",
        "SCAN renamed POINTS",
        "JGET docs d1",
        "STATS fleet notes docs renamed dropme",
        "BOUNDS fleet",
        "TTL fleet persisted",
        "TTL fleet gone",
        "GET notes s1 WITHFIELDS",
        "GET notes s2",
    ]
    .map(String::from)
    .to_vec();
    for id in [
        "point", "pointz", "bounds", "hash", "poly", "line", "feature", "fc", "gc", "mpoly",
    ] {
        for form in ["OBJECT", "POINT", "BOUNDS"] {
            reads.push(format!("GET fleet {id} WITHFIELDS {form}"));
        }
    }
    reads
        .into_iter()
        .map(|line| {
            let reply = c.cmd_str(&line.split(' ').collect::<Vec<_>>());
            (line, reply)
        })
        .collect()
}

#[test]
fn data_survives_sigterm_restart() {
    let dir = temp_dir("restart");
    let srv = TestServer::start_in(&dir, &[]);
    let mut c = srv.resp();
    for w in WRITES {
        let r = c.cmd_str(w);
        assert!(!r.starts_with('-') && r != "$-1\r\n", "{w:?} failed: {r}");
    }
    let before = snapshot(&mut c);
    assert!(
        before.iter().all(|(_, r)| !r.starts_with('-')),
        "{before:?}"
    );
    let ttls: Vec<i64> = [("fleet", "pointz"), ("notes", "s2"), ("fleet", "hash")]
        .iter()
        .map(|(k, i)| ttl(&mut c, k, i))
        .collect();
    assert!(
        ttls[0] > 990 && ttls[1] > 1990 && ttls[2] > 2990,
        "{ttls:?}"
    );
    stop(srv);

    let srv = TestServer::start_in(&dir, &[]);
    let mut c = srv.resp();
    let after = snapshot(&mut c);
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(a, b, "reply to `{}` changed across restart", b.0);
    }
    for ((k, i), old) in [("fleet", "pointz"), ("notes", "s2"), ("fleet", "hash")]
        .iter()
        .zip(ttls)
    {
        let t = ttl(&mut c, k, i);
        assert!(
            t > 0 && t <= old,
            "TTL {k} {i}: {t} after restart, {old} before"
        );
    }
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn torn_last_record_is_truncated_on_load() {
    let dir = temp_dir("torn");
    let srv = TestServer::start_in(&dir, &[]);
    let mut c = srv.resp();
    assert_eq!(
        c.cmd(&["SET", "fleet", "t1", "POINT", "1", "2"]),
        b"+OK\r\n"
    );
    assert_eq!(
        c.cmd(&["SET", "fleet", "t2", "POINT", "3", "4"]),
        b"+OK\r\n"
    );
    stop(srv);
    let good = std::fs::read(aof(&dir)).unwrap();
    let mut torn = good.clone();
    torn.extend_from_slice(b"*3\r\n$3\r\nSET");
    std::fs::write(aof(&dir), &torn).unwrap();

    let srv = TestServer::start_in(&dir, &[]);
    assert!(srv
        .logs()
        .iter()
        .any(|l| l.contains("Truncating 11 bytes due to an incomplete command")));
    assert_eq!(
        std::fs::read(aof(&dir)).unwrap(),
        good,
        "torn bytes must be cut"
    );
    let mut c = srv.resp();
    assert_eq!(
        c.cmd(&["SCAN", "fleet", "IDS"]),
        b"*2\r\n:0\r\n*2\r\n$2\r\nt1\r\n$2\r\nt2\r\n"
    );
    // New records follow the last complete one, so the next load is clean.
    assert_eq!(
        c.cmd(&["SET", "fleet", "t3", "POINT", "5", "6"]),
        b"+OK\r\n"
    );
    stop(srv);
    let srv = TestServer::start_in(&dir, &[]);
    assert_eq!(srv.resp().cmd(&["SCAN", "fleet", "COUNT"]), b":3\r\n");
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Starts a server on `dir` expecting it to refuse; returns its log.
fn refused_start(dir: &std::path::Path) -> String {
    let mut child = Command::new(bin_path("tile38-server"))
        .args(["-h", "127.0.0.1", "-p", "0", "-d"])
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut status = None;
    let exited = wait_until(Duration::from_secs(10), || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    if !exited {
        let _ = child.kill();
    }
    let out = child.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(exited, "server must refuse to start; logs: {logs}");
    assert!(!status.unwrap().success(), "exit status must be non-zero");
    assert!(!logs.contains("Ready to accept connections"), "{logs}");
    logs
}

#[test]
fn aof_with_unknown_command_aborts_startup() {
    let dir = temp_dir("badaof");
    std::fs::write(aof(&dir), "asdfasdf\r\nSET fleet truck1 POINT 10 10\n").unwrap();
    let logs = refused_start(&dir);
    assert!(logs.contains("unknown command 'asdfasdf'"), "{logs}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn corruption_before_the_tail_is_refused_with_its_offset() {
    let dir = temp_dir("midcorrupt");
    let good = resp_cmd(&["SET", "fleet", "a", "POINT", "1", "2"]);
    let mut data = good.clone();
    data.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$x\r\n");
    data.extend(resp_cmd(&["SET", "fleet", "b", "POINT", "1", "2"]));
    std::fs::write(aof(&dir), &data).unwrap();
    let logs = refused_start(&dir);
    let at = good.len();
    assert!(logs.contains(&format!("byte offset {at}")), "{logs}");
    assert!(logs.contains(&format!("truncate -s {at}")), "{logs}");
    // Nothing valid is dropped: the file is left as it was.
    assert_eq!(std::fs::read(aof(&dir)).unwrap(), data);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn plain_text_aof_lines_load() {
    let dir = temp_dir("textaof");
    std::fs::write(
        aof(&dir),
        "SET fleet truck0 POINT 10 10\r\nset fleet truck1 point 11 11\n",
    )
    .unwrap();
    let srv = TestServer::start_in(&dir, &[]);
    assert_eq!(
        srv.resp().cmd(&["SCAN", "fleet", "IDS"]),
        b"*2\r\n:0\r\n*2\r\n$6\r\ntruck0\r\n$6\r\ntruck1\r\n"
    );
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A crash can leave the AOF extended with zeros. They are cut at load, so
/// new records follow the last valid one: the next load is clean and a
/// follower streaming the file byte for byte never meets a `\0`.
#[test]
fn zero_filled_tail_is_cut_on_load() {
    let dir = temp_dir("zerotail");
    let mut good = resp_cmd(&["SET", "fleet", "z1", "POINT", "1", "2"]);
    good.extend(resp_cmd(&["SET", "fleet", "z2", "POINT", "3", "4"]));
    let mut data = good.clone();
    data.extend_from_slice(&[0; 8192]);
    std::fs::write(aof(&dir), &data).unwrap();

    let srv = TestServer::start_in(&dir, &[]);
    let logs = srv.logs();
    assert!(
        logs.iter()
            .any(|l| l.contains("Truncating 8192 zero bytes at the end of the file")),
        "{logs:?}"
    );
    assert_eq!(std::fs::read(aof(&dir)).unwrap(), good, "zeros must be cut");
    let mut c = srv.resp();
    assert_eq!(
        c.cmd(&["SET", "fleet", "z3", "POINT", "5", "6"]),
        b"+OK\r\n"
    );
    good.extend(resp_cmd(&["SET", "fleet", "z3", "POINT", "5", "6"]));
    assert!(wait_until(Duration::from_secs(5), || std::fs::read(aof(
        &dir
    ))
    .unwrap()
        == good));

    let follower = TestServer::start(&[]);
    let port = srv.port.to_string();
    assert_eq!(
        follower.resp().cmd(&["FOLLOW", "127.0.0.1", &port]),
        b"+OK\r\n"
    );
    let mut f = follower.resp();
    let caught_up = wait_until(Duration::from_secs(10), || {
        f.cmd(&["HEALTHZ"]) == b"+OK\r\n" && f.cmd(&["SCAN", "fleet", "COUNT"]) == b":3\r\n"
    });
    assert!(caught_up, "follower: {}", f.cmd_str(&["SERVER"]));
    drop(follower);

    stop(srv);
    let srv = TestServer::start_in(&dir, &[]);
    assert!(!srv.logs().iter().any(|l| l.contains("Truncating")));
    assert_eq!(srv.resp().cmd(&["SCAN", "fleet", "COUNT"]), b":3\r\n");
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A bulk length corrupted to point past the end of the file is not a torn
/// tail when complete records follow: cutting would drop them.
#[test]
fn corrupt_length_past_the_end_is_refused() {
    let dir = temp_dir("pasteof");
    let first = resp_cmd(&["SET", "fleet", "a", "POINT", "1", "2"]);
    let next = resp_cmd(&["SET", "fleet", "c", "POINT", "1", "2"]);
    for bad in [
        &b"*6\r\n$3\r\nSET\r\n$5\r\nfleet\r\n$9999\r\nb\r\n"[..],
        b"*6\r\n$3\r\nSET\r\n$5\r\nfleet\r\n$1\r\nb\r\n$5\r\nPOINT\r\n$1\r\n1\r\n$999\r\n2\r\n",
    ] {
        let data = [&first[..], bad, &next, &next].concat();
        std::fs::write(aof(&dir), &data).unwrap();
        let logs = refused_start(&dir);
        let (at, after) = (first.len(), first.len() + bad.len());
        assert!(
            logs.contains(&format!("cannot be loaded at byte offset {at}")),
            "{logs}"
        );
        assert!(
            logs.contains(&format!("record starts after it at byte offset {after}")),
            "{logs}"
        );
        assert_eq!(std::fs::read(aof(&dir)).unwrap(), data, "nothing is cut");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Zeros in the middle of a leader's AOF (kept, and skipped on load, as
/// Tile38 does) do not stop a follower: it skips them too and mirrors
/// them, so its AOF stays a byte copy of the leader's.
#[test]
fn a_follower_streams_past_zeros_inside_the_leaders_aof() {
    let dir = temp_dir("zeromid");
    let data = [
        resp_cmd(&["SET", "fleet", "m1", "POINT", "1", "2"]),
        vec![0; 300],
        resp_cmd(&["SET", "fleet", "m2", "POINT", "3", "4"]),
    ]
    .concat();
    std::fs::write(aof(&dir), &data).unwrap();
    let srv = TestServer::start_in(&dir, &[]);
    assert_eq!(srv.resp().cmd(&["SCAN", "fleet", "COUNT"]), b":2\r\n");
    let follower = TestServer::start(&[]);
    let port = srv.port.to_string();
    let mut f = follower.resp();
    assert_eq!(f.cmd(&["FOLLOW", "127.0.0.1", &port]), b"+OK\r\n");
    let caught_up = wait_until(Duration::from_secs(10), || {
        f.cmd(&["HEALTHZ"]) == b"+OK\r\n" && f.cmd(&["SCAN", "fleet", "COUNT"]) == b":2\r\n"
    });
    assert!(caught_up, "follower: {}", f.cmd_str(&["SERVER"]));
    assert_eq!(
        srv.resp().cmd(&["SET", "fleet", "m3", "POINT", "5", "6"]),
        b"+OK\r\n"
    );
    let leader_aof = || std::fs::read(aof(&dir)).unwrap();
    let mirrored = wait_until(Duration::from_secs(10), || {
        f.cmd(&["SCAN", "fleet", "COUNT"]) == b":3\r\n"
            && std::fs::read(aof(&follower.dir)).is_ok_and(|b| b == leader_aof())
    });
    assert!(
        mirrored,
        "the follower's AOF is the leader's, zeros included"
    );
    assert_eq!(leader_aof().iter().filter(|&&b| b == 0).count(), 300);
    drop(follower);
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}
