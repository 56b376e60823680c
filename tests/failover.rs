//! Automatic failover end to end (issue 20): three real `tile38-server`
//! processes electing through a real etcd (`--elect etcd://…`), each
//! advertising a relay in front of it (`tile38::relay`) so a test can cut
//! a leader off from its followers. One leads, the others follow it (INFO,
//! ROLE); writes elsewhere are refused; kill -9 of the leader promotes a
//! caught-up follower within lease + 5 s and the old leader, restarted,
//! rejoins as a follower with exactly the new leader's data, never serving
//! the tail it took after it was cut off; SIGTERM hands over well under
//! the lease; HEALTHZ and the metrics follow the role; a member stopped
//! with SIGTERM and started again keeps its position (`elect-position`) and
//! wins over a member behind it.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use tile38::relay::Relay;
use tile38::{bin_path, temp_dir, wait_until, TestServer, SIGKILL};

mod common {
    #[allow(dead_code)]
    pub mod failover;
    #[allow(dead_code)]
    pub mod replication;
}
use common::failover::{elect_flags, field, free_port, info, member, send, settled, Etcd};
use common::replication::{cmd, converge, healthz, pipeline, set_points};

/// Test lease (seconds) for the kill -9 scenario.
const LEASE: u64 = 2;

/// Three members, each behind its own relay, on data dirs the test owns.
struct Cluster {
    relays: Vec<Relay>,
    dirs: Vec<PathBuf>,
    flags: Vec<Vec<String>>,
    members: Vec<Option<TestServer>>,
}

impl Cluster {
    fn start(url: &str, lease: u64, extra: &[&str]) -> Cluster {
        let relays: Vec<Relay> = (0..3).map(|_| Relay::start(0)).collect();
        let dirs: Vec<PathBuf> = (0..3).map(|_| temp_dir("member")).collect();
        let flags: Vec<Vec<String>> = relays
            .iter()
            .map(|r| {
                let mut f = elect_flags(url, &lease.to_string(), &format!("127.0.0.1:{}", r.port));
                f.extend(extra.iter().map(|s| s.to_string()));
                f
            })
            .collect();
        let mut c = Cluster {
            relays,
            dirs,
            flags,
            members: Vec::new(),
        };
        for i in 0..3 {
            let m = member(Some(&c.dirs[i]), &c.flags[i]);
            c.relays[i].retarget(m.port);
            c.members.push(Some(m));
        }
        c
    }

    fn m(&self, i: usize) -> &TestServer {
        self.members[i].as_ref().expect("member running")
    }

    /// Waits for one leader among the running members `alive`.
    fn settled(&self, alive: &[usize], limit: Duration) -> (usize, u64) {
        let ms: Vec<&TestServer> = alive.iter().map(|&i| self.m(i)).collect();
        let (k, epoch) = settled(&ms, &|k| self.relays[alive[k]].port, limit);
        (alive[k], epoch)
    }

    fn restart(&mut self, i: usize) {
        let m = member(Some(&self.dirs[i]), &self.flags[i]);
        self.relays[i].retarget(m.port);
        self.members[i] = Some(m);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for m in self.members.iter_mut().filter_map(Option::take) {
            m.signal(SIGKILL);
        }
        for d in &self.dirs {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

fn set(s: &TestServer, id: &str) -> String {
    cmd(s, &["SET", "fleet", id, "POINT", "33", "-112"])
}

#[test]
fn kill_9_promotes_a_caught_up_follower_and_the_old_leader_rejoins() {
    let Some(etcd) = Etcd::start() else { return };
    let mut c = Cluster::start(&etcd.url_via(etcd.port, "kill9"), LEASE, &[]);
    let (l, epoch) = c.settled(&[0, 1, 2], Duration::from_secs(20));
    let followers: Vec<usize> = (0..3).filter(|&i| i != l).collect();
    assert!(c.m(l).resp().cmd_str(&["ROLE"]).contains("master"));
    for &f in &followers {
        assert_eq!(set(c.m(f), "x"), "-ERR not the leader\r\n");
        assert!(c.m(f).resp().cmd_str(&["ROLE"]).contains("slave"));
        assert!(cmd(c.m(f), &["FOLLOW", "no", "one"]).contains("role is elected"));
    }
    pipeline(c.m(l), &set_points("fleet", 0, 2000));
    for &f in &followers {
        converge(c.m(l), c.m(f));
    }
    assert_eq!(healthz(c.m(l)), "+OK\r\n");
    // Cut the leader off from its followers: what it takes now is a tail
    // nobody else has.
    c.relays[l].refuse(true);
    c.relays[l].cut();
    assert_eq!(set(c.m(l), "divergent"), "+OK\r\n");
    let killed = Instant::now();
    c.members[l].take().unwrap().signal(SIGKILL);
    c.relays[l].refuse(false);
    let (n, epoch2) = c.settled(&followers, Duration::from_secs(LEASE + 5));
    let took = killed.elapsed();
    assert!(
        took <= Duration::from_secs(LEASE + 5),
        "failover took {took:?}"
    );
    assert!(epoch2 > epoch, "epoch {epoch2} after {epoch}");
    assert_eq!(set(c.m(n), "after"), "+OK\r\n");
    pipeline(c.m(n), &set_points("fleet", 2000, 500));
    // The old leader comes back: it follows the new one and never serves
    // its divergent tail, not even while it starts.
    c.restart(l);
    let old = c.m(l);
    let rejoined = wait_until(Duration::from_secs(30), || {
        let got = cmd(old, &["GET", "fleet", "divergent"]);
        assert!(
            !got.contains("coordinates"),
            "served the divergent tail: {got}"
        );
        healthz(old) == "+OK\r\n"
    });
    assert!(rejoined, "old leader never caught up: {:?}", info(old));
    c.settled(&[0, 1, 2], Duration::from_secs(10));
    let other = followers.into_iter().find(|&f| f != n).unwrap();
    converge(c.m(n), c.m(l));
    converge(c.m(n), c.m(other));
    assert_eq!(cmd(c.m(l), &["GET", "fleet", "divergent"]), "$-1\r\n");
    assert!(cmd(c.m(l), &["GET", "fleet", "after"]).contains("coordinates"));
    let logs = c.m(n).logs().join("\n");
    assert!(
        logs.contains(&format!("elect: lead start epoch={epoch2}")),
        "{logs}"
    );
}

#[test]
fn sigterm_hands_over_well_under_the_lease() {
    let Some(etcd) = Etcd::start() else { return };
    let lease = 6;
    let mut c = Cluster::start(&etcd.url_via(etcd.port, "term"), lease, &[]);
    let (l, epoch) = c.settled(&[0, 1, 2], Duration::from_secs(30));
    pipeline(c.m(l), &set_points("fleet", 0, 3000));
    let stopped = Instant::now();
    let status = c.members[l].take().unwrap().terminate();
    assert!(status.success(), "{status:?}");
    let followers: Vec<usize> = (0..3).filter(|&i| i != l).collect();
    let (n, epoch2) = c.settled(&followers, Duration::from_secs(lease));
    let took = stopped.elapsed();
    assert!(
        took < Duration::from_secs(lease) * 2 / 3,
        "handover took {took:?}"
    );
    assert!(epoch2 > epoch);
    // The handover waited for a follower's ack: nothing acknowledged is
    // missing on the new leader.
    let objects = cmd(c.m(n), &["SCAN", "fleet", "COUNT"]);
    assert!(objects.contains(":3000"), "{objects}");
    c.restart(l);
    c.settled(&[0, 1, 2], Duration::from_secs(15));
}

#[test]
fn without_a_leader_writes_and_reads_are_refused_and_healthz_fails() {
    let Some(etcd) = Etcd::start() else { return };
    let store = Relay::start(etcd.port);
    store.refuse(true);
    let metrics = free_port();
    let mut flags = elect_flags(&etcd.url_via(store.port, "alone"), "2", "127.0.0.1:0");
    flags.extend(["--metrics-addr".into(), format!("127.0.0.1:{metrics}")]);
    let m = member(None, &flags);
    // Starting, then (the store unreachable) no elected leader.
    let refused = set(&m, "x");
    assert!(
        refused == "-ERR not the leader: election starting\r\n"
            || refused == "-ERR not the leader: no elected leader\r\n",
        "{refused}"
    );
    assert_eq!(field(&info(&m), "role").as_deref(), Some("master"));
    assert_eq!(
        cmd(&m, &["GET", "fleet", "x"]),
        "-ERR catching up to leader\r\n"
    );
    assert!(healthz(&m).starts_with("-ERR not the leader"));
    assert_eq!(field(&info(&m), "elect_backend").as_deref(), Some("etcd"));
    // Why, in INFO (the relay refuses: the connection is closed at once).
    let said = wait_until(Duration::from_secs(10), || {
        field(&info(&m), "elect_last_error").is_some_and(|e| e.contains("etcd"))
    });
    assert!(said, "{:?}", info(&m));
    store.refuse(false);
    let led = wait_until(Duration::from_secs(20), || set(&m, "x") == "+OK\r\n");
    assert!(led, "{:?}", info(&m));
    assert_eq!(healthz(&m), "+OK\r\n");
    let i = info(&m);
    assert_eq!(field(&i, "elect_holder"), Some(m.addr()));
    assert_eq!(field(&i, "elect_last_error").as_deref(), Some(""));
    assert!(cmd(&m, &["SERVER"]).contains("elect_state"));
    let scrape = Command::new("curl")
        .args(["-s", &format!("http://127.0.0.1:{metrics}/metrics")])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&scrape.stdout);
    assert!(text.contains("\ntile38_elect_leader 1\n"), "{text}");
    assert!(text.contains("\ntile38_elections_won_total 1\n"), "{text}");
}

#[test]
fn elect_flags_are_checked_at_startup_and_off_by_default() {
    let run = |args: &[&str]| {
        let out = Command::new(bin_path("tile38-server"))
            .args(["-p", "0", "-d"])
            .arg(temp_dir("bad"))
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(&["--elect", "zk://h:1/x", "--advertise", "h:1"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("--elect: elect url"), "{err}");
    let (code, err) = run(&["--elect", "etcd://127.0.0.1:1/x"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("--advertise"), "{err}");
    let (code, err) = run(&[
        "-elect",
        "etcd://h:1/x",
        "-advertise",
        "h:1",
        "--failover-lease-duration",
        "0",
    ]);
    assert_eq!(code, Some(1));
    assert!(err.contains("lease-duration"), "{err}");
    // Off: no elect lines anywhere.
    let s = TestServer::start(&[]);
    assert!(!cmd(&s, &["INFO", "replication"]).contains("elect_"));
    assert!(!cmd(&s, &["SERVER"]).contains("elect_"));
}

/// The position stamp kept across a restart (`elect-position`): three
/// members advertising their own ports; one follower (`behind`) is
/// stopped (SIGSTOP) while the leader takes more writes than the sockets
/// between them hold, the other (`ahead`) gets them all and is stopped
/// with SIGTERM. The leader is killed (-9), `ahead` starts again and
/// `behind` resumes: `ahead`, whose data counts in the same epoch but is
/// longer, must win although it has not streamed since its start (without
/// the stamp it would rank at epoch 0, below `behind`), and `behind` gets
/// every write.
#[test]
fn a_member_restarted_after_sigterm_keeps_its_position() {
    let Some(etcd) = Etcd::start() else { return };
    let lease = 5;
    let flags = elect_flags(
        &etcd.url_via(etcd.port, "stamp"),
        &lease.to_string(),
        "127.0.0.1:0",
    );
    let dirs: Vec<PathBuf> = (0..3).map(|_| temp_dir("stamped")).collect();
    let mut ms: Vec<Option<TestServer>> = (0..3)
        .map(|i| Some(member(Some(&dirs[i]), &flags)))
        .collect();
    let port = |ms: &[Option<TestServer>], i: usize| ms[i].as_ref().unwrap().port;
    let refs: Vec<&TestServer> = ms.iter().map(|m| m.as_ref().unwrap()).collect();
    let (l, _) = settled(&refs, &|k| refs[k].port, Duration::from_secs(30));
    let (ahead, behind) = ((l + 1) % 3, (l + 2) % 3);
    pipeline(refs[l], &set_points("fleet", 0, 500));
    converge(refs[l], refs[ahead]);
    converge(refs[l], refs[behind]);
    send(refs[behind], "STOP");
    // ~24 MB of AOF: more than a loopback socket's buffers hold.
    let blob = "x".repeat(800);
    let cmds: Vec<Vec<u8>> = (0..30_000)
        .map(|i| tile38::resp_cmd(&["SET", "blobs", &format!("b{i}"), "STRING", &blob]))
        .collect();
    pipeline(refs[l], &cmds);
    converge(refs[l], refs[ahead]);
    // The premise: the same member leads (in a later epoch if a loaded
    // machine made it step down and take the lock again), and `ahead` is
    // stamped in that epoch.
    let i = info(refs[l]);
    let still = field(&i, "elect_state").as_deref() == Some("leader");
    assert!(still, "the lead moved: {i:?}");
    let epoch: u64 = field(&i, "elect_epoch").unwrap().parse().unwrap();
    let stamp = dirs[ahead].join("elect-position");
    let stamped = wait_until(Duration::from_secs(5), || {
        std::fs::read_to_string(&stamp).is_ok_and(|t| t.contains(&format!(" epoch={epoch} ")))
    });
    assert!(stamped, "{:?}", std::fs::read_to_string(&stamp));
    let status = ms[ahead].take().unwrap().terminate();
    assert!(status.success(), "{status:?}");
    ms[l].take().unwrap().signal(SIGKILL);
    ms[ahead] = Some(member(Some(&dirs[ahead]), &flags));
    send(ms[behind].as_ref().unwrap(), "CONT");
    let kept = format!("elect: position epoch={epoch} kept");
    let restarted = ms[ahead].as_ref().unwrap();
    let said = wait_until(Duration::from_secs(5), || {
        restarted.logs().iter().any(|l| l.contains(&kept))
    });
    assert!(said, "{:#?}", restarted.logs());
    let two = [ahead, behind];
    let refs: Vec<&TestServer> = two.iter().map(|&i| ms[i].as_ref().unwrap()).collect();
    let ports = [port(&ms, ahead), port(&ms, behind)];
    let (k, epoch2) = settled(&refs, &|k| ports[k], Duration::from_secs(lease + 5 + 2));
    assert_eq!(two[k], ahead, "the member behind was elected");
    assert!(epoch2 > epoch);
    // It ranked with the restored epoch and its AOF's length (> 24 MB).
    let ranked = format!("elect: candidate epoch={epoch} offset=");
    let line = refs[0].logs().into_iter().find(|l| l.contains(&ranked));
    let offset: u64 = line
        .as_deref()
        .and_then(|l| l.split(&ranked).nth(1)?.split(':').next()?.parse().ok())
        .unwrap_or(0);
    assert!(offset > 24_000_000, "{line:?}");
    converge(refs[0], refs[1]);
    assert_eq!(cmd(refs[1], &["SCAN", "blobs", "COUNT"]), ":30000\r\n");
    drop(ms);
    for d in dirs {
        let _ = std::fs::remove_dir_all(d);
    }
}
