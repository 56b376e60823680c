//! Plain pub/sub on the real server: the recorded Tile38 1.37 delivery
//! cases (`tests/data/conformance/fence.jsonl`, replayed by
//! `tools/conformance/fence_replay.py`) that need no geofence, and a real
//! Redis client subscribing, in channel and pattern form. Then what
//! Tile38 does not bound but we do: a subscriber that stops reading is
//! disconnected past `client-output-buffer-limit` (logged, counted in
//! `tile38_client_output_limit_disconnects_total`) while PUBLISH keeps
//! being answered at once and the server's memory stays bounded.

use std::io::Read;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use tile38::probe::{free_port, metric, rss};
use tile38::{temp_dir, wait_until, TestServer};

/// The fence-corpus cases about plain pub/sub: (P)(UN)SUBSCRIBE replies,
/// PUBLISH, PING, QUIT and the commands refused in subscription mode.
const PLAIN_CASES: &[&str] = &[
    "subscribe_same_channel_twice",
    "psubscribe_several_patterns",
    "psubscribe_overlapping_patterns",
    "subscribe_and_psubscribe_same_connection",
    "unsubscribe_replies",
    "punsubscribe_replies",
    "unsubscribe_ping_json",
    "publish_messages_json",
    "ping_in_subscription",
    "subscribe_disallowed_commands",
];

#[test]
fn recorded_plain_pubsub_cases() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let corpus = std::fs::read_to_string(root.join("tests/data/conformance/fence.jsonl")).unwrap();
    let kept: Vec<&str> = corpus
        .lines()
        .filter(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("corpus line is JSON");
            PLAIN_CASES.contains(&v["name"].as_str().unwrap_or(""))
        })
        .collect();
    assert_eq!(kept.len(), PLAIN_CASES.len(), "a listed case is missing");
    let dir = temp_dir("pubsub-cases");
    let file = dir.join("plain.jsonl");
    std::fs::write(&file, kept.join("\n") + "\n").unwrap();
    let server = TestServer::start(&[]);
    let out = Command::new("python3")
        .arg(root.join("tools/conformance/fence_replay.py"))
        .args(["--port", &server.port.to_string()])
        .arg(&file)
        .output()
        .expect("run python3 fence_replay.py");
    let _ = std::fs::remove_dir_all(&dir);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = report.lines().last().unwrap_or_default();
    assert_eq!(
        summary,
        format!("{} passed, 0 failed", kept.len()),
        "{report}"
    );
}

fn publish(con: &mut redis::Connection, channel: &str, message: &[u8]) -> i64 {
    redis::cmd("PUBLISH")
        .arg(channel)
        .arg(message)
        .query(con)
        .expect("PUBLISH")
}

/// PUBLISH until it reaches `n` receivers (a subscription made on another
/// connection is registered by the time its confirmation is read, but
/// polling keeps the test free of that assumption).
fn wait_receivers(con: &mut redis::Connection, channel: &str, n: i64) {
    let ok = wait_until(Duration::from_secs(10), || {
        publish(con, channel, b"warm-up") == n
    });
    assert!(ok, "{channel} never had {n} receivers");
}

#[test]
fn redis_client_receives_in_order() {
    let server = TestServer::start(&[]);
    let mut sub_con = server.redis();
    let mut pubsub = sub_con.as_pubsub();
    pubsub.subscribe(&["news", "sport"]).unwrap();
    pubsub
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut con = server.redis();
    assert_eq!(publish(&mut con, "news", b"first"), 1);
    assert_eq!(publish(&mut con, "weather", b"nobody"), 0);
    for i in 0..500 {
        let channel = if i % 2 == 0 { "news" } else { "sport" };
        assert_eq!(publish(&mut con, channel, format!("m{i}").as_bytes()), 1);
    }
    let first = pubsub.get_message().unwrap();
    assert_eq!(first.get_channel_name(), "news");
    assert_eq!(first.get_payload::<String>().unwrap(), "first");
    for i in 0..500 {
        let msg = pubsub.get_message().unwrap();
        let channel = if i % 2 == 0 { "news" } else { "sport" };
        assert_eq!(msg.get_channel_name(), channel);
        assert_eq!(msg.get_payload::<String>().unwrap(), format!("m{i}"));
    }
    // A binary payload arrives byte for byte.
    let binary: Vec<u8> = (0..=255).collect();
    publish(&mut con, "news", &binary);
    assert_eq!(
        pubsub.get_message().unwrap().get_payload_bytes(),
        &binary[..]
    );
    pubsub.unsubscribe("news").unwrap();
    assert_eq!(publish(&mut con, "news", b"gone"), 0);
    assert_eq!(publish(&mut con, "sport", b"still"), 1);
    assert_eq!(
        pubsub
            .get_message()
            .unwrap()
            .get_payload::<String>()
            .unwrap(),
        "still"
    );
}

#[test]
fn redis_client_pattern_subscriptions() {
    let server = TestServer::start(&[]);
    let mut sub_con = server.redis();
    let mut pubsub = sub_con.as_pubsub();
    pubsub.psubscribe(&["fleet.*", "truck?"]).unwrap();
    pubsub
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut con = server.redis();
    assert_eq!(publish(&mut con, "fleet.north", b"a"), 1);
    assert_eq!(publish(&mut con, "truck1", b"b"), 1);
    assert_eq!(publish(&mut con, "truck12", b"c"), 0);
    // No character classes in Tile38's patterns.
    assert_eq!(publish(&mut con, "fleet", b"d"), 0);
    let got: Vec<(String, String, String)> = (0..2)
        .map(|_| {
            let m = pubsub.get_message().unwrap();
            (
                m.get_pattern().unwrap(),
                m.get_channel_name().to_string(),
                m.get_payload().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("fleet.*".into(), "fleet.north".into(), "a".into()),
            ("truck?".into(), "truck1".into(), "b".into())
        ]
    );
    pubsub.punsubscribe("truck?").unwrap();
    assert_eq!(publish(&mut con, "truck1", b"e"), 0);
    // A second subscriber on the same pattern counts once more.
    let mut other_con = server.redis();
    let mut other = other_con.as_pubsub();
    other.psubscribe("fleet.*").unwrap();
    wait_receivers(&mut con, "fleet.x", 2);
}

/// `tile38_client_output_limit_disconnects_total` from the metrics
/// endpoint.
fn limit_disconnects(metrics_port: u16) -> Option<f64> {
    metric(metrics_port, "tile38_client_output_limit_disconnects_total")
}

#[test]
fn a_subscriber_that_stops_reading_is_disconnected() {
    let metrics_port = free_port();
    let metrics = format!("127.0.0.1:{metrics_port}");
    let server = TestServer::start(&["--metrics-addr", &metrics]);
    let mut con = server.redis();
    let () = redis::cmd("CONFIG")
        .arg(&["SET", "client-output-buffer-limit", "pubsub 1mb 0 0"][..])
        .query(&mut con)
        .unwrap();
    // Subscribes, reads the confirmation, then never reads again.
    let mut stalled = server.raw();
    std::io::Write::write_all(&mut stalled, b"SUBSCRIBE feed\r\n").unwrap();
    let mut confirmation = [0u8; 64];
    let n = stalled.read(&mut confirmation).unwrap();
    assert!(confirmation[..n].starts_with(b"*3\r\n$9\r\nsubscribe"));
    // A reader on the same channel keeps getting everything.
    let mut reader_con = server.redis();
    let mut reader = reader_con.as_pubsub();
    reader.subscribe("feed").unwrap();
    reader
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    wait_receivers(&mut con, "feed", 2);
    // Only the last warm-up reached both.
    assert_eq!(
        reader.get_message().unwrap().get_payload_bytes(),
        b"warm-up"
    );

    let before = rss(server.pid());
    let payload = vec![b'x'; 64 << 10];
    let (mut peak, mut slowest, mut sent) = (before, Duration::ZERO, 0usize);
    // Far more than the limit plus both sockets' kernel buffers.
    for i in 0..4000 {
        let t = Instant::now();
        let receivers = publish(&mut con, "feed", &payload);
        slowest = slowest.max(t.elapsed());
        sent += 1;
        let msg = reader.get_message().unwrap();
        assert_eq!(msg.get_payload_bytes().len(), payload.len(), "message {i}");
        peak = peak.max(rss(server.pid()));
        if receivers == 1 {
            break;
        }
        assert_eq!(receivers, 2);
    }
    assert!(sent < 4000, "the stalled subscriber was never disconnected");
    assert!(
        slowest < Duration::from_secs(2),
        "a PUBLISH took {slowest:?}"
    );
    let grown = peak.saturating_sub(before);
    println!("disconnected after {sent} messages; slowest PUBLISH {slowest:?}; grew {grown} bytes");
    assert!(grown < 48 << 20, "server grew by {grown} bytes");

    let counted = wait_until(Duration::from_secs(10), || {
        limit_disconnects(metrics_port) == Some(1.0)
    });
    assert!(counted, "metric: {:?}", limit_disconnects(metrics_port));
    let logged = wait_until(Duration::from_secs(10), || {
        server
            .logs()
            .iter()
            .any(|l| l.contains("closed for overcoming of output buffer limits"))
    });
    assert!(logged, "{:?}", server.logs());
    // The stalled client finds its connection closed after what the
    // kernel had buffered.
    stalled
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut sink = vec![0u8; 1 << 20];
    let closed = wait_until(Duration::from_secs(20), || {
        matches!(stalled.read(&mut sink), Ok(0) | Err(_))
    });
    assert!(closed, "the stalled subscriber's socket stayed open");
    assert_eq!(publish(&mut con, "feed", b"after"), 1);
}

/// Reads as many bytes as `want` has and checks they are those.
fn expect(s: &mut TcpStream, want: &[u8]) {
    let mut got = vec![0u8; want.len()];
    s.read_exact(&mut got).expect("read");
    assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(want));
}

/// Reads whatever arrives until `done` holds for it.
fn read_until(s: &mut TcpStream, done: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while !done(&out) {
        let n = s.read(&mut buf).expect("read");
        assert!(n > 0, "closed after {:?}", String::from_utf8_lossy(&out));
        out.extend_from_slice(&buf[..n]);
    }
    out
}

#[test]
fn native_telnet_websocket_and_http_subscribers() {
    let server = TestServer::start(&[]);
    let mut con = server.redis();
    let mut telnet = server.raw();
    std::io::Write::write_all(&mut telnet, b"SUBSCRIBE foo\r\n").unwrap();
    expect(&mut telnet, b"*3\r\n$9\r\nsubscribe\r\n$3\r\nfoo\r\n:1\r\n");
    let mut native = server.raw();
    std::io::Write::write_all(&mut native, b"$13 SUBSCRIBE foo\r\n").unwrap();
    let hello = read_until(&mut native, |b| b.ends_with(b"}\r\n"));
    let text = String::from_utf8_lossy(&hello);
    assert!(text.starts_with('$'), "{text}");
    assert!(text.contains(
        " {\"ok\":true,\"command\":\"subscribe\",\"channel\":\"foo\",\"num\":1,\"elapsed\":\""
    ));
    let mut ws = server.raw();
    std::io::Write::write_all(
        &mut ws,
        b"GET /SUBSCRIBE+foo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    )
    .unwrap();
    let head = read_until(&mut ws, |b| b.ends_with(b"}"));
    let text = String::from_utf8_lossy(&head);
    assert!(
        text.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{text}"
    );
    assert!(text.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\u{fffd}"));
    let mut http = server.raw();
    std::io::Write::write_all(&mut http, b"GET /SUBSCRIBE+foo HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    // The plain HTTP subscriber is counted but sent nothing.
    wait_receivers(&mut con, "foo", 4);
    // Each got one or more warm-ups, depending on when it was counted: a
    // marker all four get ends them, read up to its last byte.
    assert_eq!(publish(&mut con, "foo", b"sync"), 4);
    let ends: [&[u8]; 3] = [b"$4\r\nsync\r\n", b" \"sync\"\r\n", b"\"sync\""];
    for (s, end) in [&mut telnet, &mut native, &mut ws].into_iter().zip(ends) {
        read_until(s, |b| b.ends_with(end));
    }
    assert_eq!(publish(&mut con, "foo", b"hi there"), 4);
    expect(
        &mut telnet,
        b"*3\r\n$7\r\nmessage\r\n$3\r\nfoo\r\n$8\r\nhi there\r\n",
    );
    expect(&mut native, b"$10 \"hi there\"\r\n");
    expect(&mut ws, b"\x81\x0a\"hi there\"");
    http.set_nonblocking(true).unwrap();
    let mut byte = [0u8; 1];
    let nothing = http.read(&mut byte);
    assert!(
        matches!(&nothing, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "{nothing:?}"
    );
    // Gone subscribers are no longer counted.
    drop((ws, http));
    std::io::Write::write_all(&mut telnet, b"QUIT\r\n").unwrap();
    expect(&mut telnet, b"+OK\r\n");
    wait_receivers(&mut con, "foo", 1);
}
