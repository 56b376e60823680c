//! The sans-IO decision core: when to read the lock, when to try to take
//! it, when to renew it and when to step down, on this member's monotonic
//! clock (milliseconds from any origin, passed in as `now`). The driver
//! (`driver.rs`) performs the [`Step`]s against a store and feeds the
//! results back, with the time each request was *sent*.
//!
//! Safety rule (issue 20 item 3, never two leaders taking writes): a store
//! lets others take the lock no earlier than `lease` after it received our
//! last successful take or renewal, which is after we sent it. So the lock
//! is ours until at least `sent + lease` on our clock, and we lead only
//! until `sent + lease - margin` (`valid_until`): at that moment, if no
//! renewal sent later succeeded, [`Core::poll`] returns [`Step::StepDown`]
//! and the decision becomes [`Decision::SteppingDown`]. The margin (default
//! lease/5, at least 500 ms) covers the rate difference between our clock
//! and the store's or the other members' (a few percent at most) and the
//! time the server takes to act on the decision; a renewal whose answer
//! arrives after `valid_until` is ignored. Clock *steps* do not matter: the
//! driver uses the monotonic clock.
//!
//! Who may lead (item 2): a member tries only while [`crate::Candidacy`]
//! reports a lag `≤ max_lag`, and only `lag_wait(lag)` after it saw the
//! lock free (0 when caught up, `base + per MiB` otherwise, at most the
//! lease), so the most caught-up candidate tries first and wins the
//! store's compare-and-set. The default `failover-max-lag` is 1 MiB, not
//! 0: under continuous writes an asynchronous follower is almost never at
//! lag 0 at the instant its leader dies, and the wait already favours
//! the closest one.
//!
//! With ranking on (`settle_ms` > 0, the default), a free lock is not
//! taken by the first caught-up candidate but by the most advanced one
//! ([`rank`]): candidates publish their positions, wait, compare.
//!
//! Epochs come from the store (etcd: the lock key's create revision;
//! Kubernetes: `leaseTransitions`), so every member sees the same number
//! and it grows on every change of holder.

mod rank;

pub use rank::{ahead, Candidate, Position, Ranked};

use crate::Decision;

/// Checked timings, in milliseconds (see [`crate::Settings`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    pub lease_ms: u64,
    pub renew_ms: u64,
    pub margin_ms: u64,
    pub max_lag: u64,
    pub lag_wait_base_ms: u64,
    pub lag_wait_per_mib_ms: u64,
    /// How long a candidate waits after publishing its position before it
    /// reads the others' (0: no ranking, the lag wait alone orders them).
    pub settle_ms: u64,
}

impl Timing {
    /// How long a candidate with `lag` bytes to catch up waits, after it
    /// saw the lock free, before it tries: non-decreasing in `lag`, 0 only
    /// for 0, at most the lease.
    pub fn lag_wait(&self, lag: u64) -> u64 {
        if lag == 0 {
            return 0;
        }
        let per = (lag as u128 * self.lag_wait_per_mib_ms as u128) >> 20;
        (self.lag_wait_base_ms as u128 + per).min(self.lease_ms as u128) as u64
    }

    /// Whether a member with this lag may take the lock.
    pub fn may_lead(&self, lag: Option<u64>) -> bool {
        lag.is_some_and(|l| l <= self.max_lag)
    }

    /// How often a member that does not lead reads the lock (and a
    /// deferring candidate ranks again): the renew interval, at most 1 s,
    /// so the candidates see a free lock within a second of each other.
    pub fn observe_ms(&self) -> u64 {
        self.renew_ms.min(1000)
    }

    /// The default `settle_ms`: one observe interval and a half, longer
    /// than the others need to see the lock free and publish.
    pub fn default_settle(renew_ms: u64) -> u64 {
        let o = renew_ms.min(1000);
        o + o / 2
    }

    /// The pause after a failed store request.
    pub fn backoff(&self) -> u64 {
        (self.renew_ms / 4).max(100)
    }
}

/// The lock's holder, as the store records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    /// Member id (etcd: in the record; Kubernetes: `holderIdentity`).
    pub id: String,
    /// Its advertised `host:port`.
    pub advertise: String,
    pub epoch: u64,
}

/// What a read of the lock found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Observation {
    /// Nobody holds it.
    Free,
    /// `holder` holds it. `version` changes on every write of the lock;
    /// `expires_after` is set by stores that do not expire a lock by
    /// themselves (a Kubernetes Lease: `leaseDurationSeconds`): the lock is
    /// free once `version` stayed the same that long on our clock, as
    /// client-go's leader election judges it (no trust in others' clocks).
    Held {
        holder: Holder,
        version: String,
        expires_after: Option<u64>,
    },
}

/// The outcome of [`Step::Acquire`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Acquired {
    Won {
        epoch: u64,
    },
    /// Someone else holds it (the compare-and-set failed).
    Lost(Observation),
    Failed(String),
}

/// The outcome of [`Step::Renew`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Renewed {
    Ok,
    /// The store says the lock is no longer ours.
    Lost,
    /// The store could not be reached or answered an error.
    Failed(String),
}

/// What the driver must do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Observe,
    Acquire,
    /// Publish this member's [`Position`] as a candidate (ranking).
    Announce,
    /// Read the candidates' positions, then [`Core::ranked`].
    Rank,
    /// Remove our published candidacy (best effort), then
    /// [`Core::withdrawn`].
    Withdraw,
    Renew,
    /// The decision just became [`Decision::SteppingDown`] (or a win came
    /// too late): give the lock back if the store still has it as ours
    /// (best effort), then observe.
    StepDown,
    /// Nothing to do before this time.
    Wait(u64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Watching,
    Leading {
        epoch: u64,
        valid_until: u64,
        next_renew: u64,
    },
}

/// Counters the core keeps for [`crate::Status`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub elections_won: u64,
    pub failovers_observed: u64,
    pub leaderless_ms: u64,
    pub last_error: Option<String>,
}

/// The decision state machine of one member.
#[derive(Clone, Debug)]
pub struct Core {
    id: String,
    t: Timing,
    phase: Phase,
    decision: Decision,
    holder: Option<Holder>,
    epoch: u64,
    next_observe: u64,
    /// When we saw the lock free (the lag wait counts from here).
    free_since: Option<u64>,
    /// The lock version we read and when we first saw it.
    seen: Option<(String, u64)>,
    leaderless_since: Option<u64>,
    release_pending: bool,
    /// Ranking: our candidacy in the current free period.
    cand: Option<rank::Cand>,
    withdraw_pending: bool,
    counters: Counters,
}

impl Core {
    pub fn new(id: String, t: Timing) -> Core {
        Core {
            id,
            t,
            phase: Phase::Watching,
            decision: Decision::Starting,
            holder: None,
            epoch: 0,
            next_observe: 0,
            free_since: None,
            seen: None,
            leaderless_since: None,
            release_pending: false,
            cand: None,
            withdraw_pending: false,
            counters: Counters::default(),
        }
    }

    pub fn timing(&self) -> &Timing {
        &self.t
    }

    pub fn decision(&self) -> &Decision {
        &self.decision
    }

    /// The holder last seen (ourselves while leading).
    pub fn holder(&self) -> Option<&Holder> {
        self.holder.as_ref()
    }

    /// The latest epoch seen.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Counters, with the current leaderless span counted up to `now`.
    pub fn counters(&self, now: u64) -> Counters {
        let mut c = self.counters.clone();
        if let Some(since) = self.leaderless_since {
            c.leaderless_ms += now.saturating_sub(since);
        }
        c
    }

    /// Until when we may take writes (`None` unless leading).
    pub fn valid_until(&self) -> Option<u64> {
        match self.phase {
            Phase::Leading { valid_until, .. } => Some(valid_until),
            Phase::Watching => None,
        }
    }

    /// What to do at `now`, given this member's current lag.
    pub fn poll(&mut self, now: u64, lag: Option<u64>) -> Step {
        if let Phase::Leading {
            valid_until,
            next_renew,
            ..
        } = self.phase
        {
            if now >= valid_until {
                self.step_down(now);
                return Step::StepDown;
            }
            if now >= next_renew {
                return Step::Renew;
            }
            if self.withdraw_pending {
                return Step::Withdraw;
            }
            return Step::Wait(next_renew.min(valid_until));
        }
        if self.release_pending {
            self.release_pending = false;
            return Step::StepDown;
        }
        if self.withdraw_pending {
            return Step::Withdraw;
        }
        let mut wake = self.next_observe;
        if let (Some(_), true, true) = (self.free_since, self.t.may_lead(lag), self.ranking()) {
            match self.rank_step(now) {
                Ok(step) => return step,
                Err(at) => wake = wake.min(at),
            }
        } else if let (Some(since), true) = (self.free_since, self.t.may_lead(lag)) {
            let at = since.saturating_add(self.t.lag_wait(lag.unwrap_or(0)));
            if now >= at {
                return Step::Acquire;
            }
            wake = wake.min(at);
        }
        if now >= self.next_observe {
            return Step::Observe;
        }
        Step::Wait(wake)
    }

    /// A read of the lock (or the state a failed take revealed).
    pub fn observed(&mut self, now: u64, obs: Observation) {
        self.next_observe = now.saturating_add(self.t.observe_ms());
        self.counters.last_error = None;
        if let Phase::Leading { .. } = self.phase {
            return;
        }
        let (holder, version, expires_after) = match obs {
            Observation::Free => return self.saw_free(now),
            Observation::Held {
                holder,
                version,
                expires_after,
            } => (holder, version, expires_after),
        };
        let first = match &self.seen {
            Some((v, at)) if *v == version => *at,
            _ => now,
        };
        self.seen = Some((version, first));
        let expired = expires_after.is_some_and(|d| now >= first.saturating_add(d));
        if let Some(d) = expires_after {
            // Read again right when it would expire: the members then see
            // it free at most one observe interval apart (the spread of
            // their first sightings), which the ranking's settle covers.
            let at = first.saturating_add(d).max(now + 1);
            self.next_observe = self.next_observe.min(at);
        }
        if holder.id.is_empty() || expired {
            return self.saw_free(now);
        }
        self.free_since = None;
        self.end_candidacy();
        if holder.id == self.id {
            // Our own lock from before a restart or a step-down: nobody
            // leads until it expires (or the step-down released it).
            self.holder = None;
            self.leaderless_since.get_or_insert(now);
            self.decision = Decision::NoLeader;
            return;
        }
        self.note_epoch(holder.epoch);
        self.end_leaderless(now);
        self.decision = Decision::Follow {
            leader: holder.advertise.clone(),
            epoch: holder.epoch,
        };
        self.holder = Some(holder);
    }

    /// A read that failed: keep the decision (a follower keeps following,
    /// a candidate keeps waiting) and read again after a pause.
    pub fn observe_failed(&mut self, now: u64, error: String) {
        self.counters.last_error = Some(error);
        self.next_observe = now.saturating_add(self.t.backoff());
        if self.decision == Decision::Starting {
            self.decision = Decision::NoLeader;
            self.leaderless_since.get_or_insert(now);
        }
    }

    /// The answer to an [`Step::Acquire`] sent at `sent`.
    pub fn acquired(&mut self, sent: u64, now: u64, result: Acquired) {
        if let Phase::Leading { .. } = self.phase {
            return;
        }
        match result {
            Acquired::Won { epoch } => {
                let valid_until = sent.saturating_add(self.t.lease_ms - self.t.margin_ms);
                self.free_since = None;
                self.end_candidacy();
                if now >= valid_until {
                    // Too late to lead on it: give it back.
                    self.release_pending = true;
                    self.next_observe = now;
                    return;
                }
                self.counters.elections_won += 1;
                self.counters.last_error = None;
                self.note_epoch(epoch);
                self.end_leaderless(now);
                self.phase = Phase::Leading {
                    epoch,
                    valid_until,
                    next_renew: sent.saturating_add(self.t.renew_ms),
                };
                self.decision = Decision::Lead { epoch };
            }
            Acquired::Lost(obs) => self.observed(now, obs),
            Acquired::Failed(e) => {
                self.counters.last_error = Some(e);
                self.free_since = None;
                if let Some(c) = self.cand.as_mut() {
                    c.best = false;
                }
                self.next_observe = now.saturating_add(self.t.backoff());
            }
        }
    }

    /// The answer to a [`Step::Renew`] sent at `sent`.
    pub fn renewed(&mut self, sent: u64, now: u64, result: Renewed) {
        let Phase::Leading {
            epoch,
            valid_until,
            next_renew,
        } = self.phase
        else {
            return;
        };
        match result {
            Renewed::Ok => {
                self.counters.last_error = None;
                self.phase = Phase::Leading {
                    epoch,
                    valid_until: valid_until
                        .max(sent.saturating_add(self.t.lease_ms - self.t.margin_ms)),
                    next_renew: next_renew.max(sent.saturating_add(self.t.renew_ms)),
                };
            }
            Renewed::Lost => {
                self.counters.last_error = Some("lock lost".into());
                self.step_down(now);
            }
            Renewed::Failed(e) => {
                self.counters.last_error = Some(e);
                self.phase = Phase::Leading {
                    epoch,
                    valid_until,
                    next_renew: now.saturating_add(self.t.backoff()),
                };
            }
        }
    }

    /// Stop leading now ([`crate::Elector::release`], or a lost lock).
    pub fn step_down(&mut self, now: u64) {
        let epoch = match self.phase {
            Phase::Leading { epoch, .. } => epoch,
            Phase::Watching => return,
        };
        self.phase = Phase::Watching;
        self.decision = Decision::SteppingDown { epoch };
        self.holder = None;
        self.free_since = None;
        self.end_candidacy();
        self.next_observe = now;
        self.leaderless_since = Some(now);
    }

    /// Whether we are leading.
    pub fn leading(&self) -> bool {
        matches!(self.phase, Phase::Leading { .. })
    }

    /// The member id.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn saw_free(&mut self, now: u64) {
        self.holder = None;
        self.free_since.get_or_insert(now);
        self.leaderless_since.get_or_insert(now);
        self.decision = Decision::NoLeader;
    }

    fn note_epoch(&mut self, epoch: u64) {
        if epoch != self.epoch {
            if self.epoch != 0 {
                self.counters.failovers_observed += 1;
            }
            self.epoch = epoch;
        }
    }

    fn end_leaderless(&mut self, now: u64) {
        if let Some(since) = self.leaderless_since.take() {
            self.counters.leaderless_ms += now.saturating_sub(since);
        }
    }
}
