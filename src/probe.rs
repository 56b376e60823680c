//! Looking at a running server from outside: a free loopback port, its
//! resident memory, and a `/metrics` scrape.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

/// A loopback port nobody listens on (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind")
        .port()
}

/// Resident memory of process `pid` (`VmRSS` in `/proc/<pid>/status`), in
/// bytes.
pub fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .expect("VmRSS")
        * 1024
}

/// The body of `GET /metrics` on `port`, or `None` if it cannot be read.
pub fn scrape(port: u16) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    Some(text)
}

/// The value of the first sample of `family` (a line starting with it
/// followed by ` ` or `{`) in a scrape of `port`.
pub fn metric(port: u16, family: &str) -> Option<f64> {
    let text = scrape(port)?;
    let line = text.lines().find(|l| {
        l.strip_prefix(family)
            .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
    })?;
    line.rsplit(' ').next()?.parse().ok()
}
