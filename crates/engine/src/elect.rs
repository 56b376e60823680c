//! The elected role as the engine sees it (issue 20, `--elect`): whether
//! an elector owns this server's role, whether it may take client writes
//! now, and what ROLE/INFO/SERVER/HEALTHZ show of the election. The server
//! (`server/src/elect.rs`) runs the elector and sets this view on every
//! decision; the engine knows nothing of the lock store.
//!
//! Wording: a Tile38 follower refuses writes with `not the leader`; a
//! member that is not following and not leading either (the election is
//! starting, nobody holds the lock, or it is stepping down because it
//! could not renew) answers the same words plus why
//! (`not the leader: no elected leader`), so a client that recognises
//! Tile38's refusal treats both alike (`docs/replication.md`).

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use parking_lot::Mutex;

use crate::error::Error;

/// What the elector last decided, as shown to clients.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Shown {
    /// `starting`, `leader`, `follower`, `candidate`, `stepping-down`,
    /// `stopped`.
    pub state: &'static str,
    /// The lock holder's epoch (0: none seen).
    pub epoch: u64,
    /// The holder's advertised address (empty: none).
    pub holder: String,
    /// `etcd` or `kubernetes`.
    pub backend: &'static str,
    /// The lock store's last error (empty once a request succeeds): a
    /// refused token or an unreachable store is visible in INFO, not only
    /// in the log.
    pub error: String,
}

/// Why writes are refused right now (`0`: they are not).
const WRITE_OK: u8 = 0;
const STARTING: u8 = 1;
const NO_LEADER: u8 = 2;
const STEPPING_DOWN: u8 = 3;
const STOPPED: u8 = 4;
const FOLLOWING: u8 = 5;

/// The engine's view of the election (off unless `--elect`).
#[derive(Default)]
pub struct ElectView {
    on: AtomicBool,
    refuse: AtomicU8,
    shown: Mutex<Shown>,
}

impl ElectView {
    /// Turns the view on (before the elector's first decision): writes are
    /// refused until this member leads.
    pub fn enable(&self, backend: &'static str) {
        self.refuse.store(STARTING, Ordering::Release);
        *self.shown.lock() = Shown {
            state: "starting",
            backend,
            ..Shown::default()
        };
        self.on.store(true, Ordering::Release);
    }

    /// Whether an elector owns the role (`FOLLOW` is then refused).
    #[inline]
    pub fn on(&self) -> bool {
        self.on.load(Ordering::Acquire)
    }

    /// Records a decision. Refusing takes effect before this returns.
    pub fn set(&self, shown: Shown) {
        let refuse = match shown.state {
            "leader" => WRITE_OK,
            "follower" => FOLLOWING,
            "starting" => STARTING,
            "stepping-down" => STEPPING_DOWN,
            "stopped" => STOPPED,
            _ => NO_LEADER,
        };
        self.refuse.store(refuse, Ordering::Release);
        *self.shown.lock() = shown;
    }

    /// Whether a client write must be refused because this member does
    /// not lead (checked by the write gate after `following`).
    #[inline]
    pub fn refusal(&self) -> Option<Error> {
        if !self.on() {
            return None;
        }
        let why = match self.refuse.load(Ordering::Acquire) {
            WRITE_OK => return None,
            FOLLOWING => return Some(Error::NotLeader),
            STARTING => "election starting",
            STEPPING_DOWN => "stepping down",
            STOPPED => "shutting down",
            _ => "no elected leader",
        };
        Some(Error::Message(format!("not the leader: {why}")))
    }

    /// What the elector last decided (`None` when off).
    pub fn shown(&self) -> Option<Shown> {
        self.on().then(|| self.shown.lock().clone())
    }

    /// INFO replication's `elect_*` lines (none when off).
    pub fn info_lines(&self) -> Vec<(String, String)> {
        let Some(s) = self.shown() else {
            return Vec::new();
        };
        vec![
            ("elect_state".into(), s.state.into()),
            ("elect_epoch".into(), s.epoch.to_string()),
            ("elect_holder".into(), s.holder),
            ("elect_backend".into(), s.backend.into()),
            (
                "elect_last_error".into(),
                s.error.replace(['\r', '\n'], " "),
            ),
        ]
    }

    /// HEALTHZ under `--elect`: the leader is healthy; a follower is judged
    /// by its replication state (the caller's check); anything else is not.
    pub fn health(&self) -> Option<Error> {
        match self.refusal() {
            Some(Error::NotLeader) | None => None,
            Some(e) => Some(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_refuses_nothing_and_shows_nothing() {
        let v = ElectView::default();
        assert!(v.refusal().is_none() && v.info_lines().is_empty());
    }

    #[test]
    fn only_the_leader_writes() {
        let v = ElectView::default();
        v.enable("etcd");
        assert!(v.refusal().unwrap().message().contains("election starting"));
        let shown = |state| Shown {
            state,
            epoch: 3,
            holder: "h:1".into(),
            backend: "etcd",
            error: String::new(),
        };
        v.set(shown("leader"));
        assert!(v.refusal().is_none() && v.health().is_none());
        v.set(shown("follower"));
        assert_eq!(v.refusal(), Some(Error::NotLeader));
        assert!(v.health().is_none());
        v.set(shown("candidate"));
        assert_eq!(
            v.refusal().unwrap().message(),
            "not the leader: no elected leader"
        );
        v.set(shown("stepping-down"));
        assert!(v.health().unwrap().message().contains("stepping down"));
        assert_eq!(v.info_lines()[1], ("elect_epoch".into(), "3".into()));
        v.set(Shown {
            error: "403 Forbidden:\r\nno".into(),
            ..shown("candidate")
        });
        let last = v.info_lines().pop().unwrap();
        assert_eq!(
            last,
            ("elect_last_error".into(), "403 Forbidden:  no".into())
        );
    }
}
