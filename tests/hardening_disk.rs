//! A full disk under the AOF (issue 13, item 4), on a small tmpfs mounted
//! for each test (root only; elsewhere each test prints a skip line):
//!
//! * writes that cannot be journaled are refused with `MISCONF Errors
//!   writing to the AOF file: No space left on device` (RESP and JSON),
//!   before they change anything; reads go on; one log line and the
//!   `tile38_aof_writable` / `tile38_aof_write_errors_total` metrics say so;
//! * freeing space ends it without a restart, and every acknowledged write
//!   is there after one, with `everysec` and with `always` (where a reply
//!   is sent only once its record is in the file);
//! * the AOF writer drains a queue longer than the space freed, keeping
//!   the complete records that fit (the cause of the acknowledged writes
//!   lost in the issue).

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use tile38::{resp_cmd, temp_dir, wait_until, Resp, TestServer};

const ENOSPC: &str = "MISCONF Errors writing to the AOF file: No space left on device";
const LONG: Duration = Duration::from_secs(30);

/// A tmpfs mounted on a fresh directory, unmounted on drop (even when the
/// test fails).
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    /// `None` (after printing why) when this process cannot mount.
    fn mount(size: &str, test: &str) -> Option<Tmpfs> {
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("SKIP {test}: mounting a tmpfs needs root");
            return None;
        }
        let dir = temp_dir("tmpfs");
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("SKIP {test}: mount -t tmpfs failed");
            return None;
        }
        Some(Tmpfs { dir })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// Fills the filesystem of `dir` but for about `leave` bytes: `reserve`
/// takes `leave`, `filler` everything else, then `reserve` goes.
fn leave_free(dir: &Path, leave: usize) -> PathBuf {
    std::fs::write(dir.join("reserve"), vec![1u8; leave]).unwrap();
    let filler = dir.join("filler");
    let mut f = std::fs::File::create(&filler).unwrap();
    let block = vec![1u8; 4096];
    while f.write_all(&block).is_ok() {}
    drop(f);
    std::fs::remove_file(dir.join("reserve")).unwrap();
    filler
}

/// A server with its data dir on `fs`, and its metrics port.
fn start_on(fs: &Tmpfs) -> (TestServer, u16) {
    let data = fs.dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    (
        TestServer::start_in(&data, &["--metrics-addr", &addr]),
        port,
    )
}

fn set_cmd(id: &str) -> Vec<u8> {
    resp_cmd(&["SET", "fleet", id, "STRING", &"v".repeat(1000)])
}

/// Acknowledged and refused ids.
#[derive(Default)]
struct Tally {
    acked: BTreeSet<String>,
    refused: BTreeSet<String>,
}

impl Tally {
    fn record(&mut self, id: String, reply: &[u8]) {
        match reply {
            b"+OK\r\n" => self.acked.insert(id),
            r if r.starts_with(format!("-{ENOSPC}\r\n").as_bytes()) => self.refused.insert(id),
            r => panic!("SET {id}: {}", String::from_utf8_lossy(r)),
        };
    }

    /// One pipelined batch of `n` SETs; returns the replies in order.
    fn batch(&mut self, c: &mut Resp, next: &mut usize, n: usize) -> Vec<Vec<u8>> {
        let ids: Vec<String> = (*next..*next + n).map(|i| format!("id{i}")).collect();
        *next += n;
        c.send(&ids.iter().flat_map(|id| set_cmd(id)).collect::<Vec<u8>>());
        let replies: Vec<Vec<u8>> = ids.iter().map(|_| c.read()).collect();
        for (id, r) in ids.into_iter().zip(&replies) {
            self.record(id, r);
        }
        replies
    }

    /// After a restart: every acknowledged write is there, no refused one.
    fn check_reloaded(&self, srv: &TestServer) {
        let mut c = srv.resp();
        let count = c.cmd_str(&["SCAN", "fleet", "COUNT"]);
        assert_eq!(count, format!(":{}\r\n", self.acked.len()));
        for (ids, present) in [(&self.acked, true), (&self.refused, false)] {
            let batch: Vec<u8> = ids
                .iter()
                .flat_map(|id| resp_cmd(&["GET", "fleet", id]))
                .collect();
            c.send(&batch);
            for id in ids {
                let r = c.read();
                assert_eq!(r != b"$-1\r\n", present, "{id} after the restart");
            }
        }
    }
}

fn scrape(port: u16) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in the scrape"))
}

fn log_count(srv: &TestServer, what: &str) -> usize {
    srv.logs().iter().filter(|l| l.contains(what)).count()
}

const FAILED_LOG: &str = "AOF cannot be written: No space left on device";
const RECOVERED_LOG: &str = "AOF writable again";

#[test]
fn a_full_disk_refuses_writes_until_space_is_freed_and_loses_nothing() {
    let Some(fs) = Tmpfs::mount("2m", "full_disk_everysec") else {
        return;
    };
    let (srv, metrics) = start_on(&fs);
    let filler = leave_free(&fs.dir, 256 << 10);
    let mut c = srv.resp();
    let (mut tally, mut next) = (Tally::default(), 0);
    // Until the AOF fails: every write after the first refusal is refused.
    while tally.refused.is_empty() {
        assert!(next < 5_000, "256 KiB free took 5 MB of writes");
        tally.batch(&mut c, &mut next, 50);
    }
    for r in tally.batch(&mut c, &mut next, 50) {
        assert!(
            r.starts_with(b"-MISCONF"),
            "{}",
            String::from_utf8_lossy(&r)
        );
    }
    assert!(tally.acked.len() > 100, "{} writes fit", tally.acked.len());

    // JSON mode: the same text in the envelope.
    let mut j = srv.resp();
    j.cmd(&["OUTPUT", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&resp_body(
        &j.cmd(&["SET", "fleet", "json1", "POINT", "1", "2"]),
    ))
    .unwrap();
    assert_eq!(
        (v["ok"].as_bool(), v["err"].as_str()),
        (Some(false), Some(ENOSPC))
    );
    tally.refused.insert("json1".into());

    // Reads go on, and memory holds exactly the acknowledged writes.
    let first = tally.acked.first().unwrap().clone();
    assert!(c.cmd_str(&["GET", "fleet", &first]).starts_with("$1000"));
    let count = c.cmd_str(&["SCAN", "fleet", "COUNT"]);
    assert_eq!(count, format!(":{}\r\n", tally.acked.len()));
    assert!(wait_until(LONG, || log_count(&srv, FAILED_LOG) == 1));
    let text = scrape(metrics);
    assert_eq!(metric(&text, "tile38_aof_writable"), 0.0);
    assert!(metric(&text, "tile38_aof_write_errors_total") >= 1.0);

    // Space comes back: writes work again without a restart.
    std::fs::remove_file(filler).unwrap();
    assert!(wait_until(LONG, || {
        let id = format!("id{next}");
        next += 1;
        let r = c.cmd(&["SET", "fleet", &id, "STRING", "v"]);
        tally.record(id, &r);
        r == b"+OK\r\n"
    }));
    for r in tally.batch(&mut c, &mut next, 50) {
        assert_eq!(r, b"+OK\r\n");
    }
    assert!(wait_until(LONG, || log_count(&srv, RECOVERED_LOG) == 1));
    // One line for the failure, not one per retry.
    assert_eq!(log_count(&srv, FAILED_LOG), 1);
    assert_eq!(metric(&scrape(metrics), "tile38_aof_writable"), 1.0);

    let data = srv.dir.clone();
    assert!(srv.terminate().success());
    let srv = TestServer::start_in(&data, &[]);
    tally.check_reloaded(&srv);
}

/// The payload of a RESP bulk reply.
fn resp_body(reply: &[u8]) -> Vec<u8> {
    let start = reply.iter().position(|&b| b == b'\n').unwrap() + 1;
    reply[start..reply.len() - 2].to_vec()
}

/// With `appendfsync always`, a reply is sent once its record is on disk:
/// when the disk fills, the write in flight waits (it was applied, its
/// record is queued) and is answered when space comes back; writes after
/// the failure are refused before they are applied.
#[test]
fn with_appendfsync_always_a_reply_means_the_write_is_in_the_file() {
    let Some(fs) = Tmpfs::mount("2m", "full_disk_always") else {
        return;
    };
    let (srv, _) = start_on(&fs);
    let mut c = srv.resp();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "appendfsync", "always"]),
        b"+OK\r\n"
    );
    let filler = leave_free(&fs.dir, 128 << 10);

    // One client writing one record at a time, reporting every reply.
    let (tx, rx) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (mut w, stop) = (srv.resp(), stop.clone());
        w.stream().set_read_timeout(Some(LONG)).unwrap();
        std::thread::spawn(move || {
            for i in 0.. {
                if stop.load(Ordering::Acquire) {
                    break;
                }
                let id = format!("w{i}");
                w.send(&set_cmd(&id));
                let reply = w.try_read().expect("a reply, after recovery at the latest");
                if tx.send((id, reply)).is_err() {
                    break;
                }
            }
        })
    };
    assert!(wait_until(LONG, || log_count(&srv, FAILED_LOG) == 1));
    // Refused before being applied, even while a write waits.
    assert_eq!(
        c.cmd_str(&["SET", "fleet", "probe", "POINT", "1", "2"]),
        format!("-{ENOSPC}\r\n")
    );
    assert_eq!(c.cmd(&["GET", "fleet", "probe"]), b"$-1\r\n");

    // Every write answered OK so far is in the file.
    let mut tally = Tally::default();
    tally.refused.insert("probe".into());
    for (id, reply) in rx.try_iter() {
        tally.record(id, &reply);
    }
    let aof = std::fs::read(srv.dir.join("appendonly.aof")).unwrap();
    for id in &tally.acked {
        let needle = format!("\r\n{id}\r\n");
        assert!(
            aof.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "{id} was acknowledged but is not in the AOF"
        );
    }
    assert!(tally.acked.len() > 50, "{} writes fit", tally.acked.len());

    // Space comes back: the waiting write is answered, new ones work.
    std::fs::remove_file(filler).unwrap();
    assert!(wait_until(LONG, || {
        c.cmd(&["SET", "fleet", "after", "POINT", "1", "2"]) == b"+OK\r\n"
    }));
    tally.acked.insert("after".into());
    stop.store(true, Ordering::Release);
    writer.join().unwrap();
    for (id, reply) in rx.try_iter() {
        tally.record(id, &reply);
    }

    let data = srv.dir.clone();
    assert!(srv.terminate().success());
    let srv = TestServer::start_in(&data, &[]);
    tally.check_reloaded(&srv);
}

/// The AOF alone: records queued while the disk is full drain in parts as
/// space comes back in parts, each part ending at a record boundary. A
/// writer that retries the whole queue at once never progresses while the
/// queue is longer than the free space (the writes lost in the issue).
#[test]
fn a_queue_longer_than_the_freed_space_drains_in_parts() {
    let Some(fs) = Tmpfs::mount("1m", "aof_partial_drain") else {
        return;
    };
    let path = fs.dir.join("appendonly.aof");
    let aof = tile38_aof::Aof::open(&path).unwrap();
    std::fs::write(fs.dir.join("part"), vec![1u8; 64 << 10]).unwrap();
    let filler = leave_free(&fs.dir, 0);
    let value = "v".repeat(1000);
    for i in 0..200 {
        let id = format!("id{i}");
        aof.append(
            [
                &b"SET"[..],
                b"fleet",
                id.as_bytes(),
                b"STRING",
                value.as_bytes(),
            ]
            .into_iter(),
        );
    }
    assert!(wait_until(LONG, || aof.write_error().is_some()));
    assert_eq!(aof.written(), 0);

    std::fs::remove_file(fs.dir.join("part")).unwrap();
    assert!(
        wait_until(LONG, || aof.written() > 32 << 10),
        "nothing written into 64 KiB of free space"
    );
    assert!(aof.write_error().is_some(), "200 KiB cannot fit yet");
    assert_eq!(std::fs::metadata(&path).unwrap().len(), aof.written());

    std::fs::remove_file(filler).unwrap();
    assert!(wait_until(LONG, || aof.write_error().is_none()));
    aof.sync().unwrap();
    drop(aof);
    let mut ids = Vec::new();
    let stats = tile38_aof::load(&path, |a| {
        ids.push(String::from_utf8_lossy(a.get(2)).into_owned());
        Ok(())
    })
    .unwrap();
    assert_eq!(stats.truncated, 0);
    let want: Vec<String> = (0..200).map(|i| format!("id{i}")).collect();
    assert_eq!(ids, want);
}
