//! Test support: real servers on ephemeral ports (an HTTP receiver here,
//! brokers as child processes), polling, and a fresh queue directory.
#![allow(dead_code)]

pub mod receiver;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tile38_webhook::{Config, Webhooks};

/// A port nothing listens on (yet).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until `cond` holds, checking every few milliseconds; panics with
/// `what` after `limit`.
pub async fn poll(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A new empty directory under the target's tmp dir.
pub fn temp_dir(name: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("t38-webhook-{}-{name}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Quick retries so tests run fast; no expiry unless a test sets one.
pub fn config(dir: &std::path::Path) -> Config {
    let mut c = Config::new(dir);
    c.retry_initial = Duration::from_millis(20);
    c.retry_max = Duration::from_millis(200);
    c.timeout = Duration::from_secs(2);
    c.ttl = Duration::ZERO;
    c
}

pub fn open(config: Config) -> Webhooks {
    Webhooks::open(config, Arc::new(|_: &[u8], _: &[u8]| {})).unwrap()
}

/// A child process killed when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The process ids under `pid` (children first found, then theirs).
fn descendants(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        let path = format!("/proc/{p}/task/{p}/children");
        let kids = std::fs::read_to_string(path).unwrap_or_default();
        for k in kids.split_whitespace().filter_map(|k| k.parse().ok()) {
            out.push(k);
            todo.push(k);
        }
    }
    out
}

/// A server started through a wrapper script (rabbitmq-server runs the
/// Erlang VM as a child that outlives a killed script): dropping it kills
/// the script's descendants too, and the `epmd` daemon the VM started if
/// none ran before.
pub struct ProcTree {
    pub proc: Proc,
    pub stop_epmd: bool,
}

impl Drop for ProcTree {
    fn drop(&mut self) {
        let pids = descendants(self.proc.0.id());
        for pid in &pids {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
        // epmd refuses to stop while a node is registered: wait until the
        // VM is gone (or a zombie).
        let gone = |pid: &u32| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .map_or(true, |s| s.contains(") Z "))
        };
        let start = Instant::now();
        while !pids.iter().all(gone) && start.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(20));
        }
        if self.stop_epmd {
            let _ = Command::new("epmd")
                .arg("-kill")
                .stdout(Stdio::null())
                .status();
        }
    }
}

/// Whether an `epmd` daemon answers.
pub fn epmd_running() -> bool {
    Command::new("epmd")
        .arg("-names")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether `bin` is installed. When it is not: in CI (where
/// `scripts/test.sh` installs it) that is a failure; elsewhere the test
/// says loudly that it is skipped.
pub fn have(bin: &str) -> bool {
    let found = Command::new("sh")
        .args([
            "-c",
            &format!("command -v {bin} || test -x /usr/sbin/{bin}"),
        ])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{bin} is not installed (scripts/test.sh installs it)"
        );
        eprintln!("SKIPPED: {bin} is not installed; run scripts/test.sh to install it");
    }
    found
}

/// Starts `cmd` and waits until its port accepts connections.
pub async fn spawn_server(cmd: &mut Command, port: u16, limit: Duration) -> Proc {
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let proc = Proc(child);
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < limit,
            "{cmd:?} did not listen on {port} within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    proc
}

/// `e0`, `e1`, … as message bodies.
pub fn event(i: usize) -> String {
    format!("{{\"n\":{i}}}")
}

pub fn events(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(event).collect()
}
