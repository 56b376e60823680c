//! Wire-protocol tests over raw TCP: RESP pipelining, telnet/inline lines
//! (quoting rules), Tile38 native `$n payload` framing, protocol errors and
//! size limits, `OUTPUT json` on a RESP connection, `QUIT`, and
//! concurrency (slow readers, idle and half-sent requests, 200 parallel
//! clients). HTTP and WebSocket live in `protocol_http.rs`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use serde_json::Value;
use tile38::{exchange, resp_cmd, Resp, TestServer};

/// Reads until the peer closes (or 10 s pass) and reports whether it closed.
fn read_to_close(s: &mut TcpStream) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (out, true),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return (out, true),
            Err(_) => return (out, false),
        }
    }
}

/// Parses a JSON reply, checks `elapsed` is the last member and a string,
/// and returns the object without it.
fn json_without_elapsed(text: &str) -> Value {
    let mut v: Value =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("bad JSON {text:?}: {e}"));
    let obj = v.as_object_mut().expect("JSON object");
    assert_eq!(
        obj.keys().next_back().map(String::as_str),
        Some("elapsed"),
        "elapsed must be last: {text}"
    );
    assert!(
        obj.remove("elapsed").unwrap().is_string(),
        "elapsed must be a string: {text}"
    );
    v
}

/// Reads one native-framed reply `$<n> <json>\r\n` (n = JSON byte length).
fn read_native(r: &mut BufReader<TcpStream>) -> Value {
    let mut head = Vec::new();
    r.read_until(b' ', &mut head).unwrap();
    assert_eq!(
        head[0],
        b'$',
        "native reply starts with '$': {:?}",
        String::from_utf8_lossy(&head)
    );
    let n: usize = std::str::from_utf8(&head[1..head.len() - 1])
        .unwrap()
        .parse()
        .expect("length");
    let mut payload = vec![0u8; n + 2];
    r.read_exact(&mut payload).unwrap();
    assert_eq!(&payload[n..], b"\r\n", "CRLF after payload");
    json_without_elapsed(std::str::from_utf8(&payload[..n]).unwrap())
}

/// Splits one RESP bulk string off the front of `buf`.
fn take_bulk<'a>(buf: &mut &'a [u8]) -> &'a str {
    let nl = buf.iter().position(|&b| b == b'\n').unwrap();
    assert_eq!(
        buf[0],
        b'$',
        "bulk expected: {:?}",
        String::from_utf8_lossy(buf)
    );
    let n: usize = std::str::from_utf8(&buf[1..nl - 1])
        .unwrap()
        .parse()
        .unwrap();
    let body = std::str::from_utf8(&buf[nl + 1..nl + 1 + n]).expect("utf-8 body");
    assert_eq!(&buf[nl + 1 + n..nl + 3 + n], b"\r\n");
    *buf = &buf[nl + 3 + n..];
    body
}

#[test]
fn resp_pipeline_of_100_sets_and_gets_replies_in_order() {
    let srv = TestServer::start(&[]);
    let mut req = Vec::new();
    let mut want = Vec::new();
    for i in 0..100 {
        let (id, lat, lon) = (
            format!("truck{i}"),
            format!("{}.5", i % 90),
            format!("-{i}"),
        );
        req.extend(resp_cmd(&["SET", "fleet", &id, "POINT", &lat, &lon]));
        req.extend(resp_cmd(&["GET", "fleet", &id]));
        want.extend_from_slice(b"+OK\r\n");
        let obj = format!(r#"{{"type":"Point","coordinates":[{lon},{lat}]}}"#);
        want.extend(format!("${}\r\n{obj}\r\n", obj.len()).into_bytes());
    }
    let mut s = srv.raw();
    let got = exchange(&mut s, &req, want.len());
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&want)
    );
    // Nothing extra follows, and the connection is still usable.
    assert_eq!(exchange(&mut s, b"*1\r\n$4\r\nPING\r\n", 7), b"+PONG\r\n");
}

#[test]
fn resp_empty_multibulk_is_ignored() {
    let srv = TestServer::start(&[]);
    let mut s = srv.raw();
    assert_eq!(
        exchange(&mut s, b"*0\r\n*1\r\n$4\r\nPING\r\n", 7),
        b"+PONG\r\n"
    );
}

#[test]
fn telnet_lines_with_quotes_get_resp_replies() {
    let srv = TestServer::start(&[]);
    let mut s = srv.raw();
    let cases: &[(&[u8], &[u8])] = &[
        (
            b"SET k \"a b\" STRING \"x y\"\r\nGET k \"a b\"\r\n",
            b"+OK\r\n$3\r\nx y\r\n",
        ),
        (
            b"SET k 'c d' STRING 'v w'\r\nGET k 'c d'\r\n",
            b"+OK\r\n$3\r\nv w\r\n",
        ),
        (b"ECHO \"tab\\there\"\r\n", b"$8\r\ntab\there\r\n"),
        (b"ECHO    spaced   \r\n", b"$6\r\nspaced\r\n"),
        (b"\r\nPING\r\n", b"+PONG\r\n"),
        // A telnet `GET …` line is not HTTP: no ` HTTP/x.y` suffix.
        (b"GET k \"a b\"\r\n", b"$3\r\nx y\r\n"),
        (b"SET fleet truck1 POINT 33 -112\n", b"+OK\r\n"),
    ];
    for (send, want) in cases {
        let got = exchange(&mut s, send, want.len());
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(want),
            "for {:?}",
            String::from_utf8_lossy(send)
        );
    }
}

#[test]
fn telnet_unbalanced_quotes_is_a_protocol_error() {
    let srv = TestServer::start(&[]);
    // After a processed command: error reply, then close.
    let mut s = srv.raw();
    s.write_all(b"PING\r\nPING \"unbalanced\r\n").unwrap();
    let (got, closed) = read_to_close(&mut s);
    assert_eq!(
        String::from_utf8_lossy(&got),
        "+PONG\r\n-Protocol error: unbalanced quotes in request\r\n"
    );
    assert!(closed);
    // As the very first message: closed without a reply.
    let mut s = srv.raw();
    s.write_all(b"ECHO \"x\"y\r\n").unwrap();
    assert_eq!(read_to_close(&mut s), (vec![], true));
}

#[test]
fn native_framing_replies_with_length_prefixed_json() {
    let srv = TestServer::start(&[]);
    let mut s = BufReader::new(srv.raw());
    s.get_mut().write_all(b"$17 SET k i POINT 1 2\r\n").unwrap();
    assert_eq!(read_native(&mut s), serde_json::json!({"ok": true}));

    // A `{` token swallows the rest of the line (GeoJSON with spaces).
    let set = r#"SET k j OBJECT {"type": "Point", "coordinates": [5, 6]}"#;
    let mut req = format!("${} {set}\r\n", set.len()).into_bytes();
    req.extend_from_slice(b"$7 GET k i\r\n$7 GET k j\r\n$9 GET k nah\r\n$4 PING\r\n");
    s.get_mut().write_all(&req).unwrap();
    assert_eq!(read_native(&mut s), serde_json::json!({"ok": true}));
    for want in [
        r#"{"ok":true,"object":{"type":"Point","coordinates":[2,1]}}"#,
        r#"{"ok":true,"object":{"type":"Point","coordinates":[5,6]}}"#,
        r#"{"ok":false,"err":"id not found"}"#,
        r#"{"ok":true,"ping":"pong"}"#,
    ] {
        assert_eq!(read_native(&mut s).to_string(), want);
    }
}

#[test]
fn protocol_errors_reply_then_close() {
    let srv = TestServer::start(&[]);
    let cases: &[(&[u8], &str)] = &[
        (
            b"*1\r\n$4\r\nPING\r\n*1\r\n$x\r\nPING\r\n",
            "+PONG\r\n-Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$4\r\nPING\r\n*x\r\n",
            "+PONG\r\n-Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\n$4\r\nPING\r\n*1\r\n+PING\r\n",
            "+PONG\r\n-Protocol error: expected '$', got '+'\r\n",
        ),
        // Tile38 waits for more bytes here (docs/compatibility.md).
        (
            b"*1\r\n$4\r\nPING\r\n*1\r\n$-1\r\n",
            "+PONG\r\n-Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$4\r\nPING\r\n$4PING\r\n",
            "+PONG\r\n-Protocol error: invalid message\r\n",
        ),
        // Nothing processed yet: closed without a reply.
        (b"*1\r\n+PING\r\n", ""),
        (b"*-1\r\n*1\r\n$4\r\nPING\r\n", ""),
    ];
    for (send, want) in cases {
        let mut s = srv.raw();
        s.write_all(send).unwrap();
        let (got, closed) = read_to_close(&mut s);
        assert_eq!(
            String::from_utf8_lossy(&got),
            *want,
            "for {:?}",
            String::from_utf8_lossy(send)
        );
        assert!(
            closed,
            "connection must be closed after {:?}",
            String::from_utf8_lossy(send)
        );
    }
}

#[test]
fn protocol_error_in_json_mode_is_a_json_bulk() {
    let srv = TestServer::start(&[]);
    let mut s = srv.raw();
    s.write_all(b"OUTPUT json\r\n*1\r\n$4\r\nPING\r\n*x\r\n")
        .unwrap();
    let (got, closed) = read_to_close(&mut s);
    assert!(closed);
    let mut r = got.as_slice();
    assert_eq!(
        json_without_elapsed(take_bulk(&mut r)),
        serde_json::json!({"ok": true})
    );
    assert_eq!(
        json_without_elapsed(take_bulk(&mut r)),
        serde_json::json!({"ok": true, "ping": "pong"})
    );
    assert_eq!(
        take_bulk(&mut r),
        r#"{"ok":false,"err":"Protocol error: invalid multibulk length"}"#
    );
    assert!(r.is_empty());
}

#[test]
fn oversize_lengths_are_rejected_without_waiting_for_data() {
    let srv = TestServer::start(&[]);
    for (send, err) in [
        (&b"*1\r\n$999999999999\r\n"[..], "invalid bulk length"),
        (&b"*99999999999\r\n"[..], "invalid multibulk length"),
    ] {
        let t0 = Instant::now();
        let mut s = srv.raw();
        let mut req = b"*1\r\n$4\r\nPING\r\n".to_vec();
        req.extend_from_slice(send);
        s.write_all(&req).unwrap();
        let (got, closed) = read_to_close(&mut s);
        assert_eq!(
            String::from_utf8_lossy(&got),
            format!("+PONG\r\n-Protocol error: {err}\r\n")
        );
        assert!(closed && t0.elapsed() < Duration::from_secs(5));
        // As the first message the connection is just closed.
        let mut s = srv.raw();
        s.write_all(send).unwrap();
        assert_eq!(read_to_close(&mut s), (vec![], true));
    }
    // The server is unaffected.
    assert_eq!(srv.resp().cmd(&["PING"]), b"+PONG\r\n");
}

#[test]
fn one_mib_string_value_round_trips() {
    let srv = TestServer::start(&[]);
    let value: String = (0..1 << 20)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    let mut c = srv.resp();
    assert_eq!(c.cmd(&["SET", "big", "s", "STRING", &value]), b"+OK\r\n");
    let got = c.cmd(&["GET", "big", "s"]);
    let want = format!("$1048576\r\n{value}\r\n");
    assert!(
        got == want.as_bytes(),
        "1 MiB value differs (got {} bytes)",
        got.len()
    );
    // And through the redis crate.
    let v: String = redis::cmd("GET")
        .arg("big")
        .arg("s")
        .query(&mut srv.redis())
        .unwrap();
    assert_eq!(v.len(), value.len());
    assert!(v == value);
}

#[test]
fn output_json_turns_resp_replies_into_json_bulks() {
    let srv = TestServer::start(&[]);
    let mut c = srv.resp();
    let mut check = |args: &[&str], want: &str| {
        let raw = c.cmd(args);
        let mut r = raw.as_slice();
        let body = take_bulk(&mut r);
        assert!(r.is_empty(), "exactly one bulk for {args:?}");
        assert_eq!(json_without_elapsed(body).to_string(), want, "for {args:?}");
    };
    check(&["OUTPUT", "json"], r#"{"ok":true}"#);
    check(&["PING"], r#"{"ok":true,"ping":"pong"}"#);
    check(
        &["SET", "fleet", "t1", "POINT", "33", "-112"],
        r#"{"ok":true}"#,
    );
    check(
        &["GET", "fleet", "t1", "POINT"],
        r#"{"ok":true,"point":{"lat":33,"lon":-112}}"#,
    );
    check(
        &["GET", "fleet", "nope"],
        r#"{"ok":false,"err":"id not found"}"#,
    );
    check(
        &["GET", "fleet"],
        r#"{"ok":false,"err":"invalid number of arguments"}"#,
    );
    check(
        &["NOSUCH"],
        r#"{"ok":false,"err":"unknown command 'NOSUCH'"}"#,
    );
    // The bare OUTPUT reply in JSON mode has an unquoted elapsed (Tile38 quirk).
    let raw = String::from_utf8(c.cmd(&["OUTPUT"])).unwrap();
    assert!(
        raw.contains(r#"{"ok":true,"output":"json","elapsed":"#),
        "{raw}"
    );
    assert!(
        !raw.contains(r#""elapsed":""#),
        "elapsed is unquoted: {raw}"
    );
    // Back to RESP.
    assert_eq!(c.cmd(&["OUTPUT", "resp"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
    assert_eq!(c.cmd(&["OUTPUT"]), b"$4\r\nresp\r\n");
    assert_eq!(
        c.cmd(&["OUTPUT", "yaml"]),
        b"-ERR invalid argument 'yaml'\r\n"
    );
}

#[test]
fn quit_replies_ok_then_closes() {
    let srv = TestServer::start(&[]);
    for send in [
        &b"*1\r\n$4\r\nQUIT\r\n"[..],
        b"QUIT\r\n",
        b"PING\r\nQUIT\r\nPING\r\n",
    ] {
        let mut s = srv.raw();
        s.write_all(send).unwrap();
        let (got, closed) = read_to_close(&mut s);
        let want = if send.starts_with(b"PING") {
            "+PONG\r\n+OK\r\n"
        } else {
            "+OK\r\n"
        };
        assert_eq!(String::from_utf8_lossy(&got), want);
        assert!(closed);
    }
    // In JSON mode QUIT writes nothing before closing.
    let mut s = srv.raw();
    s.write_all(b"OUTPUT json\r\n").unwrap();
    let mut r = Resp::new(s.try_clone().unwrap());
    r.read();
    s.write_all(b"QUIT\r\n").unwrap();
    assert_eq!(read_to_close(&mut s), (vec![], true));
}

#[test]
fn slow_reader_does_not_block_other_clients() {
    let srv = TestServer::start(&[]);
    let value = "x".repeat(100_000);
    let mut c = srv.resp();
    assert_eq!(c.cmd(&["SET", "big", "obj", "STRING", &value]), b"+OK\r\n");
    // 1000 GETs = ~100 MB of replies that are never read.
    let mut slow = srv.raw();
    let req: Vec<u8> = (0..1000)
        .flat_map(|_| resp_cmd(&["GET", "big", "obj"]))
        .collect();
    slow.write_all(&req).unwrap();
    // Another client keeps being served, including writes (exclusive lock).
    let (tx, rx) = std::sync::mpsc::channel();
    let addr = srv.addr();
    std::thread::spawn(move || {
        let mut o = Resp::new(TcpStream::connect(addr).unwrap());
        let r = (
            o.cmd(&["PING"]),
            o.cmd(&["SET", "k", "a", "POINT", "1", "2"]),
            o.cmd(&["GET", "k", "a", "POINT"]),
        );
        let _ = tx.send(r);
    });
    let (ping, set, get) = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("other client was blocked");
    assert_eq!(ping, b"+PONG\r\n");
    assert_eq!(set, b"+OK\r\n");
    assert_eq!(get, b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
    // The slow client eventually gets its replies intact.
    let mut r = Resp::new(slow);
    for _ in 0..3 {
        assert_eq!(r.read().len(), value.len() + "$100000\r\n\r\n".len());
    }
}

#[test]
fn idle_and_half_sent_connections_do_not_block_others() {
    let srv = TestServer::start(&[]);
    let _idle = srv.raw();
    let mut half = srv.raw();
    half.write_all(b"*6\r\n$3\r\nSET\r\n$5\r\nfleet\r\n$2\r\nt1")
        .unwrap();
    let mut telnet_half = srv.raw();
    telnet_half.write_all(b"SET fleet t2 POI").unwrap();
    let mut c = srv.resp();
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
    assert_eq!(
        c.cmd(&["SET", "fleet", "t3", "POINT", "1", "2"]),
        b"+OK\r\n"
    );
    assert_eq!(
        c.cmd(&["SCAN", "fleet", "IDS"]),
        b"*2\r\n:0\r\n*1\r\n$2\r\nt3\r\n"
    );
    // Completing the half-sent requests executes them.
    assert_eq!(
        exchange(&mut half, b"\r\n$5\r\nPOINT\r\n$1\r\n1\r\n$1\r\n2\r\n", 5),
        b"+OK\r\n"
    );
    assert_eq!(exchange(&mut telnet_half, b"NT 1 2\r\n", 5), b"+OK\r\n");
    assert_eq!(c.cmd(&["SCAN", "fleet", "COUNT"]), b":3\r\n");
}

#[test]
fn two_hundred_concurrent_clients() {
    let srv = TestServer::start(&[]);
    let n = 200;
    let barrier = Arc::new(Barrier::new(n));
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let (addr, barrier) = (srv.addr(), barrier.clone());
            std::thread::spawn(move || {
                let s = TcpStream::connect(addr).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                let mut c = Resp::new(s);
                barrier.wait(); // all 200 connected at once
                let id = format!("c{i}");
                for round in 0..5 {
                    let lat = format!("{}", i % 80);
                    let lon = format!("{round}");
                    assert_eq!(
                        c.cmd(&["SET", "fleet", &id, "FIELD", "round", &lon, "POINT", &lat, &lon]),
                        b"+OK\r\n"
                    );
                    let want = format!("*2\r\n${}\r\n{lat}\r\n$1\r\n{lon}\r\n", lat.len());
                    assert_eq!(
                        String::from_utf8(c.cmd(&["GET", "fleet", &id, "POINT"])).unwrap(),
                        want
                    );
                }
                assert_eq!(c.cmd(&["FGET", "fleet", &id, "round"]), b"$1\r\n4\r\n");
            })
        })
        .collect();
    for t in threads {
        t.join().expect("client thread failed");
    }
    assert_eq!(srv.resp().cmd(&["SCAN", "fleet", "COUNT"]), b":200\r\n");
}
