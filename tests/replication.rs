//! Leader → follower replication with real processes: catch-up, live
//! stream, resume after restarts, a leader that comes back with another
//! history, refused writes, status transitions, and cut links (through
//! the test relay in `tile38::relay`).

use std::io::{BufReader, Write};
use std::time::Duration;

use tile38::relay::Relay;
use tile38::{read_resp, resp_cmd, wait_until, Resp, TestServer, SIGKILL};

const WAIT: Duration = Duration::from_secs(60);

fn cmd(s: &TestServer, args: &[&str]) -> String {
    s.resp().cmd_str(args)
}

/// Sends `cmds` pipelined on one connection and checks every reply is OK.
fn pipeline(s: &TestServer, cmds: &[Vec<u8>]) {
    pipeline_to(&s.addr(), cmds)
}

fn pipeline_to(addr: &str, cmds: &[Vec<u8>]) {
    let stream = std::net::TcpStream::connect(addr).unwrap();
    let mut w = stream.try_clone().unwrap();
    let data: Vec<u8> = cmds.concat();
    let writer = std::thread::spawn(move || w.write_all(&data).unwrap());
    let mut r = BufReader::new(stream);
    for _ in cmds {
        let reply = read_resp(&mut r).unwrap();
        assert!(
            reply.starts_with(b"+OK") || reply.starts_with(b":"),
            "reply {:?}",
            String::from_utf8_lossy(&reply)
        );
    }
    writer.join().unwrap();
}

fn set_points(key: &str, from: usize, n: usize) -> Vec<Vec<u8>> {
    (from..from + n)
        .map(|i| {
            let (lat, lon) = (
                (33.0 + (i % 1000) as f64 * 0.001).to_string(),
                (-112.0 - (i / 1000) as f64 * 0.001).to_string(),
            );
            resp_cmd(&[
                "SET",
                key,
                &format!("t{i}"),
                "FIELD",
                "speed",
                &(i % 90).to_string(),
                "POINT",
                &lat,
                &lon,
            ])
        })
        .collect()
}

/// Every key's full SCAN output (and the hooks), for comparing servers.
fn dump(s: &TestServer) -> String {
    let mut r = s.resp();
    let keys = tile38::resp_strings(&r.cmd(&["KEYS", "*"]));
    let mut out = String::new();
    for k in keys {
        out.push_str(&k);
        out.push_str(&r.cmd_str(&["SCAN", &k, "LIMIT", "10000000"]));
    }
    out.push_str(&r.cmd_str(&["HOOKS", "*"]));
    out
}

fn healthz(s: &TestServer) -> String {
    cmd(s, &["HEALTHZ"])
}

fn caught_up(s: &TestServer) -> bool {
    healthz(s) == "+OK\r\n"
}

/// Waits until the follower is caught up and holds exactly the leader's data.
fn converge(leader: &TestServer, follower: &TestServer) {
    let mut last = String::new();
    let ok = wait_until(WAIT, || {
        if !caught_up(follower) {
            return false;
        }
        last = dump(follower);
        last == dump(leader)
    });
    assert!(ok, "follower did not converge: {:.300}", last);
}

fn follow(f: &TestServer, port: u16) {
    assert_eq!(
        cmd(f, &["FOLLOW", "127.0.0.1", &port.to_string()]),
        "+OK\r\n"
    );
}

fn aof_len(s: &TestServer) -> u64 {
    std::fs::metadata(s.dir.join("appendonly.aof")).map_or(0, |m| m.len())
}

#[test]
fn catch_up_100k_then_live_mixed_writes_to_two_followers() {
    let leader = TestServer::start(&[]);
    pipeline(&leader, &set_points("fleet", 0, 100_000));
    let f1 = TestServer::start(&[]);
    let f2 = TestServer::start(&[]);
    follow(&f1, leader.port);
    follow(&f2, leader.port);
    converge(&leader, &f1);
    converge(&leader, &f2);
    assert!(cmd(&f1, &["SCAN", "fleet", "COUNT"]).contains(":100000"));
    // The follower's spatial index (built in bulk after the full resync)
    // answers searches like the leader's.
    for search in [
        vec!["NEARBY", "fleet", "LIMIT", "20", "POINT", "33.2", "-112.05"],
        vec![
            "WITHIN", "fleet", "COUNT", "BOUNDS", "33.1", "-112.09", "33.3", "-112.01",
        ],
        vec![
            "INTERSECTS",
            "fleet",
            "IDS",
            "CIRCLE",
            "33.5",
            "-112.05",
            "200",
        ],
    ] {
        let (a, b) = (cmd(&leader, &search), cmd(&f1, &search));
        assert!(!a.starts_with('-') && a != ":0\r\n" && a != "*0\r\n", "{a}");
        // Same results; for keys over 64 objects the order is the index's,
        // which differs between an incrementally and a bulk-built index.
        let sorted = |r: &str| {
            let mut v = tile38::resp_strings(r.as_bytes());
            v.sort();
            (r.len(), v)
        };
        assert_eq!(sorted(&a), sorted(&b), "{search:?}");
    }

    // Live: every kind of logged write, pipelined.
    let live: Vec<Vec<u8>> = vec![
        resp_cmd(&["SET", "fleet", "t1", "POINT", "1", "2"]),
        resp_cmd(&["FSET", "fleet", "t2", "speed", "99"]),
        resp_cmd(&["DEL", "fleet", "t3"]),
        resp_cmd(&["SET", "people", "p1", "STRING", "hello world"]),
        resp_cmd(&[
            "SET",
            "zones",
            "z1",
            "OBJECT",
            r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}"#,
        ]),
        resp_cmd(&["JSET", "docs", "d1", "a.b", "7"]),
        resp_cmd(&["EXPIRE", "fleet", "t4", "1000"]),
        resp_cmd(&["PDEL", "fleet", "t1000*"]),
        resp_cmd(&["RENAME", "people", "persons"]),
        resp_cmd(&[
            "SETHOOK",
            "h1",
            "http://127.0.0.1:1/x",
            "NEARBY",
            "fleet",
            "FENCE",
            "POINT",
            "33",
            "-112",
            "100",
        ]),
        resp_cmd(&["SET", "tmp", "x", "POINT", "5", "5"]),
        resp_cmd(&["DROP", "tmp"]),
    ];
    pipeline(&leader, &live);
    pipeline(&leader, &set_points("fleet", 200_000, 500));
    converge(&leader, &f1);
    converge(&leader, &f2);
    assert_eq!(
        cmd(&f1, &["GET", "fleet", "t1"]),
        cmd(&leader, &["GET", "fleet", "t1"])
    );
    assert!(cmd(&f2, &["GET", "persons", "p1"]).contains("hello world"));
    assert!(cmd(&f2, &["TTL", "fleet", "t4"]).starts_with(':'));

    // The follower's AOF is a byte-exact mirror of the leader's.
    cmd(&leader, &["PING"]);
    wait_until(WAIT, || aof_len(&f1) == aof_len(&leader));
    let a = std::fs::read(leader.dir.join("appendonly.aof")).unwrap();
    let b = std::fs::read(f1.dir.join("appendonly.aof")).unwrap();
    assert!(a == b, "AOFs differ: {} vs {} bytes", a.len(), b.len());

    // Leader side: INFO and ROLE list both followers.
    let info = cmd(&leader, &["INFO", "replication"]);
    assert!(info.contains("role:master"), "{info}");
    assert!(info.contains("connected_slaves:2"), "{info}");
    assert!(
        info.contains(&format!("port={},state=online", f1.port)),
        "{info}"
    );
    let role = cmd(&leader, &["ROLE"]);
    assert!(role.starts_with("*3\r\n$6\r\nmaster\r\n"), "{role}");
    assert!(role.contains(&f2.port.to_string()), "{role}");

    // Follower side.
    let info = cmd(&f1, &["INFO", "replication"]);
    assert!(info.contains("role:slave"), "{info}");
    assert!(
        info.contains(&format!("master_port:{}", leader.port)),
        "{info}"
    );
    assert!(
        info.contains(&format!("slave_repl_offset:{}", aof_len(&leader))),
        "{info}"
    );
    assert!(info.contains("master_link_status:up"), "{info}");
    let role = cmd(&f1, &["ROLE"]);
    assert!(
        role.starts_with("*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n"),
        "{role}"
    );
    let server = cmd(&f1, &["SERVER"]);
    for k in ["caught_up", "caught_up_once", "following"] {
        assert!(server.contains(k), "{server}");
    }
    assert!(!cmd(&leader, &["SERVER"]).contains("following"));
}

#[test]
fn follower_refuses_writes_and_reports_every_state() {
    let leader = TestServer::start(&[]);
    pipeline(&leader, &set_points("fleet", 0, 30_000));
    let relay = Relay::start(leader.port);
    let f = TestServer::start(&[]);
    // ~2.5 MB at 600 kB/s: several seconds of catching up to observe.
    relay.throttle(600_000);
    follow(&f, relay.port);
    assert_eq!(healthz(&f), "-ERR catching up to leader\r\n");
    for c in [
        vec!["GET", "fleet", "t1"],
        vec!["SCAN", "fleet"],
        vec!["SERVER"],
        vec!["INFO"],
        vec!["ROLE"],
    ] {
        assert_eq!(cmd(&f, &c), "-ERR catching up to leader\r\n", "{c:?}");
    }
    assert_eq!(
        cmd(&f, &["SET", "fleet", "x", "POINT", "1", "1"]),
        "-ERR not the leader\r\n"
    );
    assert_eq!(cmd(&f, &["PING"]), "+PONG\r\n");
    // HTTP health check: 500 while catching up.
    let http = tile38::exchange(
        &mut f.raw(),
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        usize::MAX,
    );
    assert!(
        http.starts_with(b"HTTP/1.1 500"),
        "{}",
        String::from_utf8_lossy(&http)
    );

    relay.throttle(0);
    assert!(wait_until(WAIT, || caught_up(&f)));
    let http = tile38::exchange(
        &mut f.raw(),
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        usize::MAX,
    );
    assert!(http.starts_with(b"HTTP/1.1 200"));
    assert!(cmd(&f, &["SERVER"]).contains("$9\r\ncaught_up\r\n$4\r\ntrue\r\n"));
    assert_eq!(cmd(&f, &["DEL", "fleet", "t1"]), "-ERR not the leader\r\n");
    assert_eq!(cmd(&f, &["FLUSHDB"]), "-ERR not the leader\r\n");

    // Link down: reads still served, health says not caught up.
    relay.refuse(true);
    relay.cut();
    assert!(wait_until(WAIT, || healthz(&f) == "-ERR not caught up\r\n"));
    assert!(cmd(&f, &["GET", "fleet", "t1"]).contains("Point"));
    assert!(cmd(&f, &["SERVER"]).contains("$9\r\ncaught_up\r\n$5\r\nfalse\r\n"));
    assert!(cmd(&f, &["INFO", "replication"]).contains("master_link_status:down"));

    // Back: converges; FOLLOW no one makes it a leader that keeps its data.
    pipeline(&leader, &set_points("fleet", 50_000, 10));
    relay.refuse(false);
    converge(&leader, &f);
    assert_eq!(cmd(&f, &["FOLLOW", "no", "one"]), "+OK\r\n");
    assert_eq!(
        cmd(&f, &["SET", "fleet", "x", "POINT", "1", "1"]),
        "+OK\r\n"
    );
    assert!(cmd(&f, &["ROLE"]).starts_with("*3\r\n$6\r\nmaster"));
}

#[test]
fn follow_command_errors() {
    let leader = TestServer::start(&[]);
    let f = TestServer::start(&[]);
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = dead.local_addr().unwrap().port();
    drop(dead);
    assert_eq!(
        cmd(&f, &["FOLLOW", "127.0.0.1", &dead_port.to_string()]),
        format!(
            "-ERR cannot follow: dial tcp 127.0.0.1:{dead_port}: connect: connection refused\r\n"
        )
    );
    assert_eq!(
        cmd(&f, &["FOLLOW", "127.0.0.1", &f.port.to_string()]),
        "-ERR cannot follow self\r\n"
    );
    assert_eq!(
        cmd(&f, &["FOLLOW", "127.0.0.1", "notaport"]),
        "-ERR invalid argument 'notaport'\r\n"
    );
    // Go's ParseUint, as Tile38 1.37 reads the port: no sign.
    assert_eq!(
        cmd(&f, &["FOLLOW", "127.0.0.1", "+80"]),
        "-ERR invalid argument '+80'\r\n"
    );
    assert_eq!(
        cmd(&f, &["FOLLOW", "localhost"]),
        "-ERR wrong number of arguments for 'follow' command\r\n"
    );
    follow(&f, leader.port);
    assert!(wait_until(WAIT, || caught_up(&f)));
    let g = TestServer::start(&[]);
    assert_eq!(
        cmd(&g, &["FOLLOW", "127.0.0.1", &f.port.to_string()]),
        "-ERR cannot follow a follower\r\n"
    );
    // A leader with a password: leaderauth is used for the handshake.
    assert_eq!(
        cmd(&leader, &["CONFIG", "SET", "requirepass", "s3cret"]),
        "+OK\r\n"
    );
    let h = TestServer::start(&[]);
    assert!(cmd(&h, &["FOLLOW", "127.0.0.1", &leader.port.to_string()]).starts_with("-ERR"));
    assert_eq!(
        cmd(&h, &["CONFIG", "SET", "leaderauth", "s3cret"]),
        "+OK\r\n"
    );
    follow(&h, leader.port);
    assert!(wait_until(WAIT, || caught_up(&h)));
    // Leader-side edge cases.
    let mut r = leader.resp();
    assert_eq!(r.cmd_str(&["AUTH", "s3cret"]), "+OK\r\n");
    assert_eq!(
        r.cmd_str(&["REPLCONF", "foo", "bar"]),
        "-ERR cannot find follower\r\n"
    );
    assert_eq!(
        r.cmd_str(&["AOF", "99999999"]),
        "-ERR pos is too big, must be less that the aof_size of leader\r\n"
    );
    assert_eq!(r.cmd_str(&["AOF", "-1"]), "-ERR invalid argument '-1'\r\n");
}

#[test]
fn aof_stream_ends_when_the_follower_sends_anything() {
    let leader = TestServer::start(&[]);
    pipeline(&leader, &set_points("fleet", 0, 3));
    let mut r: Resp = leader.resp();
    r.send(&resp_cmd(&["OUTPUT", "json"]));
    r.read();
    r.send(&resp_cmd(&["AOF", "0"]));
    // `+OK` in RESP even in JSON mode, then the records.
    let mut reader = BufReader::new(r.stream().try_clone().unwrap());
    assert_eq!(read_resp(&mut reader).unwrap(), b"+OK\r\n");
    let first = read_resp(&mut reader).unwrap();
    assert!(first.starts_with(b"*9\r\n$3\r\nSET\r\n"));
    pipeline(&leader, &set_points("fleet", 10, 1));
    let mut live = Vec::new();
    for _ in 0..3 {
        live = read_resp(&mut reader).unwrap();
    }
    assert!(
        String::from_utf8_lossy(&live).contains("t10"),
        "live record"
    );
    r.send(b"quit\r\n");
    assert!(read_resp(&mut reader).is_err(), "stream closed after input");
}

#[test]
fn restarts_resume_and_a_new_history_replaces_the_old() {
    let leader_dir = tile38::temp_dir("leader");
    let leader = TestServer::start_in(&leader_dir, &[]);
    pipeline(&leader, &set_points("fleet", 0, 5_000));
    let relay = Relay::start(leader.port);
    let f_dir = tile38::temp_dir("follower");
    let f = TestServer::start_in(&f_dir, &[]);
    follow(&f, relay.port);
    converge(&leader, &f);
    let offset = aof_len(&leader);

    // Follower restart: resumes from its own offset (from the config file,
    // no FOLLOW command), no full resync.
    f.terminate();
    pipeline(&leader, &set_points("fleet", 10_000, 10));
    let f = TestServer::start_in(&f_dir, &[]);
    converge(&leader, &f);
    assert!(
        f.logs()
            .iter()
            .any(|l| l.contains(&format!("at {offset} "))),
        "resumed from {offset}: {:?}",
        f.logs()
    );

    // Leader kill -9 and restart with the same data (new port, relay
    // retargeted): the follower resumes.
    let offset = aof_len(&leader);
    leader.signal(SIGKILL);
    let leader = TestServer::start_in(&leader_dir, &[]);
    relay.retarget(leader.port);
    pipeline(&leader, &set_points("fleet", 20_000, 10));
    converge(&leader, &f);
    assert!(f
        .logs()
        .iter()
        .any(|l| l.contains(&format!("at {offset} "))));

    // Leader restarted with an empty data dir: after catching up again the
    // follower holds only the new leader's data, never the old objects.
    leader.terminate();
    let fresh = TestServer::start(&[]);
    pipeline(
        &fresh,
        &[resp_cmd(&["SET", "other", "o1", "POINT", "1", "1"])],
    );
    relay.retarget(fresh.port);
    relay.cut();
    // From the moment the follower noticed the old leader is gone, a
    // follower that reports itself caught up must not serve old objects.
    assert!(wait_until(WAIT, || !caught_up(&f)));
    assert!(wait_until(WAIT, || {
        if !caught_up(&f) {
            return false;
        }
        assert_eq!(
            cmd(&f, &["GET", "fleet", "t1"]),
            "$-1\r\n",
            "stale object served"
        );
        true
    }));
    converge(&fresh, &f);
    assert_eq!(cmd(&f, &["GET", "fleet", "t1"]), "$-1\r\n");
    assert_eq!(aof_len(&f), aof_len(&fresh));
    let info = cmd(&f, &["INFO", "replication"]);
    assert!(
        info.contains(&format!("slave_repl_offset:{}\r\n", aof_len(&fresh))),
        "{info}"
    );
    let size = aof_len(&fresh).to_string();
    let server = cmd(&f, &["SERVER"]);
    assert!(
        server.contains(&format!("$8\r\naof_size\r\n${}\r\n{size}\r\n", size.len())),
        "{server}"
    );
}

#[test]
fn link_cut_mid_stream_reconnects_and_converges() {
    let leader = TestServer::start(&[]);
    let relay = Relay::start(leader.port);
    let f = TestServer::start(&[]);
    follow(&f, relay.port);
    assert!(wait_until(WAIT, || caught_up(&f)));
    let addr = leader.addr();
    std::thread::scope(|s| {
        s.spawn(|| {
            for round in 0..20 {
                pipeline_to(&addr, &set_points("fleet", round * 1000, 1000));
            }
        });
        for _ in 0..5 {
            std::thread::sleep(Duration::from_millis(30));
            relay.cut();
        }
    });
    converge(&leader, &f);
    assert!(relay.accepted() >= 3, "follower reconnected");
    assert!(cmd(&f, &["SCAN", "fleet", "COUNT"]).contains(":20000"));
}

#[test]
fn data_dir_is_locked_and_an_idle_follower_stops_promptly() {
    let leader = TestServer::start(&[]);
    let dir = tile38::temp_dir("locked");
    let f = TestServer::start_in(&dir, &[]);
    follow(&f, leader.port);
    assert!(wait_until(WAIT, || caught_up(&f)));
    let second = std::process::Command::new(tile38::bin_path("tile38-server"))
        .args(["-p", "0", "-d"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(!second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("in use"));
    // The stream is idle: SIGTERM still ends the process at once.
    let started = std::time::Instant::now();
    assert!(f.terminate().success());
    assert!(started.elapsed() < Duration::from_secs(5));
    // A restarted follower resumes following from its config file.
    let f = TestServer::start_in(&dir, &[]);
    assert!(wait_until(WAIT, || caught_up(&f)));
    assert!(cmd(&f, &["SERVER"]).contains("following"));
}

#[test]
fn a_stuck_follower_slows_neither_the_leader_nor_other_followers() {
    let leader = TestServer::start(&[]);
    pipeline(&leader, &set_points("fleet", 0, 20_000));
    // A "follower" that asks for the stream and never reads it.
    let mut stuck = leader.raw();
    stuck.write_all(&resp_cmd(&["AOF", "0"])).unwrap();
    let f = TestServer::start(&[]);
    follow(&f, leader.port);
    for round in 1..6 {
        pipeline(&leader, &set_points("fleet", round * 20_000, 20_000));
    }
    converge(&leader, &f);
    assert!(cmd(&leader, &["INFO", "replication"]).contains("connected_slaves:2"));
    drop(stuck);
}
