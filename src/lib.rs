//! Test support for the integration tests in `tests/`: starts the real
//! `tile38-server` binary on an OS-chosen loopback port with its own data
//! directory, waits until it serves, and stops it on drop.

pub mod probe;
pub mod relay;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Path of a binary built by this workspace (`tile38-server`, …).
pub fn bin_path(name: &str) -> PathBuf {
    let mut dir = std::env::current_exe().expect("test exe path");
    dir.pop();
    if dir.ends_with("deps") || dir.ends_with("examples") {
        dir.pop();
    }
    dir.join(name)
}

/// A running `tile38-server`.
pub struct TestServer {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
    owns_dir: bool,
    /// Lines the server logged (stderr), collected in the background.
    logs: mpsc::Receiver<String>,
    /// Log lines already received (startup lines included).
    seen: std::sync::Mutex<Vec<String>>,
}

/// A fresh, empty temporary directory.
pub fn temp_dir(tag: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("tile38-test-{}-{}-{tag}", std::process::id(), n));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

impl TestServer {
    /// Starts a server on a fresh data directory.
    pub fn start(extra: &[&str]) -> TestServer {
        let dir = temp_dir("data");
        let mut s = Self::start_in(&dir, extra);
        s.owns_dir = true;
        s
    }

    /// Starts a server on a fresh data directory with the environment
    /// variables `env` set (e.g. `SSL_CERT_FILE`).
    pub fn start_with_env(env: &[(&str, &str)], extra: &[&str]) -> TestServer {
        let dir = temp_dir("data");
        let mut s = Self::spawn(&[], env, &dir, extra);
        s.owns_dir = true;
        s
    }

    /// Starts a server on `dir` (kept) with the environment `env` set.
    pub fn start_in_with_env(dir: &Path, env: &[(&str, &str)], extra: &[&str]) -> TestServer {
        Self::spawn(&[], env, dir, extra)
    }

    /// Starts a server on `dir` (kept after the server stops).
    pub fn start_in(dir: &Path, extra: &[&str]) -> TestServer {
        Self::start_under(&[], dir, extra)
    }

    /// Starts a server on `dir` through a program that execs it (the same
    /// process), e.g. `["prlimit", "--nofile=64:64", "--"]`.
    pub fn start_under(wrapper: &[&str], dir: &Path, extra: &[&str]) -> TestServer {
        Self::spawn(wrapper, &[], dir, extra)
    }

    fn spawn(wrapper: &[&str], env: &[(&str, &str)], dir: &Path, extra: &[&str]) -> TestServer {
        let server = bin_path("tile38-server");
        let mut cmd = match wrapper.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(&server);
                c
            }
            None => Command::new(&server),
        };
        let mut child = cmd
            .args(["-h", "127.0.0.1", "-p", "0", "-d"])
            .arg(dir)
            .args(extra)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn tile38-server");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut seen = Vec::new();
        let port = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx
                .recv_timeout(left)
                .expect("server did not report readiness");
            seen.push(line.clone());
            if let Some(rest) = line.split("Ready to accept connections at ").nth(1) {
                let port = rest
                    .rsplit(':')
                    .next()
                    .and_then(|p| p.trim().parse().ok())
                    .expect("port in log line");
                break port;
            }
        };
        TestServer {
            child,
            port,
            dir: dir.to_path_buf(),
            owns_dir: false,
            logs: rx,
            seen: std::sync::Mutex::new(seen),
        }
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// A raw TCP connection (telnet-style or hand-written RESP).
    pub fn raw(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr()).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.set_nodelay(true).unwrap();
        s
    }

    /// A raw connection wrapped for hand-written RESP request/reply.
    pub fn resp(&self) -> Resp {
        Resp::new(self.raw())
    }

    /// A `redis` crate client.
    pub fn redis(&self) -> redis::Connection {
        redis::Client::open(format!("redis://{}/", self.addr()))
            .and_then(|c| c.get_connection())
            .expect("redis connection")
    }

    /// Everything the server has logged so far.
    pub fn logs(&self) -> Vec<String> {
        let mut seen = self.seen.lock().unwrap();
        seen.extend(self.logs.try_iter());
        seen.clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal and waits for the exit status.
    pub fn signal(mut self, sig: i32) -> std::process::ExitStatus {
        unsafe {
            libc_kill(self.child.id() as i32, sig);
        }
        let status = self.child.wait().expect("wait");
        self.cleanup();
        status
    }

    /// Sends `sig` (SIGTERM once the handler is installed), waits for the
    /// exit, and returns the status with everything the server logged,
    /// its last lines included.
    pub fn stop_with_logs(mut self, sig: i32) -> (std::process::ExitStatus, Vec<String>) {
        if sig == SIGTERM {
            let pid = self.pid();
            wait_until(Duration::from_secs(5), || catches_signal(pid, SIGTERM));
        }
        unsafe {
            libc_kill(self.child.id() as i32, sig);
        }
        let status = self.child.wait().expect("wait");
        let mut logs = std::mem::take(&mut *self.seen.lock().unwrap());
        logs.extend(self.logs.iter());
        self.cleanup();
        (status, logs)
    }

    /// Graceful stop: waits until the process catches SIGTERM (the handler
    /// is installed only after the readiness line is logged), sends it and
    /// returns the exit status.
    pub fn terminate(self) -> std::process::ExitStatus {
        let pid = self.pid();
        wait_until(Duration::from_secs(5), || catches_signal(pid, SIGTERM));
        self.signal(SIGTERM)
    }

    fn cleanup(&mut self) {
        if self.owns_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

/// Whether process `pid` has a handler installed for `sig` (Linux:
/// the `SigCgt` mask in `/proc/<pid>/status`).
pub fn catches_signal(pid: u32, sig: i32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (sig - 1)) != 0)
}

pub const SIGKILL: i32 = 9;
pub const SIGTERM: i32 = 15;

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.cleanup();
    }
}

/// Sends raw bytes and reads until `expect_len` bytes arrived or the peer
/// closed; returns what was read.
pub fn exchange(stream: &mut TcpStream, send: &[u8], expect_len: usize) -> Vec<u8> {
    stream.write_all(send).expect("write");
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    while out.len() < expect_len {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    out
}

/// Polls `cond` every 10 ms until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    cond()
}

/// Encodes `args` as one RESP multibulk request.
pub fn resp_cmd<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        let a = a.as_ref();
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Reads exactly one RESP reply (nested arrays included) and returns its
/// raw bytes.
pub fn read_resp(r: &mut impl BufRead) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    read_resp_into(r, &mut out)?;
    Ok(out)
}

fn read_resp_into(r: &mut impl BufRead, out: &mut Vec<u8>) -> std::io::Result<()> {
    let start = out.len();
    if r.read_until(b'\n', out)? == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    let line = String::from_utf8_lossy(&out[start..])
        .trim_end()
        .to_string();
    let n: i64 = line.get(1..).and_then(|n| n.parse().ok()).unwrap_or(-1);
    match line.as_bytes().first() {
        Some(b'$') if n >= 0 => {
            let at = out.len();
            out.resize(at + n as usize + 2, 0);
            r.read_exact(&mut out[at..])?;
        }
        Some(b'*') => {
            for _ in 0..n.max(0) {
                read_resp_into(r, out)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// A hand-driven RESP connection: send requests, read one reply at a time.
pub struct Resp {
    reader: BufReader<TcpStream>,
}

impl Resp {
    pub fn new(stream: TcpStream) -> Resp {
        Resp {
            reader: BufReader::new(stream),
        }
    }

    /// Sends `args` as a RESP request and returns the raw reply bytes.
    pub fn cmd(&mut self, args: &[&str]) -> Vec<u8> {
        self.send(&resp_cmd(args));
        self.read()
    }

    /// Like [`Resp::cmd`], lossily decoded as text.
    pub fn cmd_str(&mut self, args: &[&str]) -> String {
        String::from_utf8_lossy(&self.cmd(args)).into_owned()
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.reader.get_mut().write_all(bytes).expect("write");
    }

    /// Reads one complete reply.
    pub fn read(&mut self) -> Vec<u8> {
        read_resp(&mut self.reader).expect("read reply")
    }

    /// Reads one reply, or the I/O error (EOF included) that prevented it.
    pub fn try_read(&mut self) -> std::io::Result<Vec<u8>> {
        read_resp(&mut self.reader)
    }

    pub fn stream(&self) -> &TcpStream {
        self.reader.get_ref()
    }
}

/// Splits a RESP reply made only of bulk strings (possibly inside one flat
/// array) into its string elements.
pub fn resp_strings(reply: &[u8]) -> Vec<String> {
    let mut r = reply;
    let mut out = Vec::new();
    let mut line = Vec::new();
    while !r.is_empty() {
        line.clear();
        r.read_until(b'\n', &mut line).unwrap();
        let text = String::from_utf8_lossy(&line).trim_end().to_string();
        if let Some(n) = text.strip_prefix('$').and_then(|n| n.parse::<usize>().ok()) {
            out.push(String::from_utf8_lossy(&r[..n]).into_owned());
            r = &r[n + 2..];
        }
    }
    out
}

/// A small deterministic generator for tests and benchmarks: the one
/// tile38-benchmark uses (`Lcg(seed)` takes the state as given, same
/// sequence everywhere).
pub use tile38_bench::workloads::Rng as Lcg;
