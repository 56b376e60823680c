//! `tile38-benchmark`: the load generator Tile38 ships, with its flags and
//! test names (`PING`, `SET (point)`, `NEARBY (limit 1)`, …), plus extras:
//! `--preload N` random points before the tests and p50/p99/p99.9 latency.
//!
//! Each client is a thread with one blocking connection that writes `-P`
//! requests at once and then reads as many replies: with pipelining the
//! server, not this generator, is what gets measured.
//!
//! * [`tests`]: what each named test sends.
//! * [`run`]: clients, timing, and the report formats.

pub mod run;
pub mod tests;

use clap::Parser;

/// Command-line flags, as Tile38's `tile38-benchmark` spells them.
#[derive(Parser, Debug, Clone)]
#[command(name = "tile38-benchmark", disable_help_flag = true, version)]
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
    /// Only run these comma-separated tests (matched on their first word).
    #[arg(short = 't')]
    pub tests: Option<String>,
    /// Output in CSV format.
    #[arg(long)]
    pub csv: bool,
    /// Request JSON replies.
    #[arg(long)]
    pub json: bool,
    /// Before the tests, SET this many random points (with one field) in
    /// the benchmark key.
    #[arg(long, default_value_t = 0)]
    pub preload: usize,
    /// Seed of the random coordinates.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print help.
    #[arg(long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
}

/// Runs the benchmark; returns the process exit status.
pub fn main() -> i32 {
    let opts = Opts::parse();
    run::run(&opts)
}
