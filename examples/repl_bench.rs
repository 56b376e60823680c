//! Replication figures (issue 5), with the release binaries:
//!
//! ```sh
//! cargo build --release --bin tile38-server --example repl_bench
//! target/release/examples/repl_bench [points=1000000] [writes_per_sec=50000] [seconds=20]
//! ```
//!
//! 1. Catch-up: a leader holding `points` points (one field each), a fresh
//!    follower runs `FOLLOW`; time until its HEALTHZ answers OK.
//! 2. Lag: the leader takes `writes_per_sec` pipelined SETs per second from
//!    one client; every 50 ms a probe object is written and a second client
//!    polls the follower until it is visible. Reports p50/p99/max of the
//!    write-acknowledged → visible-on-follower delay.

use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tile38::{read_resp, resp_cmd, wait_until, Resp, TestServer};

fn pipeline(addr: &str, cmds: Vec<Vec<u8>>) {
    let stream = TcpStream::connect(addr).unwrap();
    let mut w = stream.try_clone().unwrap();
    let n = cmds.len();
    let writer = std::thread::spawn(move || {
        for chunk in cmds.chunks(10_000) {
            w.write_all(&chunk.concat()).unwrap();
        }
    });
    let mut r = BufReader::new(stream);
    for _ in 0..n {
        read_resp(&mut r).unwrap();
    }
    writer.join().unwrap();
}

fn set(i: u64) -> Vec<u8> {
    let lat = format!("{:.6}", 33.0 + (i % 1000) as f64 * 0.0005);
    let lon = format!("{:.6}", -112.0 - (i / 1000 % 1000) as f64 * 0.0005);
    resp_cmd(&[
        "SET",
        "fleet",
        &format!("truck{i}"),
        "FIELD",
        "speed",
        &(i % 90).to_string(),
        "POINT",
        &lat,
        &lon,
    ])
}

/// `[points=1000000] [writes_per_sec=50000] [seconds=20]`.
fn args() -> (u64, u64, u64) {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let points = args.first().copied().unwrap_or(1_000_000);
    let rate = args.get(1).copied().unwrap_or(50_000);
    let seconds = args.get(2).copied().unwrap_or(20);
    (points, rate, seconds)
}

/// Makes `f` follow `leader` and reports how long until HEALTHZ answers OK.
fn catch_up(f: &mut Resp, leader: &TestServer, points: u64) {
    let t = Instant::now();
    f.cmd(&["FOLLOW", "127.0.0.1", &leader.port.to_string()]);
    assert!(wait_until(Duration::from_secs(600), || f
        .cmd_str(&["HEALTHZ"])
        == "+OK\r\n"));
    println!(
        "catch-up of {points} points: {:.3}s",
        t.elapsed().as_secs_f64()
    );
}

/// Pipelined SETs from id `from` on, `rate` a second in 10 ms ticks,
/// until `stop`.
fn write_steadily(addr: &str, stop: &AtomicBool, from: u64, rate: u64) {
    let tick = Duration::from_millis(10);
    let per_tick = (rate / 100).max(1);
    let mut next = Instant::now();
    let mut i = from;
    while !stop.load(Ordering::Relaxed) {
        pipeline(addr, (i..i + per_tick).map(set).collect());
        i += per_tick;
        next += tick;
        if let Some(d) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(d);
        }
    }
}

/// For `seconds` while the leader takes `rate` writes a second: every
/// 50 ms, a probe written to `leader` and how long until `f` shows it.
fn lags(leader: &TestServer, f: &mut Resp, points: u64, rate: u64, seconds: u64) -> Vec<Duration> {
    let stop = AtomicBool::new(false);
    let mut lags = Vec::new();
    std::thread::scope(|s| {
        let addr = leader.addr();
        let stop = &stop;
        s.spawn(move || write_steadily(&addr, stop, points, rate));
        let mut l = leader.resp();
        let mut probe = 0u64;
        let end = Instant::now() + Duration::from_secs(seconds);
        while Instant::now() < end {
            probe += 1;
            let id = format!("probe{probe}");
            l.cmd(&["SET", "probes", &id, "POINT", "1", "1"]);
            let acked = Instant::now();
            loop {
                let r = f.cmd(&["GET", "probes", &id]);
                if !(r.starts_with(b"$-1") || r.starts_with(b"-")) {
                    break;
                }
            }
            lags.push(acked.elapsed());
            std::thread::sleep(Duration::from_millis(50));
        }
        stop.store(true, Ordering::Relaxed);
    });
    lags.sort();
    lags
}

fn main() {
    let (points, rate, seconds) = args();

    let leader = TestServer::start(&[]);
    let t = Instant::now();
    pipeline(&leader.addr(), (0..points).map(set).collect());
    println!(
        "leader loaded {points} points in {:.2}s",
        t.elapsed().as_secs_f64()
    );

    let follower = TestServer::start(&[]);
    let mut f = follower.resp();
    catch_up(&mut f, &leader, points);

    let lags = lags(&leader, &mut f, points, rate, seconds);
    let pct = |p: f64| lags[((lags.len() - 1) as f64 * p) as usize].as_secs_f64() * 1000.0;
    println!(
        "lag at {rate} writes/s over {seconds}s ({} probes): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        lags.len(),
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    println!(
        "{}",
        f.cmd_str(&["INFO", "replication"]).replace("\r\n", " ")
    );
}
