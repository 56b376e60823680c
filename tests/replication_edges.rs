//! Replication edge cases: records that follow one bigger than the
//! follower's 4 MiB apply batch, with no traffic after them; and FOLLOW to
//! another leader while the old one is streaming (the old follow loop must
//! neither apply more nor declare the server caught up with the new one).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tile38::{resp_cmd, wait_until, TestServer};

const WAIT: Duration = Duration::from_secs(30);

fn follow(f: &TestServer, leader: &TestServer) {
    let reply = f
        .resp()
        .cmd_str(&["FOLLOW", "127.0.0.1", &leader.port.to_string()]);
    assert_eq!(reply, "+OK\r\n");
}

fn healthy(s: &TestServer) -> bool {
    s.resp().cmd(&["HEALTHZ"]) == b"+OK\r\n"
}

#[test]
fn records_after_a_big_one_apply_without_more_traffic() {
    let leader = TestServer::start(&[]);
    let follower = TestServer::start(&[]);
    follow(&follower, &leader);
    assert!(wait_until(WAIT, || healthy(&follower)));
    let big = "x".repeat(5 << 20);
    let mut l = leader.resp();
    l.send(
        &[
            resp_cmd(&["SET", "k", "big", "STRING", &big]),
            resp_cmd(&["SET", "k", "small", "STRING", "v"]),
        ]
        .concat(),
    );
    assert_eq!(l.read(), b"+OK\r\n");
    assert_eq!(l.read(), b"+OK\r\n");
    let mut f = follower.resp();
    let arrived = wait_until(WAIT, || f.cmd(&["GET", "k", "small"]) == b"$1\r\nv\r\n");
    assert!(arrived, "{}", f.cmd_str(&["SERVER"]));
    assert_eq!(f.cmd(&["SCAN", "k", "COUNT"]), b":2\r\n");
}

#[test]
fn following_another_leader_never_serves_the_old_ones_data() {
    let a = TestServer::start(&[]);
    let b = TestServer::start(&[]);
    assert_eq!(
        b.resp().cmd(&["SET", "b", "x", "POINT", "1", "2"]),
        b"+OK\r\n"
    );
    assert_eq!(
        a.resp().cmd(&["SET", "a", "x", "POINT", "1", "2"]),
        b"+OK\r\n"
    );
    let follower = TestServer::start(&[]);
    follow(&follower, &a);
    let mut f = follower.resp();
    assert!(wait_until(WAIT, || healthy(&follower)
        && f.cmd(&["SCAN", "a", "COUNT"]) == b":1\r\n"));
    // A keeps streaming while the follower moves to B.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (stop, addr) = (stop.clone(), a.addr());
        std::thread::spawn(move || {
            let stream = std::net::TcpStream::connect(addr).unwrap();
            let mut r = tile38::Resp::new(stream);
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let batch: Vec<u8> = (0..200)
                    .flat_map(|i| {
                        resp_cmd(&["SET", "a", &format!("y{}", n + i), "POINT", "1", "2"])
                    })
                    .collect();
                r.send(&batch);
                for _ in 0..200 {
                    assert_eq!(r.read(), b"+OK\r\n");
                }
                n += 200;
            }
        })
    };
    assert!(wait_until(WAIT, || f.cmd(&["SCAN", "a", "COUNT"]) != b":1\r\n"));
    follow(&follower, &b);
    // From the reply on, A's objects are never visible: reads are refused
    // until the server has caught up with B, whose data has no key `a`.
    let started = Instant::now();
    loop {
        let reply = f.cmd_str(&["SCAN", "a", "COUNT"]);
        assert!(
            reply == ":0\r\n" || reply.starts_with("-ERR catching up to leader"),
            "after FOLLOW B, SCAN a answered {reply:?}"
        );
        if healthy(&follower) && f.cmd(&["SCAN", "b", "COUNT"]) == b":1\r\n" {
            break;
        }
        assert!(started.elapsed() < WAIT, "never caught up with B");
    }
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    assert_eq!(f.cmd(&["SCAN", "a", "COUNT"]), b":0\r\n");
}

/// The leader's address comes to point at another server while the old
/// stream stays open and idle (a replaced pod behind a service, a host
/// that vanished without a reset): the follower's SERVER poller sees
/// another id and reconnects, instead of waiting on the old stream for
/// ever.
#[test]
fn a_leader_replaced_behind_an_idle_stream_is_noticed() {
    let a = TestServer::start(&[]);
    assert_eq!(
        a.resp().cmd(&["SET", "a", "x", "POINT", "1", "2"]),
        b"+OK\r\n"
    );
    let relay = tile38::relay::Relay::start(a.port);
    let follower = TestServer::start(&[]);
    let reply = follower
        .resp()
        .cmd_str(&["FOLLOW", "127.0.0.1", &relay.port.to_string()]);
    assert_eq!(reply, "+OK\r\n");
    let mut f = follower.resp();
    assert!(wait_until(WAIT, || healthy(&follower)
        && f.cmd(&["SCAN", "a", "COUNT"]) == b":1\r\n"));
    let b = TestServer::start(&[]);
    assert_eq!(
        b.resp().cmd(&["SET", "b", "y", "POINT", "3", "4"]),
        b"+OK\r\n"
    );
    relay.retarget(b.port);
    let moved = wait_until(WAIT, || {
        healthy(&follower)
            && f.cmd(&["SCAN", "b", "COUNT"]) == b":1\r\n"
            && f.cmd(&["SCAN", "a", "COUNT"]) == b":0\r\n"
    });
    assert!(moved, "{:?}", follower.logs());
    assert!(follower
        .logs()
        .iter()
        .any(|l| l.contains("the leader's id changed")));
}
