//! Output-buffer limits for connections whose output cannot be paused:
//! Redis's `client-output-buffer-limit` (hard limit; soft limit held for
//! soft-seconds) for the `pubsub` class.
//!
//! A request/response connection is never cut off for its replies: it
//! stops executing until the client reads (`OUTPUT_PAUSE` in the parent
//! module). A subscriber or a live geofence receives messages that other
//! clients' writes produce; pausing it would pause those writers, so, as
//! Redis does for its pub/sub clients, it is disconnected once its unsent
//! output passes the hard limit, or has stayed above the soft limit for
//! longer than the soft seconds. Replication streams read the AOF file at
//! their own pace and hold no buffer (see `repl::leader`), so they need no
//! class of their own.
//!
//! The pub/sub and geofence work plugs in here: each such connection keeps
//! an [`OutputLimit`], calls [`OutputLimit::check`] with its pending bytes
//! whenever it queues a message (with [`OutputLimits::current`]), and on
//! [`Verdict::Disconnect`] calls [`disconnect`].

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::clients::ClientInfo;
use crate::engine::Engine;

/// The limits of one class: bytes (0 = none) and seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputLimits {
    pub hard: u64,
    pub soft: u64,
    pub soft_seconds: u64,
}

impl Default for OutputLimits {
    /// Redis's default for `pubsub`: 32 MiB hard, 8 MiB for 60 seconds.
    fn default() -> Self {
        OutputLimits {
            hard: 32 << 20,
            soft: 8 << 20,
            soft_seconds: 60,
        }
    }
}

/// The only class whose limits are kept; Redis's `normal` and `replica`
/// classes have no use here (see the module docs).
const CLASS: &str = "pubsub";

impl OutputLimits {
    /// The `pubsub` limits in force (`CONFIG SET` applies at once).
    pub fn current(server: &Engine) -> OutputLimits {
        server.config.props().client_output_buffer_limit
    }

    /// Redis's syntax: `<class> <hard> <soft> <soft seconds>`, repeatable;
    /// sizes are bytes or take a unit (`k`, `kb`, `m`, `mb`, `g`, `gb`:
    /// powers of 1000 and of 1024, as Redis reads them). Only `pubsub`.
    pub fn parse(text: &str) -> Option<OutputLimits> {
        let words: Vec<&str> = text.split_whitespace().collect();
        if words.is_empty() || !words.len().is_multiple_of(4) {
            return None;
        }
        let mut out = None;
        for w in words.chunks(4) {
            if !w[0].eq_ignore_ascii_case(CLASS) {
                return None;
            }
            out = Some(OutputLimits {
                hard: redis_mem(w[1])?,
                soft: redis_mem(w[2])?,
                soft_seconds: w[3].parse().ok()?,
            });
        }
        out
    }

    /// What `CONFIG GET` prints (bytes, as Redis does).
    pub fn text(&self) -> String {
        format!("{CLASS} {} {} {}", self.hard, self.soft, self.soft_seconds)
    }
}

/// Redis's `memtoll`: digits with an optional unit.
fn redis_mem(s: &str) -> Option<u64> {
    let lower = s.to_ascii_lowercase();
    let split = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (digits, unit) = lower.split_at(split);
    let mul: u64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1 << 10,
        "m" => 1_000_000,
        "mb" => 1 << 20,
        "g" => 1_000_000_000,
        "gb" => 1 << 30,
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(mul)
}

/// Which limit a connection broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Breach {
    Hard,
    /// Above the soft limit for this long.
    Soft(Duration),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Keep,
    Disconnect(Breach),
}

/// One connection's standing against its class limits.
#[derive(Debug, Default)]
pub struct OutputLimit {
    /// Since when the pending output has been at or above the soft limit.
    over_soft_since: Option<Instant>,
}

impl OutputLimit {
    /// Judges `pending` unsent bytes at `now`, as Redis's
    /// `checkClientOutputBufferLimits`: the hard limit at once; the soft
    /// limit once it has held for more than `soft_seconds` (the clock
    /// starts the first time it is reached and stops when the output
    /// falls below it again).
    pub fn check(&mut self, pending: u64, limits: &OutputLimits, now: Instant) -> Verdict {
        if limits.hard > 0 && pending >= limits.hard {
            return Verdict::Disconnect(Breach::Hard);
        }
        if limits.soft == 0 || pending < limits.soft {
            self.over_soft_since = None;
            return Verdict::Keep;
        }
        let since = *self.over_soft_since.get_or_insert(now);
        let held = now.saturating_duration_since(since);
        if held > Duration::from_secs(limits.soft_seconds) {
            Verdict::Disconnect(Breach::Soft(held))
        } else {
            Verdict::Keep
        }
    }
}

/// Closes a connection that broke its limits, as `CLIENT KILL` does: it
/// executes nothing more and closes. Logged and counted
/// (`tile38_client_output_limit_disconnects_total`).
pub fn disconnect(
    server: &Engine,
    client: &ClientInfo,
    pending: u64,
    limits: &OutputLimits,
    breach: Breach,
) {
    let why = match breach {
        Breach::Hard => format!("hard limit {}", limits.hard),
        Breach::Soft(held) => format!(
            "soft limit {} for {:.1}s (over {}s)",
            limits.soft,
            held.as_secs_f64(),
            limits.soft_seconds
        ),
    };
    tracing::warn!(
        "client id={} addr={} closed for overcoming of output buffer limits: \
         {pending} bytes pending, {why} (class {CLASS})",
        client.id,
        client.addr
    );
    server
        .stats
        .output_limit_disconnects
        .fetch_add(1, Ordering::Relaxed);
    client.kill();
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1 << 20;

    fn limits(hard: u64, soft: u64, soft_seconds: u64) -> OutputLimits {
        OutputLimits {
            hard,
            soft,
            soft_seconds,
        }
    }

    #[test]
    fn hard_limit_disconnects_at_once() {
        let mut l = OutputLimit::default();
        let t = Instant::now();
        let lim = limits(32 * MB, 8 * MB, 60);
        assert_eq!(l.check(32 * MB - 1, &lim, t), Verdict::Keep);
        assert_eq!(l.check(32 * MB, &lim, t), Verdict::Disconnect(Breach::Hard));
    }

    #[test]
    fn soft_limit_must_hold_for_longer_than_its_seconds() {
        let mut l = OutputLimit::default();
        let t = Instant::now();
        let lim = limits(0, 8 * MB, 60);
        assert_eq!(l.check(8 * MB, &lim, t), Verdict::Keep);
        assert_eq!(
            l.check(9 * MB, &lim, t + Duration::from_secs(60)),
            Verdict::Keep
        );
        assert_eq!(
            l.check(9 * MB, &lim, t + Duration::from_secs(61)),
            Verdict::Disconnect(Breach::Soft(Duration::from_secs(61)))
        );
        // Dropping below the soft limit restarts the clock.
        let mut l = OutputLimit::default();
        l.check(9 * MB, &lim, t);
        assert_eq!(
            l.check(MB, &lim, t + Duration::from_secs(50)),
            Verdict::Keep
        );
        assert_eq!(
            l.check(9 * MB, &lim, t + Duration::from_secs(100)),
            Verdict::Keep
        );
        assert_eq!(
            l.check(9 * MB, &lim, t + Duration::from_secs(161)),
            Verdict::Disconnect(Breach::Soft(Duration::from_secs(61)))
        );
    }

    #[test]
    fn zero_means_no_limit() {
        let mut l = OutputLimit::default();
        let t = Instant::now();
        let lim = limits(0, 0, 0);
        for s in [0, 1, 1000] {
            assert_eq!(
                l.check(u64::MAX, &lim, t + Duration::from_secs(s)),
                Verdict::Keep
            );
        }
        // soft 0 seconds: any time over it after the first check.
        let lim = limits(0, MB, 0);
        assert_eq!(l.check(MB, &lim, t), Verdict::Keep);
        assert!(matches!(
            l.check(MB, &lim, t + Duration::from_millis(1)),
            Verdict::Disconnect(Breach::Soft(_))
        ));
    }

    #[test]
    fn parse_and_print_redis_syntax() {
        assert_eq!(
            OutputLimits::parse("pubsub 32mb 8mb 60"),
            Some(OutputLimits::default())
        );
        assert_eq!(
            OutputLimits::parse("PUBSUB 1k 2KB 3 pubsub 64mb 16mb 30"),
            Some(limits(64 * MB, 16 * MB, 30))
        );
        assert_eq!(
            OutputLimits::parse("pubsub 1000 1g 0"),
            Some(limits(1000, 1_000_000_000, 0))
        );
        for bad in [
            "",
            "pubsub 1 2",
            "normal 0 0 0",
            "pubsub -1 0 0",
            "pubsub 1x 0 0",
            "pubsub 1 2 3s",
        ] {
            assert_eq!(OutputLimits::parse(bad), None, "{bad}");
        }
        assert_eq!(OutputLimits::default().text(), "pubsub 33554432 8388608 60");
    }

    #[test]
    fn disconnect_kills_the_client_and_counts_it() {
        let server = Engine::in_process();
        let client = server.register_client("127.0.0.1:5000".parse().unwrap());
        let lim = OutputLimits::current(&server);
        assert_eq!(lim, OutputLimits::default());
        disconnect(&server, &client, 40 * MB, &lim, Breach::Hard);
        assert!(client.killed.load(Ordering::Acquire));
        let counted = server
            .stats
            .output_limit_disconnects
            .load(Ordering::Relaxed);
        assert_eq!(counted, 1);
    }
}
