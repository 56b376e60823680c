//! SETHOOK on the real `tile38-server`, one test per webhook endpoint kind
//! (issue 15): HTTP, HTTPS (a private CA trusted through `SSL_CERT_FILE`),
//! Redis PUBLISH, NATS, MQTT, AMQP and gRPC (`hservice.HookService/Send`).
//! Each starts the real broker or receiver on an ephemeral loopback port
//! (the helpers of `crates/webhook/tests/common`, shared through `#[path]`),
//! subscribes a real client, defines a hook on the box fence of the
//! recorded case `chan_detect_cross`, moves one object in, inside, out and
//! straight across the box, and checks the JSON events the client got:
//! `enter`, `inside`, `inside`, `exit`, `cross`, in order, with their hook,
//! key, id, command, object, time and group (one group until the cross,
//! which starts a new one). A missing broker binary is SKIPPED locally and
//! fails under CI, as in `crates/webhook/tests`.

#[allow(dead_code)]
#[path = "../crates/webhook/tests/common/brokers.rs"]
mod brokers;
#[allow(dead_code)]
#[path = "../crates/webhook/tests/common/receiver.rs"]
mod receiver;

use std::time::Duration;

use brokers::{have, Got};
use receiver::Receiver;
use serde_json::Value as Json;
use tile38::{resp_strings, temp_dir, wait_until, Resp, TestServer};

const LIMIT: Duration = Duration::from_secs(60);

const HOOK: &str = "fleethook";

/// The hook's fence after its name and endpoint: the box of
/// `chan_detect_cross` with the four detections a move can show.
const FENCE: &str = "WITHIN fleet FENCE DETECT enter,inside,exit,cross BOUNDS 0 0 10 10";

/// The truck's positions (lat, lon) and the events each SET makes. The
/// first, a new object outside, is `outside`, which the hook does not
/// detect; the last jumps from east of the box to west of it, so the line
/// between the two positions crosses it.
const MOVES: [(&str, &str, &[&str]); 5] = [
    ("20", "20", &[]),
    ("5", "5", &["enter", "inside"]),
    ("6", "6", &["inside"]),
    ("20", "5", &["exit"]),
    ("-10", "5", &["cross"]),
];

/// How many events [`MOVES`] makes.
const EVENTS: usize = 5;

/// SERVER's `pending_events`: events queued and not yet delivered.
fn pending_events(c: &mut Resp) -> i64 {
    let fields = resp_strings(&c.cmd(&["SERVER"]));
    let at = fields.iter().position(|f| f == "pending_events").unwrap();
    fields[at + 1].parse().unwrap()
}

/// Defines the hook with endpoint `url` on `srv` and drives the truck
/// through [`MOVES`]; returns once every event was queued.
fn define_and_move(srv: &TestServer, url: &str) -> Resp {
    let mut c = srv.resp();
    let mut sethook = vec!["SETHOOK", HOOK, url];
    sethook.extend(FENCE.split(' '));
    assert_eq!(c.cmd(&sethook), b":1\r\n", "SETHOOK {url}");
    for (lat, lon, _) in MOVES {
        let reply = c.cmd(&["SET", "fleet", "truck", "POINT", lat, lon]);
        assert_eq!(reply, b"+OK\r\n");
    }
    c
}

/// Waits until the server delivered every queued event and `count` (what
/// the receiver has) reached [`EVENTS`].
fn wait_delivered(c: &mut Resp, kind: &str, count: impl Fn() -> usize) {
    let done = wait_until(LIMIT, || pending_events(c) == 0 && count() >= EVENTS);
    assert!(
        done,
        "{kind}: {} events received, {} pending",
        count(),
        pending_events(c)
    );
}

/// Checks the received event bodies against [`MOVES`].
fn check_events(kind: &str, bodies: &[String]) {
    let events: Vec<Json> = bodies
        .iter()
        .map(|b| serde_json::from_str(b).unwrap_or_else(|e| panic!("{kind}: {e}: {b}")))
        .collect();
    let expected: Vec<(&str, [f64; 2])> = MOVES
        .iter()
        .flat_map(|(lat, lon, detects)| {
            let at = [lon.parse().unwrap(), lat.parse().unwrap()];
            detects.iter().map(move |d| (*d, at))
        })
        .collect();
    let got: Vec<(&str, [f64; 2])> = events
        .iter()
        .map(|e| {
            let xy = &e["object"]["coordinates"];
            let detect = e["detect"].as_str().unwrap_or("?");
            (detect, [xy[0].as_f64().unwrap(), xy[1].as_f64().unwrap()])
        })
        .collect();
    assert_eq!(got, expected, "{kind}: detect and position, in order");
    for e in &events {
        assert_eq!(e["hook"], HOOK, "{kind}: {e}");
        assert_eq!(e["key"], "fleet", "{kind}: {e}");
        assert_eq!(e["id"], "truck", "{kind}: {e}");
        assert_eq!(e["command"], "set", "{kind}: {e}");
        assert_eq!(e["object"]["type"], "Point", "{kind}: {e}");
        assert!(
            e["time"].as_str().is_some_and(|t| !t.is_empty()),
            "{kind}: {e}"
        );
        let group = e["group"].as_str().unwrap_or("");
        assert!(
            group.len() == 24 && group.bytes().all(|b| b.is_ascii_hexdigit()),
            "{kind}: group {e}"
        );
    }
    let group = |i: usize| events[i]["group"].as_str().unwrap();
    assert!(
        (1..4).all(|i| group(i) == group(0)),
        "{kind}: one group until the cross"
    );
    assert_ne!(group(4), group(0), "{kind}: the cross starts a new group");
}

/// The whole run, on a new server, for a subscriber that collects bodies
/// into `got`.
fn run(kind: &str, url: &str, got: &Got) {
    let srv = TestServer::start(&[]);
    let mut c = define_and_move(&srv, url);
    wait_delivered(&mut c, kind, || got.lock().len());
    check_events(kind, &got.lock());
}

/// The run against an HTTP(S) receiver: events are POSTed as JSON to the
/// endpoint's path.
fn run_http(srv: &TestServer, kind: &str, url: &str, recv: &Receiver) {
    let mut c = define_and_move(srv, url);
    wait_delivered(&mut c, kind, || recv.count("/fleet"));
    let requests = recv.requests();
    for r in &requests {
        let ct = r
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-type"));
        assert_eq!(
            ct.map(|(_, v)| v.as_str()),
            Some("application/json"),
            "{kind}"
        );
    }
    assert_eq!(requests.len(), EVENTS, "{kind}: only the hook's POSTs");
    check_events(kind, &recv.bodies("/fleet"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_endpoint() {
    let recv = Receiver::start(0).await;
    let srv = TestServer::start(&[]);
    run_http(&srv, "http", &recv.url("/fleet"), &recv);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_endpoint_with_a_private_ca_from_ssl_cert_file() {
    if !have("openssl") {
        return;
    }
    let dir = temp_dir("tls");
    let (tls, ca) = receiver::tls_setup(&dir);
    let recv = Receiver::start_tls(tls).await;
    let srv = TestServer::start_with_env(&[("SSL_CERT_FILE", ca.to_str().unwrap())], &[]);
    let url = format!("https://localhost:{}/fleet", recv.port);
    run_http(&srv, "https", &url, &recv);
    let _ = std::fs::remove_dir_all(&dir);
}

/// An unreadable `SSL_CERT_FILE` is logged; the server starts anyway (as
/// Tile38 does) with the bundled roots.
#[test]
fn an_unreadable_ssl_cert_file_is_logged_and_left_out() {
    let pid = std::process::id();
    let missing = std::env::temp_dir().join(format!("t38-{pid}-missing.pem"));
    let srv = TestServer::start_with_env(&[("SSL_CERT_FILE", missing.to_str().unwrap())], &[]);
    let logged = || {
        srv.logs()
            .iter()
            .any(|l| l.contains("SSL_CERT_FILE") && l.contains("missing.pem"))
    };
    assert!(
        wait_until(Duration::from_secs(10), logged),
        "{:?}",
        srv.logs()
    );
    assert_eq!(srv.resp().cmd(&["PING"]), b"+PONG\r\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_endpoint() {
    let Some((_broker, port)) = brokers::start_redis().await else {
        return;
    };
    let got = brokers::redis_subscriber(port, "fleet events");
    run(
        "redis",
        &format!("redis://127.0.0.1:{port}/fleet%20events"),
        &got,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_endpoint() {
    let Some((_broker, port)) = brokers::start_nats().await else {
        return;
    };
    let got = brokers::nats_subscriber(port, "fleet.events").await;
    run(
        "nats",
        &format!("nats://127.0.0.1:{port}/fleet.events"),
        &got,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_endpoint() {
    let Some((_broker, port)) = brokers::start_mosquitto().await else {
        return;
    };
    let (_sub, got) = brokers::mqtt_subscriber(port, "fleet/events").await;
    run(
        "mqtt",
        &format!("mqtt://127.0.0.1:{port}/fleet/events?qos=1"),
        &got,
    );
}

/// The queue the server declares holds the events: read once every event
/// was delivered (the broker confirmed it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqp_endpoint() {
    let dir = temp_dir("rabbitmq");
    let Some((broker, port)) = brokers::start_rabbitmq(&dir).await else {
        let _ = std::fs::remove_dir_all(&dir);
        return;
    };
    let srv = TestServer::start(&[]);
    let url = format!("amqp://guest:guest@127.0.0.1:{port}/fleetq?route=geo");
    let mut c = define_and_move(&srv, &url);
    wait_delivered(&mut c, "amqp", || EVENTS);
    let mut bodies = Vec::new();
    for m in brokers::amqp_take_all(port, "fleetq").await {
        assert_eq!(m.delivery.exchange.as_str(), "fleetq");
        assert_eq!(m.delivery.routing_key.as_str(), "geo");
        bodies.push(String::from_utf8_lossy(&m.delivery.data).into_owned());
    }
    check_events("amqp", &bodies);
    drop(broker);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_endpoint() {
    let (port, got) = brokers::grpc_server(true).await;
    run("grpc", &format!("grpc://127.0.0.1:{port}"), &got);
}
