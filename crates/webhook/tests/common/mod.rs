//! Test support: real servers on ephemeral ports (an HTTP receiver here,
//! brokers as child processes), polling, and a fresh queue directory.
#![allow(dead_code)]

pub mod brokers;
pub mod receiver;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tile38_webhook::{Config, Webhooks};

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

/// `e0`, `e1`, … as message bodies.
pub fn event(i: usize) -> String {
    format!("{{\"n\":{i}}}")
}

pub fn events(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(event).collect()
}
