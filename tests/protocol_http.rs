//! HTTP and WebSocket on the main port: exact response header block,
//! JSON bodies, one command per connection, POST bodies appended to the
//! path, URL decoding, CORS pre-flight, HEALTHZ, `Authorization` with
//! requirepass, `--http-transport no`, and the WebSocket upgrade (accept key,
//! unmasked text frames with 7- and 16-bit lengths).

use std::io::{Read, Write};

use serde_json::{json, Value};
use tile38::TestServer;

/// A parsed HTTP response.
struct Http {
    status: String,
    headers: Vec<String>,
    body: Vec<u8>,
}

/// Sends one raw request, reads to EOF and asserts the server closed.
fn http_raw(srv: &TestServer, req: &[u8]) -> Vec<u8> {
    let mut s = srv.raw();
    s.write_all(req).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out)
        .expect("server must close the connection (read_to_end timed out)");
    out
}

fn http(srv: &TestServer, req: &[u8]) -> Http {
    let raw = http_raw(srv, req);
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header terminator");
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut lines = head.split("\r\n").map(str::to_string);
    let status = lines.next().unwrap();
    Http {
        status,
        headers: lines.collect(),
        body: raw[split + 4..].to_vec(),
    }
}

/// Checks the exact Tile38 200 header block and returns the JSON body
/// without `elapsed`.
fn json_ok_response(r: &Http) -> Value {
    assert_eq!(r.status, "HTTP/1.1 200 OK");
    let len = r.body.len();
    assert_eq!(
        r.headers,
        [
            "Connection: close".to_string(),
            "Content-Type: application/json; charset=utf-8".to_string(),
            format!("Content-Length: {len}"),
            "Access-Control-Allow-Origin: *".to_string(),
        ]
    );
    assert!(
        r.body.ends_with(b"\r\n"),
        "body ends with CRLF (counted in Content-Length)"
    );
    strip_elapsed(std::str::from_utf8(&r.body[..len - 2]).unwrap())
}

fn strip_elapsed(text: &str) -> Value {
    let mut v: Value =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("bad JSON {text:?}: {e}"));
    let obj = v.as_object_mut().unwrap();
    assert_eq!(
        obj.keys().next_back().map(String::as_str),
        Some("elapsed"),
        "{text}"
    );
    assert!(obj.remove("elapsed").unwrap().is_string());
    v
}

fn get(srv: &TestServer, path: &str) -> Value {
    json_ok_response(&http(
        srv,
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes(),
    ))
}

#[test]
fn http_get_set_then_get() {
    let srv = TestServer::start(&[]);
    assert_eq!(
        get(&srv, "/SET+fleet+truck1+POINT+33+-112"),
        json!({"ok": true})
    );
    let v = get(&srv, "/GET+fleet+truck1");
    assert_eq!(
        v.to_string(),
        r#"{"ok":true,"object":{"type":"Point","coordinates":[-112,33]}}"#
    );
    assert_eq!(
        get(&srv, "/GET+fleet+truck1+POINT").to_string(),
        r#"{"ok":true,"point":{"lat":33,"lon":-112}}"#
    );
    // The data is shared with RESP clients.
    assert_eq!(
        srv.resp().cmd(&["GET", "fleet", "truck1"]),
        b"$40\r\n{\"type\":\"Point\",\"coordinates\":[-112,33]}\r\n"
    );
    // HTTP/1.0 is accepted as well.
    let v = json_ok_response(&http(&srv, b"GET /PING HTTP/1.0\r\n\r\n"));
    assert_eq!(v, json!({"ok": true, "ping": "pong"}));
}

#[test]
fn http_errors_are_200_with_ok_false() {
    let srv = TestServer::start(&[]);
    assert_eq!(
        get(&srv, "/NOSUCHCMD").to_string(),
        r#"{"ok":false,"err":"unknown command 'NOSUCHCMD'"}"#
    );
    assert_eq!(
        get(&srv, "/GET+k").to_string(),
        r#"{"ok":false,"err":"invalid number of arguments"}"#
    );
    assert_eq!(
        get(&srv, "/GET+k+i").to_string(),
        r#"{"ok":false,"err":"key not found"}"#
    );
}

#[test]
fn http_path_is_url_decoded() {
    let srv = TestServer::start(&[]);
    assert_eq!(
        get(&srv, "/ECHO+a%2Bb+c"),
        json!({"ok": true, "echo": "a+b"})
    );
    assert_eq!(
        get(&srv, "/ECHO+%7Bx%7D"),
        json!({"ok": true, "echo": "{x}"})
    );
    // GeoJSON in the path: a `{` token takes the rest of the text.
    let path =
        "/SET+k+o+OBJECT+%7B%22type%22%3A+%22Point%22%2C+%22coordinates%22%3A+%5B1%2C+2%5D%7D";
    assert_eq!(get(&srv, path), json!({"ok": true}));
    assert_eq!(
        get(&srv, "/GET+k+o").to_string(),
        r#"{"ok":true,"object":{"type":"Point","coordinates":[1,2]}}"#
    );
}

#[test]
fn http_post_body_is_the_command() {
    let srv = TestServer::start(&[]);
    let body = "set fleet truck3 point 33.4762 -112.10923";
    let req = format!(
        "POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    assert_eq!(
        json_ok_response(&http(&srv, req.as_bytes())),
        json!({"ok": true})
    );
    let v = get(&srv, "/GET+fleet+truck3+POINT");
    assert_eq!(
        v.to_string(),
        r#"{"ok":true,"point":{"lat":33.4762,"lon":-112.10923}}"#
    );
    // The body is appended to the decoded path with no separator.
    let req = b"POST /GET+fleet+ HTTP/1.1\r\ncontent-length: 6\r\n\r\ntruck3";
    assert_eq!(
        json_ok_response(&http(&srv, req))["object"]["coordinates"],
        json!([-112.10923, 33.4762])
    );
}

#[test]
fn http_options_is_a_cors_preflight() {
    let srv = TestServer::start(&[]);
    let got = http_raw(
        &srv,
        b"OPTIONS /SET+a+b+POINT+1+2 HTTP/1.1\r\nOrigin: http://x\r\n\r\n",
    );
    assert_eq!(
        String::from_utf8_lossy(&got),
        "HTTP/1.1 204 No Content\r\nConnection: close\r\nAccess-Control-Allow-Origin: *\r\n\
         Access-Control-Allow-Headers: *, Authorization\r\nAccess-Control-Allow-Methods: POST, GET, OPTIONS\r\n\r\n"
    );
    // Nothing was executed.
    assert_eq!(srv.resp().cmd(&["GET", "a", "b"]), b"$-1\r\n");
}

#[test]
fn http_healthz_is_200() {
    let srv = TestServer::start(&[]);
    for path in ["/HEALTHZ", "/healthz"] {
        assert_eq!(get(&srv, path), json!({"ok": true}));
    }
}

#[test]
fn http_unsupported_requests_are_closed_without_reply() {
    let srv = TestServer::start(&[]);
    assert_eq!(http_raw(&srv, b"PUT /PING HTTP/1.1\r\n\r\n"), b"");
    assert_eq!(http_raw(&srv, b"GET / HTTP/1.1\r\n\r\n"), b"");
    assert_eq!(srv.resp().cmd(&["PING"]), b"+PONG\r\n");
}

/// A server holding `fleet t1` with `requirepass secret` set.
fn server_with_password() -> TestServer {
    let srv = TestServer::start(&[]);
    let mut c = srv.resp();
    assert_eq!(
        c.cmd(&["SET", "fleet", "t1", "POINT", "1", "2"]),
        b"+OK\r\n"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "requirepass", "secret"]),
        b"+OK\r\n"
    );
    srv
}

#[test]
fn http_authorization_header_is_the_password() {
    let srv = server_with_password();
    assert_eq!(
        srv.resp().cmd(&["GET", "fleet", "t1"]),
        b"-ERR authentication required\r\n"
    );
    let right = http(
        &srv,
        b"GET /GET+fleet+t1+POINT HTTP/1.1\r\nauthorization:  secret \r\n\r\n",
    );
    assert_eq!(
        json_ok_response(&right).to_string(),
        r#"{"ok":true,"point":{"lat":1,"lon":2}}"#
    );
    // HEALTHZ and PING need no auth.
    assert_eq!(get(&srv, "/HEALTHZ"), json!({"ok": true}));
    assert_eq!(get(&srv, "/PING"), json!({"ok": true, "ping": "pong"}));
}

#[test]
fn http_auth_errors_are_json() {
    let srv = server_with_password();
    assert_eq!(
        get(&srv, "/GET+fleet+t1+POINT").to_string(),
        r#"{"ok":false,"err":"authentication required"}"#
    );
    let wrong = http(
        &srv,
        b"GET /GET+fleet+t1+POINT HTTP/1.1\r\nAuthorization: nope\r\n\r\n",
    );
    assert_eq!(
        json_ok_response(&wrong).to_string(),
        r#"{"ok":false,"err":"invalid password"}"#
    );
    let (_, frames) = websocket(&srv, "/GET+fleet+t1", "dGhlIHNhbXBsZSBub25jZQ==");
    assert_eq!(
        strip_elapsed(&frames[0]).to_string(),
        r#"{"ok":false,"err":"authentication required"}"#
    );
}

#[test]
fn http_transport_can_be_disabled() {
    let srv = TestServer::start(&["--http-transport", "no"]);
    assert_eq!(http_raw(&srv, b"GET /PING HTTP/1.1\r\n\r\n"), b"");
    let ws = b"GET /PING HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    assert_eq!(http_raw(&srv, ws), b"");
    let mut c = srv.resp();
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
    let stats = String::from_utf8(c.cmd(&["SERVER"])).unwrap();
    assert!(
        stats.contains("$14\r\nhttp_transport\r\n$5\r\nfalse\r\n"),
        "{stats}"
    );
}

/// Upgrades `path` to a WebSocket; returns the handshake head and the
/// payloads of the text frames that followed before the server closed.
fn websocket(srv: &TestServer, path: &str, key: &str) -> (String, Vec<String>) {
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n\r\n"
    );
    let raw = http_raw(srv, req.as_bytes());
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("handshake")
        + 4;
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut frames = Vec::new();
    let mut r = &raw[split..];
    while !r.is_empty() {
        assert_eq!(r[0], 0x81, "FIN text frame");
        assert_eq!(r[1] & 0x80, 0, "server frames are unmasked");
        let (len, hdr) = match r[1] & 0x7f {
            126 => (u16::from_be_bytes([r[2], r[3]]) as usize, 4),
            127 => (
                u64::from_be_bytes(r[2..10].try_into().unwrap()) as usize,
                10,
            ),
            n => (n as usize, 2),
        };
        if hdr == 4 {
            assert!(len >= 126, "16-bit length only for payloads >= 126");
        }
        frames.push(String::from_utf8(r[hdr..hdr + len].to_vec()).unwrap());
        r = &r[hdr + len..];
    }
    (head, frames)
}

#[test]
fn websocket_upgrade_and_reply_frame() {
    let srv = TestServer::start(&[]);
    let (head, frames) = websocket(&srv, "/PING", "dGhlIHNhbXBsZSBub25jZQ==");
    // RFC 6455 §1.3 example key/accept pair.
    assert_eq!(
        head,
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
    );
    assert_eq!(frames.len(), 1);
    assert_eq!(
        strip_elapsed(&frames[0]),
        json!({"ok": true, "ping": "pong"})
    );

    let (head, frames) = websocket(&srv, "/GET+fleet", "x3JJHMbDL1EzLkh9GBhXDw==");
    assert!(
        head.contains("\r\nSec-WebSocket-Accept: HSmrc0sMlYUkAGmm5OPpG2HaGWk=\r\n"),
        "{head}"
    );
    assert_eq!(
        strip_elapsed(&frames[0]).to_string(),
        r#"{"ok":false,"err":"invalid number of arguments"}"#
    );
}

#[test]
fn websocket_long_reply_uses_16_bit_length() {
    let srv = TestServer::start(&[]);
    let word = "w".repeat(300);
    let (head, frames) = websocket(&srv, &format!("/ECHO+{word}"), "dGhlIHNhbXBsZSBub25jZQ==");
    assert!(head.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
    assert_eq!(frames.len(), 1);
    assert_eq!(strip_elapsed(&frames[0]), json!({"ok": true, "echo": word}));
}

/// Tile38 does not look at the method of an upgrade request: a POST with
/// `Upgrade: websocket` is upgraded and answered with a frame too.
#[test]
fn websocket_upgrade_by_post() {
    let srv = TestServer::start(&[]);
    let raw = http_raw(
        &srv,
        b"POST /PING HTTP/1.1\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
          Sec-WebSocket-Key: x\r\n\r\n",
    );
    let text = String::from_utf8_lossy(&raw);
    assert!(
        text.starts_with("HTTP/1.1 101 Switching Protocols\r\n")
            && text
                .contains("\r\nSec-WebSocket-Accept: JVxkmtKFjDcI/Pm/AGPEKSN6wT8=\r\n\r\n\u{fffd}"),
        "{text}"
    );
    assert!(text.contains(r#"{"ok":true,"ping":"pong""#), "{text}");
}
