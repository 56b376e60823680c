//! Geofencing under overload (issue 15): 10 000 channels with the default
//! DETECT (which includes `outside`, so every write to the key is an event
//! for every fence) and SET load. Tile38 1.37 stops answering there (no
//! reply to a single SET for minutes, RSS past 1.6 GB and climbing: it
//! builds every event of every channel whether or not anyone listens).
//! Here:
//!
//! * with nobody subscribed, no event is built: SETs keep being answered
//!   and memory stays flat;
//! * a subscriber hearing every channel (`PSUBSCRIBE *`) and a live fence
//!   that both stop reading are disconnected past
//!   `client-output-buffer-limit` (a log line each, counted in
//!   `tile38_client_output_limit_disconnects_total`), while SETs keep
//!   being answered and memory stays bounded.

use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use tile38::probe::{free_port, metric, rss};
use tile38::{resp_cmd, wait_until, Resp, TestServer};

const CHANNELS: usize = 10_000;
/// Objects the load moves around (so the data set itself stays small).
const OBJECTS: u64 = 1_000;
/// A burst that Tile38 would not answer; generous for a loaded machine.
const ANSWERED_WITHIN: Duration = Duration::from_secs(20);

/// 10 000 channels on `fleet`, default DETECT, 1°×1° cells spread over
/// the globe.
fn create_channels(c: &mut Resp) {
    let mut pipeline = Vec::new();
    for i in 0..CHANNELS {
        let cell = i * (180 * 360) / CHANNELS;
        let (lat, lon) = ((cell / 360) as i64 - 90, (cell % 360) as i64 - 180);
        let bounds = [lat, lon, lat + 1, lon + 1].map(|v| v.to_string());
        let name = format!("c{i}");
        let mut args = vec!["SETCHAN", &name, "WITHIN", "fleet", "FENCE", "BOUNDS"];
        args.extend(bounds.iter().map(String::as_str));
        pipeline.extend(resp_cmd(&args));
    }
    c.send(&pipeline);
    for i in 0..CHANNELS {
        assert_eq!(c.read(), b":1\r\n", "SETCHAN c{i}");
    }
}

/// `n` pipelined SETs of points drawn over the whole globe (like
/// `tile38-benchmark -t SET`); returns how long until all were answered.
fn burst(c: &mut Resp, n: usize, seed: &mut u64) -> Duration {
    let mut pipeline = Vec::with_capacity(n * 64);
    for _ in 0..n {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let r = *seed >> 11;
        let lat = (r % 17_000) as f64 / 100.0 - 85.0;
        let lon = ((r >> 20) % 35_000) as f64 / 100.0 - 175.0;
        let id = format!("v{}", (r >> 40) % OBJECTS);
        let (lat, lon) = (lat.to_string(), lon.to_string());
        pipeline.extend(resp_cmd(&["SET", "fleet", &id, "POINT", &lat, &lon]));
    }
    let start = Instant::now();
    c.send(&pipeline);
    for _ in 0..n {
        assert_eq!(c.read(), b"+OK\r\n");
    }
    start.elapsed()
}

/// A raw connection that sends `command`, reads `n` bytes of its reply
/// and never reads again.
fn stalled(server: &TestServer, command: &[u8], reply_starts: &[u8]) -> TcpStream {
    let mut s = server.raw();
    std::io::Write::write_all(&mut s, command).unwrap();
    let mut got = vec![0u8; reply_starts.len()];
    s.read_exact(&mut got).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(reply_starts)
    );
    s
}

fn disconnects(port: u16) -> f64 {
    metric(port, "tile38_client_output_limit_disconnects_total").unwrap_or(-1.0)
}

#[test]
fn unheard_channels_cost_nothing_and_slow_listeners_are_cut_off() {
    let metrics_port = free_port();
    let metrics = format!("127.0.0.1:{metrics_port}");
    let server = TestServer::start(&["--metrics-addr", &metrics]);
    let mut c = server.resp();
    assert_eq!(
        c.cmd(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 4mb 0 0"
        ]),
        b"+OK\r\n"
    );
    create_channels(&mut c);
    let mut seed = 38;
    burst(&mut c, 5_000, &mut seed);
    let before = rss(server.pid());

    // Nobody listens: 100 000 SETs, each answered, memory flat.
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        slowest = slowest.max(burst(&mut c, 5_000, &mut seed));
    }
    let grown = rss(server.pid()).saturating_sub(before);
    println!("unheard: slowest burst of 5000 SETs {slowest:?}, grew {grown} bytes");
    assert!(slowest < ANSWERED_WITHIN, "a burst took {slowest:?}");
    assert!(grown < 64 << 20, "grew {grown} bytes with nobody listening");
    assert_eq!(disconnects(metrics_port), 0.0);

    // Two listeners that stop reading: every channel's events, and a live
    // fence over the whole globe (an `inside` event for every write).
    let subscriber = stalled(&server, b"PSUBSCRIBE *\r\n", b"*3\r\n$10\r\npsubscribe");
    let fence = stalled(
        &server,
        b"INTERSECTS fleet FENCE BOUNDS -90 -180 90 180\r\n",
        b"+OK\r\n",
    );
    let (mut peak, mut bursts) = (rss(server.pid()), 0);
    while disconnects(metrics_port) < 2.0 && bursts < 300 {
        slowest = slowest.max(burst(&mut c, 2_000, &mut seed));
        peak = peak.max(rss(server.pid()));
        bursts += 1;
    }
    let grown = peak.saturating_sub(before);
    println!("listeners cut after {bursts} bursts of 2000; slowest {slowest:?}; peak grew {grown}");
    assert_eq!(disconnects(metrics_port), 2.0, "after {bursts} bursts");
    assert!(slowest < ANSWERED_WITHIN, "a burst took {slowest:?}");
    assert!(grown < 160 << 20, "grew {grown} bytes");
    let logged = wait_until(Duration::from_secs(10), || {
        let logs = server.logs();
        let cut = "closed for overcoming of output buffer limits";
        logs.iter().filter(|l| l.contains(cut)).count() == 2
    });
    assert!(logged, "{:?}", server.logs());
    for mut s in [subscriber, fence] {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut sink = vec![0u8; 1 << 20];
        let closed = wait_until(Duration::from_secs(30), || {
            matches!(s.read(&mut sink), Ok(0) | Err(_))
        });
        assert!(closed, "a stalled listener's socket stayed open");
    }
    // Unheard again: writes go on.
    assert!(burst(&mut c, 5_000, &mut seed) < ANSWERED_WITHIN);
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
}
