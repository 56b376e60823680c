//! Running the tests: one thread and one connection per client, `-P`
//! requests written at once, replies counted; then the report in Tile38's
//! formats (default, `-q`, `--csv`) with latency percentiles added.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::tests::{selected, Rng, State, Test, KEY};
use crate::Opts;

fn encode(out: &mut Vec<u8>, args: &[String]) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

/// Reads one complete reply; returns its first line.
fn read_reply(r: &mut impl BufRead, line: &mut Vec<u8>) -> std::io::Result<()> {
    line.clear();
    if r.read_until(b'\n', line)? == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    let n: i64 = std::str::from_utf8(&line[1..])
        .ok()
        .and_then(|s| s.trim_end().parse().ok())
        .unwrap_or(-1);
    match line.first() {
        Some(b'$') if n >= 0 => {
            let mut skip = vec![0; n as usize + 2];
            r.read_exact(&mut skip)?;
        }
        Some(b'*') => {
            let mut inner = Vec::new();
            for _ in 0..n.max(0) {
                read_reply(r, &mut inner)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Connects and runs Tile38's preamble: `CONFIG GET requirepass` (inline),
/// AUTH when asked, `OUTPUT json` with `--json`.
fn connect(o: &Opts) -> Result<BufReader<TcpStream>, String> {
    let s = TcpStream::connect((o.host.as_str(), o.port))
        .map_err(|e| format!("dial tcp {}:{}: {e}", o.host, o.port))?;
    s.set_nodelay(true).ok();
    let mut r = BufReader::new(s);
    let mut line = Vec::new();
    r.get_mut()
        .write_all(b"CONFIG GET requirepass\r\n")
        .map_err(|e| e.to_string())?;
    read_reply(&mut r, &mut line).map_err(|e| e.to_string())?;
    let needs_auth = line.starts_with(b"-");
    match (&o.auth, needs_auth) {
        (Some(pw), true) => {
            let mut buf = Vec::new();
            encode(&mut buf, &["AUTH".into(), pw.clone()]);
            r.get_mut().write_all(&buf).map_err(|e| e.to_string())?;
            read_reply(&mut r, &mut line).map_err(|e| e.to_string())?;
            if !line.starts_with(b"+OK") {
                return Err("invalid auth".into());
            }
        }
        (None, false) => {}
        _ => return Err("invalid auth".into()),
    }
    if o.json {
        r.get_mut()
            .write_all(b"output json\r\n")
            .map_err(|e| e.to_string())?;
        read_reply(&mut r, &mut line).map_err(|e| e.to_string())?;
    }
    Ok(r)
}

struct Outcome {
    elapsed: Duration,
    /// Per-request latency in microseconds (a batch's round trip).
    latencies: Vec<u32>,
}

fn run_test(o: &Opts, test: &Test, seed: u64) -> Result<Outcome, String> {
    let done = Arc::new(AtomicUsize::new(0));
    let clients = o.clients.max(1);
    let pipeline = o.pipeline.max(1);
    let start = Instant::now();
    let mut handles = Vec::new();
    for c in 0..clients {
        let share = o.requests / clients + usize::from(c < o.requests % clients);
        let (o, done, make) = (o.clone(), done.clone(), test.make);
        handles.push(std::thread::spawn(move || -> Result<Vec<u32>, String> {
            let mut conn = connect(&o)?;
            let mut st = State {
                rng: Rng::new(seed ^ ((c as u64 + 1) * 7919)),
                next_id: (c * share) as u64,
                rect: None,
            };
            let (mut buf, mut line, mut lat) = (Vec::new(), Vec::new(), Vec::with_capacity(share));
            let mut left = share;
            while left > 0 {
                let k = left.min(pipeline);
                buf.clear();
                for _ in 0..k {
                    encode(&mut buf, &make(&mut st));
                }
                let t0 = Instant::now();
                conn.get_mut().write_all(&buf).map_err(|e| e.to_string())?;
                for _ in 0..k {
                    read_reply(&mut conn, &mut line).map_err(|e| e.to_string())?;
                }
                let us = t0.elapsed().as_micros().min(u32::MAX as u128) as u32;
                lat.extend(std::iter::repeat_n(us, k));
                left -= k;
                done.fetch_add(k, Ordering::Relaxed);
            }
            Ok(lat)
        }));
    }
    let progress = !o.csv;
    while progress && handles.iter().any(|h| !h.is_finished()) {
        std::thread::sleep(Duration::from_millis(250));
        let rate = done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64();
        eprint!("\r{}: {rate:.2}\r", test.name);
    }
    let mut latencies = Vec::new();
    for h in handles {
        latencies.extend(h.join().map_err(|_| "client panicked".to_string())??);
    }
    Ok(Outcome {
        elapsed: start.elapsed(),
        latencies,
    })
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

fn report(o: &Opts, test: &Test, out: &mut Outcome) {
    let n = out.latencies.len();
    let secs = out.elapsed.as_secs_f64();
    let rate = n as f64 / secs;
    out.latencies.sort_unstable();
    let (p50, p99, p999) = (
        percentile(&out.latencies, 0.5),
        percentile(&out.latencies, 0.99),
        percentile(&out.latencies, 0.999),
    );
    if o.csv {
        println!("\"{}\",\"{rate:.2}\"", test.name);
    } else if o.quiet {
        println!("{}: {rate:.2} requests per second", test.name);
    } else {
        println!("====== {} ======", test.name);
        println!("  {n} requests completed in {secs:.2} seconds");
        println!("  {} parallel clients", o.clients);
        println!("  keep alive: 1");
        println!();
        println!("latency p50 {p50:.3} ms, p99 {p99:.3} ms, p99.9 {p999:.3} ms");
        println!("{rate:.2} requests per second");
        println!();
    }
}

/// SETs `n` random points with one field, pipelined on one connection.
fn preload(o: &Opts) -> Result<(), String> {
    let mut conn = connect(o)?;
    let mut rng = Rng::new(o.seed.wrapping_add(12345));
    let (mut buf, mut line) = (Vec::new(), Vec::new());
    let mut i = 0;
    while i < o.preload {
        buf.clear();
        let k = (o.preload - i).min(1000);
        for j in 0..k {
            let args = [
                "SET".into(),
                KEY.into(),
                format!("pre:{}", i + j),
                "FIELD".into(),
                "speed".into(),
                format!("{}", (i + j) % 100),
                "POINT".into(),
                rng.lat(),
                rng.lon(),
            ];
            encode(&mut buf, &args);
        }
        conn.get_mut().write_all(&buf).map_err(|e| e.to_string())?;
        for _ in 0..k {
            read_reply(&mut conn, &mut line).map_err(|e| e.to_string())?;
        }
        i += k;
    }
    Ok(())
}

/// Runs the selected tests; returns the exit status.
pub fn run(o: &Opts) -> i32 {
    if o.preload > 0 {
        if let Err(e) = preload(o) {
            eprintln!("{e}");
            return 1;
        }
    }
    for (k, test) in selected(o.tests.as_deref()).iter().enumerate() {
        match run_test(o, test, o.seed.wrapping_add(k as u64)) {
            Ok(mut out) => report(o, test, &mut out),
            Err(e) => {
                eprintln!("{e}");
                return 1;
            }
        }
    }
    0
}
