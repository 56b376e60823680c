//! Chaos suite for automatic failover (issue 20): three real
//! `tile38-server` members electing through a real etcd, three writer
//! threads sending pipelined SETs with unique ids to whichever member
//! leads, and repeated failovers: kill -9, SIGTERM, the leader cut off
//! from the store, and the leader cut off from its followers and then the
//! store (TCP relays, `tile38::relay`, between each member and etcd and in
//! front of each member's advertised address), each followed by a restart
//! or a heal. Then it checks (`common/chaos.rs`):
//!
//! (a) no two members' lead intervals overlap (each member logs them with
//!     the system-wide monotonic clock; a killed one's ends at the kill),
//!     and no write was acknowledged outside its member's lead interval;
//! (b) with `min-followers-to-write 1` and `WAIT 1` after each batch, no
//!     acknowledged write is lost, for every kind of failover: the batch is
//!     on one follower at least, and the elector promotes only the most
//!     advanced candidate (`crates/elect/src/core/rank.rs`);
//!     `TILE38_CHAOS_WAIT=N` waits for N followers instead;
//! (c) without them, the lost acknowledged writes are counted per failover
//!     and must lie in the documented window: none for SIGTERM or a
//!     store cut; for a kill -9 or an isolated leader, only writes
//!     acknowledged from 1 s before the fault to a lease after it.
//!
//! Default: five failovers of each kind (20) with `WAIT 1`, the issue's
//! "over 20 failovers, never two leaders, nothing acknowledged lost", then
//! one of each kind asynchronously (about 2 minutes in all).
//! `TILE38_CHAOS_ROUNDS=N` runs N of each kind in both modes and prints the figures of
//! `benches/README.md` (time without a leader, p50/p99 per kind; writes
//! lost per failover).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tile38::relay::Relay;
use tile38::{resp_strings, temp_dir, wait_until, TestServer, SIGKILL};

mod common {
    #[allow(dead_code)]
    pub mod chaos;
    #[allow(dead_code)]
    pub mod failover;
}
use common::chaos::{check_one_leader, leads, mono_ns, writer, Ack, Lead, Ports};
use common::failover::{elect_flags, field, info, member, Etcd};

const LEASE: &str = "2";
const KINDS: [&str; 4] = ["kill-9", "sigterm", "store-cut", "isolated"];

/// One member slot: its relays, data dir, flags, and past incarnations.
struct Slot {
    front: Relay,
    store: Relay,
    dir: std::path::PathBuf,
    flags: Vec<String>,
    server: Option<TestServer>,
    incarnation: u32,
    leads: Vec<Lead>,
}

impl Slot {
    fn start(&mut self, i: usize, ports: &Ports) {
        self.incarnation += 1;
        let m = member(Some(&self.dir), &self.flags);
        self.front.retarget(m.port);
        ports.lock().unwrap()[i] = (m.port, self.incarnation);
        self.server = Some(m);
    }
}

struct Report {
    /// (kind, seconds without a leader, lost acknowledged writes).
    failovers: Vec<(&'static str, f64, usize)>,
    acked: usize,
}

fn leader_among(slots: &[Slot], skip: usize) -> Option<usize> {
    (0..slots.len()).find(|&i| {
        i != skip
            && slots[i]
                .server
                .as_ref()
                .is_some_and(|s| field(&info(s), "elect_state").as_deref() == Some("leader"))
    })
}

/// Three members, each behind a relay towards etcd and one in front.
fn slots(etcd: &Etcd, min_followers: bool, ports: &Ports) -> Vec<Slot> {
    let mut slots: Vec<Slot> = (0..3)
        .map(|_| {
            let (front, store) = (Relay::start(0), Relay::start(etcd.port));
            let url = etcd.url_via(store.port, "chaos");
            let mut flags = elect_flags(&url, LEASE, &format!("127.0.0.1:{}", front.port));
            if min_followers {
                let extra = [
                    "--min-followers-to-write",
                    "1",
                    "--min-followers-max-lag",
                    "2",
                ];
                flags.extend(extra.map(String::from));
            }
            Slot {
                front,
                store,
                dir: temp_dir("chaos"),
                flags,
                server: None,
                incarnation: 0,
                leads: Vec::new(),
            }
        })
        .collect();
    for (i, s) in slots.iter_mut().enumerate() {
        s.start(i, ports);
    }
    slots
}

/// One failover of `kind` once the cluster is healthy; returns when the
/// fault started and how long no other member led, after restarting or
/// healing the old leader.
fn failover(slots: &mut [Slot], ports: &Ports, round: usize, kind: &str) -> (u128, f64) {
    let settled = wait_until(Duration::from_secs(30), || {
        leader_among(slots, usize::MAX).is_some() && all_healthy(slots)
    });
    assert!(settled, "round {round}: no healthy cluster");
    let l = leader_among(slots, usize::MAX).unwrap();
    // Let the writers write to this leader for a moment.
    let before = slots[l].server.as_ref().map(count).unwrap_or(0);
    wait_until(Duration::from_secs(5), || {
        slots[l]
            .server
            .as_ref()
            .is_some_and(|s| count(s) > before + 300)
    });
    let t0 = mono_ns();
    match kind {
        "kill-9" => end(slots, l, ports, SIGKILL),
        "sigterm" => end(slots, l, ports, 15),
        "store-cut" => cut(&slots[l].store),
        _ => {
            cut(&slots[l].front);
            cut(&slots[l].store);
        }
    }
    // The bound: another member leads within the lease + 5 s.
    let bound = Duration::from_secs(LEASE.parse::<u64>().unwrap() + 5);
    let promoted = wait_until(bound, || leader_among(slots, l).is_some());
    assert!(
        promoted,
        "round {round} ({kind}): no new leader within {bound:?}"
    );
    let took = (mono_ns() - t0) as f64 / 1e9;
    if slots[l].server.is_none() {
        slots[l].start(l, ports);
    } else {
        slots[l].front.refuse(false);
        slots[l].store.refuse(false);
    }
    (t0, took)
}

fn run(min_followers: bool, wait: u64, per_kind: usize) -> Option<Report> {
    let etcd = Etcd::start()?;
    let ports: Ports = Arc::new(Mutex::new(vec![(0, 0); 3]));
    let mut slots = slots(&etcd, min_followers, &ports);
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let (p, st) = (ports.clone(), stop.clone());
            std::thread::spawn(move || writer(w, p, st, 10, wait))
        })
        .collect();
    let mut faults: Vec<(u128, &'static str, f64)> = Vec::new();
    for round in 0..per_kind * KINDS.len() {
        let kind = KINDS[round % KINDS.len()];
        let (t0, took) = failover(&mut slots, &ports, round, kind);
        faults.push((t0, kind, took));
    }
    let healed = wait_until(Duration::from_secs(60), || all_healthy(&slots));
    assert!(healed, "cluster did not heal");
    stop.store(true, Ordering::Relaxed);
    let acks: Vec<Ack> = writers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    let failovers = verify(&slots, &acks, &faults);
    for s in &mut slots {
        if let Some(m) = s.server.take() {
            m.signal(SIGKILL);
        }
        let _ = std::fs::remove_dir_all(&s.dir);
    }
    Some(Report {
        failovers,
        acked: acks.len(),
    })
}

/// Checks (a) once the members converged, and counts the acknowledged
/// writes missing on the final leader per failover.
fn verify(
    slots: &[Slot],
    acks: &[Ack],
    faults: &[(u128, &'static str, f64)],
) -> Vec<(&'static str, f64, usize)> {
    let l = leader_among(slots, usize::MAX).expect("a final leader");
    let leader = slots[l].server.as_ref().unwrap();
    let converged = wait_until(Duration::from_secs(60), || {
        let n = count(leader);
        all_healthy(slots)
            && slots
                .iter()
                .all(|s| s.server.as_ref().is_some_and(|m| count(m) == n))
    });
    assert!(converged, "members did not converge");
    let ids = leader
        .resp()
        .cmd(&["SCAN", "chaos", "LIMIT", "100000000", "IDS"]);
    let have: std::collections::HashSet<String> = resp_strings(&ids).into_iter().collect();
    let mut all_leads = Vec::new();
    for (i, s) in slots.iter().enumerate() {
        all_leads.extend(s.leads.iter().cloned());
        let logs = s.server.as_ref().unwrap().logs();
        all_leads.extend(leads(&logs, i, s.incarnation, u128::MAX));
    }
    if let Err(e) = check_one_leader(&all_leads, acks) {
        panic!("(a) violated: {e}");
    }
    let mut failovers: Vec<(&'static str, f64, usize)> =
        faults.iter().map(|f| (f.1, f.2, 0)).collect();
    for w in acks.iter().filter(|w| !have.contains(&w.id)) {
        // Lost: counted against the failover nearest its ack (before it:
        // not yet streamed; after it: taken by a deposed leader).
        let k = (0..faults.len())
            .min_by_key(|&k| faults[k].0.abs_diff(w.acked))
            .expect("a lost write without any failover");
        failovers[k].2 += 1;
        // (c) The documented window (docs/replication.md): what was not
        // streamed yet at the fault, and what a cut-off leader acknowledged
        // until it stepped down (before its lease ran out).
        let t = faults[k].0;
        let lease_ns = LEASE.parse::<u128>().unwrap() * 1_000_000_000;
        assert!(
            w.acked + 1_000_000_000 >= t && w.acked <= t + lease_ns,
            "(c) a write lost outside the window: acknowledged {} ms from the {} fault",
            (w.acked as i128 - t as i128) / 1_000_000,
            faults[k].1
        );
    }
    failovers
}

/// Ends incarnation `l` with `sig`, keeping its lead intervals (a killed
/// member's open lead ends at the kill).
fn end(slots: &mut [Slot], l: usize, ports: &Ports, sig: i32) {
    ports.lock().unwrap()[l] = (0, slots[l].incarnation);
    let s = slots[l].server.take().unwrap();
    let (_, logs) = s.stop_with_logs(sig);
    let died = mono_ns();
    let inc = slots[l].incarnation;
    let mut found = leads(&logs, l, inc, died);
    slots[l].leads.append(&mut found);
}

fn cut(r: &Relay) {
    r.refuse(true);
    r.cut();
}

fn count(s: &TestServer) -> u64 {
    let text = s.resp().cmd_str(&["SCAN", "chaos", "COUNT"]);
    text.trim().trim_start_matches(':').parse().unwrap_or(0)
}

fn all_healthy(slots: &[Slot]) -> bool {
    slots.iter().all(|s| {
        s.server
            .as_ref()
            .is_some_and(|m| m.resp().cmd_str(&["HEALTHZ"]) == "+OK\r\n")
    })
}

fn quantile(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * q).round() as usize]
}

fn print(mode: &str, r: &Report) {
    println!(
        "mode {mode}: {} acknowledged writes, {} failovers",
        r.acked,
        r.failovers.len()
    );
    for kind in KINDS {
        let mut t: Vec<f64> = r
            .failovers
            .iter()
            .filter(|f| f.0 == kind)
            .map(|f| f.1)
            .collect();
        let lost: Vec<usize> = r
            .failovers
            .iter()
            .filter(|f| f.0 == kind)
            .map(|f| f.2)
            .collect();
        if t.is_empty() {
            continue;
        }
        let n = t.len();
        let (p50, p99) = (quantile(&mut t, 0.5), quantile(&mut t, 0.99));
        let total: usize = lost.iter().sum();
        let max = lost.iter().max().unwrap();
        println!("  {kind}: n={n} leaderless p50={p50:.2}s p99={p99:.2}s; lost total={total} mean={:.1} max={max}", total as f64 / n as f64);
    }
}

#[test]
fn failovers_under_load_keep_one_leader_and_lose_nothing_with_min_followers() {
    let rounds: Option<usize> = std::env::var("TILE38_CHAOS_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok());
    let wait = std::env::var("TILE38_CHAOS_WAIT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let Some(safe) = run(true, wait, rounds.unwrap_or(5)) else {
        return;
    };
    print(&format!("min-followers-to-write 1 + WAIT {wait}"), &safe);
    let lost: usize = safe.failovers.iter().map(|f| f.2).sum();
    if wait >= 1 {
        assert_eq!(
            lost, 0,
            "(b) acknowledged writes lost: {:?}",
            safe.failovers
        );
    }
    assert!(safe.acked > 0);
    let Some(fast) = run(false, 0, rounds.unwrap_or(1)) else {
        return;
    };
    print("asynchronous", &fast);
    assert!(fast.acked > 0);
    // (c) SIGTERM hands over after a follower has everything, and a leader
    // cut from the store stops taking writes before its lock can expire:
    // neither loses a write even asynchronously.
    for (kind, _, lost) in &fast.failovers {
        if matches!(*kind, "sigterm" | "store-cut") {
            assert_eq!(*lost, 0, "(c) {kind} lost acknowledged writes");
        }
    }
}
