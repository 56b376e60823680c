//! Helpers of the elector's tests: a real etcd on ephemeral loopback ports
//! (Debian's `etcd-server`, installed by `scripts/test.sh`), electors with
//! short leases, and a log of every decision each one publishes, with the
//! instant it was seen.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tile38_elect::{Decision, ElectUrl, Elector, Settings};

pub mod kube;

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A scratch directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "tile38-elect-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The etcd binary, or `None` (with a loud "skipped" line; a failure in
/// CI, where `scripts/test.sh` installs it).
pub fn etcd_bin() -> Option<PathBuf> {
    let found = ["/usr/bin/etcd", "/usr/local/bin/etcd"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "etcd is not installed (scripts/test.sh installs etcd-server)"
        );
        eprintln!("SKIPPED: etcd is not installed; run scripts/test.sh to install etcd-server");
    }
    found
}

/// A single-member etcd killed when dropped.
pub struct Etcd {
    child: Child,
    pub port: u16,
    _dir: TempDir,
}

impl Etcd {
    /// Starts etcd and polls `/health` until it answers healthy.
    pub async fn start() -> Option<Etcd> {
        let bin = etcd_bin()?;
        let dir = TempDir::new("etcd");
        let (port, peer) = (free_port(), free_port());
        let client = format!("http://127.0.0.1:{port}");
        let peer_url = format!("http://127.0.0.1:{peer}");
        let child = Command::new(bin)
            .args(["--name", "t", "--data-dir"])
            .arg(dir.0.join("data"))
            .args([
                "--listen-client-urls",
                &client,
                "--advertise-client-urls",
                &client,
            ])
            .args(["--listen-peer-urls", &peer_url])
            .args(["--initial-advertise-peer-urls", &peer_url])
            .args(["--initial-cluster", &format!("t={peer_url}")])
            .args(["--listen-metrics-urls", ""])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start etcd");
        let etcd = Etcd {
            child,
            port,
            _dir: dir,
        };
        let start = Instant::now();
        while !etcd.healthy() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "etcd not healthy"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Some(etcd)
    }

    fn healthy(&self) -> bool {
        let out = Command::new("curl")
            .args([
                "-s",
                "-m",
                "1",
                &format!("http://127.0.0.1:{}/health", self.port),
            ])
            .output();
        out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("\"health\":\"true\""))
    }

    pub fn url(&self, key: &str) -> ElectUrl {
        ElectUrl::parse(&format!("etcd://127.0.0.1:{}/{key}", self.port)).unwrap()
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every decision each elector published, with when it was seen.
#[derive(Clone, Default)]
pub struct Log(pub Arc<Mutex<Vec<(Instant, String, Decision)>>>);

impl Log {
    /// The first instant `who` published a decision matching `pred`
    /// after `since`.
    pub fn first(
        &self,
        who: &str,
        since: Instant,
        pred: impl Fn(&Decision) -> bool,
    ) -> Option<Instant> {
        self.0
            .lock()
            .iter()
            .find(|(at, w, d)| *at >= since && w == who && pred(d))
            .map(|(at, _, _)| *at)
    }
}

/// The address member `name` advertises.
pub fn addr(name: &str) -> String {
    format!("{name}.test:9851")
}

impl Log {
    /// Each member's spans of `Lead` (start, end; `None`: still leading).
    pub fn lead_spans(&self) -> Vec<(String, Instant, Option<Instant>)> {
        let mut open: std::collections::BTreeMap<String, Instant> = Default::default();
        let mut spans = Vec::new();
        for (at, who, d) in self.0.lock().iter() {
            match (d.may_write(), open.get(who)) {
                (true, None) => {
                    open.insert(who.clone(), *at);
                }
                (false, Some(start)) => {
                    spans.push((who.clone(), *start, Some(*at)));
                    open.remove(who);
                }
                _ => {}
            }
        }
        spans.extend(open.into_iter().map(|(w, s)| (w, s, None)));
        spans
    }

    /// Asserts no two members' `Lead` spans overlap.
    pub fn assert_one_leader_at_a_time(&self) {
        let spans = self.lead_spans();
        for (i, (w1, s1, e1)) in spans.iter().enumerate() {
            for (w2, s2, e2) in &spans[i + 1..] {
                let before =
                    |end: &Option<Instant>, start: &Instant| end.is_some_and(|e| e <= *start);
                assert!(
                    w1 == w2 || before(e1, s2) || before(e2, s1),
                    "{w1} and {w2} led at the same time: {spans:?}"
                );
            }
        }
    }
}

/// One test member: its elector, its lag (settable), its name.
pub struct Member {
    pub name: String,
    pub elector: Elector,
    pub lag: Arc<AtomicU64>,
}

/// `u64::MAX` as a lag means "cannot lead" (`None`).
pub const NO_LAG: u64 = u64::MAX;

/// The test timings: a 2 s lease (renew 666 ms, margin 500 ms).
pub fn settings(name: &str, advertise: &str) -> Settings {
    let mut s = Settings::new(advertise);
    s.member_id = name.to_string();
    s.lease = Duration::from_secs(2);
    s.max_lag = 1 << 20;
    s
}

impl Member {
    pub async fn start(url: &ElectUrl, name: &str, lag: u64, log: &Log) -> Member {
        Self::start_with(url, settings(name, &addr(name)), lag, log).await
    }

    pub async fn start_with(url: &ElectUrl, s: Settings, lag: u64, log: &Log) -> Member {
        let name = s.member_id.clone();
        let lag = Arc::new(AtomicU64::new(lag));
        let l = lag.clone();
        let candidacy = move || match l.load(Ordering::SeqCst) {
            NO_LAG => None,
            n => Some(n),
        };
        let elector = Elector::start(url, s, Arc::new(candidacy)).await.unwrap();
        let mut rx = elector.decisions();
        let (log, who) = (log.clone(), name.clone());
        tokio::spawn(async move {
            loop {
                let d = rx.borrow_and_update().clone();
                log.0.lock().push((Instant::now(), who.clone(), d));
                if rx.changed().await.is_err() {
                    break;
                }
            }
        });
        Member { name, elector, lag }
    }

    pub fn decision(&self) -> Decision {
        self.elector.decision()
    }

    pub fn advertise(&self) -> String {
        self.elector.status().holder.unwrap_or_default()
    }
}

/// Polls `cond` every 10 ms until it holds or `limit` passes.
pub async fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    cond()
}

/// The members that lead now.
pub fn leaders(members: &[&Member]) -> Vec<String> {
    members
        .iter()
        .filter(|m| m.decision().may_write())
        .map(|m| m.name.clone())
        .collect()
}
