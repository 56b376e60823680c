//! Shared by `replication.rs` and `replication_links.rs`: pipelined
//! writes of point sets, `FOLLOW`, and waiting until a follower is caught
//! up and holds exactly its leader's data.

use std::io::{BufReader, Write};
use std::time::Duration;

use tile38::{read_resp, resp_cmd, wait_until, TestServer};

pub const WAIT: Duration = Duration::from_secs(60);

pub fn cmd(s: &TestServer, args: &[&str]) -> String {
    s.resp().cmd_str(args)
}

/// Sends `cmds` pipelined on one connection and checks every reply is OK.
pub fn pipeline(s: &TestServer, cmds: &[Vec<u8>]) {
    pipeline_to(&s.addr(), cmds)
}

pub fn pipeline_to(addr: &str, cmds: &[Vec<u8>]) {
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

pub fn set_points(key: &str, from: usize, n: usize) -> Vec<Vec<u8>> {
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

pub fn healthz(s: &TestServer) -> String {
    cmd(s, &["HEALTHZ"])
}

pub fn caught_up(s: &TestServer) -> bool {
    healthz(s) == "+OK\r\n"
}

/// Waits until the follower is caught up and holds exactly the leader's data.
pub fn converge(leader: &TestServer, follower: &TestServer) {
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

pub fn follow(f: &TestServer, port: u16) {
    assert_eq!(
        cmd(f, &["FOLLOW", "127.0.0.1", &port.to_string()]),
        "+OK\r\n"
    );
}
