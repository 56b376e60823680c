//! The report of a test in Tile38's formats — default (redis-benchmark
//! style, with the `% <= N milliseconds` distribution), `-q`, `--csv` —
//! plus latency percentiles, error replies, and `--json-report` lines.

use std::io::Write;
use std::time::Duration;

use crate::run::Outcome;
use crate::Opts;

/// A test's figures.
#[derive(Debug, Clone)]
pub struct Summary {
    pub name: &'static str,
    pub requests: u64,
    pub seconds: f64,
    pub rps: f64,
    /// Latency percentiles in milliseconds (a request's latency is the
    /// round trip of its pipeline batch).
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
    pub errors: u64,
    pub first_error: Option<String>,
    /// Average request size in bytes.
    pub payload: u64,
    /// `(milliseconds, cumulative %)` lines of the default report.
    pub distribution: Vec<(u64, f64)>,
}

/// The `p` quantile of weighted samples sorted by value.
fn percentile(sorted: &[(u64, u32)], total: u64, p: f64) -> f64 {
    let rank = ((p * total as f64).ceil() as u64).max(1);
    let mut seen = 0;
    for &(ns, k) in sorted {
        seen += u64::from(k);
        if seen >= rank {
            return ns as f64 / 1e6;
        }
    }
    sorted.last().map_or(0.0, |s| s.0 as f64 / 1e6)
}

/// redis-benchmark's distribution: for each millisecond bound, the share
/// of requests faster than it, printed when the share changes.
fn distribution(sorted: &[(u64, u32)], total: u64) -> Vec<(u64, f64)> {
    let mut lines = Vec::new();
    if total == 0 {
        return lines;
    }
    let (mut i, mut hits, mut last) = (0, 0u64, 0.0f64);
    let mut ms = 0u64;
    loop {
        let limit = (ms + 1) * 1_000_000;
        while i < sorted.len() && sorted[i].0 < limit {
            hits += u64::from(sorted[i].1);
            i += 1;
        }
        let per = hits as f64 / total as f64;
        if (per * 10000.0).floor() != (last * 10000.0).floor() {
            last = per;
            lines.push((ms, per * 100.0));
        }
        if hits == total {
            break;
        }
        // Skip empty milliseconds straight to the next sample.
        ms = match sorted.get(i) {
            Some(&(ns, _)) => (ns / 1_000_000).max(ms + 1),
            None => ms + 1,
        };
    }
    lines
}

pub fn summarize(name: &'static str, out: &mut Outcome) -> Summary {
    out.batches.sort_unstable();
    let n = out.requests;
    let seconds = out.elapsed.as_secs_f64();
    Summary {
        name,
        requests: n,
        seconds,
        rps: if seconds > 0.0 {
            n as f64 / seconds
        } else {
            0.0
        },
        p50: percentile(&out.batches, n, 0.5),
        p99: percentile(&out.batches, n, 0.99),
        p999: percentile(&out.batches, n, 0.999),
        errors: out.replies.errors,
        first_error: out.replies.first_error.clone(),
        payload: out.payload_bytes.checked_div(n).unwrap_or(0),
        distribution: distribution(&out.batches, n),
    }
}

/// The live progress line, rewritten in place (a terminal only).
pub fn progress(name: &str, done: u64, elapsed: Duration) {
    let rate = done as f64 / elapsed.as_secs_f64().max(1e-9);
    print!("\r{name}: {rate:.2}\r");
    let _ = std::io::stdout().flush();
}

/// Prints a test's report in the chosen format. `tty`: a progress line
/// may be on screen and is cleared first.
pub fn print(o: &Opts, s: &Summary, tty: bool) {
    let mut out = String::new();
    if tty && !o.csv && !o.json_report {
        out.push_str("\r\x1b[K");
    }
    if o.json_report {
        let v = serde_json::json!({
            "test": s.name,
            "requests": s.requests,
            "seconds": s.seconds,
            "requests_per_second": (s.rps * 100.0).round() / 100.0,
            "p50_ms": s.p50,
            "p99_ms": s.p99,
            "p999_ms": s.p999,
            "errors": s.errors,
            "first_error": s.first_error,
            "clients": o.clients,
            "pipeline": o.pipeline,
            "payload_bytes": s.payload,
        });
        out.push_str(&format!("{v}\n"));
    } else if o.csv {
        out.push_str(&format!("\"{}\",\"{:.2}\"\n", s.name, s.rps));
    } else if o.quiet {
        out.push_str(&format!("{}: {:.2} requests per second\n", s.name, s.rps));
    } else {
        out.push_str(&verbose(o, s));
    }
    print!("{out}");
    let _ = std::io::stdout().flush();
    // `-q` and `--csv` keep Tile38's exact stdout; errors go to stderr.
    if s.errors > 0 && (o.quiet || o.csv) {
        eprintln!(
            "{}: {} of {} replies were errors, e.g. {}",
            s.name,
            s.errors,
            s.requests,
            s.first_error.as_deref().unwrap_or("")
        );
    }
}

fn verbose(o: &Opts, s: &Summary) -> String {
    let mut out = format!(
        "====== {} ======\n  {} requests completed in {:.2} seconds\n  {} parallel clients\n  \
         {} bytes payload\n  keep alive: 1\n",
        s.name, s.requests, s.seconds, o.clients, s.payload
    );
    if o.pipeline > 1 {
        out.push_str(&format!("  pipeline: {}\n", o.pipeline));
    }
    if s.errors > 0 {
        out.push_str(&format!(
            "  {} error replies, e.g. {}\n",
            s.errors,
            s.first_error.as_deref().unwrap_or("")
        ));
    }
    out.push('\n');
    for (ms, pct) in &s.distribution {
        out.push_str(&format!("{pct:.2}% <= {ms} milliseconds\n"));
    }
    out.push_str(&format!(
        "latency p50 {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms\n{:.2} requests per second\n\n",
        s.p50, s.p99, s.p999, s.rps
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_percentiles_and_distribution() {
        // 90 requests at 0.5 ms, 9 at 1.5 ms, 1 at 3.2 ms.
        let sorted = [(500_000, 90), (1_500_000, 9), (3_200_000, 1)];
        assert_eq!(percentile(&sorted, 100, 0.5), 0.5);
        assert_eq!(percentile(&sorted, 100, 0.99), 1.5);
        assert_eq!(percentile(&sorted, 100, 0.999), 3.2);
        assert_eq!(
            distribution(&sorted, 100),
            vec![(0, 90.0), (1, 99.0), (3, 100.0)]
        );
        assert!(distribution(&[], 0).is_empty());
    }
}
