//! Many connections pipelining writes at once, against the real binary:
//! a connection whose next write finds the write lock held by another
//! connection waits for it without blocking its thread and runs that write
//! afterwards (`crates/server/src/conn/lockwait.rs`). Nothing may be lost,
//! answered twice or run out of the order a client sent it, whatever the
//! interleaving, and readers beside the writers still get answers.

use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use tile38::{read_resp, resp_cmd, resp_strings, temp_dir, TestServer};

const WRITERS: usize = 12;
const ROUNDS: usize = 6;
const PER_ROUND: usize = 150;

/// A connection's two halves (a stalled server fails the test, not hangs
/// it).
fn connect(addr: &str) -> (TcpStream, BufReader<TcpStream>) {
    let stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    (stream.try_clone().expect("clone"), BufReader::new(stream))
}

/// One writer: `ROUNDS` pipelined batches, each of `PER_ROUND` pairs
/// "SET its id to a new point, GET it back", every reply checked in order.
fn writer(addr: String, w: usize) {
    let (mut send, mut read) = connect(&addr);
    let id = format!("w{w}");
    for round in 0..ROUNDS {
        let mut batch = Vec::new();
        for i in 0..PER_ROUND {
            let n = round * PER_ROUND + i;
            let (lat, lon) = (format!("{}", n % 80), format!("{w}"));
            batch.extend(resp_cmd(&["SET", "fleet", &id, "POINT", &lat, &lon]));
            batch.extend(resp_cmd(&["GET", "fleet", &id, "POINT"]));
        }
        send.write_all(&batch).expect("send");
        for i in 0..PER_ROUND {
            let n = round * PER_ROUND + i;
            let set = read_resp(&mut read).expect("SET reply");
            assert_eq!(set, b"+OK\r\n", "writer {w} SET {n}");
            let got = resp_strings(&read_resp(&mut read).expect("GET reply"));
            let want = vec![format!("{}", n % 80), format!("{w}")];
            assert_eq!(got, want, "writer {w}: GET after SET {n} saw another write");
        }
    }
}

/// A reader beside the writers: `SCAN fleet COUNT` answers a count that
/// never exceeds the writers' ids.
fn reader(addr: String) -> usize {
    let (mut send, mut read) = connect(&addr);
    let mut answered = 0;
    for _ in 0..200 {
        send.write_all(&resp_cmd(&["SCAN", "fleet", "COUNT"]).repeat(4))
            .expect("send");
        for _ in 0..4 {
            let r = read_resp(&mut read).expect("SCAN reply");
            let n: usize = std::str::from_utf8(&r[1..r.len() - 2])
                .expect("utf8")
                .parse()
                .expect("count");
            assert!(r[0] == b':' && n <= WRITERS, "SCAN answered {r:?}");
            answered += 1;
        }
    }
    answered
}

#[test]
fn pipelined_writers_keep_order_and_lose_nothing() {
    let dir = temp_dir("concurrent-writes");
    let server = TestServer::start_in(&dir, &[]);
    let addr = server.addr();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let addr = addr.clone();
            std::thread::spawn(move || writer(addr, w))
        })
        .collect();
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let addr = addr.clone();
            std::thread::spawn(move || reader(addr))
        })
        .collect();
    for w in writers {
        w.join().expect("writer");
    }
    for r in readers {
        assert_eq!(r.join().expect("reader"), 800);
    }
    let last = (ROUNDS * PER_ROUND - 1) % 80;
    let check = |server: &TestServer| {
        let mut c = server.resp();
        let count = c.cmd(&["SCAN", "fleet", "COUNT"]);
        assert_eq!(count, format!(":{WRITERS}\r\n").into_bytes());
        for w in 0..WRITERS {
            let got = resp_strings(&c.cmd(&["GET", "fleet", &format!("w{w}"), "POINT"]));
            assert_eq!(got, vec![last.to_string(), w.to_string()], "writer {w}");
        }
    };
    check(&server);
    // Every write reached the journal in order: a restart from the AOF
    // has each writer's last point.
    assert!(server.terminate().success());
    check(&TestServer::start_in(&dir, &[]));
}
