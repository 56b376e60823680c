//! What the server reports about delivery: per hook (queue depth, counts,
//! last latency and error) and in total (`pending_events`, which Tile38's
//! SERVER does not have but our SERVER/INFO/metrics will show).

use std::time::Duration;

/// One hook's queue and delivery counters, since the process started
/// (counters are not persisted; the queue depth is).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HookStats {
    pub name: Vec<u8>,
    /// Events waiting (undelivered, not expired, not dropped).
    pub queue_depth: u64,
    /// Their payload bytes.
    pub queue_bytes: u64,
    /// Events accepted by [`crate::Webhooks::enqueue`].
    pub enqueued: u64,
    /// Events delivered to one of the endpoints.
    pub delivered: u64,
    /// Delivery rounds in which every endpoint failed (each is followed by
    /// a backoff and a retry of the same event).
    pub failures: u64,
    /// Events dropped because the queue was full (the oldest go).
    pub dropped: u64,
    /// Events dropped because their TTL ran out before delivery.
    pub expired: u64,
    /// Attempts at an endpoint kind this build does not deliver to.
    pub unsupported: u64,
    /// How long the last successful delivery took.
    pub last_latency: Option<Duration>,
    /// The last round's failure, endpoint by endpoint.
    pub last_error: Option<String>,
}

/// Every hook's stats.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub hooks: Vec<HookStats>,
    /// Events waiting in all queues, deleted hooks' leftovers included.
    pub pending_events: u64,
}
