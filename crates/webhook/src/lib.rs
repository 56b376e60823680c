//! Webhook delivery for Tile38 hooks (issue 15, items 5 and 6): Tile38
//! 1.37's `SETHOOK` endpoints, its per-hook queue, failover and retry
//! (`docs/design/geofencing.md` §9), as a crate beside the server runtime.
//! It knows nothing of the engine: the server feeds it hook definitions
//! ([`Webhooks::set_hook`], [`Webhooks::del_hook`]) and event messages
//! ([`Webhooks::enqueue`]) and reads [`Webhooks::stats`].
//!
//! * `endpoint`: URL → [`Endpoint`] parts (Tile38's `parseEndpoint`).
//! * `queue`: one bounded, persistent queue per hook under
//!   [`Config::dir`]; `writer`: the thread that puts it on disk (batched
//!   fsync, like `appendfsync everysec`).
//! * `worker`: one tokio task per hook: front event → endpoints in list
//!   order, the first success ends it (failover); all failed → backoff and
//!   retry the same event, so order within a hook is kept.
//! * `send`: one sender per endpoint kind, each behind a cargo feature.
//!
//! What follows Tile38 and what does not:
//! * Messages expire [`Config::ttl`] after they were queued (Tile38: 30 s,
//!   our default too: a geofence event much later than the move it reports
//!   misleads more than it informs; raise it to ride out longer outages).
//! * Retry: Tile38 retries every 0.5 s; we start at [`Config::retry_initial`]
//!   (0.5 s) and double up to [`Config::retry_max`] (5 s) so a dead
//!   endpoint is not hammered for the whole TTL.
//! * Queues are bounded ([`Config::max_events`], [`Config::max_bytes`]);
//!   Tile38's is bounded by the TTL only. Overflow drops the oldest events
//!   (counted, logged).
//! * Delivery is at least once: an event is removed from the queue after
//!   its endpoint accepted it; a crash (or a shutdown mid-send) between
//!   the two sends it again after the restart. A clean shutdown with
//!   nothing in flight loses and repeats nothing.
//! * `local://channel` goes through the queue like any endpoint and is
//!   handed to the server's [`LocalPublisher`] (Tile38 publishes it to its
//!   own subscribers the same way, after the direct channel messages).
//! * Disque, Kafka, SQS, Pub/Sub, Event Hub and Cloudflare Queues are
//!   accepted ([`Endpoint::Unsupported`]) but not delivered: each attempt
//!   fails over to the next endpoint, counts in
//!   [`HookStats::unsupported`], and is logged once per hook and endpoint.

use tile38_endpoint as endpoint;
mod queue;
mod send;
mod stats;
mod system;
mod worker;
mod writer;

use std::path::PathBuf;
use std::time::Duration;

pub use endpoint::{parse as parse_endpoint, Amqp, Endpoint, InvalidEndpoint, Mqtt, Nats};
pub use stats::{HookStats, Stats};
pub use system::Webhooks;

/// Where local (`local://channel`) deliveries go: the server's pub/sub.
pub trait LocalPublisher: Send + Sync + 'static {
    fn publish(&self, channel: &[u8], message: &[u8]);
}

impl<F: Fn(&[u8], &[u8]) + Send + Sync + 'static> LocalPublisher for F {
    fn publish(&self, channel: &[u8], message: &[u8]) {
        self(channel, message)
    }
}

/// Delivery settings; [`Config::new`] gives Tile38's behaviour plus our
/// bounds.
#[derive(Clone, Debug)]
pub struct Config {
    /// The queues' directory (the server uses `<data dir>/webhooks`).
    pub dir: PathBuf,
    /// How long a message may wait for delivery (Tile38: 30 s). Zero: no
    /// expiry.
    pub ttl: Duration,
    /// Per hook: events waiting at most (default 100 000).
    pub max_events: usize,
    /// Per hook: payload bytes waiting at most (default 64 MiB).
    pub max_bytes: usize,
    /// The first wait after every endpoint failed (Tile38: 0.5 s).
    pub retry_initial: Duration,
    /// The longest wait between retries (default 5 s).
    pub retry_max: Duration,
    /// One attempt at one endpoint, connecting included (Tile38's HTTP
    /// client: 5 s).
    pub timeout: Duration,
    /// How often written queue data is fsynced (default 1 s).
    pub fsync_interval: Duration,
    /// A segment file is closed for appends past this size (default
    /// 4 MiB); segments are deleted once every event in them is done.
    pub segment_bytes: u64,
    /// Extra trusted CA certificates (PEM) for `https://` endpoints,
    /// besides the bundled Mozilla roots.
    pub ca_file: Option<PathBuf>,
}

impl Config {
    pub fn new(dir: impl Into<PathBuf>) -> Config {
        Config {
            dir: dir.into(),
            ttl: Duration::from_secs(30),
            max_events: 100_000,
            max_bytes: 64 << 20,
            retry_initial: Duration::from_millis(500),
            retry_max: Duration::from_secs(5),
            timeout: Duration::from_secs(5),
            fsync_interval: Duration::from_secs(1),
            segment_bytes: 4 << 20,
            ca_file: None,
        }
    }
}
