//! Webhook delivery families (Tile38 has none): per hook, with a `hook`
//! label, its queue depth, deliveries, failed delivery rounds and the last
//! delivery's latency, read from `tile38_webhook::Webhooks::stats` at
//! scrape time; and the events waiting in all queues (deleted hooks'
//! leftovers included), SERVER's `pending_events`.

use super::text::{Family, Kind};
use crate::server::Server;

/// The webhook families of a scrape.
pub fn families(server: &Server) -> Vec<Family> {
    let stats = server.webhooks.get().map(|w| w.stats()).unwrap_or_default();
    let mut depth = Family::new(
        "tile38_hook_queue_depth",
        "Events waiting for delivery per hook",
        Kind::Gauge,
    );
    let mut delivered = Family::new(
        "tile38_hook_deliveries_total",
        "Events delivered per hook",
        Kind::Counter,
    );
    let mut failures = Family::new(
        "tile38_hook_failures_total",
        "Delivery rounds in which every endpoint failed, per hook",
        Kind::Counter,
    );
    let mut latency = Family::new(
        "tile38_hook_last_latency_seconds",
        "Duration of the last successful delivery per hook",
        Kind::Gauge,
    );
    for h in &stats.hooks {
        let label = || vec![("hook", String::from_utf8_lossy(&h.name).into_owned())];
        depth.push(label(), h.queue_depth as f64);
        delivered.push(label(), h.delivered as f64);
        failures.push(label(), h.failures as f64);
        if let Some(l) = h.last_latency {
            latency.push(label(), l.as_secs_f64());
        }
    }
    let pending = Family::single(
        "tile38_pending_events",
        "Webhook events waiting for delivery in all queues",
        Kind::Gauge,
        stats.pending_events as f64,
    );
    vec![depth, delivered, failures, latency, pending]
}
