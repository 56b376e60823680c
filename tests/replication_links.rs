//! The replication link between real processes: FOLLOW's refusals and
//! leaderauth, the AOF stream a leader serves (and ends when the reader
//! sends anything), a link cut mid-stream (through the test relay in
//! `tile38::relay`), the data directory lock and an idle stream at
//! shutdown, and a stream reader that never reads.

use std::io::{BufReader, Write};
use std::time::Duration;

use tile38::relay::Relay;
use tile38::{read_resp, resp_cmd, wait_until, Resp, TestServer};

mod common {
    pub mod replication;
}
use common::replication::{
    caught_up, cmd, converge, follow, pipeline, pipeline_to, set_points, WAIT,
};

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
