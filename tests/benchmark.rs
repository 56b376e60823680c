//! `tile38-benchmark` against the real server: every Tile38 test runs and
//! is reported, in `-q`, default, `--csv` and `--json-report` forms, with
//! `--json` replies, `-a` passwords, `--preload`, and honest error counts
//! (a READONLY server refuses the SET tests).

use std::process::{Command, Output};

use serde_json::Value;
use tile38::{bin_path, TestServer};

/// Tile38 1.37's tests, in its order.
const TESTS: [&str; 32] = [
    "PING",
    "SET (point)",
    "SET (rect)",
    "SET (line)",
    "SET (string)",
    "GET (point)",
    "GET (rect)",
    "GET (string)",
    "INTERSECTS (intersects-circle 1km)",
    "INTERSECTS (intersects-circle 10km)",
    "INTERSECTS (intersects-circle 100km)",
    "INTERSECTS (intersects-bounds 1km)",
    "INTERSECTS (intersects-bounds 10km)",
    "INTERSECTS (intersects-bounds 100km)",
    "INTERSECTS (intersects-az limit 5)",
    "WITHIN (within-circle 1km)",
    "WITHIN (within-circle 10km)",
    "WITHIN (within-circle 100km)",
    "WITHIN (within-bounds 1km)",
    "WITHIN (within-bounds 10km)",
    "WITHIN (within-bounds 100km)",
    "NEARBY (limit 1)",
    "NEARBY (limit 10)",
    "NEARBY (limit 100)",
    "NEARBY (point 1km)",
    "NEARBY (point 10km)",
    "NEARBY (point 100km)",
    "EVAL (set point)",
    "EVALNA (set point)",
    "EVALRO (get point)",
    "EVALRO (get 4 points)",
    "EVALNA (get point)",
];

fn bench(server: &TestServer, args: &[&str]) -> Output {
    Command::new(bin_path("tile38-benchmark"))
        .args(["-p", &server.port.to_string(), "-n", "2000", "-c", "10"])
        .args(args)
        .output()
        .expect("run tile38-benchmark")
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// `NAME: 1234.56 requests per second` → (NAME, rate).
fn quiet_lines(text: &str) -> Vec<(String, f64)> {
    text.lines()
        .map(|l| {
            let (name, rest) = l.rsplit_once(": ").expect("name: rate");
            let rate = rest.strip_suffix(" requests per second").expect("suffix");
            (name.to_string(), rate.parse().expect("rate"))
        })
        .collect()
}

#[test]
fn quiet_reports_every_test_in_order_and_counts_errors() {
    let server = TestServer::start(&[]);
    let o = bench(&server, &["-q"]);
    let out = stdout(&o);
    assert!(!out.contains('\r'), "no progress line without a terminal");
    let lines = quiet_lines(&out);
    let names: Vec<&str> = lines.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, TESTS);
    assert!(lines.iter().all(|(_, rate)| *rate > 0.0));
    // Every test, EVAL's included, ran without an error reply.
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 0, "{err}");
    // The SETs wrote what the GETs then read: 2000 points, rects, lines, strings.
    let mut c = server.resp();
    assert_eq!(c.cmd_str(&["SCAN", "key:bench", "COUNT"]), ":8000\r\n");
    assert_eq!(c.cmd_str(&["TYPE", "key:bench:geo"]), "+hash\r\n");
    // Refused writes are counted and reported per test, on stderr.
    assert_eq!(c.cmd_str(&["READONLY", "yes"]), "+OK\r\n");
    let o = bench(&server, &["-q", "-t", "set"]);
    let err = String::from_utf8_lossy(&o.stderr);
    for name in &TESTS[1..5] {
        let line = format!("{name}: 2000 of 2000 replies were errors, e.g. ERR read only");
        assert!(err.contains(&line), "{name} errors not reported: {err}");
    }
    assert_eq!(err.lines().count(), 4, "{err}");
}

#[test]
fn each_group_selected_with_t() {
    let server = TestServer::start(&[]);
    let groups = [
        ("ping", 1),
        ("set", 4),
        ("GET", 3),
        ("intersects", 7),
        ("within", 6),
        ("nearby", 6),
        ("eval", 5),
        ("GET (point),NEARBY (limit 10)", 2),
        ("nosuch", 0),
    ];
    for (t, n) in groups {
        let lines = quiet_lines(&stdout(&bench(&server, &["-q", "-t", t])));
        assert_eq!(lines.len(), n, "-t {t}: {lines:?}");
        for (name, _) in &lines {
            assert!(TESTS.contains(&name.as_str()), "{name}");
        }
    }
}

#[test]
fn csv_and_json_report_forms() {
    let server = TestServer::start(&[]);
    let csv = stdout(&bench(&server, &["--csv"]));
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), TESTS.len());
    for (row, name) in rows.iter().zip(TESTS) {
        let rate = row
            .strip_prefix(&format!("\"{name}\",\""))
            .and_then(|r| r.strip_suffix('"'))
            .unwrap_or_else(|| panic!("{row}"));
        assert!(rate.parse::<f64>().unwrap() > 0.0);
    }

    let json = stdout(&bench(&server, &["--json-report", "-P", "8"]));
    let reports: Vec<Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(reports.len(), TESTS.len());
    for (r, name) in reports.iter().zip(TESTS) {
        assert_eq!(r["test"], name);
        assert_eq!(r["requests"], 2000);
        assert_eq!(r["pipeline"], 8);
        assert!(r["requests_per_second"].as_f64().unwrap() > 0.0);
        let (p50, p999) = (
            r["p50_ms"].as_f64().unwrap(),
            r["p999_ms"].as_f64().unwrap(),
        );
        assert!(p50 > 0.0 && p50 <= p999, "{r}");
        assert_eq!(r["errors"], 0, "{r}");
    }
}

#[test]
fn default_report_with_json_replies() {
    let server = TestServer::start(&[]);
    let out = stdout(&bench(&server, &["--json", "-t", "ping,set,get"]));
    for name in &TESTS[..8] {
        assert!(out.contains(&format!(
            "====== {name} ======\n  2000 requests completed in "
        )));
    }
    assert_eq!(out.matches("  10 parallel clients\n").count(), 8);
    assert!(
        out.contains("  14 bytes payload\n"),
        "PING's request is 14 bytes"
    );
    assert_eq!(out.matches("latency p50 ").count(), 8);
    assert_eq!(out.matches(" requests per second\n").count(), 8);
    assert!(out.contains("100.00% <= "));
    assert!(!out.contains("error replies"), "{out}");
}

#[test]
fn passwords_preload_and_unreachable_servers() {
    let server = TestServer::start(&[]);
    let mut c = server.resp();
    c.cmd(&["CONFIG", "SET", "requirepass", "secret"]);
    let ok = bench(
        &server,
        &["-q", "-t", "ping", "-a", "secret", "--preload", "500"],
    );
    assert_eq!(quiet_lines(&stdout(&ok)).len(), 1);
    let mut authed = server.resp();
    authed.cmd(&["AUTH", "secret"]);
    assert_eq!(authed.cmd_str(&["SCAN", "key:bench", "COUNT"]), ":500\r\n");

    for args in [
        &["-q", "-t", "ping"][..],
        &["-q", "-t", "ping", "-a", "wrong"],
    ] {
        let o = bench(&server, args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert!(String::from_utf8_lossy(&o.stderr).contains(" invalid auth"));
    }

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let o = Command::new(bin_path("tile38-benchmark"))
        .args(["-p", &port.to_string(), "-q", "-t", "ping"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).starts_with(&format!("dial tcp 127.0.0.1:{port}")));
}
