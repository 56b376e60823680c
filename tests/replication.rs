//! Leader → follower replication with real processes: catch-up, live
//! stream, resume after restarts, a leader that comes back with another
//! history, refused writes and status transitions (a cut link through the
//! test relay in `tile38::relay`). The link itself (FOLLOW's errors, the
//! AOF stream, cuts, stuck readers) is in `replication_links.rs`.

use tile38::relay::Relay;
use tile38::{resp_cmd, wait_until, TestServer, SIGKILL};

mod common {
    pub mod replication;
}
use common::replication::{caught_up, cmd, converge, follow, healthz, pipeline, set_points, WAIT};

fn aof_len(s: &TestServer) -> u64 {
    std::fs::metadata(s.dir.join("appendonly.aof")).map_or(0, |m| m.len())
}

/// The follower's spatial index (built in bulk after the full resync)
/// answers searches like the leader's.
fn assert_searches_agree(leader: &TestServer, follower: &TestServer) {
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
        let (a, b) = (cmd(leader, &search), cmd(follower, &search));
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
}

/// Every kind of logged write.
#[rustfmt::skip]
const LIVE_WRITES: &[&[&str]] = &[
    &["SET", "fleet", "t1", "POINT", "1", "2"],
    &["FSET", "fleet", "t2", "speed", "99"],
    &["DEL", "fleet", "t3"],
    &["SET", "people", "p1", "STRING", "hello world"],
    &["SET", "zones", "z1", "OBJECT", r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}"#],
    &["JSET", "docs", "d1", "a.b", "7"],
    &["EXPIRE", "fleet", "t4", "1000"],
    &["PDEL", "fleet", "t1000*"],
    &["RENAME", "people", "persons"],
    &["SETHOOK", "h1", "http://127.0.0.1:1/x", "NEARBY", "fleet", "FENCE", "POINT", "33", "-112", "100"],
    &["SET", "tmp", "x", "POINT", "5", "5"],
    &["DROP", "tmp"],
];

/// Leader side: INFO and ROLE list both followers.
fn assert_leader_lists(leader: &TestServer, f1: &TestServer, f2: &TestServer) {
    let info = cmd(leader, &["INFO", "replication"]);
    assert!(info.contains("role:master"), "{info}");
    assert!(info.contains("connected_slaves:2"), "{info}");
    assert!(
        info.contains(&format!("port={},state=online", f1.port)),
        "{info}"
    );
    // SERVER EXT counts them as INFO does (Tile38's `len(s.aofconnM)`).
    let ext = cmd(leader, &["SERVER", "EXT"]);
    assert!(
        ext.contains("$23\r\ntile38_connected_slaves\r\n$1\r\n2\r\n"),
        "{ext}"
    );
    let role = cmd(leader, &["ROLE"]);
    assert!(role.starts_with("*3\r\n$6\r\nmaster\r\n"), "{role}");
    assert!(role.contains(&f2.port.to_string()), "{role}");
}

/// Follower side: INFO, ROLE and SERVER name the leader and the offset
/// (SERVER's follower fields only on the follower).
fn assert_follower_reports(f: &TestServer, leader: &TestServer) {
    let info = cmd(f, &["INFO", "replication"]);
    assert!(info.contains("role:slave"), "{info}");
    assert!(
        info.contains(&format!("master_port:{}", leader.port)),
        "{info}"
    );
    assert!(
        info.contains(&format!("slave_repl_offset:{}", aof_len(leader))),
        "{info}"
    );
    assert!(info.contains("master_link_status:up"), "{info}");
    let role = cmd(f, &["ROLE"]);
    assert!(
        role.starts_with("*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n"),
        "{role}"
    );
    let server = cmd(f, &["SERVER"]);
    for k in ["caught_up", "caught_up_once", "following"] {
        assert!(server.contains(k), "{server}");
    }
    assert!(!cmd(leader, &["SERVER"]).contains("following"));
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
    assert_searches_agree(&leader, &f1);

    // Live: every kind of logged write, pipelined.
    let live: Vec<Vec<u8>> = LIVE_WRITES.iter().map(|w| resp_cmd(w)).collect();
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

    assert_leader_lists(&leader, &f1, &f2);
    assert_follower_reports(&f1, &leader);
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
    // Tile38 runs JDEL on a follower (docs/compatibility.md).
    assert_eq!(
        cmd(&f, &["JDEL", "fleet", "t1", "x"]),
        "-ERR not the leader\r\n"
    );
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
