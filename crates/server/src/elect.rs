//! Automatic failover (issue 20): runs the elector (`tile38_elect`) once
//! the AOF is loaded, reports this member's replication lag to it, and
//! obeys its decisions:
//!
//! - `Lead` → stop following (`FOLLOW no one`, but nothing is written to
//!   the config file: the elected role does not survive a restart by
//!   itself) and take writes;
//! - `Follow{leader}` → follow that address with the follow loop, whose
//!   resync drops a divergent tail (a returning old leader never serves
//!   the writes it took after it lost the lock);
//! - `Starting`, `NoLeader`, `SteppingDown`, `Stopped` → refuse client
//!   writes at once (`tile38_engine::elect`, the one write gate).
//!
//! Every change of the lead is logged with the system-wide monotonic clock
//! (`elect: lead start|end epoch=E mono_ns=N`), so a test can check that
//! the lead intervals of different members never overlap. On SIGTERM
//! ([`shutdown`]) the leader stops writes, waits (bounded) for a follower
//! to acknowledge its AOF end, then gives the lock back so a follower
//! takes over at once. On Kubernetes the pod is labelled
//! `tile38.io/role` (leader/follower) and `tile38.io/caught-up`.
//!
//! The epoch of this member's position is kept across a restart in
//! `elect-position` beside the AOF ([`stamp`]; `docs/replication.md`,
//! "Position").

mod stamp;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use tile38_elect::{Decision, ElectUrl, Elector, Settings};
use tile38_engine::elect::Shown;
use tile38_repl::Target;

use crate::server::Server;

/// How often the pod labels are re-checked (a follower catching up).
const LABEL_TICK: Duration = Duration::from_secs(1);
/// How long a leader shutting down waits for a follower's ack.
const HANDOVER_WAIT: Duration = Duration::from_secs(2);

/// Starts the elector (the `--elect` plan) or, without one, follows the
/// leader the config names (`--follow`, a persisted `FOLLOW`).
pub async fn take_role(
    server: &Arc<Server>,
    plan: Option<(ElectUrl, Settings)>,
) -> Result<(), String> {
    let id = server.config.identity();
    let Some((url, mut settings)) = plan else {
        if !id.follow_host.is_empty() {
            let target = Target {
                host: id.follow_host,
                port: id.follow_port,
            };
            crate::repl::follower::start(server, Some(target));
        }
        return Ok(());
    };
    if !id.follow_host.is_empty() {
        tracing::warn!(
            "elect: ignoring the config file's follow line (the elector picks the leader)"
        );
    }
    settings.member_id = id.server_id;
    let backend = match url {
        ElectUrl::Etcd { .. } => "etcd",
        ElectUrl::Kubernetes { .. } => "kubernetes",
    };
    server.elect.enable(backend);
    let elector = Elector::start(&url, settings, Arc::new(Lag::new(server).await))
        .await
        .map_err(|e| format!("elect: {e}"))?;
    let handle = Arc::new(Handle {
        elector,
        leading: parking_lot::Mutex::new(None),
        stopping: AtomicBool::new(false),
    });
    let _ = server.elector.set(handle.clone());
    tracing::info!("elect: {url} as {}", server.config.identity().server_id);
    tokio::spawn(obey(server.clone(), handle));
    Ok(())
}

/// The running elector and the epoch this member leads in, if it does.
pub struct Handle {
    pub elector: Elector,
    leading: parking_lot::Mutex<Option<u64>>,
    /// Set by [`shutdown`]: no decision reopens the write gate.
    stopping: AtomicBool,
}

/// What this member reports to the elector ([`tile38_elect::Candidacy`]).
///
/// Lag: bytes of the last known leader AOF not applied here; `Some(0)`
/// for a member that never followed (or leads); `None` for a follower
/// that never completed a sync; after a switch of leader, the lag it had
/// with the previous one until it has synced with the new one.
///
/// Position (who holds every acknowledged write, `core::rank`): the epoch
/// of the leader whose AOF this member's data is a prefix of, and its
/// length. A leader stamps its own epoch; a follower stamps the epoch of
/// the holder it follows once that holder's stream has started (the
/// resume search has cut any divergent tail by then), and keeps the old
/// stamp with its AOF's length until then. The stamp is written to disk
/// ([`stamp`]); a member that starts with a stamp that counts has that
/// epoch and its AOF's length at start (not what its own expiry deletions
/// append while it neither leads nor streams), and may lead as one that
/// never followed may; without one it has epoch 0 and ranks below every
/// member that streamed from an elected leader since.
struct Lag {
    server: Weak<Server>,
    synced: AtomicBool,
    last: AtomicU64,
    /// The epoch the position counts in.
    stamp: AtomicU64,
    /// The stamp on disk (none without an AOF).
    disk: Option<Arc<stamp::Persisted>>,
    /// The AOF length at start when the stamp on disk counted, until this
    /// member leads or streams from the holder (`u64::MAX`: not restored).
    restored: AtomicU64,
}

impl tile38_elect::Candidacy for Lag {
    fn lag(&self) -> Option<u64> {
        // Called on every step of the election loop: keeps the stamp
        // current while the role is settled.
        if let Some(server) = self.server.upgrade() {
            self.stamp(&server);
        }
        self.now()
    }

    fn position(&self) -> tile38_elect::Position {
        let Some(server) = self.server.upgrade() else {
            return tile38_elect::Position::default();
        };
        self.stamp(&server);
        let following = server.repl.following();
        let aof_size = server.aof.as_ref().map(|a| a.size());
        let restored = self.restored.load(Ordering::Acquire);
        let offset = if following && server.repl.streamed_from_target() {
            server.repl.offset()
        } else if restored != u64::MAX {
            aof_size.unwrap_or(0).min(restored)
        } else if following {
            server.repl.offset()
        } else {
            aof_size.unwrap_or(0)
        };
        tile38_elect::Position {
            epoch: self.stamp.load(Ordering::Relaxed),
            offset,
        }
    }
}

impl Lag {
    /// Sets the stamp to the current holder's epoch once our data is a
    /// prefix of its AOF: we lead (and no longer follow), or we follow
    /// exactly the holder and its stream has started; and keeps it on
    /// disk. Set, not raised: after a reset of the lock store (epochs
    /// start again) no member claims an epoch the store has not reached.
    fn stamp(&self, server: &Arc<Server>) {
        let following = server.repl.following();
        let epoch = match server.elector.get().map(|h| h.elector.decision()) {
            Some(Decision::Lead { epoch }) if !following => epoch,
            Some(Decision::Follow { leader, epoch })
                if following
                    && server.repl.target() == leader_target(&leader)
                    && server.repl.streamed_from_target() =>
            {
                epoch
            }
            _ => return,
        };
        self.stamp.store(epoch, Ordering::Relaxed);
        self.restored.store(u64::MAX, Ordering::Release);
        if let Some(disk) = &self.disk {
            disk.save(server, epoch);
        }
    }

    /// Reads the stamp on disk (a full read of the AOF when there is one).
    async fn new(server: &Arc<Server>) -> Lag {
        let disk = server
            .aof
            .as_ref()
            .map(|a| Arc::new(stamp::Persisted::new(a)));
        let restored = match &disk {
            Some(d) => {
                let (d, s) = (d.clone(), server.clone());
                let read = tokio::task::spawn_blocking(move || {
                    let aof = s.aof.as_ref()?;
                    let size = aof.size();
                    d.restore(aof).map(|epoch| (epoch, size))
                });
                read.await.ok().flatten()
            }
            None => None,
        };
        Lag {
            server: Arc::downgrade(server),
            synced: AtomicBool::new(restored.is_some()),
            last: AtomicU64::new(0),
            stamp: AtomicU64::new(restored.map_or(0, |r| r.0)),
            disk,
            restored: AtomicU64::new(restored.map_or(u64::MAX, |r| r.1)),
        }
    }

    fn now(&self) -> Option<u64> {
        let server = self.server.upgrade()?;
        if !server.repl.following() {
            return Some(0);
        }
        if server.repl.caught_up_once() {
            let lag = server.repl.snapshot(0).lag_bytes;
            self.last.store(lag, Ordering::Relaxed);
            self.synced.store(true, Ordering::Relaxed);
            return Some(lag);
        }
        self.synced
            .load(Ordering::Relaxed)
            .then(|| self.last.load(Ordering::Relaxed))
    }
}

/// Follows the decisions until the elector stops; relabels the pod.
async fn obey(server: Arc<Server>, handle: Arc<Handle>) {
    let mut decisions = handle.elector.decisions();
    let mut labels = Labels::default();
    loop {
        let decision = decisions.borrow_and_update().clone();
        apply(&server, &handle, &decision);
        labels.refresh(&server, &handle.elector, &decision).await;
        tokio::select! {
            changed = decisions.changed() => if changed.is_err() { break },
            _ = tokio::time::sleep(LABEL_TICK) => {}
        }
    }
    // The channel closed (the task ended): take no more writes.
    apply(&server, &handle, &Decision::Stopped);
}

/// Makes the server's role match `decision` (idempotent).
fn apply(server: &Arc<Server>, handle: &Handle, decision: &Decision) {
    let mut leading = handle.leading.lock();
    let decision = if handle.stopping.load(Ordering::Acquire) {
        &Decision::Stopped
    } else {
        decision
    };
    let status = handle.elector.status();
    let shown = Shown {
        state: decision.state_name(),
        epoch: status.epoch,
        holder: status.holder.clone().unwrap_or_default(),
        backend: status.backend,
        error: status.last_error.clone().unwrap_or_default(),
    };
    match decision {
        Decision::Lead { epoch } => {
            if leading.is_none() {
                if server.repl.following() {
                    crate::repl::follower::start(server, None);
                }
                log_lead("start", *epoch);
                *leading = Some(*epoch);
            }
            server.elect.set(Shown {
                epoch: *epoch,
                ..shown
            });
        }
        _ => {
            // Refuse first, then let the writes already past the gate
            // finish: none is applied once the lead has ended.
            server.elect.set(shown);
            if let Some(epoch) = leading.take() {
                drop(server.db.write());
                log_lead("end", epoch);
            }
            if let Decision::Follow { leader, .. } = decision {
                follow(server, leader);
            }
        }
    }
}

/// The follow target an advertised `host:port` names.
fn leader_target(leader: &str) -> Option<Target> {
    let (host, port) = leader.rsplit_once(':')?;
    Some(Target {
        host: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
        port: port.parse().ok()?,
    })
}

/// Follows `leader` (`host:port`) unless already following it.
fn follow(server: &Arc<Server>, leader: &str) {
    let Some(target) = leader_target(leader) else {
        tracing::warn!("elect: bad leader address {leader:?}");
        return;
    };
    if server.repl.target().as_ref() != Some(&target) {
        crate::repl::follower::start(server, Some(target));
    }
}

/// Logs a lead boundary with the system-wide monotonic clock (comparable
/// across processes on one machine).
fn log_lead(what: &str, epoch: u64) {
    tracing::info!("elect: lead {what} epoch={epoch} mono_ns={}", mono_ns());
}

/// `CLOCK_MONOTONIC` in nanoseconds.
pub fn mono_ns() -> u128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into a local struct.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u128 * 1_000_000_000 + ts.tv_nsec as u128
}

/// The pod labels last set (Kubernetes only).
#[derive(Default)]
struct Labels {
    last: Option<(&'static str, &'static str)>,
}

impl Labels {
    async fn refresh(&mut self, server: &Server, elector: &Elector, decision: &Decision) {
        let lead = matches!(decision, Decision::Lead { .. });
        let caught_up = lead
            || (matches!(decision, Decision::Follow { .. })
                && server.repl.following()
                && server.repl.caught_up());
        let want = (
            if lead { "leader" } else { "follower" },
            if caught_up { "true" } else { "false" },
        );
        if self.last == Some(want) {
            return;
        }
        let labels = [
            (tile38_elect::ROLE_LABEL, want.0),
            ("tile38.io/caught-up", want.1),
        ];
        match elector.label_pod(&labels).await {
            Ok(_) => self.last = Some(want),
            Err(e) => tracing::warn!("elect: {e}"),
        }
    }
}

/// SIGTERM: a leader stops taking writes, lets a follower acknowledge its
/// AOF end (at most [`HANDOVER_WAIT`]), and gives the lock back; any member
/// stops its elector. No-op without `--elect`.
pub async fn shutdown(server: &Arc<Server>) {
    let Some(handle) = server.elector.get() else {
        return;
    };
    let leading = {
        let mut leading = handle.leading.lock();
        handle.stopping.store(true, Ordering::Release);
        leading.take()
    };
    server.elect.set(Shown {
        state: Decision::Stopped.state_name(),
        ..server.elect.shown().unwrap_or_default()
    });
    if leading.is_some() {
        drop(server.db.write());
        handover(server).await;
    }
    handle.elector.release().await;
    if let Some(epoch) = leading {
        log_lead("end", epoch);
    }
}

/// Waits until a streaming follower acked everything in the AOF.
async fn handover(server: &Server) {
    let Some(aof) = &server.aof else { return };
    let _ = aof.flush();
    let end = aof.size();
    let mut acks = server.acks.subscribe();
    let _ = tokio::time::timeout(HANDOVER_WAIT, async {
        while server.repl.snapshot(end).streaming > 0 && server.repl.acked(end) == 0 {
            if acks.changed().await.is_err() {
                break;
            }
        }
    })
    .await;
}
