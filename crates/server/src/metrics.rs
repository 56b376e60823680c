//! Prometheus metrics: `tile38-server --metrics-addr host:port` serves
//! `GET /metrics` (text format 0.0.4) on a separate listener, with
//! Tile38's `tile38_*` families and some it lacks.
//!
//! * [`summary`]: `tile38_cmd_duration_seconds`, timed per command by each
//!   connection and handed over once per batch.
//! * [`gather`]: gauges read from the server's state at scrape time.
//! * [`text`]: the exposition format as Go's client writes it.
//! * [`hooks`]: webhook delivery per hook (queue depth, deliveries,
//!   failures, last latency) and the pending events.
//! * [`conn`]: connection-handling counters (output limits, accept errors).
//! * `http`: the listener.

pub mod conn;
pub mod elect;
pub mod gather;
pub mod hooks;
mod http;
pub mod summary;
pub mod text;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::net::TcpListener;

pub use summary::CmdTimer;

use crate::server::Server;

/// The server's metrics state.
#[derive(Default)]
pub struct Metrics {
    /// Commands are timed only while a metrics listener runs.
    enabled: AtomicBool,
    pub durations: summary::Durations,
    /// Output-limit disconnects and accept failures.
    pub conn: conn::ConnCounters,
}

impl Metrics {
    #[inline]
    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }
}

/// The text of one scrape.
pub fn scrape(server: &Server) -> String {
    text::render(gather::families(server))
}

/// `--metrics-addr`: binds `addr` (Go style `:port` means every
/// interface), starts timing commands and serves scrapes. A bind failure
/// is returned: the server exits with status 1, as Tile38 does. With
/// `tls` (`metrics-tls yes`) scrapes are https.
pub async fn listen(
    server: Arc<Server>,
    addr: &str,
    tls: Option<Arc<tile38_tls::reload::Reloading>>,
) -> std::io::Result<()> {
    let bind = match addr.strip_prefix(':') {
        Some(port) => format!("0.0.0.0:{port}"),
        None => addr.to_string(),
    };
    let listener = TcpListener::bind(bind.as_str())
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("metrics: listen on {addr}: {e}")))?;
    server.metrics.enabled.store(true, Ordering::Relaxed);
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!("Metrics at {scheme}://{}/metrics", listener.local_addr()?);
    tokio::spawn(http::accept_loop(server, listener, tls));
    Ok(())
}
