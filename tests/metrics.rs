//! `--metrics-addr`: the Prometheus endpoint of the real binary, scraped
//! over HTTP and parsed with a Prometheus text-format parser. Checks
//! Tile38's 23 `tile38_*` families (names, types, labels), that the
//! command summary and collection gauges follow the traffic, the extras,
//! the index page for other paths, gzip, keep-alive, and exit status 1
//! when the address cannot be bound.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

use prometheus_parse::{Scrape, Value};
use tile38::probe::free_port;
use tile38::{bin_path, temp_dir, wait_until, TestServer};

/// Tile38 1.37's families and types, from a real scrape.
const TILE38_FAMILIES: [(&str, &str); 23] = [
    ("tile38_aof_size_bytes", "gauge"),
    ("tile38_avg_item_size_bytes", "gauge"),
    ("tile38_cmd_duration_seconds", "summary"),
    ("tile38_collection_objects", "gauge"),
    ("tile38_collection_points", "gauge"),
    ("tile38_collection_strings", "gauge"),
    ("tile38_collection_weight_bytes", "gauge"),
    ("tile38_collections", "gauge"),
    ("tile38_connected_clients", "gauge"),
    ("tile38_connections_received_total", "gauge"),
    ("tile38_expired_keys_total", "gauge"),
    ("tile38_heap_size_bytes", "gauge"),
    ("tile38_hooks", "gauge"),
    ("tile38_in_memory_size_bytes", "gauge"),
    ("tile38_memory_max_heap_size_bytes", "gauge"),
    ("tile38_memory_reap_released_bytes", "gauge"),
    ("tile38_messages_sent_total", "gauge"),
    ("tile38_num_cpus", "gauge"),
    ("tile38_pid", "gauge"),
    ("tile38_pointer_size_bytes", "gauge"),
    ("tile38_replication_info", "gauge"),
    ("tile38_server_info", "gauge"),
    ("tile38_start_time_seconds", "gauge"),
];

struct Response {
    status: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("utf-8 body")
    }
}

/// Splits one response off `raw`: head, then a chunked or sized body.
fn parse_response(raw: &[u8]) -> (Response, usize) {
    let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("head") + 4;
    let head = String::from_utf8_lossy(&raw[..head_end - 4]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut r = Response {
        status,
        headers,
        body: Vec::new(),
    };
    let mut pos = head_end;
    if r.header("transfer-encoding") == Some("chunked") {
        loop {
            let eol = pos + raw[pos..].windows(2).position(|w| w == b"\r\n").unwrap();
            let size = usize::from_str_radix(std::str::from_utf8(&raw[pos..eol]).unwrap(), 16)
                .expect("chunk size");
            pos = eol + 2;
            r.body.extend_from_slice(&raw[pos..pos + size]);
            pos += size + 2;
            if size == 0 {
                break;
            }
        }
    } else {
        let len: usize = r.header("content-length").unwrap().parse().unwrap();
        r.body = raw[pos..pos + len].to_vec();
        pos += len;
    }
    if r.header("content-encoding") == Some("gzip") {
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&r.body[..])
            .read_to_end(&mut plain)
            .expect("gunzip");
        r.body = plain;
    }
    (r, pos)
}

/// Sends raw request bytes and parses every response until the server
/// closes the connection.
fn http_raw(port: u16, requests: &str) -> Vec<Response> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect metrics");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(requests.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read response");
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < raw.len() {
        let (r, used) = parse_response(&raw[pos..]);
        out.push(r);
        pos += used;
    }
    out
}

fn get(port: u16, method: &str, path: &str, extra: &str) -> Response {
    let req = format!("{method} {path} HTTP/1.1\r\nHost: x\r\n{extra}Connection: close\r\n\r\n");
    http_raw(port, &req).remove(0)
}

fn scrape(port: u16) -> (String, Scrape) {
    let r = get(port, "GET", "/metrics", "");
    let text = r.text();
    let parsed = Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("parse");
    (text, parsed)
}

/// A server with metrics on a free port, answering scrapes.
fn start() -> (TestServer, u16) {
    let port = free_port();
    let s = TestServer::start(&["--metrics-addr", &format!("127.0.0.1:{port}")]);
    let up = wait_until(Duration::from_secs(10), || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(up, "metrics listener never answered");
    (s, port)
}

fn value(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .samples
        .iter()
        .find(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(v)))
        .map(|s| match &s.value {
            Value::Gauge(v) | Value::Counter(v) | Value::Untyped(v) => *v,
            Value::Summary(_) | Value::Histogram(_) => f64::NAN,
        })
}

fn set_count(port: u16) -> f64 {
    let (_, s) = scrape(port);
    value(&s, "tile38_cmd_duration_seconds_count", &[("cmd", "set")]).unwrap_or(0.0)
}

/// Every Tile38 family has its type and a HELP line, and the families
/// are printed sorted by name.
fn assert_types_and_help(text: &str) {
    let types: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' '))
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    let mut sorted = types.clone();
    sorted.sort();
    assert_eq!(types, sorted, "families are printed sorted by name");
    for (name, kind) in TILE38_FAMILIES {
        assert!(
            types.iter().any(|(n, t)| n == name && t == kind),
            "missing {name} ({kind})"
        );
        let help = text
            .lines()
            .any(|l| l.starts_with(&format!("# HELP {name} ")));
        assert!(help, "no HELP line for {name}");
    }
    assert!(
        text.contains("# HELP tile38_pid \n"),
        "empty help keeps its space"
    );
    assert!(text.contains("# HELP tile38_collections Total number of collections\n"));
}

/// The gauges and info labels after the traffic of
/// `every_tile38_family_with_its_type_and_labels`.
fn assert_gauges_and_info(s: &Scrape, pid: u32) {
    let fleet = [("col", "fleet")];
    assert_eq!(value(s, "tile38_collection_objects", &fleet), Some(3.0));
    assert_eq!(value(s, "tile38_collection_points", &fleet), Some(2.0));
    assert_eq!(value(s, "tile38_collection_strings", &fleet), Some(1.0));
    assert_eq!(
        value(s, "tile38_collection_points", &[("col", "zones")]),
        Some(5.0)
    );
    assert!(value(s, "tile38_collection_weight_bytes", &fleet).unwrap() > 0.0);
    assert_eq!(value(s, "tile38_collections", &[]), Some(2.0));
    assert_eq!(value(s, "tile38_hooks", &[]), Some(1.0));
    assert_eq!(value(s, "tile38_pid", &[]), Some(f64::from(pid)));
    assert_eq!(value(s, "tile38_connected_clients", &[]), Some(1.0));
    let leader = [("role", "leader"), ("following", ""), ("caught_up", "")];
    assert_eq!(value(s, "tile38_replication_info", &leader), Some(1.0));
    let info = s
        .samples
        .iter()
        .find(|x| x.metric == "tile38_server_info")
        .unwrap();
    assert_eq!(info.labels.get("version"), Some("1.37.0"));
    assert_eq!(info.labels.get("id").map(str::len), Some(32));
}

/// The command summary: its quantiles, and `_count`/`_sum` per command.
fn assert_cmd_summary(s: &Scrape) {
    let set = s
        .samples
        .iter()
        .find(|x| x.metric == "tile38_cmd_duration_seconds" && x.labels.get("cmd") == Some("set"))
        .expect("set summary");
    let Value::Summary(qs) = &set.value else {
        panic!("not a summary: {:?}", set.value)
    };
    let quantiles: Vec<f64> = qs.iter().map(|q| q.quantile).collect();
    assert_eq!(quantiles, [0.5, 0.9, 0.95, 0.99]);
    assert!(qs.iter().all(|q| q.count > 0.0 && q.count < 1.0));
    let badcmd = [("cmd", "badcmd")];
    assert_eq!(
        value(s, "tile38_cmd_duration_seconds_count", &badcmd),
        Some(1.0)
    );
    assert!(value(s, "tile38_cmd_duration_seconds_sum", &[("cmd", "set")]).unwrap() > 0.0);
}

/// Extras beyond Tile38; the follower-only ones are absent on a leader.
fn assert_extras(text: &str, s: &Scrape) {
    for name in [
        "tile38_connected_slaves",
        "tile38_aof_rewrite_in_progress",
        "tile38_aof_rewrite_duration_seconds",
        "process_resident_memory_bytes",
        "process_start_time_seconds",
        "process_open_fds",
    ] {
        assert!(value(s, name, &[]).is_some(), "missing extra {name}");
    }
    assert!(value(s, "process_resident_memory_bytes", &[]).unwrap() > 1e6);
    assert!(!text.contains("tile38_replication_lag_seconds"));
}

#[test]
fn every_tile38_family_with_its_type_and_labels() {
    let (server, port) = start();
    let mut c = server.resp();
    c.cmd(&[
        "SET", "fleet", "truck1", "FIELD", "speed", "10", "POINT", "33", "-112",
    ]);
    c.cmd(&["SET", "fleet", "truck2", "POINT", "33.1", "-112.1"]);
    c.cmd(&["SET", "fleet", "truck3", "STRING", "hello"]);
    let ring = r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}"#;
    c.cmd(&["SET", "zones", "z1", "OBJECT", ring]);
    c.cmd(&[
        "SETCHAN", "ch1", "NEARBY", "fleet", "FENCE", "POINT", "33", "-112", "1000",
    ]);
    c.cmd(&["BADCMD"]);

    let r = get(port, "GET", "/metrics", "");
    assert_eq!(r.status, "HTTP/1.1 200 OK");
    assert_eq!(
        r.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8; escaping=underscores")
    );
    let (text, s) = scrape(port);
    assert_types_and_help(&text);
    assert_gauges_and_info(&s, server.pid());
    assert_cmd_summary(&s);
    assert_extras(&text, &s);
}

#[test]
fn counters_and_collection_gauges_follow_the_traffic() {
    let (server, port) = start();
    let mut c = server.resp();
    c.cmd(&["SET", "a", "x", "POINT", "1", "2"]);
    let before = set_count(port);
    assert_eq!(before, 1.0);
    for i in 0..25 {
        c.cmd(&["SET", "b", &format!("id{i}"), "POINT", "1", "2"]);
    }
    // Pipelined: one batch, one hand-over to the registry.
    let mut batch = Vec::new();
    for i in 0..50 {
        batch.extend(tile38::resp_cmd(&[
            "SET",
            "b",
            &format!("p{i}"),
            "POINT",
            "3",
            "4",
        ]));
    }
    c.send(&batch);
    for _ in 0..50 {
        c.read();
    }
    assert_eq!(set_count(port), 76.0);
    let (_, s) = scrape(port);
    assert_eq!(
        value(&s, "tile38_collection_objects", &[("col", "b")]),
        Some(75.0)
    );
    c.cmd(&["DROP", "a"]);
    let (text, s) = scrape(port);
    assert!(
        !text.contains("col=\"a\""),
        "a dropped key leaves the output"
    );
    assert_eq!(value(&s, "tile38_collections", &[]), Some(1.0));
    // HTTP commands on the main port are timed too.
    let mut h = TcpStream::connect(server.addr()).unwrap();
    h.write_all(b"GET /HEALTHZ HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 512];
    let n = h.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).contains("\"ok\":true"));
    let healthz = || {
        let (_, s) = scrape(port);
        value(
            &s,
            "tile38_cmd_duration_seconds_count",
            &[("cmd", "healthz")],
        ) == Some(1.0)
    };
    assert!(wait_until(Duration::from_secs(5), healthz));
}

#[test]
fn other_paths_get_the_index_page_and_metrics_speak_http() {
    let (_server, port) = start();
    for path in ["/", "/nope", "/metrics/x"] {
        let r = get(port, "GET", path, "");
        assert_eq!(r.status, "HTTP/1.1 200 OK", "{path}");
        assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
        assert_eq!(r.body.len(), 130);
        assert!(r.text().contains("<title>Tile38 1.37.0</title>"));
    }
    let post = get(port, "POST", "/metrics", "Content-Length: 0\r\n");
    assert!(post.text().contains("# TYPE tile38_pid gauge"));
    let gz = get(port, "GET", "/metrics", "Accept-Encoding: gzip\r\n");
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert!(gz.text().contains("# TYPE tile38_pid gauge"));
    // Two requests on one connection: keep-alive, then close.
    let both = http_raw(
        port,
        "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(both.len(), 2);
    assert!(both[0].text().contains("tile38_server_info"));
    assert_eq!(both[1].body.len(), 130);
}

#[test]
fn an_address_that_cannot_be_bound_exits_1() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = temp_dir("metrics-bind");
    let mut child = Command::new(bin_path("tile38-server"))
        .args(["-h", "127.0.0.1", "-p", "0", "-q", "-d"])
        .arg(&dir)
        .args(["--metrics-addr", &addr])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut status = None;
    let exited = wait_until(Duration::from_secs(10), || {
        status = child.try_wait().expect("try_wait");
        status.is_some()
    });
    if !exited {
        let _ = child.kill();
    }
    assert!(exited, "server kept running with its metrics address taken");
    assert_eq!(status.and_then(|s| s.code()), Some(1));
    drop(taken);
    let _ = std::fs::remove_dir_all(dir);
}
