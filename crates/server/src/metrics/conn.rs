//! Connection-handling counters: connections closed for breaking their
//! output-buffer limits (`tile38_engine::output_limit`) and failed `accept(2)` calls (the
//! file-descriptor limit, see `startup::accept_loop`).

use std::sync::atomic::{AtomicU64, Ordering};

use super::text::{Family, Kind};

#[derive(Default)]
pub struct ConnCounters {
    /// `accept(2)` failures (EMFILE/ENFILE and the like).
    pub accept_errors: AtomicU64,
}

/// The families of a scrape.
pub fn families(c: &ConnCounters, stats: &tile38_engine::Stats) -> Vec<Family> {
    let mut limit = Family::new(
        "tile38_client_output_limit_disconnects_total",
        "Connections closed for overcoming their output buffer limits",
        Kind::Counter,
    );
    limit.push(
        vec![("class", "pubsub".to_string())],
        stats.output_limit_disconnects.load(Ordering::Relaxed) as f64,
    );
    let accept = Family::single(
        "tile38_accept_errors_total",
        "Failed accepts of new connections (e.g. at the open file limit)",
        Kind::Counter,
        c.accept_errors.load(Ordering::Relaxed) as f64,
    );
    vec![limit, accept]
}
