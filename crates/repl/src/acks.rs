//! Follower acknowledgements, leader side: what each follower says it has
//! applied and written to its own AOF (`REPLCONF ACK offset follower-id`),
//! and the two questions asked of them: how many followers have an offset
//! (`WAIT`), and how many acked recently (`min-followers-to-write`, Redis's
//! `min-replicas-to-write`).
//!
//! Our followers send acks on a side connection, never on the stream: a
//! Tile38 leader ends the stream when its follower sends anything (spec
//! §2 `AOF pos`). An ack names the follower by the server id it announced
//! on its stream connection (`REPLCONF follower-id id`), so it lands on
//! that stream's [`FollowerLink`]; it counts only while that stream is
//! open, and is capped at what that stream sent, so it never vouches for
//! bytes of another history (a lingering old connection, a rewritten AOF).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::{FollowerLink, ReplState};

/// The callback run after every accepted ack.
pub(crate) type OnAck = Box<dyn Fn() + Send + Sync>;

/// One announced follower, as INFO, ROLE and metrics show it.
#[derive(Clone, Debug, PartialEq)]
pub struct FollowerView {
    pub ip: String,
    pub port: String,
    /// Leader AOF offset sent so far.
    pub sent: u64,
    /// Seconds since the stream last had everything written (0 when it
    /// has).
    pub behind: f64,
    /// The last ack, if it acknowledges: the offset and its age in seconds.
    pub ack: Option<(u64, f64)>,
    pub streaming: bool,
}

impl FollowerView {
    pub(crate) fn of(l: &FollowerLink, own_aof_size: u64, now: Instant) -> FollowerView {
        let sent = l.sent.load(Ordering::Acquire);
        let behind = if sent >= own_aof_size {
            0.0
        } else {
            l.idle_since
                .lock()
                .map_or(0.0, |t| now.duration_since(t).as_secs_f64())
        };
        FollowerView {
            ip: l.ip.clone(),
            port: l.port.clone(),
            sent,
            behind,
            ack: l
                .ack
                .map(|(off, at)| (off, now.duration_since(at).as_secs_f64())),
            streaming: l.streaming,
        }
    }

    /// Redis's `offset` and `lag` of a `slaveN` line: the acked offset and
    /// the seconds since the ack for a follower that acknowledges; for one
    /// that does not (a Tile38 follower), what was sent and how long the
    /// stream has been behind.
    pub fn offset_and_lag(&self) -> (u64, f64) {
        self.ack.unwrap_or((self.sent, self.behind))
    }
}

impl ReplState {
    /// Leader side: the connection `conn` (at `ip`) is the stream of the
    /// follower whose server id is `follower_id`.
    pub fn identify(&self, conn: u64, ip: &str, follower_id: &str) {
        self.announce(conn, ip, None, None);
        let mut f = self.followers.lock();
        if let Some(link) = f.get_mut(&conn) {
            link.follower_id = follower_id.to_string();
        }
    }

    /// Leader side: follower `follower_id` has applied and written up to
    /// `offset`. Returns `false` when no connection announced that id
    /// (the stream is gone: the follower reconnects and acks anew).
    pub fn ack(&self, follower_id: &str, offset: u64, now: Instant) -> bool {
        let found = {
            let mut f = self.followers.lock();
            // The newest connection of that follower: an older one may
            // linger until the leader notices that it closed.
            let link = f
                .values_mut()
                .rev()
                .find(|l| !l.follower_id.is_empty() && l.follower_id == follower_id);
            match link {
                Some(l) => {
                    let sent = l.sent.load(Ordering::Acquire);
                    l.ack = Some((offset.min(sent), now));
                    true
                }
                None => false,
            }
        };
        if found {
            if let Some(notify) = &*self.on_ack.lock() {
                notify();
            }
        }
        found
    }

    /// `WAIT`: how many streaming followers acked at least `target`.
    pub fn acked(&self, target: u64) -> u64 {
        let f = self.followers.lock();
        f.values()
            .filter(|l| l.streaming && l.ack.is_some_and(|(off, _)| off >= target))
            .count() as u64
    }

    /// `min-followers-to-write`: how many streaming followers acked within
    /// `max_lag` of `now`.
    pub fn good_followers(&self, max_lag: Duration, now: Instant) -> u64 {
        let f = self.followers.lock();
        f.values()
            .filter(|l| {
                l.streaming
                    && l.ack
                        .is_some_and(|(_, at)| now.saturating_duration_since(at) <= max_lag)
            })
            .count() as u64
    }

    /// Runs `notify` after every accepted ack (the server wakes the
    /// clients blocked in `WAIT`).
    pub fn set_on_ack(&self, notify: impl Fn() + Send + Sync + 'static) {
        *self.on_ack.lock() = Some(Box::new(notify));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;
    use std::sync::Arc;

    #[test]
    fn acks_land_on_the_newest_stream_of_that_follower_and_are_capped() {
        let r = ReplState::new();
        let t0 = Instant::now();
        assert!(!r.ack("f1", 10, t0), "no such follower yet");
        r.identify(1, "10.0.0.1", "f1");
        let (sent_old, _) = r.start_stream(1, "10.0.0.1");
        sent_old.store(50, Ordering::Release);
        r.identify(2, "10.0.0.1", "f1");
        let (sent, _) = r.start_stream(2, "10.0.0.1");
        sent.store(100, Ordering::Release);
        let woken = Arc::new(AtomicU64::new(0));
        let w = woken.clone();
        r.set_on_ack(move || {
            w.fetch_add(1, Ordering::Relaxed);
        });
        assert!(r.ack("f1", 80, t0));
        assert_eq!(woken.load(Ordering::Relaxed), 1);
        assert_eq!(r.acked(80), 1);
        assert_eq!(r.acked(81), 0);
        // More than the stream sent: capped (another history's offset).
        assert!(r.ack("f1", 500, t0));
        assert_eq!(r.acked(101), 0);
        assert_eq!(r.acked(100), 1);
        let views = r.snapshot(100).followers;
        assert_eq!(views[0].ack, None);
        assert_eq!(views[1].offset_and_lag().0, 100);
        r.forget(2);
        assert_eq!(r.acked(0), 0, "the old stream never acked");
    }

    #[test]
    fn good_followers_acked_within_the_lag_and_still_stream() {
        let r = ReplState::new();
        let t0 = Instant::now();
        r.identify(1, "a", "f1");
        r.identify(2, "b", "f2");
        r.start_stream(1, "a");
        assert!(r.ack("f1", 0, t0));
        assert!(r.ack("f2", 0, t0), "known, not streaming yet");
        let lag = Duration::from_secs(10);
        assert_eq!(r.good_followers(lag, t0 + Duration::from_secs(5)), 1);
        assert_eq!(r.good_followers(lag, t0 + Duration::from_secs(11)), 0);
        r.start_stream(2, "b");
        assert_eq!(r.good_followers(lag, t0), 2);
        r.forget(1);
        assert_eq!(r.good_followers(lag, t0), 1);
    }
}
