//! Shared by `failover.rs` and `failover_chaos.rs`: a real etcd on
//! ephemeral loopback ports (Debian's `etcd-server`, installed by
//! `scripts/test.sh`), `tile38-server` members started with `--elect`,
//! and what INFO says of each member's elected role.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tile38::{temp_dir, wait_until, TestServer};

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A single-member etcd, killed when dropped.
pub struct Etcd {
    child: Child,
    pub port: u16,
    dir: PathBuf,
}

impl Etcd {
    /// Starts etcd, or `None` with a loud "skipped" line when it is not
    /// installed (outside CI; `scripts/test.sh` installs it).
    pub fn start() -> Option<Etcd> {
        let bin = ["/usr/bin/etcd", "/usr/local/bin/etcd"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists());
        let Some(bin) = bin else {
            assert!(
                std::env::var_os("CI").is_none(),
                "etcd is not installed (scripts/test.sh installs etcd-server)"
            );
            eprintln!("SKIPPED: etcd is not installed; run scripts/test.sh");
            return None;
        };
        let dir = temp_dir("etcd");
        let (port, peer) = (free_port(), free_port());
        let client = format!("http://127.0.0.1:{port}");
        let peer_url = format!("http://127.0.0.1:{peer}");
        let child = Command::new(bin)
            .args(["--name", "t", "--data-dir"])
            .arg(dir.join("data"))
            .args(["--listen-client-urls", &client])
            .args(["--advertise-client-urls", &client])
            .args(["--listen-peer-urls", &peer_url])
            .args(["--initial-advertise-peer-urls", &peer_url])
            .args(["--initial-cluster", &format!("t={peer_url}")])
            .args(["--listen-metrics-urls", ""])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start etcd");
        let etcd = Etcd { child, port, dir };
        let healthy = wait_until(Duration::from_secs(30), || {
            let out = Command::new("curl")
                .args(["-s", "-m", "1", &format!("{client}/health")])
                .output();
            out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("\"health\":\"true\""))
        });
        assert!(healthy, "etcd not healthy");
        Some(etcd)
    }

    /// `--elect` URL for lock `key` through `port` (etcd's, or a relay's).
    pub fn url_via(&self, port: u16, key: &str) -> String {
        format!("etcd://127.0.0.1:{port}/{key}")
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The flags of a member electing through `url` with a `lease`-second
/// lease, advertising `advertise` (`127.0.0.1:0`: its own port).
pub fn elect_flags(url: &str, lease: &str, advertise: &str) -> Vec<String> {
    [
        "--elect",
        url,
        "--advertise",
        advertise,
        "--failover-lease-duration",
        lease,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Starts a member on `dir` (a fresh one when `None`).
pub fn member(dir: Option<&std::path::Path>, flags: &[String]) -> TestServer {
    let f: Vec<&str> = flags.iter().map(String::as_str).collect();
    match dir {
        Some(d) => TestServer::start_in(d, &f),
        None => TestServer::start(&f),
    }
}

/// INFO replication as `key → value`, or empty when the member does not
/// answer.
pub fn info(s: &TestServer) -> Vec<(String, String)> {
    let Ok(stream) = std::net::TcpStream::connect(s.addr()) else {
        return Vec::new();
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut r = tile38::Resp::new(stream);
    let text = r.cmd_str(&["INFO", "replication"]);
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

pub fn field(info: &[(String, String)], key: &str) -> Option<String> {
    info.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

/// Waits until exactly one of `members` leads and every other one follows
/// `advertised(leader)`; returns the leader's index and epoch.
pub fn settled(
    members: &[&TestServer],
    advertised: &dyn Fn(usize) -> u16,
    limit: Duration,
) -> (usize, u64) {
    let mut found = None;
    let mut last = Vec::new();
    let ok = wait_until(limit, || {
        last = members.iter().map(|m| info(m)).collect::<Vec<_>>();
        let leaders: Vec<usize> = (0..members.len())
            .filter(|&i| field(&last[i], "elect_state").as_deref() == Some("leader"))
            .collect();
        let [i] = leaders[..] else { return false };
        let epoch: u64 = field(&last[i], "elect_epoch").unwrap().parse().unwrap();
        let port = advertised(i).to_string();
        found = Some((i, epoch));
        field(&last[i], "role").as_deref() == Some("master")
            && (0..members.len()).all(|j| {
                j == i
                    || (field(&last[j], "elect_state").as_deref() == Some("follower")
                        && field(&last[j], "role").as_deref() == Some("slave")
                        && field(&last[j], "master_port").as_deref() == Some(port.as_str())
                        && field(&last[j], "elect_epoch") == Some(epoch.to_string()))
            })
    });
    assert!(ok, "no settled leader within {limit:?}: {last:?}");
    found.unwrap()
}

/// Polls `f` every 20 ms until it returns `Some` or `limit` passes.
pub fn poll<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if start.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends `sig` (`STOP`, `CONT`) to a member without waiting for it.
pub fn send(m: &TestServer, sig: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &m.pid().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

/// The member id (SERVER `id`) of a member: ties of the ranking go to the
/// lower one.
pub fn server_id(m: &TestServer) -> String {
    let reply = m.resp().cmd_str(&["SERVER"]);
    let lines: Vec<&str> = reply.split("\r\n").collect();
    let at = lines.iter().position(|l| *l == "id").expect("SERVER id");
    lines[at + 2].to_string()
}
