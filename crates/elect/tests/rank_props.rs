//! Property tests of the candidates' ranking (`core::rank`): several cores
//! against one model store (an etcd-like lock that expires by itself, and
//! the published positions) with random start times and request latencies.
//! When the lock falls free, the most advanced live candidate (later
//! epoch, then larger offset, then lower id) is the one that takes it; a
//! candidate that defers to a better one that never takes the lock tries
//! anyway within a lease (plus the settle and one observe interval).

use std::cmp::Reverse;
use std::collections::BTreeMap;

use proptest::prelude::*;
use tile38_elect::core::{
    Acquired, Candidate, Core, Holder, Observation, Position, Renewed, Step, Timing,
};
use tile38_elect::Decision;

fn timing(lease_ms: u64) -> Timing {
    let renew_ms = lease_ms / 3;
    Timing {
        lease_ms,
        renew_ms,
        margin_ms: (lease_ms / 5).max(500),
        max_lag: 1 << 20,
        lag_wait_base_ms: 300,
        lag_wait_per_mib_ms: 1000,
        settle_ms: Timing::default_settle(renew_ms),
    }
}

/// The shared store: the lock's holder and the published positions.
#[derive(Default)]
struct Store {
    holder: Option<usize>,
    epoch: u64,
    entries: BTreeMap<String, Position>,
}

impl Store {
    fn observation(&self) -> Observation {
        match self.holder {
            None => Observation::Free,
            Some(i) => Observation::Held {
                holder: Holder {
                    id: format!("m{i}"),
                    advertise: format!("m{i}:1"),
                    epoch: self.epoch,
                },
                version: self.epoch.to_string(),
                expires_after: None,
            },
        }
    }

    fn candidates(&self) -> Vec<Candidate> {
        self.entries
            .iter()
            .map(|(id, p)| Candidate {
                id: id.clone(),
                position: *p,
            })
            .collect()
    }
}

/// A member: its core, position, next wake time and latency per request.
struct Member {
    core: Core,
    pos: Position,
    wake: u64,
    latency: u64,
}

/// Runs one step of member `i` at its wake time against `store`; the
/// request takes effect when sent and is answered `latency` later.
fn step(m: &mut Member, i: usize, store: &mut Store) {
    let now = m.wake;
    let done = now + m.latency;
    match m.core.poll(now, Some(0)) {
        Step::Wait(u) => {
            m.wake = u;
            return;
        }
        Step::Observe => m.core.observed(done, store.observation()),
        Step::Announce => {
            store.entries.insert(format!("m{i}"), m.pos);
            m.core.announced(now, done, m.pos, Ok(()));
        }
        Step::Rank => {
            m.core.ranked(done, Ok(store.candidates()));
        }
        Step::Withdraw => {
            store.entries.remove(&format!("m{i}"));
            m.core.withdrawn();
        }
        Step::Acquire => {
            let r = if store.holder.is_none() {
                store.holder = Some(i);
                store.epoch += 1;
                Acquired::Won { epoch: store.epoch }
            } else {
                Acquired::Lost(store.observation())
            };
            m.core.acquired(now, done, r);
        }
        Step::Renew if store.holder == Some(i) => m.core.renewed(now, done, Renewed::Ok),
        s => panic!("unexpected {s:?}"),
    }
    m.wake = done.max(now + 1);
}

fn position() -> impl Strategy<Value = Position> {
    (0u64..3, 0u64..1000).prop_map(|(epoch, offset)| Position { epoch, offset })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_most_advanced_live_candidate_wins(
        lease in 1000u64..20_000,
        members in prop::collection::vec((position(), 0u64..1000, 0u64..50), 2..6),
    ) {
        let t = timing(lease);
        let mut ms: Vec<Member> = members
            .iter()
            .enumerate()
            .map(|(i, (pos, start, latency))| Member {
                core: Core::new(format!("m{i}"), t),
                pos: *pos,
                // Each sees the free lock at its next read: within one
                // observe interval of the others.
                wake: start % t.observe_ms(),
                latency: *latency,
            })
            .collect();
        let mut store = Store::default();
        let limit = t.observe_ms() + t.settle_ms + 1000;
        while store.holder.is_none() {
            let i = (0..ms.len()).min_by_key(|&i| ms[i].wake).unwrap();
            prop_assert!(ms[i].wake <= limit, "nobody took the lock by {}", ms[i].wake);
            step(&mut ms[i], i, &mut store);
        }
        let best = (0..ms.len())
            .max_by_key(|&i| (ms[i].pos, Reverse(format!("m{i}"))))
            .unwrap();
        prop_assert_eq!(store.holder, Some(best), "positions {:?}", members);
        // The others follow it and withdraw; nobody else ever leads.
        for _ in 0..200 {
            let i = (0..ms.len()).min_by_key(|&i| ms[i].wake).unwrap();
            step(&mut ms[i], i, &mut store);
            prop_assert_eq!(store.holder, Some(best));
        }
        for (i, m) in ms.iter().enumerate() {
            if i != best {
                let follows = matches!(m.core.decision(), Decision::Follow { .. });
                prop_assert!(follows, "{:?}", m.core.decision());
            }
        }
        prop_assert_eq!(store.entries.len(), 0, "entries left: {:?}", store.entries);
    }

    #[test]
    fn a_deferring_candidate_eventually_tries(
        lease in 1000u64..20_000,
        mine in position(),
        dies_after in prop::option::of(0u64..30_000),
        latency in 0u64..50,
    ) {
        let t = timing(lease);
        let better = Position { epoch: mine.epoch + 1, offset: 0 };
        let mut store = Store::default();
        // A better candidate ("a" < "m0") that never takes the lock.
        store.entries.insert("a".into(), better);
        let mut m = Member { core: Core::new("m0".into(), t), pos: mine, wake: 0, latency };
        let deadline = t.settle_ms + lease + 2 * t.observe_ms() + 4 * latency + 1000;
        while store.holder.is_none() {
            if dies_after.is_some_and(|d| m.wake >= d) {
                store.entries.remove("a");
            }
            prop_assert!(m.wake <= deadline, "still waiting at {}", m.wake);
            step(&mut m, 0, &mut store);
        }
        prop_assert_eq!(m.core.decision(), &Decision::Lead { epoch: 1 });
    }
}
