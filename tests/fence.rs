//! Geofencing on the real server: the recorded Tile38 1.37 fence cases
//! (`tests/data/conformance/fence.jsonl`, replayed by
//! `tools/conformance/fence_replay.py`, with its own HTTP receiver and a
//! `redis-server` it starts for the Redis endpoints) for channels, hooks,
//! live fences and ROAM,
//! then a real Redis client and a raw live connection following moving
//! objects: enter/inside/exit/cross in order, roam nearby/faraway for two
//! objects, and the `del` event of an object that expires. A channel
//! defined before a restart fires after it (the AOF load rebuilds its
//! fence), and a live fence on a follower fires for the leader's writes.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::Value as Json;
use tile38::probe::free_port;
use tile38::{resp_strings, temp_dir, TestServer};

/// Cases left out, with why (none today: the `hook_*` cases run with the
/// replay tool's own HTTP receiver and a `redis-server` it starts on
/// `--redis-port`).
const NOT_YET: &[&str] = &[];

#[test]
fn recorded_fence_cases() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let corpus = std::fs::read_to_string(root.join("tests/data/conformance/fence.jsonl")).unwrap();
    let kept: Vec<&str> = corpus
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter(|l| {
            let v: Json = serde_json::from_str(l).expect("corpus line is JSON");
            let name = v["name"].as_str().unwrap_or("");
            !NOT_YET.contains(&name)
        })
        .collect();
    assert_eq!(kept.len(), 87, "the corpus changed: review NOT_YET");
    let dir = temp_dir("fence-cases");
    let file = dir.join("fence.jsonl");
    std::fs::write(&file, kept.join("\n") + "\n").unwrap();
    let server = TestServer::start(&[]);
    let out = Command::new("python3")
        .arg(root.join("tools/conformance/fence_replay.py"))
        .args(["--port", &server.port.to_string()])
        .args(["--redis-port", &free_port().to_string()])
        .arg(&file)
        .output()
        .expect("run python3 fence_replay.py");
    let _ = std::fs::remove_dir_all(&dir);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = report.lines().last().unwrap_or_default();
    assert_eq!(
        summary,
        format!("{} passed, 0 failed", kept.len()),
        "{report}"
    );
}

fn set(con: &mut redis::Connection, args: &[&str]) {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    let _: redis::Value = cmd.query(con).unwrap_or_else(|e| panic!("{args:?}: {e}"));
}

/// The next geofence event a Redis subscriber gets, as JSON.
fn next_event(sub: &mut redis::PubSub) -> Json {
    let msg = sub.get_message().expect("an event");
    serde_json::from_slice(msg.get_payload_bytes()).expect("event JSON")
}

fn detect_and_id(e: &Json) -> (String, String) {
    let s = |k: &str| e[k].as_str().unwrap_or("").to_string();
    (s("detect"), s("id"))
}

/// The moves of one object around the box 0,0 – 10,10 and the events
/// each produces without a DETECT list (spec §6.2: enter, exit and cross
/// come with their inside/outside companion).
const MOVES: &[(&str, &str, &[&str])] = &[
    ("20", "20", &["outside"]),
    ("5", "5", &["enter", "inside"]),
    ("6", "6", &["inside"]),
    ("20", "20", &["exit", "outside"]),
    ("-20", "-20", &["cross", "outside"]),
];

#[test]
fn moving_object_on_a_channel_and_a_live_fence() {
    let server = TestServer::start(&[]);
    let mut con = server.redis();
    let fence = "WITHIN fleet FENCE BOUNDS 0 0 10 10";
    let mut words = vec!["SETCHAN", "box"];
    words.extend(fence.split(' '));
    set(&mut con, &words);
    let mut sub_con = server.redis();
    let mut sub = sub_con.as_pubsub();
    sub.subscribe("box").unwrap();
    sub.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut live = server.resp();
    let reply = live.cmd(&fence.split(' ').collect::<Vec<_>>());
    assert_eq!(reply, b"+OK\r\n");
    for (lat, lon, detects) in MOVES {
        set(&mut con, &["SET", "fleet", "t1", "POINT", lat, lon]);
        for want in *detects {
            let e = next_event(&mut sub);
            assert_eq!(detect_and_id(&e), (want.to_string(), "t1".into()), "{e}");
            assert_eq!(e["hook"], "box");
            let got = resp_strings(&live.read());
            let e: Json = serde_json::from_str(&got[0]).unwrap();
            assert_eq!(detect_and_id(&e), (want.to_string(), "t1".into()), "{e}");
            assert!(e.get("hook").is_none(), "live events name no hook: {e}");
        }
    }
    // Any command ends the live connection, without a reply.
    live.send(b"PING\r\n");
    assert!(live.try_read().is_err(), "the live connection closes");
}

#[test]
fn roam_events_for_two_moving_objects() {
    let server = TestServer::start(&[]);
    let mut con = server.redis();
    set(
        &mut con,
        &[
            "SETCHAN", "near", "NEARBY", "fleet", "FENCE", "ROAM", "fleet", "*", "1000",
        ],
    );
    let mut sub_con = server.redis();
    let mut sub = sub_con.as_pubsub();
    sub.subscribe("near").unwrap();
    sub.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    set(&mut con, &["SET", "fleet", "a", "POINT", "33", "-115"]);
    set(&mut con, &["SET", "fleet", "b", "POINT", "33.001", "-115"]);
    let e = next_event(&mut sub);
    assert_eq!(detect_and_id(&e), ("roam".into(), "b".into()), "{e}");
    assert_eq!(e["nearby"]["id"], "a", "{e}");
    set(&mut con, &["SET", "fleet", "a", "POINT", "33.002", "-115"]);
    let e = next_event(&mut sub);
    assert_eq!(detect_and_id(&e), ("roam".into(), "a".into()), "{e}");
    assert_eq!(e["nearby"]["id"], "b", "{e}");
    set(&mut con, &["SET", "fleet", "b", "POINT", "40", "-100"]);
    let e = next_event(&mut sub);
    assert_eq!(detect_and_id(&e), ("roam".into(), "b".into()), "{e}");
    assert_eq!(e["faraway"]["id"], "a", "{e}");
}

#[test]
fn expired_object_produces_its_del_event() {
    let server = TestServer::start(&[]);
    let mut con = server.redis();
    set(
        &mut con,
        &[
            "SETCHAN", "ttl", "WITHIN", "fleet", "FENCE", "DETECT", "enter", "BOUNDS", "0", "0",
            "10", "10",
        ],
    );
    let mut sub_con = server.redis();
    let mut sub = sub_con.as_pubsub();
    sub.subscribe("ttl").unwrap();
    sub.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    set(
        &mut con,
        &["SET", "fleet", "x", "EX", "1", "POINT", "5", "5"],
    );
    let e = next_event(&mut sub);
    assert_eq!(detect_and_id(&e), ("enter".into(), "x".into()), "{e}");
    let e = next_event(&mut sub);
    assert_eq!(e["command"], "del", "{e}");
    assert_eq!(e["id"], "x", "{e}");
}

#[test]
fn channels_loaded_from_the_aof_fire_after_a_restart() {
    let dir = temp_dir("fence-aof");
    let server = TestServer::start_in(&dir, &[]);
    let mut con = server.redis();
    set(
        &mut con,
        &["SET", "zones", "z1", "BOUNDS", "0", "0", "10", "10"],
    );
    set(
        &mut con,
        &[
            "SETCHAN", "zone", "WITHIN", "fleet", "FENCE", "DETECT", "enter", "GET", "zones", "z1",
        ],
    );
    drop(con);
    server.terminate();
    let server = TestServer::start_in(&dir, &[]);
    let mut con = server.redis();
    let mut sub_con = server.redis();
    let mut sub = sub_con.as_pubsub();
    sub.subscribe("zone").unwrap();
    sub.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    set(&mut con, &["SET", "fleet", "t1", "POINT", "5", "5"]);
    let e = next_event(&mut sub);
    assert_eq!(detect_and_id(&e), ("enter".into(), "t1".into()), "{e}");
    drop(sub);
    server.terminate();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn live_fences_fire_on_a_follower() {
    let leader = TestServer::start(&[]);
    let follower = TestServer::start(&[]);
    let port = leader.port.to_string();
    let reply = follower.resp().cmd_str(&["FOLLOW", "127.0.0.1", &port]);
    assert_eq!(reply, "+OK\r\n");
    let caught_up = tile38::wait_until(Duration::from_secs(20), || {
        follower.resp().cmd_str(&["HEALTHZ"]) == "+OK\r\n"
    });
    assert!(caught_up, "the follower never caught up");
    let mut live = follower.resp();
    let fence = ["WITHIN", "fleet", "FENCE", "BOUNDS", "0", "0", "10", "10"];
    assert_eq!(live.cmd(&fence), b"+OK\r\n");
    let mut con = leader.redis();
    set(&mut con, &["SET", "fleet", "t1", "POINT", "5", "5"]);
    for want in ["enter", "inside"] {
        let got = resp_strings(&live.read());
        let e: Json = serde_json::from_str(&got[0]).unwrap();
        assert_eq!(detect_and_id(&e), (want.into(), "t1".into()), "{e}");
    }
}
