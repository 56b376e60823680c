//! Replication state, shared by the leader side (`AOF pos` streams,
//! `REPLCONF`) and the follower side (`FOLLOW`, the follow loop), and the
//! follower's resume-position search ([`probe`]). Sans-IO: the server
//! crate owns the sockets and drives these types.
//!
//! Reads are lock-free atomics on the command path (every command checks
//! [`ReplState::following`]); the follow target and the follower list sit
//! behind mutexes touched only by replication events.

pub mod acks;
pub mod lag;
pub mod probe;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;

pub use acks::FollowerView;
pub use lag::LagTracker;
pub use probe::{Probe, Resume, Step, CHUNK};

/// `FOLLOW host port`: the leader this server follows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// A client that announced itself with `REPLCONF listening-port` (leader
/// side); listed by INFO and ROLE.
#[derive(Debug)]
pub struct FollowerLink {
    pub ip: String,
    pub port: String,
    /// Whether it is streaming (`AOF pos`); only those count as
    /// `connected_slaves`.
    pub streaming: bool,
    /// Leader AOF offset sent so far.
    pub sent: Arc<AtomicU64>,
    /// Last moment the stream had sent everything written.
    pub idle_since: Arc<Mutex<Option<Instant>>>,
    /// The follower's server id (`REPLCONF follower-id`, sent only by
    /// followers that acknowledge): its acks name it ([`acks`]).
    pub follower_id: String,
    /// The last `REPLCONF ACK`: the offset the follower has applied and
    /// written (capped at what this stream sent), and when it came.
    pub ack: Option<(u64, Instant)>,
}

/// Replication state of one server.
#[derive(Default)]
pub struct ReplState {
    following: AtomicBool,
    target: Mutex<Option<Target>>,
    /// Bumped when the target changes: a follow loop of an older epoch
    /// stops at its next step.
    epoch: AtomicU64,
    connected: AtomicBool,
    caught_up: AtomicBool,
    caught_up_once: AtomicBool,
    /// The leader AOF offset this follower has applied (= its own AOF size
    /// while the AOF mirrors the leader's).
    offset: AtomicU64,
    syncing: AtomicBool,
    /// The target epoch whose leader last started streaming to us: from
    /// then on the offset counts in that leader's AOF (failover compares
    /// candidates' offsets only within one leader's history).
    streamed_epoch: AtomicU64,
    lag: Mutex<LagTracker>,
    followers: Mutex<BTreeMap<u64, FollowerLink>>,
    /// Why the last attempt to reach the leader failed (a refused dial, a
    /// TLS certificate the follower rejected); empty once streaming.
    link_error: Mutex<String>,
    /// Called after every accepted ack (the server wakes `WAIT`ers).
    on_ack: Mutex<Option<acks::OnAck>>,
}

/// A consistent-enough copy for INFO, ROLE, SERVER and metrics.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub following: Option<Target>,
    pub connected: bool,
    pub caught_up: bool,
    pub caught_up_once: bool,
    pub syncing: bool,
    pub offset: u64,
    /// Last known size of the leader's AOF.
    pub leader_size: u64,
    pub lag_bytes: u64,
    pub lag_seconds: f64,
    /// Follower side: why the link is down, if an attempt failed.
    pub link_error: String,
    /// Leader side: announced followers, and how many are streaming.
    pub followers: Vec<FollowerView>,
    pub streaming: u64,
}

impl ReplState {
    pub fn new() -> ReplState {
        ReplState::default()
    }

    /// Whether this server is a follower (writes refused).
    #[inline]
    pub fn following(&self) -> bool {
        self.following.load(Ordering::Acquire)
    }

    pub fn target(&self) -> Option<Target> {
        self.target.lock().clone()
    }

    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Sets or clears the target; returns the new epoch. Resets the
    /// follower flags: a new leader means catching up again.
    pub fn set_target(&self, target: Option<Target>) -> u64 {
        let mut t = self.target.lock();
        self.following.store(target.is_some(), Ordering::Release);
        *t = target;
        self.connected.store(false, Ordering::Release);
        self.caught_up.store(false, Ordering::Release);
        self.caught_up_once.store(false, Ordering::Release);
        self.syncing.store(false, Ordering::Release);
        *self.lag.lock() = LagTracker::default();
        self.link_error.lock().clear();
        self.epoch.fetch_add(1, Ordering::AcqRel) + 1
    }

    pub fn caught_up(&self) -> bool {
        self.caught_up.load(Ordering::Acquire)
    }

    pub fn caught_up_once(&self) -> bool {
        self.caught_up_once.load(Ordering::Acquire)
    }

    /// The link is up and streaming from `offset`; `leader_size` is the
    /// catch-up target the leader reported.
    pub fn connected(&self, offset: u64, leader_size: u64) {
        self.link_error.lock().clear();
        self.offset.store(offset, Ordering::Release);
        self.connected.store(true, Ordering::Release);
        self.lag.lock().observe_leader(leader_size, Instant::now());
    }

    /// [`ReplState::connected`] for the follow loop of `epoch` only; also
    /// records that the current target's leader streams to us.
    pub fn connected_in(&self, epoch: u64, offset: u64, leader_size: u64) {
        let _target = self.target.lock();
        if self.epoch() == epoch {
            self.connected(offset, leader_size);
            self.streamed_epoch.store(epoch, Ordering::Release);
        }
    }

    /// Whether the current target's leader has streamed to us (since the
    /// target was set): the offset is then a position in its AOF.
    pub fn streamed_from_target(&self) -> bool {
        self.streamed_epoch.load(Ordering::Acquire) == self.epoch()
    }

    pub fn disconnected(&self) {
        self.connected.store(false, Ordering::Release);
        self.caught_up.store(false, Ordering::Release);
    }

    /// A resync replaces the data: reads are refused again (never serve a
    /// half-rebuilt or stale dataset) until the next catch-up.
    pub fn resyncing(&self, on: bool) {
        self.syncing.store(on, Ordering::Release);
        if on {
            self.caught_up.store(false, Ordering::Release);
            self.caught_up_once.store(false, Ordering::Release);
        }
    }

    pub fn mark_caught_up(&self) {
        self.caught_up.store(true, Ordering::Release);
        self.caught_up_once.store(true, Ordering::Release);
        self.syncing.store(false, Ordering::Release);
    }

    /// [`ReplState::mark_caught_up`] for the follow loop of `epoch` only: a
    /// loop whose target was replaced must not declare the server caught
    /// up with the new one. Returns whether it did.
    pub fn mark_caught_up_in(&self, epoch: u64) -> bool {
        let _target = self.target.lock();
        let current = self.epoch() == epoch;
        if current {
            self.mark_caught_up();
        }
        current
    }

    /// [`ReplState::disconnected`] for the follow loop of `epoch` only.
    pub fn disconnected_in(&self, epoch: u64) {
        let _target = self.target.lock();
        if self.epoch() == epoch {
            self.disconnected();
        }
    }

    /// An attempt of the follow loop of `epoch` failed with `why`.
    pub fn link_failed_in(&self, epoch: u64, why: &str) {
        let _target = self.target.lock();
        if self.epoch() == epoch {
            *self.link_error.lock() = why.to_string();
        }
    }

    /// Records applied up to `offset`.
    pub fn applied(&self, offset: u64) {
        self.offset.store(offset, Ordering::Release);
        self.lag.lock().applied(offset);
    }

    pub fn offset(&self) -> u64 {
        self.offset.load(Ordering::Acquire)
    }

    /// A fresh reading of the leader's AOF size (polled while streaming).
    pub fn observe_leader(&self, size: u64) {
        self.lag.lock().observe_leader(size, Instant::now());
    }

    /// Leader side: `REPLCONF listening-port` / `ip-address` from client
    /// `id` at `ip`.
    pub fn announce(&self, id: u64, ip: &str, port: Option<&str>, addr: Option<&str>) {
        let mut f = self.followers.lock();
        let link = f.entry(id).or_insert_with(|| FollowerLink {
            ip: ip.to_string(),
            port: String::new(),
            streaming: false,
            sent: Default::default(),
            idle_since: Default::default(),
            follower_id: String::new(),
            ack: None,
        });
        if let Some(p) = port {
            link.port = p.to_string();
        }
        if let Some(a) = addr {
            link.ip = a.to_string();
        }
    }

    /// Leader side: client `id` starts an `AOF` stream; returns its
    /// progress counters.
    #[allow(clippy::type_complexity)]
    pub fn start_stream(&self, id: u64, ip: &str) -> (Arc<AtomicU64>, Arc<Mutex<Option<Instant>>>) {
        self.announce(id, ip, None, None);
        let mut f = self.followers.lock();
        let link = f.get_mut(&id).expect("announced above");
        link.streaming = true;
        (link.sent.clone(), link.idle_since.clone())
    }

    /// A client connection closed.
    pub fn forget(&self, id: u64) {
        self.followers.lock().remove(&id);
    }

    pub fn snapshot(&self, own_aof_size: u64) -> Snapshot {
        let now = Instant::now();
        let (lag_bytes, lag_seconds, leader_size) = {
            let lag = self.lag.lock();
            let off = self.offset();
            (
                lag.lag_bytes(off),
                lag.lag_seconds(off, now),
                lag.leader_size(),
            )
        };
        let followers = self.followers.lock();
        Snapshot {
            following: self.target(),
            connected: self.connected.load(Ordering::Acquire),
            caught_up: self.caught_up(),
            caught_up_once: self.caught_up_once(),
            syncing: self.syncing.load(Ordering::Acquire),
            offset: self.offset(),
            leader_size,
            lag_bytes,
            lag_seconds,
            link_error: self.link_error.lock().clone(),
            followers: followers
                .values()
                .map(|l| FollowerView::of(l, own_aof_size, now))
                .collect(),
            streaming: followers.values().filter(|l| l.streaming).count() as u64,
        }
    }
}
