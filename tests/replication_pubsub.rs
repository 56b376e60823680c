//! Pub/sub across replication (spec §2 `AOF pos`, §3.2): a leader passes
//! its channel messages (PUBLISH, SETCHAN events) to its followers inside
//! the AOF stream, so a subscriber on a follower hears exactly what a
//! subscriber on the leader hears (same bytes: same `time`, same
//! `group`), once; a follower evaluates live fences itself (Tile38 1.37
//! alike, checked against it); the forwarded records never reach the
//! follower's AOF.

use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use tile38::{read_resp, wait_until, TestServer};

mod common {
    pub mod replication;
}
use common::replication::{cmd, converge, follow, pipeline, set_points};

fn subscriber(s: &TestServer, channel: &str) -> redis::PubSub<'static> {
    let con = Box::leak(Box::new(s.redis()));
    let mut sub = con.as_pubsub();
    sub.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    sub.subscribe(channel).unwrap();
    sub
}

fn next(sub: &mut redis::PubSub) -> (String, String) {
    let msg = sub.get_message().expect("a message within 10 s");
    (
        msg.get_channel_name().to_string(),
        msg.get_payload::<String>().unwrap(),
    )
}

/// A live fence on a raw connection, after its `+OK`.
fn live_fence(s: &TestServer, args: &str) -> BufReader<TcpStream> {
    let mut sock = s.raw();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    sock.write_all(format!("{args}\r\n").as_bytes()).unwrap();
    let mut rd = BufReader::new(sock);
    assert_eq!(read_resp(&mut rd).unwrap(), b"+OK\r\n");
    rd
}

fn live_event(rd: &mut BufReader<TcpStream>) -> String {
    let frame = read_resp(rd).expect("a live event within 10 s");
    let text = String::from_utf8(frame).unwrap();
    text.split_once("\r\n").unwrap().1.trim_end().to_string()
}

fn member<'a>(event: &'a str, name: &str) -> &'a str {
    let at = event.find(&format!("\"{name}\":\"")).expect(name) + name.len() + 4;
    &event[at..at + event[at..].find('"').unwrap()]
}

#[test]
fn follower_subscribers_hear_the_leaders_channel_messages_once() {
    let leader = TestServer::start(&[]);
    let follower = TestServer::start(&[]);
    follow(&follower, leader.port);
    let fence = "NEARBY fleet FENCE DETECT enter,exit POINT 33 -115 10000";
    let setchan: Vec<&str> = ["SETCHAN", "zone"]
        .into_iter()
        .chain(fence.split(' '))
        .collect();
    assert_eq!(cmd(&leader, &setchan), ":1\r\n");
    converge(&leader, &follower);

    let mut on_leader = subscriber(&leader, "zone");
    let mut on_follower = subscriber(&follower, "zone");
    let mut news = subscriber(&follower, "news");
    let mut live = live_fence(&follower, fence);
    // The first message proves the path is up before the fence writes; a
    // follower is not counted as a receiver on the leader (Tile38 alike).
    assert!(wait_until(Duration::from_secs(10), || {
        cmd(&leader, &["PUBLISH", "news", "warm-up"]) == ":0\r\n"
    }));
    assert_eq!(next(&mut news), ("news".into(), "warm-up".into()));

    cmd(&leader, &["SET", "fleet", "t1", "POINT", "33", "-115"]);
    cmd(&leader, &["SET", "fleet", "t1", "POINT", "40", "-115"]);
    assert_eq!(cmd(&leader, &["PUBLISH", "zone", "end"]), ":1\r\n");

    for detect in ["enter", "exit"] {
        let (ch, here) = next(&mut on_leader);
        assert_eq!(ch, "zone");
        assert_eq!(member(&here, "detect"), detect, "{here}");
        // Forwarded, not evaluated again: byte for byte the same event.
        assert_eq!(next(&mut on_follower), ("zone".into(), here.clone()));
        // The follower's live fence is its own evaluation of the same
        // replicated write.
        let own = live_event(&mut live);
        assert_eq!(member(&own, "detect"), detect, "{own}");
        assert_eq!(member(&own, "id"), "t1");
        assert_ne!(member(&own, "group"), member(&here, "group"));
    }
    // No second copy of either event before the marker.
    assert_eq!(next(&mut on_follower), ("zone".into(), "end".into()));
    assert_eq!(next(&mut on_leader), ("zone".into(), "end".into()));

    converge(&leader, &follower);
    let aof = std::fs::read(follower.dir.join("appendonly.aof")).unwrap();
    assert!(
        !aof.windows(7).any(|w| w.eq_ignore_ascii_case(b"publish")),
        "a forwarded message reached the follower's AOF"
    );
}

/// Messages keep their place between the records of a stream that is
/// catching up: a burst of writes and channel events, each event after
/// the write it reports, all arriving intact on the follower.
#[test]
fn forwarded_messages_arrive_intact_during_a_write_burst() {
    let leader = TestServer::start(&[]);
    let follower = TestServer::start(&[]);
    follow(&follower, leader.port);
    assert_eq!(
        cmd(
            &leader,
            &[
                "SETCHAN", "all", "WITHIN", "fleet", "FENCE", "DETECT", "enter", "BOUNDS", "-90",
                "-180", "90", "180"
            ]
        ),
        ":1\r\n"
    );
    converge(&leader, &follower);
    let mut sub = subscriber(&follower, "all");
    assert!(wait_until(Duration::from_secs(10), || {
        cmd(&leader, &["PUBLISH", "all", "warm-up"]) == ":0\r\n"
    }));
    assert_eq!(next(&mut sub).1, "warm-up");
    let n = 2000;
    let writes: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            let id = format!("v{i}");
            let lat = format!("{}", (i % 170) as f64 - 85.0);
            tile38::resp_cmd(&["SET", "fleet", &id, "POINT", &lat, "10"])
        })
        .collect();
    pipeline(&leader, &writes);
    // Writes no fence hears, between the heard ones, in another key.
    pipeline(&leader, &set_points("other", 0, 500));
    for i in 0..n {
        let (_, event) = next(&mut sub);
        assert_eq!(member(&event, "id"), format!("v{i}"), "{event}");
        // The follower has the object by the time it hears of it.
        if i % 500 == 0 {
            let got = cmd(&follower, &["GET", "fleet", &format!("v{i}")]);
            assert!(got.contains("Point"), "{got}");
        }
    }
    converge(&leader, &follower);
}
