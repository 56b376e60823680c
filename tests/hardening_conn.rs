//! Connection hardening against the real binary (issue 13 items 5, 7a,
//! 7d, 7f): bounded reply memory for a client that does not read, one scan
//! of a message trickled in pieces, protocol errors answered as Tile38
//! answers them, and a shutdown that drains connections. The listening
//! socket's side (backlog, accept backoff, the properties) is in
//! `hardening_listen.rs`.

use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use tile38::{read_resp, resp_cmd, temp_dir, wait_until, TestServer};

/// `/proc/<pid>/stat` fields after the command name (field 3 first).
fn stat(pid: u32) -> Vec<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let rest = &text[text.rfind(')').expect("comm") + 2..];
    rest.split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect()
}

/// User + system CPU seconds of a process (clock ticks of 1/100 s).
fn cpu_secs(pid: u32) -> f64 {
    let f = stat(pid);
    (f[11] + f[12]) as f64 / 100.0
}

/// Resident memory of a process in MiB.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("VmRSS");
    kb / 1024.0
}

/// Waits until the process has used no CPU for 300 ms.
fn wait_idle(pid: u32) {
    let mut last = cpu_secs(pid);
    let mut since = Instant::now();
    let settled = wait_until(Duration::from_secs(120), || {
        let now = cpu_secs(pid);
        if now != last {
            (last, since) = (now, Instant::now());
        }
        since.elapsed() >= Duration::from_millis(300)
    });
    assert!(settled, "server never went idle");
}

/// Loads `n` points into `key` through one pipelined connection.
fn load_points(server: &TestServer, key: &str, n: usize) {
    let mut c = server.resp();
    let mut batch = Vec::new();
    for i in 0..n {
        let (lat, lon) = (
            33.0 + (i % 100) as f64 * 0.01,
            -112.0 + (i / 100) as f64 * 0.01,
        );
        batch.extend(resp_cmd(&[
            "SET",
            key,
            &format!("id{i}"),
            "POINT",
            &lat.to_string(),
            &lon.to_string(),
        ]));
    }
    c.send(&batch);
    for _ in 0..n {
        c.read();
    }
}

#[test]
fn unread_pipelined_scans_keep_server_memory_bounded() {
    let server = TestServer::start(&["--appendonly", "no"]);
    load_points(&server, "big", 10_000);
    let pid = server.pid();
    let scan = resp_cmd(&["SCAN", "big", "LIMIT", "100000"]);
    let mut c = server.resp();
    c.send(&scan);
    let first = c.read();
    assert!(first.len() > 400_000, "one reply is {} bytes", first.len());
    let base = rss_mib(pid);

    // 1,500 × ~0.6 MB of replies asked for, none read: the server must stop
    // executing them instead of buffering ~0.9 GB.
    c.send(&scan.repeat(1500));
    wait_idle(pid);
    let rss = rss_mib(pid);
    assert!(
        rss < base + 64.0,
        "server RSS {rss:.0} MiB (was {base:.0} MiB) with unread replies"
    );

    // Nothing was lost: every reply arrives, whole.
    let mut stream = BufReader::with_capacity(1 << 20, c.stream().try_clone().unwrap());
    let mut reply = vec![0u8; first.len()];
    for i in 0..1500 {
        stream.read_exact(&mut reply).expect("reply");
        assert!(reply == first, "reply {i} differs");
    }
    c.stream()
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    assert!(c.try_read().is_err(), "no reply beyond the 1,500");
}

/// Bytes waiting in the receive queue of the server's end of the
/// connection from `client_port` (`/proc/net/tcp`).
fn server_rx_queue(server_port: u16, client_port: u16) -> Option<u64> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let (local, remote) = (format!(":{server_port:04X}"), format!(":{client_port:04X}"));
    table.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.len() > 4 && f[1].ends_with(&local) && f[2].ends_with(&remote))
            .then(|| u64::from_str_radix(f[4].split(':').nth(1)?, 16).ok())
            .flatten()
    })
}

/// Sends `msg` in 64 KiB writes, each once the server has read the one
/// before (so it reads 64 KiB at a time, as from a slow link); returns the
/// server's CPU seconds spent until its reply (`expect`) arrived.
fn trickle(server: &TestServer, msg: &[u8], expect: &[u8]) -> f64 {
    let pid = server.pid();
    let mut s = server.raw();
    let client_port = s.local_addr().unwrap().port();
    let before = cpu_secs(pid);
    for piece in msg.chunks(64 << 10) {
        s.write_all(piece).expect("write");
        let deadline = Instant::now() + Duration::from_secs(30);
        while server_rx_queue(server.port, client_port) != Some(0) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    let mut got = vec![0u8; expect.len()];
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.read_exact(&mut got).expect("reply");
    assert_eq!(got, expect);
    cpu_secs(pid) - before
}

#[test]
fn a_32mib_message_in_64kib_pieces_is_scanned_once() {
    let server = TestServer::start(&["--appendonly", "no"]);
    let value = vec![b'v'; 32 << 20];
    let mut line = b"SET k telnet STRING ".to_vec();
    line.extend_from_slice(&value);
    line.extend_from_slice(b"\r\n");
    let telnet = trickle(&server, &line, b"+OK\r\n");
    let bulk = resp_cmd(&[&b"SET"[..], b"k", b"resp", b"STRING", &value]);
    let resp = trickle(&server, &bulk, b"+OK\r\n");
    // A rescan per read costs seconds here (512 reads of up to 32 MiB).
    assert!(telnet < 1.0, "telnet line: {telnet:.2} s of server CPU");
    assert!(resp < 1.0, "RESP bulk: {resp:.2} s of server CPU");
    let mut c = server.resp();
    let got = c.cmd(&["GET", "k", "telnet"]);
    assert_eq!(
        got.len(),
        value.len() + format!("${}\r\n\r\n", value.len()).len()
    );
}

/// What the server sends for `input` on a fresh connection, and whether
/// it closed the connection.
fn answer(server: &TestServer, input: &[u8]) -> (String, bool) {
    let mut s = server.raw();
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    s.write_all(input).unwrap();
    let mut out = Vec::new();
    let closed = loop {
        let mut buf = [0u8; 4096];
        match s.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(_) => break false,
        }
    };
    (String::from_utf8_lossy(&out).into_owned(), closed)
}

/// Replaces the value of every `"elapsed":"…"` with `E` and the lengths
/// it changes (`$n` of a bulk or of a native reply) with `N`.
fn normalize(s: &str) -> String {
    let mut parts: Vec<&str> = s.split("\r\n").collect();
    let tail = parts.pop().unwrap_or_default();
    let mut out = String::new();
    for part in parts {
        let mut part = part.to_string();
        if let Some(i) = part.find("\"elapsed\":\"") {
            let end = part[i + 11..].find('"').map_or(part.len(), |e| i + 12 + e);
            part.replace_range(i..end, "\"elapsed\":E");
        }
        if let Some(len) = part.strip_prefix('$') {
            let digits = len.chars().take_while(char::is_ascii_digit).count();
            if digits > 0 {
                part.replace_range(1..1 + digits, "N");
            }
        }
        out.push_str(&part);
        out.push_str("\r\n");
    }
    out + tail
}

/// (input, reply, closed), each on a fresh connection: Tile38 1.37's
/// answers. A first message that cannot be framed closes the connection
/// without a reply; so does one after messages that carried no command.
const PROTOCOL_ERRORS: &[(&str, &str, bool)] = &[
    ("*1\r\n$x\r\n", "", true),
    ("*-5\r\n", "", true),
    ("PING \"abc\r\n", "", true),
    ("\r\n*-5\r\n", "", true),
    ("*0\r\n*1\r\n$x\r\n", "", true),
    ("  \r\n*1\r\n+x\r\n", "", true),
    (
        "*1\r\n$0\r\n\r\n*-5\r\n",
        "HTTP/1.1 500 Bad Request\r\nConnection: close\r\n\r\n",
        true,
    ),
    (
        "PING\r\n*1\r\n$x\r\n",
        "+PONG\r\n-Protocol error: invalid bulk length\r\n",
        true,
    ),
    (
        "PING\r\n*-5\r\n",
        "+PONG\r\n-Protocol error: invalid multibulk length\r\n",
        true,
    ),
    (
        "PING\r\nPING \"abc\r\n",
        "+PONG\r\n-Protocol error: unbalanced quotes in request\r\n",
        true,
    ),
    (
        "OUTPUT json\r\n*-5\r\n",
        "$N\r\n{\"ok\":true,\"elapsed\":E}\r\n$N\r\n\
         {\"ok\":false,\"err\":\"Protocol error: invalid multibulk length\"}\r\n",
        true,
    ),
    (
        "OUTPUT json\r\nPING \"abc\r\n",
        "$N\r\n{\"ok\":true,\"elapsed\":E}\r\n$N\r\n\
         {\"ok\":false,\"err\":\"Protocol error: unbalanced quotes in request\"}\r\n",
        true,
    ),
    // After a native message, no error reply; RESP output stays RESP
    // in a native frame.
    (
        "$4 PING\r\n*-5\r\n",
        "$N {\"ok\":true,\"ping\":\"pong\",\"elapsed\":E}\r\n",
        true,
    ),
    ("PING\r\n$4 PING\r\n", "+PONG\r\n$N +PONG\r\n\r\n", false),
    // An empty command name ends the batch it came with: what was
    // pipelined behind it is dropped unanswered, the connection stays.
    (
        "*1\r\n$0\r\n\r\n*1\r\n$4\r\nPING\r\n",
        "HTTP/1.1 500 Bad Request\r\nConnection: close\r\n\r\n",
        false,
    ),
    (
        "PING\r\n*2\r\n$0\r\n\r\n$1\r\nx\r\nPING\r\n*1\r\n$4\r\nPI",
        "+PONG\r\nHTTP/1.1 500 Bad Request\r\nConnection: close\r\n\r\n",
        false,
    ),
];

#[test]
fn protocol_errors_are_answered_as_tile38_answers_them() {
    let server = TestServer::start(&[]);
    for (input, want, closed) in PROTOCOL_ERRORS {
        let (got, was_closed) = answer(&server, input.as_bytes());
        assert_eq!(
            (normalize(&got), was_closed),
            (want.to_string(), *closed),
            "input {input:?}"
        );
    }
}

#[test]
fn sigterm_drains_connections_and_keeps_every_acknowledged_write() {
    let dir = temp_dir("drain");
    let server = TestServer::start_in(&dir, &[]);
    // Idle clients, one halfway through a command, and one that asked for
    // replies it never reads.
    let idle: Vec<TcpStream> = (0..20).map(|_| server.raw()).collect();
    let mut partial = server.raw();
    partial.write_all(b"SET fleet half POINT 1").unwrap();
    load_points(&server, "big", 10_000);
    let mut deaf = server.raw();
    deaf.write_all(&resp_cmd(&["SCAN", "big", "LIMIT", "100000"]).repeat(200))
        .unwrap();

    // A long pipelined batch of SETs in flight when SIGTERM arrives.
    let n = 300_000;
    let reader = pipeline_sets(&server, n);
    let pid = server.pid();
    // In flight once the AOF holds this batch's own records (the `big`
    // points have an `id1000` too, journaled before the batch was sent).
    let in_flight = wait_until(Duration::from_secs(30), || {
        std::fs::read_to_string(dir.join("appendonly.aof"))
            .is_ok_and(|a| a.contains("$5\r\nfleet\r\n$6\r\nid1000\r\n"))
    });
    assert!(in_flight, "the batch never started");
    let started = Instant::now();
    let status = server.terminate();
    let took = started.elapsed();
    assert!(status.success(), "SIGTERM must exit 0, got {status:?}");
    // 5 s for the client that does not read, then out.
    assert!(took < Duration::from_secs(8), "shutdown took {took:?}");
    assert!(
        std::fs::metadata(format!("/proc/{pid}")).is_err(),
        "process still there"
    );
    let acked = reader.join().expect("reader");
    assert!(
        acked > 0 && acked < n,
        "{acked} of {n} acknowledged: not in flight"
    );
    drop((idle, partial, deaf));

    // Every executed SET was answered, and every answered one is on disk.
    let server = TestServer::start_in(&dir, &[]);
    let mut c = server.resp();
    let count = c.cmd_str(&["SCAN", "fleet", "COUNT"]);
    assert_eq!(count, format!(":{acked}\r\n"), "objects after restart");
    // … and they are the batch's first `acked` SETs: its replies were sent
    // in order, none skipped.
    let last = c.cmd_str(&["GET", "fleet", &format!("id{}", acked - 1)]);
    assert!(last.contains("Point"), "last acknowledged SET: {last:?}");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Sends `n` pipelined `SET fleet id<i> …` on a new connection; the thread
/// returned counts the `+OK` replies until the server closes it.
fn pipeline_sets(server: &TestServer, n: usize) -> std::thread::JoinHandle<usize> {
    let mut batch = Vec::new();
    for i in 0..n {
        let id = format!("id{i}");
        batch.extend(resp_cmd(&["SET", "fleet", &id, "POINT", "33", "-112"]));
    }
    let stream = server.raw();
    let mut writer = stream.try_clone().unwrap();
    std::thread::spawn(move || {
        let _ = writer.write_all(&batch);
    });
    std::thread::spawn(move || {
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut r = BufReader::new(stream);
        let mut acked = 0usize;
        loop {
            match read_resp(&mut r) {
                Ok(reply) => {
                    assert_eq!(reply, b"+OK\r\n", "reply {acked}");
                    acked += 1;
                }
                Err(e) => {
                    assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof, "{e}");
                    return acked;
                }
            }
        }
    })
}
