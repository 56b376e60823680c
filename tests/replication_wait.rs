//! Follower acknowledgements, `WAIT numfollowers timeout` and
//! `min-followers-to-write` / `min-followers-max-lag`, with real processes
//! (`docs/replication.md`): a follower of ours acks what it applied and
//! wrote, WAIT blocks only its own client, the write gate follows the
//! acks, and the real Tile38 1.37 (`../shared/oracle`) still follows us
//! and is still followed by us with acks on.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tile38::{wait_until, Resp, TestServer, SIGKILL};

mod common {
    #[allow(dead_code)]
    pub mod replication;
}
use common::replication::{caught_up, cmd, follow, WAIT};

const REFUSED: &str = "-ERR not enough good followers to write\r\n";

fn set(s: &TestServer, id: &str) -> String {
    cmd(s, &["SET", "fleet", id, "POINT", "33", "-112"])
}

/// A leader and one follower of ours, caught up.
fn pair(leader_flags: &[&str]) -> (TestServer, TestServer) {
    let leader = TestServer::start(leader_flags);
    let follower = TestServer::start(&[]);
    follow(&follower, leader.port);
    assert!(wait_until(WAIT, || caught_up(&follower)));
    (leader, follower)
}

/// `GET path` on `port`: the response.
fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[test]
fn wait_returns_once_a_follower_has_the_write() {
    let metrics = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mport = metrics.local_addr().unwrap().port();
    drop(metrics);
    let (leader, follower) = pair(&["--metrics-addr", &format!("127.0.0.1:{mport}")]);
    let mut c = leader.resp();
    for i in 0..50 {
        assert_eq!(
            c.cmd_str(&["SET", "fleet", &format!("t{i}"), "POINT", "1", "2"]),
            "+OK\r\n"
        );
    }
    assert_eq!(c.cmd_str(&["WAIT", "1", "10000"]), ":1\r\n");
    // It had them: the follower answers with the last write.
    assert!(cmd(&follower, &["GET", "fleet", "t49"]).contains("[2,1]"));
    // Nothing more to wait for: at once, even when asking for more.
    let at = Instant::now();
    assert_eq!(c.cmd_str(&["WAIT", "0", "0"]), ":1\r\n");
    assert!(at.elapsed() < Duration::from_secs(1));
    c.cmd(&["OUTPUT", "json"]);
    let json = c.cmd_str(&["WAIT", "1", "1000"]);
    assert!(
        json.contains(r#"{"ok":true,"followers":1,"elapsed":"#),
        "{json}"
    );
    c.cmd(&["OUTPUT", "resp"]);
    // INFO shows the follower's acked offset (Redis's slaveN fields).
    let size = std::fs::metadata(leader.dir.join("appendonly.aof"))
        .unwrap()
        .len();
    let want = format!("port={},state=online,offset={size},", follower.port);
    let mut info = String::new();
    assert!(
        wait_until(WAIT, || {
            info = cmd(&leader, &["INFO", "replication"]);
            info.contains(&want)
        }),
        "{info}"
    );
    // Over HTTP too; and the metrics count the follower as good.
    let r = http_get(leader.port, "/WAIT+1+1000");
    assert!(r.contains(r#"{"ok":true,"followers":1,"#), "{r}");
    let m = http_get(mport, "/metrics");
    assert!(m.contains("\ntile38_good_followers 1\n"), "{m}");
    assert!(
        m.contains("tile38_follower_ack_offset_bytes{follower="),
        "{m}"
    );
    // The follower refuses WAIT like a write.
    assert_eq!(
        cmd(&follower, &["WAIT", "0", "0"]),
        "-ERR not the leader\r\n"
    );
}

#[test]
fn wait_times_out_without_followers_and_blocks_only_its_client() {
    let leader = TestServer::start(&[]);
    assert_eq!(set(&leader, "a"), "+OK\r\n");
    let at = Instant::now();
    assert_eq!(cmd(&leader, &["WAIT", "1", "300"]), ":0\r\n");
    let took = at.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert_eq!(cmd(&leader, &["WAIT", "0", "0"]), ":0\r\n");

    // A blocked WAIT holds neither the server nor the database.
    let mut waiter = leader.resp();
    waiter.send(&tile38::resp_cmd(&["WAIT", "1", "3000"]));
    let at = Instant::now();
    assert_eq!(set(&leader, "b"), "+OK\r\n");
    assert_eq!(cmd(&leader, &["PING"]), "+PONG\r\n");
    assert!(at.elapsed() < Duration::from_secs(2), "{:?}", at.elapsed());
    assert_eq!(String::from_utf8(waiter.read()).unwrap(), ":0\r\n");
    assert!(at.elapsed() >= Duration::from_millis(2500));

    // Pipelined: the commands after WAIT run after its reply.
    let mut c = leader.resp();
    let mut batch = tile38::resp_cmd(&["WAIT", "1", "100"]);
    batch.extend(tile38::resp_cmd(&["PING"]));
    c.send(&batch);
    assert_eq!(c.read(), b":0\r\n");
    assert_eq!(c.read(), b"+PONG\r\n");
}

#[test]
fn wait_argument_errors() {
    let s = TestServer::start(&[]);
    for (args, want) in [
        (
            &["WAIT"][..],
            "-ERR wrong number of arguments for 'wait' command\r\n",
        ),
        (
            &["WAIT", "1"],
            "-ERR wrong number of arguments for 'wait' command\r\n",
        ),
        (
            &["WAIT", "1", "2", "3"],
            "-ERR wrong number of arguments for 'wait' command\r\n",
        ),
        (&["WAIT", "x", "10"], "-ERR invalid argument 'x'\r\n"),
        (&["WAIT", "1", "-5"], "-ERR invalid argument '-5'\r\n"),
        (&["WAIT", "1", "1.5"], "-ERR invalid argument '1.5'\r\n"),
    ] {
        assert_eq!(cmd(&s, args), want, "{args:?}");
    }
    let mut c = s.resp();
    c.cmd(&["OUTPUT", "json"]);
    let r = c.cmd_str(&["WAIT", "x", "1"]);
    assert!(
        r.contains(r#""ok":false,"err":"invalid argument 'x'""#),
        "{r}"
    );
}

#[test]
fn wait_for_two_with_one_follower_returns_one_after_the_timeout() {
    let (leader, _follower) = pair(&[]);
    assert_eq!(set(&leader, "a"), "+OK\r\n");
    let at = Instant::now();
    assert_eq!(cmd(&leader, &["WAIT", "2", "500"]), ":1\r\n");
    assert!(at.elapsed() >= Duration::from_millis(500));
}

#[test]
fn min_followers_to_write_follows_the_acks() {
    let flags = [
        "--min-followers-to-write",
        "1",
        "--min-followers-max-lag",
        "2",
    ];
    let leader = TestServer::start(&flags);
    assert_eq!(set(&leader, "a"), REFUSED);
    let mut c = leader.resp();
    c.cmd(&["OUTPUT", "json"]);
    let r = c.cmd_str(&["SET", "fleet", "a", "POINT", "1", "2"]);
    assert!(
        r.contains(r#""err":"not enough good followers to write""#),
        "{r}"
    );
    // Reads go on.
    assert_eq!(cmd(&leader, &["PING"]), "+PONG\r\n");
    assert_eq!(cmd(&leader, &["GET", "fleet", "a"]), "$-1\r\n");

    let follower = TestServer::start(&[]);
    follow(&follower, leader.port);
    assert!(wait_until(WAIT, || set(&leader, "b") == "+OK\r\n"));
    assert_eq!(cmd(&leader, &["WAIT", "1", "10000"]), ":1\r\n");
    assert!(cmd(&follower, &["GET", "fleet", "b"]).contains("[-112,33]"));
    // The follower itself is not gated by it.
    assert_eq!(set(&follower, "c"), "-ERR not the leader\r\n");

    // Killed: refused again once its last ack is older than the lag.
    follower.signal(SIGKILL);
    let at = Instant::now();
    assert!(wait_until(WAIT, || set(&leader, "d") == REFUSED));
    assert!(
        at.elapsed() < Duration::from_secs(2 + 5),
        "{:?}",
        at.elapsed()
    );

    // Off again: writes go on with no follower.
    assert_eq!(
        cmd(&leader, &["CONFIG", "SET", "min-followers-to-write", "0"]),
        "+OK\r\n"
    );
    assert_eq!(set(&leader, "e"), "+OK\r\n");
}

#[test]
fn settings_round_trip() {
    let dir = tile38::temp_dir("wait-config");
    let s = TestServer::start_in(&dir, &[]);
    let get = |s: &TestServer, name: &str| cmd(s, &["CONFIG", "GET", name]);
    let pair =
        |name: &str, v: &str| format!("*2\r\n${}\r\n{name}\r\n${}\r\n{v}\r\n", name.len(), v.len());
    assert_eq!(
        get(&s, "min-followers-to-write"),
        pair("min-followers-to-write", "0")
    );
    assert_eq!(
        get(&s, "min-followers-max-lag"),
        pair("min-followers-max-lag", "10")
    );
    // Not Tile38's: absent from pattern listings.
    assert!(!get(&s, "*").contains("min-followers"));
    assert_eq!(
        cmd(&s, &["CONFIG", "SET", "min-followers-max-lag", "-1"]),
        "-ERR Invalid argument '-1' for CONFIG SET 'min-followers-max-lag'\r\n"
    );
    assert_eq!(
        cmd(&s, &["CONFIG", "SET", "min-followers-to-write", "3"]),
        "+OK\r\n"
    );
    assert_eq!(
        cmd(&s, &["CONFIG", "SET", "min-followers-max-lag", "7"]),
        "+OK\r\n"
    );
    assert_eq!(set(&s, "x"), REFUSED);
    assert_eq!(cmd(&s, &["CONFIG", "REWRITE"]), "+OK\r\n");
    let file = std::fs::read_to_string(dir.join("config")).unwrap();
    assert!(file.contains("\"min-followers-to-write\": \"3\""), "{file}");
    s.terminate();
    let s = TestServer::start_in(&dir, &[]);
    assert_eq!(
        get(&s, "min-followers-to-write"),
        pair("min-followers-to-write", "3")
    );
    assert_eq!(
        get(&s, "min-followers-max-lag"),
        pair("min-followers-max-lag", "7")
    );
    assert_eq!(set(&s, "x"), REFUSED);
    s.terminate();
    // The environment, and a bad flag stops the start.
    let env = [("TILE38_CONFIG_MIN_FOLLOWERS_TO_WRITE", "0")];
    let s = TestServer::start_with_env(&env, &[]);
    assert_eq!(
        get(&s, "min-followers-to-write"),
        pair("min-followers-to-write", "0")
    );
    let bad = Command::new(tile38::bin_path("tile38-server"))
        .args(["-p", "0", "-d"])
        .arg(tile38::temp_dir("wait-bad"))
        .args(["--min-followers-to-write", "x"])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(!bad.success());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The real Tile38 1.37, if `../shared/oracle` (or `TILE38_SHARED`) has it.
fn oracle_bin() -> Option<PathBuf> {
    let shared = std::env::var_os("TILE38_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    [shared, PathBuf::from("/work/shared")]
        .into_iter()
        .map(|d| d.join("oracle/tile38-server"))
        .find(|p| p.exists())
}

/// A running real Tile38, killed on drop.
struct Oracle {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Oracle {
    fn start(bin: &PathBuf) -> Oracle {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tile38::temp_dir("oracle");
        let child = Command::new(bin)
            .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string(), "-d"])
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let o = Oracle { child, port, dir };
        // Tile38 answers PING while it loads its (empty) AOF, and
        // `-LOADING` to anything else: wait for a data command.
        assert!(wait_until(WAIT, || o.try_cmd(&["KEYS", "*"]).as_deref()
            == Some("*0\r\n")));
        o
    }

    fn try_cmd(&self, args: &[&str]) -> Option<String> {
        let s = std::net::TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        let mut r = Resp::new(s);
        r.send(&tile38::resp_cmd(args));
        r.try_read()
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    fn cmd(&self, args: &[&str]) -> String {
        self.try_cmd(args).expect("oracle reply")
    }
}

impl Drop for Oracle {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn a_tile38_leader_still_streams_to_our_follower() {
    let Some(bin) = oracle_bin() else {
        eprintln!("skipped: no ../shared/oracle/tile38-server");
        return;
    };
    let leader = Oracle::start(&bin);
    assert_eq!(
        leader.cmd(&["SET", "fleet", "a", "POINT", "1", "2"]),
        "+OK\r\n"
    );
    let follower = TestServer::start(&[]);
    follow(&follower, leader.port);
    assert!(wait_until(WAIT, || cmd(&follower, &["GET", "fleet", "a"])
        .contains("[2,1]")));
    // The handshake's `replconf follower-id` got Tile38's error and no
    // acks followed: the stream is still the first one and carries the
    // next write.
    let links = |f: &TestServer| {
        f.logs()
            .iter()
            .filter(|l| l.contains("streaming from"))
            .count()
    };
    assert_eq!(
        leader.cmd(&["SET", "fleet", "b", "POINT", "3", "4"]),
        "+OK\r\n"
    );
    assert!(wait_until(WAIT, || cmd(&follower, &["GET", "fleet", "b"])
        .contains("[4,3]")));
    assert_eq!(links(&follower), 1, "{:?}", follower.logs());
    assert!(leader
        .cmd(&["INFO", "replication"])
        .contains("connected_slaves:1"));
}

#[test]
fn a_tile38_follower_still_follows_our_leader() {
    let Some(bin) = oracle_bin() else {
        eprintln!("skipped: no ../shared/oracle/tile38-server");
        return;
    };
    let leader = TestServer::start(&[]);
    assert_eq!(set(&leader, "a"), "+OK\r\n");
    let follower = Oracle::start(&bin);
    assert_eq!(
        follower.cmd(&["FOLLOW", "127.0.0.1", &leader.port.to_string()]),
        "+OK\r\n"
    );
    assert!(wait_until(WAIT, || follower
        .cmd(&["GET", "fleet", "a"])
        .contains("[-112,33]")));
    assert_eq!(set(&leader, "b"), "+OK\r\n");
    assert!(wait_until(WAIT, || follower
        .cmd(&["GET", "fleet", "b"])
        .contains("[-112,33]")));
    // It does not acknowledge: WAIT cannot count it.
    assert_eq!(cmd(&leader, &["WAIT", "1", "300"]), ":0\r\n");
    let info = cmd(&leader, &["INFO", "replication"]);
    assert!(info.contains("connected_slaves:1"), "{info}");
}
