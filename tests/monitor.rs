//! MONITOR as Tile38 1.37 serves it: `+OK`, then a line per command run
//! by any client (`+<secs.micros> [0 <addr>] "arg" …`, Go-quoted), not
//! for PING, ECHO, CONFIG, AUTH, CLIENT and the other hidden commands, nor
//! for arity errors, unknown commands or commands a gate refused; commands
//! called by a script show the address `lua`. Any input ends it (`+OK`
//! first for QUIT).

use std::io::Read;
use std::time::Duration;

use tile38::{wait_until, Resp, TestServer};

/// Reads what the monitor connection has so far (without waiting long).
fn drain(m: &mut Resp, into: &mut String) {
    let s = m.stream();
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let mut buf = [0u8; 4096];
    if let Ok(n) = (&mut &*s).read(&mut buf) {
        into.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
}

/// The lines received, each without its timestamp, once `last` arrived.
fn lines_until(m: &mut Resp, last: &str) -> Vec<String> {
    let mut got = String::new();
    let done = wait_until(Duration::from_secs(5), || {
        drain(m, &mut got);
        got.contains(last)
    });
    assert!(done, "no {last:?} in {got:?}");
    got.lines()
        .map(|l| {
            let (stamp, rest) = l.split_once(' ').unwrap();
            let secs: f64 = stamp[1..].parse().expect("a timestamp");
            assert!(
                stamp.starts_with('+') && secs > 1e9 && stamp.len() - stamp.find('.').unwrap() == 7
            );
            rest.to_string()
        })
        .collect()
}

#[test]
fn monitor_shows_the_commands_tile38_shows() {
    let srv = TestServer::start(&[]);
    let mut m = srv.resp();
    assert_eq!(m.cmd_str(&["MONITOR"]), "+OK\r\n");
    let mut c = srv.resp();
    let addr = c.stream().local_addr().unwrap().to_string();
    for cmd in [
        &["PING"][..],
        &["ECHO", "x"],
        &["SET", "k", "id", "STRING", "a \"b\"\n\u{1}é"],
        &["GET", "k"],
        &["NOPE"],
        &["CONFIG", "GET", "maxmemory"],
        &["CLIENT", "LIST"],
        &["TIMEOUT", "1", "GET", "k", "id"],
        &["EVAL", "return tile38.call('TYPE','k')", "0"],
        &["READONLY", "yes"],
        &["SET", "k", "x", "POINT", "1", "2"],
        &["READONLY", "no"],
        &["GET", "k", "none"],
    ] {
        c.cmd(cmd);
    }
    let at = format!("[0 {addr}]");
    let lines = lines_until(&mut m, r#""GET" "k" "none""#);
    let want = [
        format!(r#"{at} "SET" "k" "id" "STRING" "a \"b\"\n\x01é""#),
        format!(r#"{at} "GET" "k" "id""#),
        r#"[0 lua] "TYPE" "k""#.to_string(),
        format!(r#"{at} "EVAL" "return tile38.call('TYPE','k')" "0""#),
        format!(r#"{at} "READONLY" "yes""#),
        format!(r#"{at} "READONLY" "no""#),
        format!(r#"{at} "GET" "k" "none""#),
    ];
    assert_eq!(lines, want);

    // QUIT is answered, then the connection closes.
    m.send(b"QUIT\r\n");
    assert_eq!(m.read(), b"+OK\r\n");
    assert!(m.try_read().is_err(), "closed after QUIT");
}

#[test]
fn monitor_ends_on_any_input_and_takes_no_arguments() {
    let srv = TestServer::start(&[]);
    let mut m = srv.resp();
    assert_eq!(
        m.cmd_str(&["MONITOR", "x"]),
        "-ERR wrong number of arguments for 'monitor' command\r\n"
    );
    assert_eq!(m.cmd_str(&["MONITOR"]), "+OK\r\n");
    m.send(b"PING\r\n");
    assert!(m.try_read().is_err(), "closed without a reply");
    // A monitor that is gone gets nothing more: the server goes on.
    assert_eq!(srv.resp().cmd_str(&["PING"]), "+PONG\r\n");
}
