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

/// One pipelined batch of updates, looked up ahead once the write lock is
/// held (`crates/server/src/conn/ahead.rs`): moves of existing ids across
/// the index, new ids, FSET and DEL of present and missing ids, another
/// key, reads in between, a command larger than the look-ahead's window and
/// a last command arriving in two pieces. Every reply and the state after
/// are those of the commands run one by one.
#[test]
fn a_batch_looked_up_ahead_runs_as_sent() {
    let dir = temp_dir("look-ahead");
    let server = TestServer::start_in(&dir, &[]);
    let mut c = server.resp();
    // Enough objects for many index pages.
    for i in 0..2000 {
        let (lat, lon) = (format!("{}", i % 80), format!("{}", i / 80));
        assert_eq!(
            c.cmd(&["SET", "fleet", &format!("t{i}"), "POINT", &lat, &lon]),
            b"+OK\r\n"
        );
    }
    let (mut send, mut read) = connect(&server.addr());
    let big = "x".repeat(10_000);
    let mut batch = Vec::new();
    let mut want: Vec<Vec<u8>> = Vec::new();
    let mut push = |cmd: &[&str], reply: &[u8]| {
        batch.extend(resp_cmd(cmd));
        want.push(reply.to_vec());
    };
    for i in 0..40 {
        let id = format!("t{}", i * 37);
        push(
            &["SET", "fleet", &id, "POINT", "-45.5", &format!("{}", -i)],
            b"+OK\r\n",
        );
    }
    push(&["SET", "fleet", "new1", "POINT", "1", "2"], b"+OK\r\n");
    push(&["FSET", "fleet", "t1", "speed", "9"], b":1\r\n");
    push(
        &["FSET", "fleet", "nobody", "speed", "9"],
        b"-ERR id not found\r\n",
    );
    push(
        &["GET", "fleet", "t37", "POINT"],
        b"*2\r\n$5\r\n-45.5\r\n$2\r\n-1\r\n",
    );
    push(&["DEL", "fleet", "t2"], b":1\r\n");
    push(&["DEL", "fleet", "t2"], b":0\r\n");
    push(&["SET", "other", "t3", "POINT", "3", "4"], b"+OK\r\n");
    push(&["SET", "fleet", "t4", "STRING", &big], b"+OK\r\n");
    push(&["SET", "fleet", "t5", "POINT", "5", "6"], b"+OK\r\n");
    let last = resp_cmd(&["SET", "fleet", "t6", "POINT", "7", "8"]);
    batch.extend_from_slice(&last[..10]);
    send.write_all(&batch).expect("send");
    for (i, w) in want.iter().enumerate() {
        let got = read_resp(&mut read).expect("reply");
        assert_eq!(got, *w, "reply {i}: {}", String::from_utf8_lossy(&got));
    }
    send.write_all(&last[10..]).expect("send the rest");
    assert_eq!(read_resp(&mut read).expect("last reply"), b"+OK\r\n");
    let check = |server: &TestServer| {
        let mut c = server.resp();
        for i in 0..40 {
            let got = resp_strings(&c.cmd(&["GET", "fleet", &format!("t{}", i * 37), "POINT"]));
            assert_eq!(
                got,
                vec!["-45.5".to_string(), format!("{}", -i)],
                "t{}",
                i * 37
            );
        }
        assert_eq!(c.cmd(&["SCAN", "fleet", "COUNT"]), b":2000\r\n");
        assert_eq!(c.cmd(&["GET", "fleet", "t2"]), b"$-1\r\n");
        let t4 = c.cmd(&["GET", "fleet", "t4"]);
        assert_eq!(t4, format!("${}\r\n{big}\r\n", big.len()).into_bytes());
        let t6 = resp_strings(&c.cmd(&["GET", "fleet", "t6", "POINT"]));
        assert_eq!(t6, ["7", "8"]);
        // The moved points are found where they went, and only there.
        let near = c.cmd(&[
            "INTERSECTS",
            "fleet",
            "COUNT",
            "BOUNDS",
            "-46",
            "-40",
            "-45",
            "0",
        ]);
        assert_eq!(near, b":40\r\n");
    };
    check(&server);
    assert!(server.terminate().success());
    check(&TestServer::start_in(&dir, &[]));
}
