//! Dispatch hardening (issue 13 item 7b), one gate path: TIMEOUT and HTTP
//! requests get a follower's `catching up to leader` / `not the leader`,
//! the auth gate like any other command, and HTTP's AUTH follows Tile38.
//! (LOADING and READONLY, which the binary cannot be held in, are tested
//! in process: `crates/engine/tests/session.rs`.)

use std::io::{Read, Write};
use std::time::Duration;

use tile38::{wait_until, TestServer};

/// A follower whose leader accepts the link but never answers: it follows
/// and has never caught up. The listener must live as long as the test.
fn stuck_follower() -> (TestServer, std::net::TcpListener) {
    let leader = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = leader.local_addr().unwrap().port();
    let f = TestServer::start(&["--follow", &format!("127.0.0.1:{port}")]);
    let mut c = f.resp();
    let gated = wait_until(Duration::from_secs(10), || {
        c.cmd_str(&["GET", "k", "id"]) == "-ERR catching up to leader\r\n"
    });
    assert!(gated, "{}", c.cmd_str(&["GET", "k", "id"]));
    (f, leader)
}

/// One HTTP request; the response body.
fn http(s: &TestServer, path: &str, auth: Option<&str>) -> String {
    let mut stream = s.raw();
    let header = auth.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
    write!(stream, "GET /{path} HTTP/1.1\r\nHost: x\r\n{header}\r\n").unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    // Without the `elapsed` member, which varies.
    match body.find(",\"elapsed\"") {
        Some(at) => format!("{}}}", &body[..at]),
        None => body.trim_end().to_string(),
    }
}

#[test]
fn timeout_and_http_pass_the_follower_gates() {
    let (f, _leader) = stuck_follower();
    let mut c = f.resp();
    assert_eq!(
        c.cmd_str(&["TIMEOUT", "1", "GET", "k", "id"]),
        "-ERR catching up to leader\r\n"
    );
    assert_eq!(
        c.cmd_str(&["TIMEOUT", "1", "SCAN", "k"]),
        "-ERR catching up to leader\r\n"
    );
    assert_eq!(
        c.cmd_str(&["TIMEOUT", "1", "SET", "k", "id", "POINT", "1", "2"]),
        "-ERR not the leader\r\n"
    );
    for path in ["TIMEOUT+1+GET+k+id", "GET+k+id"] {
        assert_eq!(
            http(&f, path, None),
            "{\"ok\":false,\"err\":\"catching up to leader\"}",
            "{path}"
        );
    }
    assert_eq!(
        http(&f, "SET+k+id+POINT+1+2", None),
        "{\"ok\":false,\"err\":\"not the leader\"}"
    );
}

#[test]
fn timeout_passes_the_auth_gate_and_http_auth_follows_tile38() {
    let s = TestServer::start(&[]);
    let mut c = s.resp();
    assert_eq!(
        c.cmd_str(&["CONFIG", "SET", "requirepass", "sec"]),
        "+OK\r\n"
    );
    let mut fresh = s.resp();
    for args in [
        &["TIMEOUT", "1", "OUTPUT"][..],
        &["TIMEOUT", "1", "SET", "k", "id", "POINT", "1", "2"],
        &["FOO"],
    ] {
        assert_eq!(
            fresh.cmd_str(args),
            "-ERR authentication required\r\n",
            "{args:?}"
        );
    }
    assert_eq!(
        http(&s, "AUTH+sec", None),
        "{\"ok\":false,\"err\":\"unknown command 'AUTH'\"}"
    );
    assert_eq!(
        http(&s, "AUTH+bad", None),
        "{\"ok\":false,\"err\":\"invalid password\"}"
    );
    assert_eq!(
        http(&s, "TIMEOUT+1+GET+k+id", Some("bad")),
        "{\"ok\":false,\"err\":\"invalid password\"}"
    );
    assert_eq!(
        http(&s, "TIMEOUT+1+GET+k+id", Some("sec")),
        "{\"ok\":false,\"err\":\"key not found\"}"
    );
    assert_eq!(
        http(&s, "PING", Some("bad")),
        "{\"ok\":true,\"ping\":\"pong\"}"
    );
}
