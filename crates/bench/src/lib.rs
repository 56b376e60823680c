//! `tile38-benchmark`: the load generator Tile38 ships, with its flags
//! (`-h -p -a -c -n -q -P -t --csv --json --redis`), test names (`PING`,
//! `SET (point)`, `NEARBY (limit 1)`, …) and output formats, plus extras:
//! `--preload N` random points before the tests, p50/p99/p99.9 latency,
//! error replies counted and shown, `--json-report` lines.
//!
//! Clients are tokio tasks (one runtime thread by default) writing `-P`
//! requests at once into the socket: with pipelining the server, not this
//! generator, is what gets measured.
//!
//! * [`tests`]: what each named test sends; [`arizona`]: the polygon of
//!   `INTERSECTS (intersects-az limit 5)`.
//! * [`wire`]: request encoding, reply measuring.
//! * [`run`]: connections, the preamble, timing; [`report`]: the formats.

pub mod arizona;
pub mod report;
pub mod run;
pub mod wire;
pub mod workloads;

use std::io::IsTerminal;

use clap::Parser;

/// The Tile38 release whose benchmark this one reproduces.
const TILE38_VERSION: &str = "1.37.0";

/// Command-line flags, as Tile38's `tile38-benchmark` spells them.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "tile38-benchmark",
    disable_help_flag = true,
    disable_version_flag = true
)]
pub struct Opts {
    /// Server hostname.
    #[arg(short = 'h', default_value = "127.0.0.1")]
    pub host: String,
    /// Server port.
    #[arg(short = 'p', default_value_t = 9851)]
    pub port: u16,
    /// Password for Tile38 AUTH.
    #[arg(short = 'a')]
    pub auth: Option<String>,
    /// Number of parallel connections.
    #[arg(short = 'c', default_value_t = 50)]
    pub clients: usize,
    /// Total number of requests per test.
    #[arg(short = 'n', default_value_t = 100_000)]
    pub requests: usize,
    /// Quiet: just show requests per second.
    #[arg(short = 'q')]
    pub quiet: bool,
    /// Pipeline this many requests.
    #[arg(short = 'P', default_value_t = 1)]
    pub pipeline: usize,
    /// Only run these comma-separated tests.
    #[arg(short = 't')]
    pub tests: Option<String>,
    /// Output in CSV format.
    #[arg(long)]
    pub csv: bool,
    /// Request JSON replies (`OUTPUT json`) instead of RESP.
    #[arg(long)]
    pub json: bool,
    /// Run Redis's tests (PING, SET, GET, GEOADD) against a Redis server.
    #[arg(long)]
    pub redis: bool,
    /// One JSON object per test on stdout.
    #[arg(long = "json-report")]
    pub json_report: bool,
    /// Before the tests, SET this many random points (with one field) in
    /// the benchmark key.
    #[arg(long, default_value_t = 0)]
    pub preload: usize,
    /// Seed of the random coordinates.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Client runtime threads.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Connect over TLS (redis-benchmark's flags).
    #[arg(long)]
    pub tls: bool,
    /// CA certificate (PEM) to verify the server with.
    #[arg(long)]
    pub cacert: Option<std::path::PathBuf>,
    /// Client certificate (PEM), for mutual TLS.
    #[arg(long)]
    pub cert: Option<std::path::PathBuf>,
    /// Private key (PEM) of the client certificate.
    #[arg(long)]
    pub key: Option<std::path::PathBuf>,
    /// Accept any server certificate.
    #[arg(long)]
    pub insecure: bool,
    /// Print help.
    #[arg(long = "help", short = '?')]
    pub help: bool,
    /// Print the version.
    #[arg(long = "version")]
    pub version: bool,
}

fn help() -> String {
    format!(
        "tile38-benchmark {TILE38_VERSION} (tile38-rs {})\n\n\
Usage: tile38-benchmark [-h <host>] [-p <port>] [-c <clients>] [-n <requests>]\n \
-h <hostname>      Server hostname (default: 127.0.0.1)\n \
-p <port>          Server port (default: 9851)\n \
-a <password>      Password for Tile38 Auth\n \
-c <clients>       Number of parallel connections (default 50)\n \
-n <requests>      Total number of requests (default 100000)\n \
-q                 Quiet. Just show query/sec values\n \
-P <numreq>        Pipeline <numreq> requests. Default 1 (no pipeline).\n \
-t <tests>         Only run the comma separated list of tests. The test\n                    \
names are the same as the ones produced as output.\n \
--csv              Output in CSV format.\n \
--json             Request JSON responses (default is RESP output)\n \
--redis            Runs against a Redis server\n\n\
Extras:\n \
--json-report      One JSON object per test: rate, p50/p99/p99.9, errors\n \
--preload <N>      SET N random points (one field) in key:bench first\n \
--seed <N>         Seed of the random coordinates (default 1)\n \
--threads <N>      Client threads (default 1)\n \
--tls              Connect over TLS; with --cacert <file>, --cert <file>\n                    \
--key <file> (mutual TLS), --insecure (any certificate)\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// `YYYY/MM/DD hh:mm:ss` (UTC), the prefix of Go's `log` lines.
fn log_time() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}/{month:02}/{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Runs the selected tests; returns the exit status.
async fn run_all(o: &Opts) -> i32 {
    let fail = |e: String| {
        if e == "invalid auth" {
            eprintln!("{} {e}", log_time());
        } else {
            eprintln!("{e}");
        }
        1
    };
    if o.preload > 0 {
        if let Err(e) = run::preload(o).await {
            return fail(e);
        }
    }
    let tty = std::io::stdout().is_terminal() && !o.csv && !o.json_report;
    for (k, test) in workloads::selected(o.tests.as_deref(), o.redis)
        .into_iter()
        .enumerate()
    {
        let seed = o.seed.wrapping_add(k as u64);
        let progress = |done, elapsed| {
            if tty {
                report::progress(test.name, done, elapsed);
            }
        };
        match run::run_test(o, test, seed, progress).await {
            Ok(mut out) => report::print(o, &report::summarize(test.name, &mut out), tty),
            Err(e) => return fail(e),
        }
    }
    0
}

/// Runs the benchmark; returns the process exit status.
pub fn main() -> i32 {
    let o = match Opts::try_parse() {
        Ok(o) => o,
        Err(e) => {
            let _ = e.print();
            return 1;
        }
    };
    if o.help {
        print!("{}", help());
        return 0;
    }
    if o.version {
        println!(
            "tile38-benchmark {TILE38_VERSION} (tile38-rs {})",
            env!("CARGO_PKG_VERSION")
        );
        return 0;
    }
    let mut rt = if o.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(o.threads);
        b
    };
    match rt.enable_all().build() {
        Ok(rt) => rt.block_on(run_all(&o)),
        Err(e) => {
            eprintln!("runtime: {e}");
            1
        }
    }
}
