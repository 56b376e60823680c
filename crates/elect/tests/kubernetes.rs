//! The Lease backend against a real kube-apiserver (`../shared/k8s`; the
//! test says "SKIPPED" when it is absent), the elector using a
//! ServiceAccount token bound only to the Role in `common::kube::role`:
//! contention, takeover after a crash and after a release, epochs
//! (`leaseTransitions`), the record in the Lease, the pod label patch, and
//! what the Role refuses.

mod common;

#[path = "../../../src/relay.rs"]
#[allow(dead_code)]
mod relay;

use std::time::{Duration, Instant};

use common::kube::Kube;
use common::{addr, leaders, settings, wait_for, Log, Member};
use tile38_elect::{Decision, ElectUrl, KubeCredentials, ROLE_LABEL};

const LEASE: Duration = Duration::from_secs(2);
const RENEW: Duration = Duration::from_millis(666);
const SLACK: Duration = Duration::from_millis(1000);
/// What the ranking adds to a takeover (publish, then wait an observe
/// interval and a half: `crates/elect/src/core/rank.rs`).
const SETTLE: Duration = Duration::from_millis(1000);

async fn member(url: &ElectUrl, kubeconfig: &std::path::Path, name: &str, log: &Log) -> Member {
    let mut s = settings(name, &addr(name));
    s.kube = KubeCredentials::Kubeconfig(kubeconfig.to_path_buf());
    s.pod_name = Some(format!("pod-{name}"));
    s.pod_namespace = None;
    Member::start_with(url, s, 0, log).await
}

/// The one leader among `members` once the others follow it.
async fn settled<'a>(members: &[&'a Member], limit: Duration) -> (&'a Member, u64) {
    let mut found = None;
    let ok = wait_for(limit, || {
        let lead: Vec<_> = members
            .iter()
            .filter_map(|m| match m.decision() {
                Decision::Lead { epoch } => Some((*m, epoch)),
                _ => None,
            })
            .collect();
        let [(leader, epoch)] = lead[..] else {
            return false;
        };
        found = Some((leader, epoch));
        let want = Decision::Follow {
            leader: addr(&leader.name),
            epoch,
        };
        members
            .iter()
            .all(|m| m.name == leader.name || m.decision() == want)
    })
    .await;
    let states: Vec<_> = members
        .iter()
        .map(|m| (m.name.clone(), m.decision(), m.elector.status()))
        .collect();
    assert!(ok, "not settled within {limit:?}: {states:#?}");
    found.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lease_election_with_the_charts_rbac() {
    let Some(kube) = Kube::start() else { return };
    let pods = ["pod-a", "pod-b", "pod-c"];
    let config = kube.setup("tile38", "tile38", &pods);
    let url = ElectUrl::parse("kubernetes://tile38/tile38").unwrap();
    let log = Log::default();
    let a = member(&url, &config, "a", &log).await;
    let b = member(&url, &config, "b", &log).await;
    let c = member(&url, &config, "c", &log).await;
    let all = [&a, &b, &c];
    let (leader, epoch) = settled(&all, Duration::from_secs(10)).await;
    assert_eq!(epoch, 1);
    // The Lease says who and where.
    let lease_path = "/apis/coordination.k8s.io/v1/namespaces/tile38/leases/tile38";
    let (_, lease) = kube.admin("GET", lease_path, None);
    assert_eq!(lease["spec"]["holderIdentity"], leader.name.as_str());
    assert_eq!(lease["spec"]["leaseTransitions"], 1);
    assert_eq!(lease["spec"]["leaseDurationSeconds"], 2);
    assert_eq!(
        lease["metadata"]["annotations"]["tile38.io/advertise"],
        addr(&leader.name).as_str()
    );
    // The pod label the Services select on.
    assert!(leader
        .elector
        .label_pod(&[(ROLE_LABEL, "leader")])
        .await
        .unwrap());
    let (_, pod) = kube.admin(
        "GET",
        &format!("/api/v1/namespaces/tile38/pods/pod-{}", leader.name),
        None,
    );
    assert_eq!(pod["metadata"]["labels"][ROLE_LABEL], "leader");
    assert_eq!(pod["metadata"]["labels"]["app"], "tile38");

    // Crash (no release): another leads within lease + renew.
    let crashed = Instant::now();
    leader.elector.abort();
    let rest: Vec<&Member> = all
        .iter()
        .copied()
        .filter(|m| m.name != leader.name)
        .collect();
    let (second, epoch2) = settled(&rest, LEASE + RENEW + SETTLE + SLACK).await;
    assert!(
        crashed.elapsed() >= LEASE - RENEW,
        "took over early: {:?}",
        crashed.elapsed()
    );
    assert_eq!(epoch2, 2);
    assert_eq!(leaders(&rest), vec![second.name.clone()]);

    // Release: the last one takes over at once.
    let released = Instant::now();
    second.elector.release().await;
    let last: Vec<&Member> = rest
        .iter()
        .copied()
        .filter(|m| m.name != second.name)
        .collect();
    let (third, epoch3) = settled(&last, LEASE + SETTLE).await;
    // Seen free within a renew interval, then the settle; waiting for the
    // lease would take the lease less a renew interval plus the settle.
    let bound = LEASE + SETTLE - Duration::from_millis(400);
    assert!(released.elapsed() < bound, "took {:?}", released.elapsed());
    assert_eq!(epoch3, 3);
    assert_eq!(third.elector.status().elections_won, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_role_allows_nothing_else() {
    let Some(kube) = Kube::start() else { return };
    let config = kube.setup("db", "tile38", &["pod-a"]);
    let log = Log::default();
    // Another Lease in the namespace: not in resourceNames → forbidden.
    kube.create(
        "/apis/coordination.k8s.io/v1/namespaces/db/leases",
        serde_json::json!({"metadata": {"name": "other"}, "spec": {}}),
    );
    let other = ElectUrl::parse("kubernetes://db/other").unwrap();
    let m = member(&other, &config, "a", &log).await;
    m.wait_error("403", Duration::from_secs(5)).await;
    assert!(!m.decision().may_write());
    // Another pod's labels: forbidden too (the Role names the pods).
    let mut s = settings("x", &addr("x"));
    s.kube = KubeCredentials::Kubeconfig(config.clone());
    s.pod_name = Some("pod-x".into());
    let x = Member::start_with(
        &ElectUrl::parse("kubernetes://db/tile38").unwrap(),
        s,
        0,
        &log,
    )
    .await;
    let err = x
        .elector
        .label_pod(&[(ROLE_LABEL, "leader")])
        .await
        .unwrap_err();
    assert!(err.contains("403"), "{err}");
    // No pod name: labelling does nothing.
    let mut s = settings("y", &addr("y"));
    s.kube = KubeCredentials::Kubeconfig(config);
    s.pod_name = None;
    let y = Member::start_with(
        &ElectUrl::parse("kubernetes://db/tile38").unwrap(),
        s,
        0,
        &log,
    )
    .await;
    assert!(!y
        .elector
        .label_pod(&[(ROLE_LABEL, "follower")])
        .await
        .unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_cut_off_from_the_api_server_steps_down_first() {
    let Some(kube) = Kube::start() else { return };
    let config = kube.setup("cut", "tile38", &["pod-a", "pod-b"]);
    let url = ElectUrl::parse("kubernetes://cut/tile38").unwrap();
    let log = Log::default();
    let relay = relay::Relay::start(kube.port);
    let a = member(
        &url,
        &common::kube::via_port(&config, relay.port),
        "a",
        &log,
    )
    .await;
    assert!(wait_for(Duration::from_secs(10), || a.decision().may_write()).await);
    let b = member(&url, &config, "b", &log).await;
    settled(&[&a, &b], Duration::from_secs(5)).await;
    relay.refuse(true);
    relay.cut();
    let cut = Instant::now();
    assert!(wait_for(LEASE + 2 * RENEW + SLACK, || b.decision().may_write()).await);
    let down = log
        .first("a", cut, |d| matches!(d, Decision::SteppingDown { .. }))
        .unwrap();
    let up = log.first("b", cut, Decision::may_write).unwrap();
    assert!(down < up, "a stepped down {:?} after b led", down - up);
    relay.refuse(false);
    let follow = Decision::Follow {
        leader: addr("b"),
        epoch: 2,
    };
    assert!(
        wait_for(Duration::from_secs(5), || a.decision() == follow).await,
        "{:?}",
        a.decision()
    );
    log.assert_one_leader_at_a_time();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_server_certificate_is_verified_against_the_ca() {
    let Some(kube) = Kube::start() else { return };
    let config = kube.setup("tls", "tile38", &["pod-a"]);
    let url = ElectUrl::parse("kubernetes://tls/tile38").unwrap();
    let log = Log::default();
    // up.sh's apiserver.crt holds the serving certificate and its CA.
    let good = common::kube::with_ca(&config, &kube.dir.0.join("certs/apiserver.crt"), "good");
    let a = member(&url, &good, "a", &log).await;
    assert!(
        wait_for(Duration::from_secs(10), || a.decision().may_write()).await,
        "{:?}",
        a.elector.status()
    );
    // Another CA: the handshake fails, nobody leads on it.
    let other = kube.dir.0.join("other-ca.pem");
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=other",
        ])
        .arg("-keyout")
        .arg(kube.dir.0.join("other-ca.key"))
        .arg("-out")
        .arg(&other)
        .output()
        .unwrap();
    assert!(made.status.success());
    let bad = common::kube::with_ca(&config, &other, "bad");
    let b = member(&url, &bad, "b", &log).await;
    b.wait_error("certificate", Duration::from_secs(5)).await;
    assert!(!b.decision().may_write());
}
