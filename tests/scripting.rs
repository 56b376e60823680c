//! Lua scripting through the real binary (issue 17): the limits that keep
//! a runaway script from holding the server (time, memory), that a
//! script's writes are journaled one by one (they survive a restart and
//! reach a follower), EVALRO's refusal of writes and a follower's
//! acceptance of EVALRO, and the script cache (EVALSHA after SCRIPT
//! FLUSH). Replies are checked against Tile38 1.37's texts.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tile38::{wait_until, TestServer};

#[allow(dead_code)]
mod common {
    pub mod replication;
}
use common::replication::{cmd, converge, follow, WAIT};

/// `CONFIG SET name value`, which must answer OK.
fn config(s: &TestServer, name: &str, value: &str) {
    assert_eq!(cmd(s, &["CONFIG", "SET", name, value]), "+OK\r\n");
}

const LOOP: &str = "local x = 0 while true do x = x + 1 end";

/// Runs `args` on its own connection in a thread; the flag is set once
/// the reply came back.
fn in_background(
    s: &TestServer,
    args: &[&str],
) -> (std::thread::JoinHandle<(String, Duration)>, Arc<AtomicBool>) {
    let mut conn = s.resp();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let done = Arc::new(AtomicBool::new(false));
    let flag = done.clone();
    let handle = std::thread::spawn(move || {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let start = Instant::now();
        let reply = conn.cmd_str(&refs);
        flag.store(true, Ordering::SeqCst);
        (reply, start.elapsed())
    });
    (handle, done)
}

#[test]
fn an_endless_script_is_stopped_while_others_are_served() {
    let s = TestServer::start(&[]);
    config(&s, "lua-time-limit", "1500");
    assert_eq!(cmd(&s, &["SET", "k", "a", "POINT", "1", "2"]), "+OK\r\n");
    for eval in ["EVAL", "EVALNA", "EVALRO"] {
        let (handle, done) = in_background(&s, &[eval, LOOP, "0"]);
        // Other clients are answered while the script runs (EVALNA and
        // EVALRO hold no write lock, so reads too).
        let mut served_meanwhile = 0;
        let mut other = s.resp();
        while !done.load(Ordering::SeqCst) {
            assert_eq!(other.cmd_str(&["PING"]), "+PONG\r\n");
            if eval != "EVAL" {
                assert!(other.cmd_str(&["GET", "k", "a"]).contains("Point"));
            }
            if !done.load(Ordering::SeqCst) {
                served_meanwhile += 1;
            }
        }
        let (reply, took) = handle.join().unwrap();
        assert_eq!(reply, "-ERR timeout\r\n", "{eval}");
        assert!(
            took >= Duration::from_millis(1400),
            "{eval} stopped early: {took:?}"
        );
        assert!(took < Duration::from_secs(10), "{eval} ran {took:?}");
        assert!(served_meanwhile > 0, "{eval}: nobody was served meanwhile");
        // And after.
        assert_eq!(cmd(&s, &["EVAL", "return 2 + 2", "0"]), ":4\r\n");
    }
    // TIMEOUT's deadline stops a script sooner than the limit.
    let start = Instant::now();
    assert_eq!(
        cmd(&s, &["TIMEOUT", "0.2", "EVAL", LOOP, "0"]),
        "-ERR timeout\r\n"
    );
    assert!(start.elapsed() < Duration::from_millis(1400));
}

#[test]
fn a_script_allocating_without_bound_is_stopped() {
    let s = TestServer::start(&[]);
    config(&s, "lua-memory-limit", "16mb");
    config(&s, "lua-time-limit", "60000");
    let hog =
        "local t = {} local i = 1 while true do t[i] = string.rep('x', 4096) .. i i = i + 1 end";
    let start = Instant::now();
    let reply = cmd(&s, &["EVAL", hog, "0"]);
    assert_eq!(reply, "-ERR not enough memory\r\n");
    assert!(start.elapsed() < Duration::from_secs(30));
    // A single huge string is refused too.
    let reply = cmd(&s, &["EVAL", "return string.rep('x', 1073741824)", "0"]);
    assert_eq!(reply, "-ERR not enough memory\r\n");
    assert_eq!(
        cmd(&s, &["EVAL", "return #string.rep('x', 1000)", "0"]),
        ":1000\r\n"
    );
}

#[test]
fn a_scripts_writes_survive_a_restart_and_reach_a_follower() {
    let dir = tile38::temp_dir("lua-leader");
    let leader = TestServer::start_in(&dir, &[]);
    let follower = TestServer::start(&[]);
    follow(&follower, leader.port);
    let script = "tile38.call('set', KEYS[1], 'a', 'point', 1, 2) \
                  tile38.call('set', KEYS[1], 'b', 'field', 'speed', 1.5, 'point', 3, 4) \
                  return tile38.call('del', KEYS[1], 'a')";
    assert_eq!(cmd(&leader, &["EVAL", script, "1", "fleet"]), ":1\r\n");
    converge(&leader, &follower);
    let b = "*2\r\n$36\r\n{\"type\":\"Point\",\"coordinates\":[4,3]}\r\n*2\r\n$5\r\nspeed\r\n$3\r\n1.5\r\n";
    assert_eq!(cmd(&follower, &["GET", "fleet", "b", "WITHFIELDS"]), b);
    assert_eq!(cmd(&follower, &["GET", "fleet", "a"]), "$-1\r\n");
    // A follower runs EVALRO and refuses EVAL.
    let ro = cmd(
        &follower,
        &["EVALRO", "return tile38.call('get', 'fleet', 'b')", "0"],
    );
    assert_eq!(ro, "$36\r\n{\"type\":\"Point\",\"coordinates\":[4,3]}\r\n");
    assert_eq!(
        cmd(&follower, &["EVAL", "return 1", "0"]),
        "-ERR not the leader\r\n"
    );
    // Each write is its own AOF record; the EVAL is not one.
    let aof = std::fs::read(dir.join("appendonly.aof")).unwrap();
    let text = String::from_utf8_lossy(&aof).to_ascii_lowercase();
    assert!(!text.contains("eval"), "{text}");
    assert_eq!(text.matches("$3\r\nset\r\n").count(), 2, "{text}");
    assert_eq!(text.matches("$3\r\ndel\r\n").count(), 1, "{text}");
    drop(follower);
    leader.terminate();
    let again = TestServer::start_in(&dir, &[]);
    assert!(wait_until(WAIT, || cmd(&again, &["PING"]) == "+PONG\r\n"));
    assert_eq!(cmd(&again, &["GET", "fleet", "b", "WITHFIELDS"]), b);
    assert_eq!(cmd(&again, &["GET", "fleet", "a"]), "$-1\r\n");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn evalro_refuses_a_write() {
    let s = TestServer::start(&[]);
    let reply = cmd(
        &s,
        &[
            "EVALRO",
            "return tile38.call('set', 'k', 'a', 'point', 1, 2)",
            "0",
        ],
    );
    assert!(
        reply.starts_with("-ERR f_") && reply.contains(": ERR read only"),
        "{reply}"
    );
    let reply = cmd(
        &s,
        &[
            "EVALRO",
            "return tile38.pcall('set', 'k', 'a', 'point', 1, 2)",
            "0",
        ],
    );
    assert_eq!(reply, "-ERR read only\r\n");
    assert_eq!(cmd(&s, &["GET", "k", "a"]), "$-1\r\n");
    // EVAL may write.
    let reply = cmd(
        &s,
        &[
            "EVAL",
            "return tile38.call('set', 'k', 'a', 'point', 1, 2)",
            "0",
        ],
    );
    assert_eq!(reply, "+OK\r\n");
    assert!(cmd(&s, &["GET", "k", "a"]).contains("Point"));
}

#[test]
fn evalsha_after_script_flush_is_not_found() {
    let s = TestServer::start(&[]);
    let sha = "2dd1b44209ecb49617af05caf0491390a03c1cc4";
    assert_eq!(
        cmd(&s, &["SCRIPT", "LOAD", "return 2 + 2"]),
        format!("$40\r\n{sha}\r\n")
    );
    assert_eq!(cmd(&s, &["EVALSHA", sha, "0"]), ":4\r\n");
    assert_eq!(cmd(&s, &["SCRIPT FLUSH"]), "$2\r\nOK\r\n");
    assert_eq!(cmd(&s, &["EVALSHA", sha, "0"]), "-ERR sha not found\r\n");
    assert_eq!(cmd(&s, &["SCRIPT", "EXISTS", sha]), "*1\r\n:0\r\n");
    // EVAL caches again.
    assert_eq!(cmd(&s, &["EVAL", "return 2 + 2", "0"]), ":4\r\n");
    assert_eq!(cmd(&s, &["EVALROSHA", sha, "0"]), ":4\r\n");
}

/// A script's write past `maxmemory` is refused like a client's (Tile38
/// alike; recorded case `scripts/script_writes_held_to_maxmemory`), so a
/// script cannot grow the server past the limit; reads still work.
#[test]
fn a_scripts_writes_are_held_to_maxmemory() {
    let s = TestServer::start(&[]);
    config(&s, "maxmemory", "1kb");
    let set = "return tile38.pcall('set', 'k', 'a', 'point', 1, 2)";
    let oom = "-OOM command not allowed when used memory > 'maxmemory'\r\n";
    assert_eq!(cmd(&s, &["SET", "k", "a", "POINT", "1", "2"]), oom);
    let reply = cmd(&s, &["EVAL", set, "0"]);
    assert!(reply.contains("OOM command not allowed"), "{reply}");
    let reply = cmd(&s, &["EVALNA", set, "0"]);
    assert!(reply.contains("OOM command not allowed"), "{reply}");
    assert_eq!(
        cmd(&s, &["EVAL", "return tile38.call('get', 'k', 'a')", "0"]),
        "$-1\r\n"
    );
    config(&s, "maxmemory", "0");
    assert_eq!(cmd(&s, &["EVAL", set, "0"]), "+OK\r\n");
}
