//! `appendfsync`: CONFIG GET/SET and the config file, and the promise of
//! `always` tested with kill -9: no write whose reply reached the client is
//! ever missing after a restart, over repeated crashes in the middle of
//! pipelined writes.

use std::collections::BTreeSet;
use std::io::{BufReader, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tile38::{read_resp, resp_cmd, temp_dir, wait_until, TestServer};

const SIGKILL: i32 = 9;

#[test]
fn appendfsync_is_a_config_property() {
    let dir = temp_dir("fsync-config");
    let srv = TestServer::start_in(&dir, &[]);
    let mut c = srv.resp();
    assert_eq!(
        c.cmd_str(&["CONFIG", "GET", "appendfsync"]),
        "*2\r\n$11\r\nappendfsync\r\n$8\r\neverysec\r\n"
    );
    assert_eq!(
        c.cmd_str(&["CONFIG", "SET", "appendfsync", "sometimes"]),
        "-ERR Invalid argument 'sometimes' for CONFIG SET 'appendfsync'\r\n"
    );
    assert_eq!(
        c.cmd_str(&["CONFIG", "SET", "appendfsync", "always"]),
        "+OK\r\n"
    );
    // Not listed by patterns: `CONFIG GET *` stays as Tile38 prints it.
    assert!(!c.cmd_str(&["CONFIG", "GET", "*"]).contains("appendfsync"));
    assert_eq!(c.cmd_str(&["CONFIG", "REWRITE"]), "+OK\r\n");
    let file = std::fs::read_to_string(dir.join("config")).unwrap();
    assert!(file.contains("\"appendfsync\": \"always\""), "{file}");
    srv.terminate();
    let srv = TestServer::start_in(&dir, &[]);
    let mut c = srv.resp();
    assert_eq!(
        c.cmd_str(&["CONFIG", "GET", "appendfsync"]),
        "*2\r\n$11\r\nappendfsync\r\n$6\r\nalways\r\n"
    );
    srv.terminate();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Pipelines SETs in batches until stopped; returns the acknowledged ids.
fn writer(
    port: u16,
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<String>>>,
    count: Arc<AtomicUsize>,
) {
    let Ok(stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return;
    };
    let mut r = BufReader::new(stream.try_clone().unwrap());
    let mut w = stream;
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let ids: Vec<String> = (0..50).map(|k| format!("t{}", n + k)).collect();
        n += 50;
        let mut buf = Vec::new();
        for id in &ids {
            buf.extend(resp_cmd(&["SET", "fleet", id, "POINT", "33.5", "-112.1"]));
        }
        if w.write_all(&buf).is_err() {
            return;
        }
        for id in ids {
            match read_resp(&mut r) {
                Ok(reply) if reply == b"+OK\r\n" => {
                    acked.lock().unwrap().push(id);
                    count.fetch_add(1, Ordering::Relaxed);
                }
                _ => return,
            }
        }
    }
}

#[test]
fn always_loses_no_acknowledged_write_under_kill_9() {
    let dir = temp_dir("fsync-always");
    for round in 0..6 {
        let srv = TestServer::start_in(&dir, &[]);
        let mut c = srv.resp();
        assert_eq!(
            c.cmd_str(&["CONFIG", "SET", "appendfsync", "always"]),
            "+OK\r\n"
        );
        let (stop, acked, count) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(Mutex::new(Vec::new())),
            Arc::new(AtomicUsize::new(0)),
        );
        let writers: Vec<_> = (0..3)
            .map(|_| {
                let (p, s, a, n) = (srv.port, stop.clone(), acked.clone(), count.clone());
                std::thread::spawn(move || writer(p, s, a, n))
            })
            .collect();
        assert!(wait_until(Duration::from_secs(20), || count
            .load(Ordering::Relaxed)
            >= 1500));
        // Crash while the writers are still pipelining.
        srv.signal(SIGKILL);
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            w.join().unwrap();
        }
        let srv = TestServer::start_in(&dir, &[]);
        let mut c = srv.redis();
        let (_, ids): (i64, Vec<String>) = redis::cmd("SCAN")
            .arg("fleet")
            .arg("LIMIT")
            .arg(10_000_000)
            .arg("IDS")
            .query(&mut c)
            .unwrap();
        let have: BTreeSet<String> = ids.into_iter().collect();
        let acked = acked.lock().unwrap();
        let missing: Vec<&String> = acked.iter().filter(|id| !have.contains(*id)).collect();
        assert!(
            missing.is_empty(),
            "round {round}: {} acknowledged writes lost, e.g. {:?}",
            missing.len(),
            &missing[..missing.len().min(5)]
        );
        let _: () = redis::cmd("DROP")
            .arg("fleet")
            .query(&mut c)
            .map(|_: i64| ())
            .unwrap();
        srv.terminate();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn everysec_loses_at_most_about_a_second_under_kill_9() {
    let dir = temp_dir("fsync-everysec");
    let srv = TestServer::start_in(&dir, &[]);
    let (stop, acked, count) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(Mutex::new(Vec::new())),
        Arc::new(AtomicUsize::new(0)),
    );
    let stamps: Arc<Mutex<Vec<(usize, std::time::Instant)>>> = Arc::default();
    let writers: Vec<_> = (0..2)
        .map(|_| {
            let (p, s, a, n) = (srv.port, stop.clone(), acked.clone(), count.clone());
            std::thread::spawn(move || writer(p, s, a, n))
        })
        .collect();
    // Note how many writes were acknowledged when, every 5 ms.
    let watcher = {
        let (count, stamps, stop) = (count.clone(), stamps.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                stamps
                    .lock()
                    .unwrap()
                    .push((count.load(Ordering::Relaxed), std::time::Instant::now()));
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    // Long enough that some writes were acknowledged over a second ago.
    let began = std::time::Instant::now();
    assert!(wait_until(Duration::from_secs(20), || {
        count.load(Ordering::Relaxed) >= 3000 && began.elapsed() > Duration::from_millis(1500)
    }));
    let killed = std::time::Instant::now();
    srv.signal(SIGKILL);
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    watcher.join().unwrap();
    let srv = TestServer::start_in(&dir, &[]);
    let mut c = srv.redis();
    let n: i64 = redis::cmd("SCAN")
        .arg("fleet")
        .arg("COUNT")
        .query(&mut c)
        .unwrap();
    let acked_total = acked.lock().unwrap().len();
    // Acknowledged a second before the kill: all of those must be there.
    let safe = stamps
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, at)| killed.duration_since(*at) >= Duration::from_secs(1))
        .map(|(n, _)| *n)
        .max()
        .unwrap_or(0);
    assert!(safe > 0);
    assert!(n as usize >= safe, "{n} objects, but {safe} were acknowledged over a second before the crash ({acked_total} in all)");
    srv.terminate();
    let _ = std::fs::remove_dir_all(&dir);
}
