//! Connection hardening against the real binary (issue 13 items 5, 6, 7a,
//! 7d, 7f): bounded reply memory for a client that does not read, the
//! listen backlog and accept backoff at the file-descriptor limit, one scan
//! of a message trickled in pieces, protocol errors answered as Tile38
//! answers them, the `client-output-buffer-limit` and `tcp-backlog`
//! properties, and a shutdown that drains connections.

use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use tile38::{read_resp, resp_cmd, resp_strings, temp_dir, wait_until, TestServer};

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

#[test]
fn protocol_errors_are_answered_as_tile38_answers_them() {
    let server = TestServer::start(&[]);
    // (input, reply, closed), each on a fresh connection: Tile38 1.37's
    // answers. A first message that cannot be framed closes the connection
    // without a reply; so does one after messages that carried no command.
    let cases: &[(&str, &str, bool)] = &[
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
    ];
    for (input, want, closed) in cases {
        let (got, was_closed) = answer(&server, input.as_bytes());
        assert_eq!(
            (normalize(&got), was_closed),
            (want.to_string(), *closed),
            "input {input:?}"
        );
    }
}

#[test]
fn output_buffer_limit_and_backlog_properties_round_trip() {
    let dir = temp_dir("conn-config");
    let server = TestServer::start_in(&dir, &[]);
    let mut c = server.resp();
    let get = |c: &mut tile38::Resp, name: &str| resp_strings(&c.cmd(&["CONFIG", "GET", name]));
    assert_eq!(
        get(&mut c, "client-output-buffer-limit"),
        ["client-output-buffer-limit", "pubsub 33554432 8388608 60"]
    );
    assert_eq!(get(&mut c, "tcp-backlog"), ["tcp-backlog", "4096"]);
    let set = |c: &mut tile38::Resp, name: &str, v: &str| c.cmd_str(&["CONFIG", "SET", name, v]);
    assert_eq!(
        set(&mut c, "client-output-buffer-limit", "pubsub 64mb 16mb 30"),
        "+OK\r\n"
    );
    assert_eq!(
        set(&mut c, "client-output-buffer-limit", "normal 0 0 0"),
        "-ERR Invalid argument 'normal 0 0 0' for CONFIG SET 'client-output-buffer-limit'\r\n"
    );
    assert_eq!(
        set(&mut c, "tcp-backlog", "0"),
        "-ERR Invalid argument '0' for CONFIG SET 'tcp-backlog'\r\n"
    );
    assert_eq!(set(&mut c, "tcp-backlog", "200"), "+OK\r\n");
    assert_eq!(
        get(&mut c, "client-output-buffer-limit"),
        ["client-output-buffer-limit", "pubsub 67108864 16777216 30"]
    );
    // Ours, not Tile38's: kept out of the listing Tile38 clients know.
    let all = get(&mut c, "*");
    assert!(!all
        .iter()
        .any(|n| n == "client-output-buffer-limit" || n == "tcp-backlog"));
    assert_eq!(c.cmd_str(&["CONFIG", "REWRITE"]), "+OK\r\n");
    let file = std::fs::read_to_string(dir.join("config")).unwrap();
    assert!(
        file.contains("\"client-output-buffer-limit\": \"pubsub 67108864 16777216 30\""),
        "{file}"
    );
    assert!(file.contains("\"tcp-backlog\": \"200\""), "{file}");
    drop(c);
    assert!(server.terminate().success());

    let server = TestServer::start_in(&dir, &[]);
    let mut c = server.resp();
    assert_eq!(
        get(&mut c, "client-output-buffer-limit"),
        ["client-output-buffer-limit", "pubsub 67108864 16777216 30"]
    );
    assert_eq!(listen_backlog(server.port), 200);
    drop(c);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The backlog of a listening socket: `ss` shows it as Send-Q.
fn listen_backlog(port: u16) -> u32 {
    let out = std::process::Command::new("ss")
        .args(["-Hltn", &format!("sport = :{port}")])
        .output()
        .expect("ss");
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .nth(2)
        .and_then(|q| q.parse().ok())
        .unwrap_or_else(|| panic!("no listener in {text:?}"))
}

#[test]
fn listen_backlog_is_tile38s_and_follows_tcp_backlog() {
    let somaxconn: u32 = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let server = TestServer::start(&[]);
    assert_eq!(listen_backlog(server.port), 4096.min(somaxconn));
    let server = TestServer::start(&["--tcp-backlog", "100"]);
    assert_eq!(listen_backlog(server.port), 100);
    let mut c = server.resp();
    assert_eq!(
        resp_strings(&c.cmd(&["CONFIG", "GET", "tcp-backlog"])),
        ["tcp-backlog", "100"]
    );
    let server = TestServer::start(&["-tcp-backlog=300"]);
    assert_eq!(listen_backlog(server.port), 300);
}

/// Whether `s` gets PONG within `wait`.
fn pongs(s: &mut TcpStream, wait: Duration) -> bool {
    s.set_read_timeout(Some(wait)).unwrap();
    let _ = s.write_all(b"PING\r\n");
    let mut buf = [0u8; 7];
    s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}

#[test]
fn accept_backs_off_at_the_open_file_limit() {
    let dir = temp_dir("emfile");
    let server = TestServer::start_under(
        &["prlimit", "--nofile=64:64", "--"],
        &dir,
        &["--appendonly", "no"],
    );
    // Connections are served until the server runs out of descriptors; the
    // next one waits in the backlog, unaccepted.
    let mut served = Vec::new();
    let mut waiting = loop {
        let mut s = TcpStream::connect(server.addr()).expect("connect");
        if !pongs(&mut s, Duration::from_millis(500)) {
            break s;
        }
        served.push(s);
        assert!(
            served.len() < 64,
            "64 connections served under a limit of 64"
        );
    };
    let accept_lines = || {
        server
            .logs()
            .iter()
            .filter(|l| l.contains("accept:"))
            .count()
    };
    // Failing accepts are retried with backoff and logged once a second,
    // not every 10 ms.
    assert!(
        !wait_until(Duration::from_secs(2), || accept_lines() > 4),
        "{} accept failures logged in 2 s",
        accept_lines()
    );
    assert!(accept_lines() >= 1, "the failure is logged");
    // Descriptors come back: the waiting connection is accepted and served.
    served.truncate(served.len() - 5);
    let mut pong = [0u8; 7];
    waiting
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    waiting
        .read_exact(&mut pong)
        .expect("served after connections closed");
    assert_eq!(&pong, b"+PONG\r\n");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
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
    let mut batch = Vec::new();
    for i in 0..n {
        batch.extend(resp_cmd(&[
            "SET",
            "fleet",
            &format!("id{i}"),
            "POINT",
            "33",
            "-112",
        ]));
    }
    let stream = server.raw();
    let mut writer = stream.try_clone().unwrap();
    std::thread::spawn(move || {
        let _ = writer.write_all(&batch);
    });
    let reader = std::thread::spawn(move || {
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
    });
    let pid = server.pid();
    let in_flight = wait_until(Duration::from_secs(30), || {
        std::fs::read_to_string(dir.join("appendonly.aof")).is_ok_and(|a| a.contains("id1000\r\n"))
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
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Raises this process's open-file soft limit to the hard one; returns it.
fn raise_nofile() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain system calls on a local struct.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        lim.rlim_cur = lim.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
    }
    lim.rlim_cur
}

#[test]
fn five_thousand_connects_in_a_burst_are_queued_not_dropped() {
    // Client and server (which raises its own soft limit the same way)
    // each need a descriptor per connection.
    let n = (raise_nofile().saturating_sub(200) as usize).min(5000);
    let server = TestServer::start(&[]);
    let started = Instant::now();
    let mut conns: Vec<TcpStream> = (0..n)
        .map(|_| TcpStream::connect(server.addr()).expect("connect"))
        .collect();
    let took = started.elapsed();
    // With a backlog of 128 the burst overflows it and dropped SYNs are
    // retried after a second or more: about 20 s here.
    assert!(took < Duration::from_secs(5), "{n} connects took {took:?}");
    for c in &mut conns {
        assert!(
            pongs(c, Duration::from_secs(10)),
            "every connection is served"
        );
    }
}
