//! Electing only a candidate that holds every acknowledged write (issue
//! 20, "no acknowledged write is lost" with `WAIT 1`).
//!
//! A write acknowledged after `WAIT 1` is on at least one follower, and
//! every follower's AOF is a prefix of its leader's, so among the
//! followers of one leader the one with the largest applied offset holds
//! every write any of them acknowledged. The lag each candidate reports
//! is measured against a leader AOF size polled at a different moment for
//! each, so it cannot pick that follower reliably; the offsets can:
//!
//! 1. A candidate that finds the lock free publishes its [`Position`] in
//!    the store ([`crate::core::Step::Announce`]: etcd, a key under its own
//!    lease; Kubernetes, an annotation on the Lease), then waits
//!    `settle_ms` (longer than the time the others need to see the lock
//!    free: one observe interval and a half).
//! 2. It reads the others' positions ([`crate::core::Step::Rank`]) and
//!    tries to take the lock only if no live candidate is ahead of it
//!    ([`ahead`]: later epoch, then larger offset, then lower id).
//! 3. A candidate that deferred announces and ranks again every observe
//!    interval (a dead candidate's etcd key expires with its lease), and
//!    tries anyway once the lock stayed free for a lease duration since it
//!    first deferred (the better candidate died or cannot reach the store):
//!    liveness wins over the guarantee then.
//!
//! Offsets are compared within one history only: the [`Position`]'s epoch
//! is the epoch of the leader whose stream the offset is in (a follower
//! stamps it once it streams from the holder of that epoch), so a member
//! holding an older leader's history never outranks one holding a newer
//! leader's. Followers stop advancing once their leader is gone (killed,
//! cut off, or stepped down before its lock expired), so the positions
//! compared are final.

use std::cmp::Reverse;

use super::Core;

/// Where this member's data stands in the leaders' history.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// The epoch of the leader whose AOF the offset counts in (0: unknown,
    /// e.g. a member that restarted without a stamp that counts,
    /// [`crate::stamp`], and has not streamed since).
    pub epoch: u64,
    /// Bytes of that leader's AOF applied and logged here.
    pub offset: u64,
}

/// Another member's published position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub id: String,
    pub position: Position,
}

/// Whether `other` outranks a candidate `id` at `mine`: later epoch,
/// then larger offset, then (a tie) the lower id.
pub fn ahead(other: &Candidate, id: &str, mine: Position) -> bool {
    other.id != id && (other.position, Reverse(&other.id[..])) > (mine, Reverse(id))
}

/// A candidate's progress through one free period.
#[derive(Clone, Debug, Default)]
pub(super) struct Cand {
    /// What we published last (`None`: nothing yet).
    pub announced: Option<Position>,
    /// When to publish first (after a failed attempt).
    pub announce_at: u64,
    /// When to read the others' positions next.
    pub rank_at: u64,
    /// Publish again before that read (keeps an etcd entry alive and our
    /// position current).
    pub reannounce: bool,
    /// The ranking said nobody live is ahead: try now.
    pub best: bool,
    /// We deferred: try anyway from this time on.
    pub defer_until: Option<u64>,
    /// Who we deferred to last (for the log and the status).
    pub deferred_to: Option<Candidate>,
}

/// What the last ranking decided (the driver logs it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ranked {
    /// Nobody live is ahead among `of` candidates (ourselves included).
    Best { of: usize },
    /// `to` is ahead: wait for it to take the lock.
    Defer { to: Candidate },
    /// The deferral ran out: try anyway.
    Overdue,
    /// The read failed: rank again after a pause (for at most a lease).
    Failed(String),
}

impl Core {
    /// Whether candidates rank themselves before trying (`settle_ms` > 0).
    pub fn ranking(&self) -> bool {
        self.t.settle_ms > 0
    }

    /// The position we published in this free period, if any.
    pub fn announced_position(&self) -> Option<Position> {
        self.cand.as_ref().and_then(|c| c.announced)
    }

    /// The answer to a [`super::Step::Announce`] of `pos` sent at `sent`.
    pub fn announced(&mut self, sent: u64, now: u64, pos: Position, result: Result<(), String>) {
        let Some(c) = self.cand.as_mut() else { return };
        match result {
            Ok(()) => {
                let first = c.announced.is_none();
                c.announced = Some(pos);
                c.reannounce = false;
                // The first time, let the others see the lock free and
                // publish theirs; afterwards theirs are already there.
                c.rank_at = if first {
                    sent.saturating_add(self.t.settle_ms)
                } else {
                    now
                };
            }
            Err(e) => {
                // A store that takes no candidacy defers like a better
                // candidate would: at most a lease, then try anyway.
                c.defer_until
                    .get_or_insert(now.saturating_add(self.t.lease_ms));
                let later = now.saturating_add(self.t.backoff());
                if c.announced.is_none() {
                    c.announce_at = later;
                } else {
                    c.rank_at = later;
                }
                self.counters.last_error = Some(e);
            }
        }
    }

    /// The answer to a [`super::Step::Rank`]: the published positions
    /// (ours may be among them).
    pub fn ranked(&mut self, now: u64, result: Result<Vec<Candidate>, String>) -> Ranked {
        let id = self.id.clone();
        let lease = self.t.lease_ms;
        let retry = now.saturating_add(self.t.observe_ms());
        let backoff = now.saturating_add(self.t.backoff());
        let Some(c) = self.cand.as_mut() else {
            return Ranked::Failed("not a candidate".into());
        };
        let Some(mine) = c.announced else {
            return Ranked::Failed("not announced".into());
        };
        let all = match result {
            Ok(all) => all,
            Err(e) => {
                // Unread positions defer like a better candidate would:
                // at most a lease, then try anyway.
                c.rank_at = backoff;
                c.defer_until.get_or_insert(now.saturating_add(lease));
                self.counters.last_error = Some(e.clone());
                return Ranked::Failed(e);
            }
        };
        let best = all
            .iter()
            .filter(|o| ahead(o, &id, mine))
            .max_by_key(|o| (o.position, Reverse(o.id.clone())));
        match best {
            None => {
                c.best = true;
                Ranked::Best {
                    of: 1 + all.iter().filter(|o| o.id != id).count(),
                }
            }
            Some(_) if c.defer_until.is_some_and(|u| now >= u) => {
                c.best = true;
                Ranked::Overdue
            }
            Some(to) => {
                c.defer_until.get_or_insert(now.saturating_add(lease));
                c.rank_at = retry;
                c.reannounce = true;
                c.deferred_to = Some(to.clone());
                Ranked::Defer { to: to.clone() }
            }
        }
    }

    /// The candidate entry was removed (or its removal failed: it
    /// expires with its lease, or the next winner clears it).
    pub fn withdrawn(&mut self) {
        self.withdraw_pending = false;
    }

    /// The step a free lock calls for while ranking (`Err`: nothing
    /// before that time).
    pub(super) fn rank_step(&mut self, now: u64) -> Result<super::Step, u64> {
        use super::Step;
        let c = self.cand.get_or_insert_with(Cand::default);
        if c.best || c.defer_until.is_some_and(|u| now >= u) {
            return Ok(Step::Acquire);
        }
        if c.announced.is_none() {
            return if now >= c.announce_at {
                Ok(Step::Announce)
            } else {
                Err(c.announce_at)
            };
        }
        if now < c.rank_at {
            return Err(c.defer_until.map_or(c.rank_at, |u| u.min(c.rank_at)));
        }
        Ok(if c.reannounce {
            Step::Announce
        } else {
            Step::Rank
        })
    }

    /// Leaves the candidacy (the lock is held, or we took it): the
    /// published entry is withdrawn at the next step.
    pub(super) fn end_candidacy(&mut self) {
        if let Some(c) = self.cand.take() {
            if c.announced.is_some() {
                self.withdraw_pending = true;
            }
        }
    }
}
