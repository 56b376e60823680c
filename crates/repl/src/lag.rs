//! Follower lag in bytes and seconds. The leader's AOF size is sampled
//! (at connect and by a periodic poll); the lag in seconds is how long ago
//! the leader first reported a size beyond what the follower has applied.

use std::collections::VecDeque;
use std::time::Instant;

/// Samples of the leader's AOF size not yet reached by the follower.
#[derive(Debug, Default)]
pub struct LagTracker {
    samples: VecDeque<(Instant, u64)>,
    leader_size: u64,
}

impl LagTracker {
    const MAX_SAMPLES: usize = 4096;

    pub fn observe_leader(&mut self, size: u64, now: Instant) {
        if size < self.leader_size {
            // A different history (restart, shrink): start over.
            self.samples.clear();
        }
        self.leader_size = size;
        if self.samples.back().is_none_or(|&(_, s)| s < size) {
            if self.samples.len() == Self::MAX_SAMPLES {
                self.samples.pop_front();
            }
            self.samples.push_back((now, size));
        }
    }

    pub fn applied(&mut self, offset: u64) {
        while self.samples.front().is_some_and(|&(_, s)| s <= offset) {
            self.samples.pop_front();
        }
    }

    pub fn leader_size(&self) -> u64 {
        self.leader_size
    }

    pub fn lag_bytes(&self, offset: u64) -> u64 {
        self.leader_size.saturating_sub(offset)
    }

    pub fn lag_seconds(&self, offset: u64, now: Instant) -> f64 {
        self.samples
            .iter()
            .find(|&&(_, s)| s > offset)
            .map_or(0.0, |&(t, _)| now.duration_since(t).as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn lag_counts_from_the_first_unreached_sample() {
        let t0 = Instant::now();
        let mut l = LagTracker::default();
        l.observe_leader(100, t0);
        l.observe_leader(200, t0 + Duration::from_secs(1));
        let now = t0 + Duration::from_secs(3);
        assert_eq!(l.lag_bytes(50), 150);
        assert!((l.lag_seconds(50, now) - 3.0).abs() < 1e-9);
        l.applied(100);
        assert!((l.lag_seconds(100, now) - 2.0).abs() < 1e-9);
        l.applied(200);
        assert_eq!(l.lag_seconds(200, now), 0.0);
        assert_eq!(l.lag_bytes(200), 0);
        l.observe_leader(10, now);
        assert_eq!(l.lag_bytes(200), 0);
    }
}
