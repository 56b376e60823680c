//! AOFSHRINK and the automatic rewrite, with the real server: the rewrite
//! runs while clients keep writing, loses nothing, the shrunk file is
//! smaller and loads to the same state.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tile38::{resp_cmd, temp_dir, wait_until, TestServer};

/// Every key's objects with fields, as SCAN prints them (sorted by key).
fn state(c: &mut redis::Connection) -> Vec<(String, redis::Value)> {
    let mut keys: Vec<String> = redis::cmd("KEYS").arg("*").query(c).unwrap();
    keys.sort();
    keys.into_iter()
        .map(|k| {
            let v: redis::Value = redis::cmd("SCAN")
                .arg(&k)
                .arg("LIMIT")
                .arg(1_000_000)
                .query(c)
                .unwrap();
            (k, v)
        })
        .collect()
}

fn rewrites(srv: &TestServer) -> usize {
    srv.logs()
        .iter()
        .filter(|l| l.contains("AOF rewritten"))
        .count()
}

/// History to shrink: every object rewritten several times.
fn write_history(c: &mut redis::Connection) {
    for round in 0..5 {
        let mut p = redis::pipe();
        for i in 0..2000 {
            p.cmd("SET")
                .arg("fleet")
                .arg(format!("t{i}"))
                .arg("FIELD")
                .arg("speed")
                .arg(round * 10 + i % 7)
                .arg("POINT")
                .arg(33.0 + i as f64 * 1e-4)
                .arg(-112.0)
                .ignore();
        }
        p.cmd("SET")
            .arg("docs")
            .arg("d1")
            .arg("STRING")
            .arg(format!("v{round}"))
            .ignore();
        p.cmd("SET")
            .arg("ttl")
            .arg("x")
            .arg("EX")
            .arg(3600)
            .arg("POINT")
            .arg(1)
            .arg(2)
            .ignore();
        p.cmd("FSET")
            .arg("fleet")
            .arg("t1")
            .arg("name")
            .arg("Alice Smith")
            .ignore();
        let _: () = p.query(c).unwrap();
    }
}

/// A writer that keeps going until `stop`, SETting new ids and
/// deleting some of the history; returns how many SETs it sent and the
/// AOF bytes its writes added (a DEL that found nothing logs nothing).
fn spawn_writer(port: u16, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<(i32, u64)> {
    std::thread::spawn(move || {
        let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
        let mut c = client.get_connection().unwrap();
        let (mut n, mut bytes) = (0, 0u64);
        while !stop.load(Ordering::Relaxed) {
            let (id, lon) = (format!("l{n}"), (n % 90).to_string());
            let set = ["SET", "live", &id, "POINT", "1", &lon];
            let _: () = redis::cmd(set[0]).arg(&set[1..]).query(&mut c).unwrap();
            bytes += resp_cmd(&set).len() as u64;
            if n % 3 == 0 {
                let id = format!("t{n}");
                let del = ["DEL", "fleet", &id];
                let found: i64 = redis::cmd(del[0]).arg(&del[1..]).query(&mut c).unwrap();
                bytes += found as u64 * resp_cmd(&del).len() as u64;
            }
            n += 1;
        }
        (n, bytes)
    })
}

/// The server's own AOF size (buffered records included: exact once a
/// reply has been read).
fn aof_size(srv: &TestServer) -> u64 {
    let server = srv.resp().cmd_str(&["SERVER"]);
    let at = server.find("$8\r\naof_size\r\n").expect("aof_size");
    let value = server[at..].lines().nth(3).expect("aof_size value");
    value.parse().expect("aof_size number")
}

#[test]
fn shrink_under_concurrent_writes_keeps_every_write() {
    let dir = temp_dir("shrink");
    let srv = TestServer::start_in(&dir, &[]);
    let mut c = srv.redis();
    write_history(&mut c);
    let before = aof_size(&srv);
    // Writers keep going while the rewrite runs.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = spawn_writer(srv.port, stop.clone());
    std::thread::sleep(Duration::from_millis(50));
    let reply: String = redis::cmd("AOFSHRINK").query(&mut c).unwrap();
    assert_eq!(reply, "OK");
    assert!(
        wait_until(Duration::from_secs(20), || rewrites(&srv) == 1),
        "no rewrite finished"
    );
    std::thread::sleep(Duration::from_millis(50));
    stop.store(true, Ordering::Relaxed);
    let (written, writer_bytes) = writer.join().unwrap();
    assert!(written > 0);
    let info: String = redis::cmd("INFO").arg("persistence").query(&mut c).unwrap();
    assert!(info.contains("aof_rewrite_in_progress:0"), "{info}");
    let want = state(&mut c);
    srv.terminate();
    let after = std::fs::metadata(dir.join("appendonly.aof")).unwrap().len();
    // Smaller than the history plus what the writer added meanwhile: what
    // the file would be without the rewrite.
    let unshrunk = before + writer_bytes;
    assert!(after < unshrunk, "shrunk {after} vs {unshrunk}");
    let text = std::fs::read_to_string(dir.join("appendonly.aof")).unwrap();
    assert!(
        text.contains("$5\r\nfield\r\n$4\r\nname\r\n$13\r\n\"Alice Smith\"\r\n"),
        "field values in JSON form"
    );
    let srv = TestServer::start_in(&dir, &[]);
    let mut c = srv.redis();
    assert_eq!(state(&mut c), want);
    let ttl: i64 = redis::cmd("TTL").arg("ttl").arg("x").query(&mut c).unwrap();
    assert!((3500..=3600).contains(&ttl), "{ttl}");
    srv.terminate();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_aof_is_rewritten_automatically_when_it_grows() {
    let srv = TestServer::start(&[]);
    let mut c = srv.redis();
    for (k, v) in [
        ("auto-aof-rewrite-min-size", "64kb"),
        ("auto-aof-rewrite-percentage", "50"),
    ] {
        let _: () = redis::cmd("CONFIG")
            .arg("SET")
            .arg(k)
            .arg(v)
            .query(&mut c)
            .unwrap();
    }
    let pct: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("auto-aof-rewrite-percentage")
        .query(&mut c)
        .unwrap();
    assert_eq!(pct, ["auto-aof-rewrite-percentage", "50"]);
    // The same 100 objects written over and over: the file grows, the
    // state does not.
    for round in 0..40 {
        let mut p = redis::pipe();
        for i in 0..100 {
            p.cmd("SET")
                .arg("k")
                .arg(format!("id{i}"))
                .arg("POINT")
                .arg(round)
                .arg(i)
                .ignore();
        }
        let _: () = p.query(&mut c).unwrap();
    }
    assert!(
        wait_until(Duration::from_secs(10), || rewrites(&srv) >= 1),
        "no automatic rewrite"
    );
    let count: i64 = redis::cmd("SCAN")
        .arg("k")
        .arg("COUNT")
        .query(&mut c)
        .unwrap();
    assert_eq!(count, 100);
    let file = std::fs::metadata(srv.dir.join("appendonly.aof"))
        .unwrap()
        .len();
    assert!(file < 64 * 1024, "rewritten file is small: {file}");
}

/// With `appendfsync always` a reply waits for its record's fsync. A
/// rewrite replaces the file with a much shorter one while writers are
/// waiting: no reply may then wait for the new file to grow as long as the
/// old one (it did, when durability was tracked in file offsets: replies in
/// flight at the swap hung until enough other writes came, or for ever).
#[test]
fn always_replies_keep_flowing_across_rewrites() {
    let srv = TestServer::start(&[]);
    let mut c = srv.redis();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("appendfsync")
        .arg("always")
        .query(&mut c)
        .unwrap();
    // A long history of 10 objects: each rewrite shrinks the file to a
    // fraction of its size.
    let mut p = redis::pipe();
    for i in 0..20_000 {
        p.cmd("SET")
            .arg("k")
            .arg(i % 10)
            .arg("POINT")
            .arg(i % 80)
            .arg(1)
            .ignore();
    }
    let _: () = p.query(&mut c).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let (stop, done, port) = (stop.clone(), done.clone(), srv.port);
            std::thread::spawn(move || {
                let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
                let mut c = client.get_connection().unwrap();
                c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                let mut batches = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let mut p = redis::pipe();
                    for i in 0..50 {
                        p.cmd("SET")
                            .arg("k")
                            .arg(i % 10)
                            .arg("POINT")
                            .arg(w)
                            .arg(i)
                            .ignore();
                    }
                    let r: redis::RedisResult<()> = p.query(&mut c);
                    r.unwrap_or_else(|e| panic!("writer {w}, batch {batches}: {e}"));
                    batches += 1;
                    done.fetch_add(1, Ordering::Relaxed);
                }
                batches
            })
        })
        .collect();
    for n in 1..=20 {
        // Each rewrite swaps files while every writer is busy.
        let seen = done.load(Ordering::Relaxed);
        let flowing = wait_until(Duration::from_secs(20), || {
            done.load(Ordering::Relaxed) >= seen + 16 || writers.iter().any(|w| w.is_finished())
        });
        assert!(
            flowing && !writers.iter().any(|w| w.is_finished()),
            "writes stalled before rewrite {n}"
        );
        let reply: String = redis::cmd("AOFSHRINK").query(&mut c).unwrap();
        assert_eq!(reply, "OK");
        assert!(
            wait_until(Duration::from_secs(20), || rewrites(&srv) >= n),
            "rewrite {n} did not finish"
        );
    }
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        assert!(w.join().expect("a writer's reply never came") > 0);
    }
    let count: i64 = redis::cmd("SCAN")
        .arg("k")
        .arg("COUNT")
        .query(&mut c)
        .unwrap();
    assert_eq!(count, 10);
}

/// A key big enough that walking it takes a while.
fn fill_fleet(c: &mut redis::Connection) {
    let mut p = redis::pipe();
    for i in 0..40_000 {
        p.cmd("SET")
            .arg("fleet")
            .arg(format!("t{i}"))
            .arg("POINT")
            .arg(33.0 + (i % 1000) as f64 * 1e-3)
            .arg(-112.0)
            .ignore();
    }
    let _: () = p.query(c).unwrap();
}

/// Rounds of `AOFSHRINK` with `during` run while the rewrite is in
/// progress (`before` first, with no rewrite running), until a rewrite was
/// abandoned (at most 10 rounds); returns how many were.
fn writes_during_rewrites(
    srv: &TestServer,
    c: &mut redis::Connection,
    before: impl Fn(&mut redis::Connection, usize),
    during: impl Fn(&mut redis::Connection),
) -> usize {
    let in_progress = |c: &mut redis::Connection| {
        let info: String = redis::cmd("INFO").arg("persistence").query(c).unwrap();
        info.contains("aof_rewrite_in_progress:1")
    };
    let abandoned = || {
        srv.logs()
            .iter()
            .filter(|l| l.contains("AOF rewrite abandoned"))
            .count()
    };
    // A round's write may miss its rewrite (a rewrite of 40k objects takes
    // tens of milliseconds, and a busy machine may not run the writer in
    // time), so try up to 40 rounds; one that lands is enough.
    for round in 0..40 {
        if abandoned() > 0 {
            break;
        }
        before(c, round);
        let done = rewrites(srv);
        let reply: String = redis::cmd("AOFSHRINK").query(c).unwrap();
        assert_eq!(reply, "OK");
        assert!(
            wait_until(Duration::from_secs(5), || in_progress(c)
                || rewrites(srv) > done),
            "rewrite {round} did not start"
        );
        during(c);
        assert!(
            wait_until(Duration::from_secs(10), || rewrites(srv) > done
                && !in_progress(c)),
            "rewrite {round} did not finish"
        );
    }
    abandoned()
}

/// A rename while the rewrite walks: the walk lists keys once, at its
/// start, so `RENAME zoo alpha` made while `fleet` is being walked leaves
/// `zoo` gone when the walk gets there and `alpha` never visited; the
/// replayed `rename zoo alpha` then finds nothing to move and zoo's objects
/// would be lost at the next restart. Such a rewrite is abandoned and done
/// again, so the reloaded state is the state before the restart.
#[test]
fn a_rename_during_a_rewrite_loses_nothing() {
    let dir = temp_dir("shrink-rename");
    let srv = TestServer::start_in(&dir, &[]);
    let mut c = srv.redis();
    fill_fleet(&mut c);
    let mut p = redis::pipe();
    for i in 0..20 {
        p.cmd("SET")
            .arg("zoo")
            .arg(format!("z{i}"))
            .arg("FIELD")
            .arg("age")
            .arg(i)
            .arg("POINT")
            .arg(1)
            .arg(i)
            .ignore();
    }
    let _: () = p.query(&mut c).unwrap();
    let rename = |c: &mut redis::Connection, from: &str, to: &str| {
        let _: () = redis::cmd("RENAME").arg(from).arg(to).query(c).unwrap();
    };
    let abandoned = writes_during_rewrites(
        &srv,
        &mut c,
        |c, round| {
            if round > 0 {
                rename(c, "alpha", "zoo");
            }
        },
        |c| rename(c, "zoo", "alpha"),
    );
    let want = state(&mut c);
    srv.terminate();
    let srv = TestServer::start_in(&dir, &[]);
    let mut c = srv.redis();
    let got = state(&mut c);
    let keys: Vec<&str> = got.iter().map(|k| k.0.as_str()).collect();
    assert_eq!(keys, ["alpha", "fleet"]);
    assert!(got == want, "state after restart differs");
    assert!(abandoned > 0, "no rename landed inside a rewrite");
    srv.terminate();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `JSET … a.-1` appends to an array: replayed from the side log over a
/// walk that already saw the append it would append twice, so it too makes
/// the rewrite start over; the document reloads as it was.
#[test]
fn an_array_append_during_a_rewrite_is_not_doubled() {
    let dir = temp_dir("shrink-jset");
    let srv = TestServer::start_in(&dir, &[]);
    let mut c = srv.redis();
    fill_fleet(&mut c);
    let _: () = redis::cmd("SET")
        .arg("zoo")
        .arg("doc")
        .arg("STRING")
        .arg(r#"{"a":[]}"#)
        .query(&mut c)
        .unwrap();
    let abandoned = writes_during_rewrites(
        &srv,
        &mut c,
        |_, _| {},
        |c| {
            let _: () = redis::cmd("JSET")
                .arg("zoo")
                .arg("doc")
                .arg(r"a.\-1")
                .arg(1)
                .query(c)
                .unwrap();
        },
    );
    let jget = |c: &mut redis::Connection| -> String {
        redis::cmd("JGET").arg("zoo").arg("doc").query(c).unwrap()
    };
    let want = jget(&mut c);
    srv.terminate();
    let srv = TestServer::start_in(&dir, &[]);
    let mut c = srv.redis();
    assert_eq!(jget(&mut c), want);
    assert!(abandoned > 0, "no append landed inside a rewrite");
    srv.terminate();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A FOLLOW while a rewrite runs: the AOF becomes the leader's copy, so the
/// rewrite (of the old data) must not be swapped in at its end.
#[test]
fn a_follow_during_a_rewrite_gives_the_rewrite_up() {
    let leader = TestServer::start(&[]);
    let mut l = leader.redis();
    let _: () = redis::cmd("SET")
        .arg("lead")
        .arg("x")
        .arg("POINT")
        .arg(1)
        .arg(2)
        .query(&mut l)
        .unwrap();
    let srv = TestServer::start(&[]);
    let mut c = srv.redis();
    let in_progress = |c: &mut redis::Connection| {
        let info: String = redis::cmd("INFO").arg("persistence").query(c).unwrap();
        info.contains("aof_rewrite_in_progress:1")
    };
    let mut followed = false;
    for _ in 0..10 {
        fill_fleet(&mut c);
        let done = rewrites(&srv);
        let reply: String = redis::cmd("AOFSHRINK").query(&mut c).unwrap();
        assert_eq!(reply, "OK");
        assert!(wait_until(Duration::from_secs(5), || in_progress(&mut c)
            || rewrites(&srv) > done));
        if in_progress(&mut c) {
            let reply: String = redis::cmd("FOLLOW")
                .arg("127.0.0.1")
                .arg(leader.port)
                .query(&mut c)
                .unwrap();
            assert_eq!(reply, "OK");
            followed = true;
            break;
        }
    }
    assert!(followed, "no FOLLOW landed inside a rewrite");
    assert!(
        wait_until(Duration::from_secs(10), || srv.logs().iter().any(
            |l| l.contains("AOF rewrite failed: the server now follows a leader")
        )),
        "{:?}",
        srv.logs()
    );
    let leader_aof = std::fs::read(leader.dir.join("appendonly.aof")).unwrap();
    let copied = wait_until(Duration::from_secs(10), || {
        std::fs::read(srv.dir.join("appendonly.aof")).is_ok_and(|b| b == leader_aof)
    });
    assert!(copied, "the follower's AOF is its leader's");
    let mut f = srv.resp();
    assert!(wait_until(Duration::from_secs(10), || f.cmd(&["HEALTHZ"])
        == b"+OK\r\n"));
    assert_eq!(f.cmd(&["SCAN", "fleet", "COUNT"]), b":0\r\n");
    assert_eq!(f.cmd(&["SCAN", "lead", "COUNT"]), b":1\r\n");
}
