//! Property tests of the sans-IO decision core against a model store with
//! request latencies, lost requests and a rival member: a leader always
//! steps down strictly before the lease it last renewed can expire for the
//! others, never leads on a lock the store gives someone else, and the
//! most caught-up candidate tries first.

use proptest::prelude::*;
use tile38_elect::core::{
    Acquired, Candidate, Core, Holder, Observation, Position, Renewed, Step, Timing,
};
use tile38_elect::Decision;

fn timing(lease_ms: u64, max_lag: u64) -> Timing {
    Timing {
        lease_ms,
        renew_ms: lease_ms / 3,
        margin_ms: (lease_ms / 5).max(500),
        max_lag,
        lag_wait_base_ms: 300,
        lag_wait_per_mib_ms: 1000,
        settle_ms: 0,
    }
}

/// One store request's fate: latency to the store, whether it got there,
/// latency back; and whether a rival grabs a free lock meanwhile.
#[derive(Clone, Debug)]
struct Op {
    out_ms: u64,
    back_ms: u64,
    reaches: bool,
    rival_grabs: bool,
    rival_leaves: bool,
    lag: Option<u64>,
}

fn op() -> impl Strategy<Value = Op> {
    (
        0u64..4000,
        0u64..4000,
        prop::bool::weighted(0.8),
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.1),
        prop::option::weighted(0.9, 0u64..3_000_000),
    )
        .prop_map(
            |(out_ms, back_ms, reaches, rival_grabs, rival_leaves, lag)| Op {
                out_ms,
                back_ms,
                reaches,
                rival_grabs,
                rival_leaves,
                lag,
            },
        )
}

/// A lease as the others measure it: their clocks may run up to 10% fast
/// (the margin must cover it).
fn fast(lease: u64) -> u64 {
    lease - lease / 10
}

/// The store as the others see it (etcd-like: it expires the lock itself).
struct Store {
    /// `Some(true)`: us; `Some(false)`: the rival.
    holder: Option<bool>,
    expires: u64,
    epoch: u64,
}

impl Store {
    fn free(&self, at: u64) -> bool {
        self.holder.is_none() || at >= self.expires
    }

    fn observation(&self, at: u64) -> Observation {
        if self.free(at) {
            return Observation::Free;
        }
        let us = self.holder == Some(true);
        Observation::Held {
            holder: Holder {
                id: if us { "me" } else { "rival" }.into(),
                advertise: if us { "me:1" } else { "rival:1" }.into(),
                epoch: self.epoch,
            },
            version: format!("{}-{}", self.epoch, self.expires),
            expires_after: None,
        }
    }
}

/// The invariant, checked after every core transition at `now`.
fn check(core: &Core, store: &Store, now: u64) -> Result<(), TestCaseError> {
    if let Decision::Lead { epoch } = core.decision() {
        prop_assert_eq!(store.holder, Some(true), "leading on a lock we do not hold");
        prop_assert!(
            now < store.expires,
            "leading at {} >= expiry {}",
            now,
            store.expires
        );
        prop_assert_eq!(*epoch, store.epoch);
    }
    Ok(())
}

/// Performs `step` (a request) as the driver does, with `o`'s fate;
/// returns the time the core learns the outcome.
fn exchange(
    core: &mut Core,
    store: &mut Store,
    step: Step,
    o: &Op,
    sent: u64,
) -> Result<u64, TestCaseError> {
    let t = *core.timing();
    let at = sent + o.out_ms;
    // The driver's bound on this request.
    let limit = match step {
        Step::Renew => core
            .valid_until()
            .unwrap()
            .saturating_sub(sent)
            .min(t.renew_ms),
        // A leader's withdrawal is bounded by its lease too.
        Step::Withdraw => core.valid_until().map_or(t.renew_ms.max(1000), |until| {
            until.saturating_sub(sent).min(t.renew_ms.max(1000))
        }),
        _ => t.renew_ms.max(1000),
    };
    let answered = o.reaches && o.out_ms + o.back_ms <= limit;
    let now = sent
        + if answered {
            o.out_ms + o.back_ms
        } else {
            limit
        };
    match step {
        Step::Observe if answered => core.observed(now, store.observation(at)),
        Step::Observe => core.observe_failed(now, "x".into()),
        Step::Acquire => {
            let mut r = Acquired::Failed("x".into());
            if o.reaches {
                r = if store.free(at) {
                    store.holder = Some(true);
                    store.expires = at + fast(t.lease_ms);
                    store.epoch += 1;
                    Acquired::Won { epoch: store.epoch }
                } else {
                    Acquired::Lost(store.observation(at))
                };
            }
            if !answered {
                r = Acquired::Failed("timeout".into());
            }
            core.acquired(sent, now, r);
        }
        Step::Renew => {
            let mut r = Renewed::Failed("x".into());
            if o.reaches {
                r = if store.holder == Some(true) && at < store.expires {
                    store.expires = at + fast(t.lease_ms);
                    Renewed::Ok
                } else {
                    Renewed::Lost
                };
            }
            if !answered {
                r = Renewed::Failed("timeout".into());
            }
            // Time passes while waiting: the invariant must hold up to
            // the answer.
            check(core, store, now.saturating_sub(1))?;
            core.renewed(sent, now, r);
        }
        Step::Announce | Step::Rank | Step::Withdraw => {
            rank_exchange(core, &step, o, answered, sent, now)
        }
        Step::StepDown => {
            prop_assert!(!core.decision().may_write(), "lead while stepping down");
            if o.reaches && store.holder == Some(true) && at < store.expires {
                store.holder = None;
            }
            return Ok(sent + o.out_ms.min(limit));
        }
        Step::Wait(_) => unreachable!(),
    }
    Ok(now)
}

/// The ranking's requests (`core::rank`): a rival candidate ahead of us
/// or not.
fn rank_exchange(core: &mut Core, step: &Step, o: &Op, answered: bool, sent: u64, now: u64) {
    match step {
        Step::Announce => {
            let r = if answered { Ok(()) } else { Err("x".into()) };
            core.announced(sent, now, Position::default(), r);
        }
        Step::Rank if answered => {
            let rival = Candidate {
                id: "rival".into(),
                position: Position {
                    epoch: 0,
                    offset: o.rival_grabs as u64,
                },
            };
            core.ranked(now, Ok(vec![rival]));
        }
        Step::Rank => {
            core.ranked(now, Err("x".into()));
        }
        _ => core.withdrawn(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_leader_steps_down_before_its_lease_expires(
        lease in 1000u64..20_000,
        ops in prop::collection::vec(op(), 1..200),
        rank in any::<bool>(),
    ) {
        let mut t = timing(lease, 1 << 20);
        if rank {
            t.settle_ms = Timing::default_settle(t.renew_ms);
        }
        let mut core = Core::new("me".into(), t);
        let mut store = Store { holder: None, expires: 0, epoch: 0 };
        let mut now = 0u64;
        let mut ops = ops.into_iter();
        let mut lag = Some(0);
        for _ in 0..2000 {
            let step = core.poll(now, lag);
            check(&core, &store, now)?;
            if let Step::Wait(until) = step {
                prop_assert!(until > now, "wait until {} at {}", until, now);
                check(&core, &store, until - 1)?;
                now = until;
                continue;
            }
            let Some(o) = ops.next() else { break };
            lag = o.lag;
            if o.rival_leaves && store.holder == Some(false) {
                store.holder = None;
            }
            if o.rival_grabs && store.free(now) {
                store.holder = Some(false);
                store.expires = now + lease;
                store.epoch += 1;
            }
            now = exchange(&mut core, &mut store, step, &o, now)?;
            check(&core, &store, now)?;
        }
    }

    #[test]
    fn the_least_lagged_candidate_tries_first(
        lease in 1000u64..20_000,
        a in 0u64..4_000_000,
        b in 0u64..4_000_000,
    ) {
        let t = timing(lease, u64::MAX);
        let first_try = |lag: u64| {
            let mut core = Core::new("c".into(), t);
            let mut now = 0;
            core.observed(now, Observation::Free);
            loop {
                match core.poll(now, Some(lag)) {
                    Step::Acquire => return now,
                    Step::Observe => core.observed(now, Observation::Free),
                    Step::Wait(u) => now = u,
                    s => panic!("{s:?}"),
                }
            }
        };
        let (ta, tb) = (first_try(a), first_try(b));
        if a < b {
            prop_assert!(ta <= tb);
        }
        if a == 0 && b > 0 {
            prop_assert!(ta < tb);
        }
        prop_assert!(ta <= lease && tb <= lease);
    }

    #[test]
    fn a_candidate_over_max_lag_never_tries(
        max in 0u64..1_000_000,
        over in 1u64..1_000_000,
        steps in 1usize..200,
    ) {
        let mut core = Core::new("c".into(), timing(3000, max));
        let mut now = 0;
        for i in 0..steps {
            let lag = if i % 7 == 0 { None } else { Some(max + over) };
            match core.poll(now, lag) {
                Step::Acquire => prop_assert!(false, "tried with lag {:?}", lag),
                Step::Observe => core.observed(now, Observation::Free),
                Step::Wait(u) => now = u,
                s => prop_assert!(false, "{:?}", s),
            }
            prop_assert_eq!(core.decision(), &Decision::NoLeader);
        }
    }
}

#[test]
fn epochs_and_counters_follow_the_store() {
    let mut core = Core::new("me".into(), timing(3000, 0));
    let held = |id: &str, epoch| Observation::Held {
        holder: Holder {
            id: id.into(),
            advertise: format!("{id}:1"),
            epoch,
        },
        version: epoch.to_string(),
        expires_after: None,
    };
    core.observed(0, Observation::Free);
    core.observed(500, held("a", 7));
    assert_eq!(
        core.decision(),
        &Decision::Follow {
            leader: "a:1".into(),
            epoch: 7
        }
    );
    core.observed(1000, held("b", 9));
    assert_eq!(core.epoch(), 9);
    let c = core.counters(1000);
    assert_eq!((c.failovers_observed, c.leaderless_ms), (1, 500));
    // A Lease-like store: unchanged for the lease → free.
    let lease = |v: &str| Observation::Held {
        holder: Holder {
            id: "b".into(),
            advertise: "b:1".into(),
            epoch: 9,
        },
        version: v.into(),
        expires_after: Some(3000),
    };
    core.observed(2000, lease("x"));
    core.observed(4999, lease("x"));
    assert!(matches!(core.decision(), Decision::Follow { .. }));
    core.observed(5000, lease("x"));
    assert_eq!(core.decision(), &Decision::NoLeader);
    assert_eq!(core.poll(5000, Some(0)), Step::Acquire);
    core.acquired(5000, 5100, Acquired::Won { epoch: 10 });
    assert_eq!(core.decision(), &Decision::Lead { epoch: 10 });
    assert_eq!(core.counters(5100).elections_won, 1);
    // Renewal failures until valid_until = 5000 + 3000 - 600.
    let mut now = 5100;
    loop {
        match core.poll(now, Some(0)) {
            Step::Renew => core.renewed(now, now + 50, Renewed::Failed("down".into())),
            Step::Wait(u) => now = u,
            Step::StepDown => break,
            s => panic!("{s:?}"),
        }
    }
    assert_eq!(now, 7400);
    assert_eq!(core.decision(), &Decision::SteppingDown { epoch: 10 });
}
