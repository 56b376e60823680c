//! The elector against a real etcd (started per test on ephemeral ports):
//! contention, takeover after a crash and after a release, the most
//! caught-up candidate winning, `failover-max-lag`, epochs, and a leader
//! cut off from etcd stepping down before anyone else can lead.

mod common;

#[path = "../../../src/relay.rs"]
#[allow(dead_code)]
mod relay;

use std::time::{Duration, Instant};

use common::{addr, leaders, wait_for, Etcd, Log, Member, NO_LAG};
use tile38_elect::{Decision, ElectUrl};

/// Test lease (see `common::settings`) and renew interval.
const LEASE: Duration = Duration::from_secs(2);
const RENEW: Duration = Duration::from_millis(666);
/// The default safety margin for a 2 s lease (lease/5, at least 500 ms).
const MARGIN: Duration = Duration::from_millis(500);
/// etcd revokes expired leases on a 500 ms sweep; plus scheduling slack.
const SLACK: Duration = Duration::from_millis(1200);
/// What the ranking adds to a takeover: a candidate that sees the lock free
/// publishes its position and waits one observe interval and a half
/// (`crates/elect/src/core/rank.rs`).
const SETTLE: Duration = Duration::from_millis(1000);

/// Waits until exactly one of `members` leads and all the others follow
/// it at its epoch; returns the leader's index and epoch.
async fn settled(members: &[&Member], limit: Duration) -> (usize, u64) {
    let mut found = None;
    let ok = wait_for(limit, || {
        let lead: Vec<_> = members
            .iter()
            .enumerate()
            .filter_map(|(i, m)| match m.decision() {
                Decision::Lead { epoch } => Some((i, epoch)),
                _ => None,
            })
            .collect();
        let [(i, epoch)] = lead[..] else { return false };
        let leader = addr(&members[i].name);
        let all = members.iter().enumerate().all(|(j, m)| {
            j == i
                || m.decision()
                    == Decision::Follow {
                        leader: leader.clone(),
                        epoch,
                    }
        });
        found = Some((i, epoch));
        all
    })
    .await;
    let states: Vec<_> = members
        .iter()
        .map(|m| (m.name.clone(), m.decision()))
        .collect();
    assert!(ok, "no settled leader within {limit:?}: {states:?}");
    found.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_contend_one_leads_and_a_crash_hands_over() {
    let Some(etcd) = Etcd::start().await else {
        return;
    };
    let url = etcd.url("contend");
    let log = Log::default();
    let a = Member::start(&url, "a", 0, &log).await;
    let b = Member::start(&url, "b", 0, &log).await;
    let c = Member::start(&url, "c", 0, &log).await;
    let all = [&a, &b, &c];
    let (i, epoch) = settled(&all, Duration::from_secs(10)).await;
    // It stays that way over several renewals.
    let watch_until = Instant::now() + 3 * RENEW;
    while Instant::now() < watch_until {
        assert_eq!(leaders(&all).len(), 1, "{:?}", leaders(&all));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(all[i].elector.status().elections_won, 1);
    // The leader crashes (no release): another leads within lease + renew.
    let crashed = Instant::now();
    all[i].elector.abort();
    let rest: Vec<&Member> = all
        .iter()
        .copied()
        .enumerate()
        .filter(|(j, _)| *j != i)
        .map(|(_, m)| m)
        .collect();
    let (k, epoch2) = settled(&rest, LEASE + RENEW + SETTLE + SLACK).await;
    let took = crashed.elapsed();
    assert!(
        took <= LEASE + RENEW + SETTLE + SLACK,
        "takeover took {took:?}"
    );
    assert!(
        took >= LEASE - Duration::from_millis(600),
        "took over early: {took:?}"
    );
    assert!(epoch2 > epoch, "epoch {epoch2} after {epoch}");
    let st = rest[k].elector.status();
    assert_eq!(
        (st.epoch, st.state, st.holder),
        (epoch2, "leader", Some(addr(&rest[k].name)))
    );
    assert_eq!(
        (st.backend, st.lock.as_str()),
        ("etcd", url.to_string().as_str())
    );
    assert_eq!(st.member_id, rest[k].name);
    let other = rest[1 - k].elector.status();
    assert!(
        other.failovers_observed >= 1 && other.leaderless_ms > 0,
        "{other:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_hands_over_at_once_and_epochs_increase() {
    let Some(etcd) = Etcd::start().await else {
        return;
    };
    let url = etcd.url("release");
    let log = Log::default();
    let mut members = Vec::new();
    for name in ["a", "b", "c"] {
        members.push(Member::start(&url, name, 0, &log).await);
    }
    let mut alive: Vec<&Member> = members.iter().collect();
    let (mut i, mut epoch) = settled(&alive, Duration::from_secs(10)).await;
    while alive.len() > 1 {
        let released = Instant::now();
        alive[i].elector.release().await;
        assert_eq!(alive[i].decision(), Decision::Stopped);
        alive.remove(i);
        let (k, next) = settled(&alive, LEASE + SETTLE).await;
        // Released: no waiting for the lease to run out. A released lock
        // is seen free within a renew interval, then the ranking settles:
        // about 1.7 s. Waiting for the lease would take at least the lease
        // less a renew interval, plus etcd's sweep and the settle: 2.8 s.
        let bound = LEASE + SETTLE - Duration::from_millis(400);
        assert!(released.elapsed() < bound, "took {:?}", released.elapsed());
        assert!(next > epoch, "epoch {next} after {epoch}");
        (i, epoch) = (k, next);
    }
    log.assert_one_leader_at_a_time();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_caught_up_candidate_wins_and_over_max_lag_never_leads() {
    let Some(etcd) = Etcd::start().await else {
        return;
    };
    let url = etcd.url("lag");
    let log = Log::default();
    // Started first, so it sees the lock free first, but 512 KiB behind.
    let lagged = Member::start(&url, "lagged", 512 << 10, &log).await;
    let too_far = Member::start(&url, "toofar", 2 << 20, &log).await;
    let never = Member::start(&url, "never", NO_LAG, &log).await;
    let fresh = Member::start(&url, "fresh", 0, &log).await;
    let all = [&lagged, &too_far, &never, &fresh];
    let (i, _) = settled(&all, Duration::from_secs(10)).await;
    assert_eq!(all[i].name, "fresh");
    // The leader goes: the lagged one (within max) takes over; the one
    // over failover-max-lag and the one that cannot lead never do.
    let start = Instant::now();
    fresh.elector.abort();
    let rest = [&lagged, &too_far, &never];
    let (k, _) = settled(&rest, LEASE + RENEW + SLACK + Duration::from_secs(1)).await;
    assert_eq!(rest[k].name, "lagged");
    lagged.elector.release().await;
    let quiet = Instant::now() + LEASE + RENEW;
    while Instant::now() < quiet {
        assert!(leaders(&[&too_far, &never]).is_empty());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(too_far.decision(), Decision::NoLeader);
    assert!(log.first("toofar", start, Decision::may_write).is_none());
    assert!(log.first("never", start, Decision::may_write).is_none());
    // Caught up again: it may lead.
    too_far.lag.store(10, std::sync::atomic::Ordering::SeqCst);
    assert!(wait_for(LEASE, || too_far.decision().may_write()).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_cut_off_from_etcd_steps_down_before_another_leads() {
    let Some(etcd) = Etcd::start().await else {
        return;
    };
    let log = Log::default();
    let relay = relay::Relay::start(etcd.port);
    let via_relay = ElectUrl::parse(&format!("etcd://127.0.0.1:{}/cut", relay.port)).unwrap();
    let cut_off = Member::start(&via_relay, "cutoff", 0, &log).await;
    assert!(wait_for(Duration::from_secs(10), || cut_off.decision().may_write()).await);
    let other = Member::start(&etcd.url("cut"), "other", 0, &log).await;
    settled(&[&cut_off, &other], Duration::from_secs(5)).await;
    let epoch = cut_off.elector.status().epoch;
    // Partition it from the store.
    relay.refuse(true);
    relay.cut();
    let cut = Instant::now();
    assert!(wait_for(LEASE + RENEW + SLACK, || other.decision().may_write()).await);
    let down = log
        .first("cutoff", cut, |d| {
            matches!(d, Decision::SteppingDown { .. })
        })
        .expect("the cut-off leader stepped down");
    let up = log.first("other", cut, Decision::may_write).unwrap();
    assert!(
        down < up,
        "stepped down {:?} after the other led",
        down - up
    );
    // Its last successful renewal was sent at some s <= cut; the lock
    // cannot expire for the others before s + lease, and it stepped down
    // at s + lease - margin (plus scheduling).
    let bound = cut + LEASE - MARGIN + Duration::from_millis(150);
    assert!(down < bound, "stepped down {:?} after the cut", down - cut);
    assert!(!cut_off.decision().may_write());
    assert!(cut_off.elector.status().last_error.is_some());
    // Back on the network: it follows the new leader.
    relay.refuse(false);
    let new_leader = Decision::Follow {
        leader: addr("other"),
        epoch: other.elector.status().epoch,
    };
    assert!(wait_for(Duration::from_secs(5), || cut_off.decision() == new_leader).await);
    assert!(other.elector.status().epoch > epoch);
    log.assert_one_leader_at_a_time();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_endpoint_in_the_list_is_skipped() {
    let Some(etcd) = Etcd::start().await else {
        return;
    };
    let dead = common::free_port();
    let url = ElectUrl::parse(&format!(
        "etcd://127.0.0.1:{dead},127.0.0.1:{}/multi",
        etcd.port
    ))
    .unwrap();
    let log = Log::default();
    let a = Member::start(&url, "a", 0, &log).await;
    assert!(
        wait_for(Duration::from_secs(5), || a.decision().may_write()).await,
        "{:?}",
        a.elector.status()
    );
    // Bad input from the store side: garbage under the key is an error,
    // not a panic, and nobody leads on it.
    let key = "garbage";
    let put = serde_json::json!({"key": "Z2FyYmFnZQ==", "value": "bm90IGpzb24="});
    let out = std::process::Command::new("curl")
        .args(["-s", "-X", "POST", "-d", &put.to_string()])
        .arg(format!("http://127.0.0.1:{}/v3/kv/put", etcd.port))
        .output()
        .unwrap();
    assert!(out.status.success());
    let g = Member::start(&etcd.url(key), "g", 0, &log).await;
    g.wait_error("lock record", Duration::from_secs(5)).await;
    assert!(!g.decision().may_write());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alternating_partitions_never_give_two_leaders() {
    let Some(etcd) = Etcd::start().await else {
        return;
    };
    let log = Log::default();
    let relays = [
        relay::Relay::start(etcd.port),
        relay::Relay::start(etcd.port),
    ];
    let mut members = Vec::new();
    for (name, r) in ["p", "q"].iter().zip(&relays) {
        let url = ElectUrl::parse(&format!("etcd://127.0.0.1:{}/alt", r.port)).unwrap();
        members.push(Member::start(&url, name, 0, &log).await);
    }
    let all: Vec<&Member> = members.iter().collect();
    let (mut i, mut epoch) = settled(&all, Duration::from_secs(10)).await;
    for _round in 0..4 {
        relays[i].refuse(true);
        relays[i].cut();
        let j = 1 - i;
        assert!(wait_for(LEASE + RENEW + SLACK, || all[j].decision().may_write()).await);
        relays[i].refuse(false);
        let (k, next) = settled(&all, Duration::from_secs(5)).await;
        assert_eq!(k, j);
        assert!(next > epoch);
        (i, epoch) = (k, next);
    }
    log.assert_one_leader_at_a_time();
    assert_eq!(log.lead_spans().len(), 5);
}
