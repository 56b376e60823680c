//! Unit tests of the AOF: append/flush/load round trips, torn tails,
//! `always` durable offsets, and rewrites.

use super::*;
use std::time::Duration;
use tile38_proto::Args;

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tile38-aof-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&dir);
    dir
}

#[test]
fn append_flush_load_roundtrip() {
    let path = tmp("roundtrip");
    let aof = Aof::open(&path).unwrap();
    aof.append([&b"SET"[..], b"fleet", b"truck1", b"POINT", b"33", b"-112"].into_iter());
    aof.append([&b"del"[..], b"fleet", b"truck1"].into_iter());
    aof.flush().unwrap();
    assert_eq!(aof.size(), std::fs::metadata(&path).unwrap().len());
    let mut seen = Vec::new();
    let stats = load(&path, |a| {
        seen.push(a.to_strings().join(" "));
        Ok(())
    })
    .unwrap();
    assert_eq!(stats.commands, 2);
    assert_eq!(seen, ["SET fleet truck1 POINT 33 -112", "del fleet truck1"]);
    assert_eq!(
        aof.md5(0, 0).unwrap().as_deref(),
        Some("d41d8cd98f00b204e9800998ecf8427e")
    );
    assert_eq!(aof.md5(0, 1 << 40).unwrap(), None);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn always_reports_durable_offsets_in_order() {
    let path = tmp("always");
    let aof = Aof::open(&path).unwrap();
    aof.set_fsync_policy(Fsync::Always);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    aof.on_durable(move |off| s2.lock().push(off));
    let mut last = 0;
    for i in 0..50 {
        last = aof.append([&b"SET"[..], b"k", format!("id{i}").as_bytes()].into_iter());
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while aof.durable() < last && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(aof.durable(), last);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), last);
    let seen = seen.lock().clone();
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    assert_eq!(seen.last(), Some(&last));
    assert_eq!(Fsync::parse("EverySec"), Some(Fsync::EverySec));
    assert_eq!(Fsync::parse("sometimes"), None);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn torn_tail_is_truncated_and_text_lines_load() {
    let path = tmp("torn");
    std::fs::write(&path, b"set fleet truck point 10 10\r\n*2\r\n$3\r\nDEL").unwrap();
    let stats = load(&path, |_| Ok(())).unwrap();
    assert_eq!((stats.commands, stats.truncated), (1, 11));
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 29);
    std::fs::write(&path, b"asdfasdf\r\n").unwrap();
    let err = load(&path, |a| {
        Err(format!("unknown command '{}'", a.to_strings()[0]))
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown command 'asdfasdf' (at byte offset 0)"
    );
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn rewrite_keeps_records_appended_meanwhile() {
    let path = std::env::temp_dir().join(format!("tile38-aof-rw-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let aof = Aof::open(&path).unwrap();
    for i in 0..10 {
        aof.append([&b"SET"[..], b"k", format!("old{i}").as_bytes()].into_iter());
    }
    let mut rw = aof.begin_rewrite().unwrap();
    rw.write([&b"set"[..], b"k", b"compact"].into_iter())
        .unwrap();
    aof.append([&b"DEL"[..], b"k", b"old1"].into_iter());
    aof.flush().unwrap();
    let size = aof.finish_rewrite(rw).unwrap();
    aof.append([&b"SET"[..], b"k", b"after"].into_iter());
    aof.flush().unwrap();
    let mut seen = Vec::new();
    load(&path, |a| {
        seen.push(a.to_strings().join(" "));
        Ok(())
    })
    .unwrap();
    assert_eq!(seen, ["set k compact", "DEL k old1", "SET k after"]);
    assert_eq!(aof.size(), std::fs::metadata(&path).unwrap().len());
    assert!(aof.size() > size);
    assert!(!rewrite::shrink_path(&path).exists());
    drop(aof);
    std::fs::remove_file(&path).unwrap();
}

/// `durable` counts appended bytes, not file offsets: a rewrite that
/// shrinks the file makes everything appended durable, and the count goes
/// on growing from there.
#[test]
fn durable_count_survives_a_shrinking_rewrite() {
    let path = tmp("durable-rw");
    let aof = Aof::open(&path).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    aof.on_durable(move |n| s2.lock().push(n));
    for i in 0..100 {
        aof.append([&b"SET"[..], b"k", b"id", format!("{i}").as_bytes()].into_iter());
    }
    aof.sync().unwrap();
    assert_eq!(aof.durable(), aof.appended());
    let rw = aof.begin_rewrite().unwrap();
    // Appended during the rewrite, not fsynced before the swap.
    let end = aof.append([&b"SET"[..], b"k", b"id", b"last"].into_iter());
    let before = aof.appended();
    assert!(aof.durable() < before);
    let size = aof.finish_rewrite(rw).unwrap();
    assert!(size < end, "the rewritten file is shorter");
    assert_eq!(aof.durable(), before, "the fsynced new file holds it all");
    aof.set_fsync_policy(Fsync::Always);
    aof.append([&b"SET"[..], b"k", b"id", b"after"].into_iter());
    let want = aof.appended();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while aof.durable() < want && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(aof.durable(), want);
    let seen = seen.lock().clone();
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    assert_eq!(seen.last(), Some(&want));
    drop(aof);
    std::fs::remove_file(&path).unwrap();
}

/// Both loaders on one file: what `apply` saw and how it ended. The
/// pipelined one's `prepare` uppercases the command name, to show that
/// `apply` gets what `prepare` made of the same record.
/// The commands `apply` saw, and `(commands, truncated)` or the error.
type Run = (Vec<String>, Result<(u64, u64), String>);

fn both(path: &Path, fail_on: &str) -> [Run; 2] {
    let bytes = std::fs::read(path).unwrap();
    let one = |a: &Args, seen: &mut Vec<String>| {
        let line = a.to_strings().join(" ");
        seen.push(line.clone());
        if line == fail_on {
            Err("refused".to_string())
        } else {
            Ok(())
        }
    };
    let outcome = |r: Result<LoadStats, LoadError>| {
        r.map(|s| (s.commands, s.truncated))
            .map_err(|e| e.to_string())
    };
    let mut seen = Vec::new();
    let plain = outcome(load(path, |a| one(a, &mut seen)));
    let size = std::fs::metadata(path).unwrap().len();
    std::fs::write(path, &bytes).unwrap();
    let mut piped = Vec::new();
    let prepare = |a: &Args| a.to_strings()[0].to_uppercase();
    let pipelined = outcome(load_pipelined(path, prepare, |a, name| {
        assert_eq!(name, a.to_strings()[0].to_uppercase());
        one(a, &mut piped)
    }));
    assert_eq!(std::fs::metadata(path).unwrap().len(), size);
    [(seen, plain), (piped, pipelined)]
}

#[test]
fn pipelined_load_ends_like_load() {
    let path = tmp("pipelined");
    let (mut file, mut cut) = (Vec::new(), 0);
    for i in 0..5000 {
        if i == 300 {
            cut = file.len();
        }
        resp::command(
            &mut file,
            [&b"SET"[..], b"k", format!("id{i}").as_bytes()].into_iter(),
        );
        if i % 1000 == 0 {
            file.extend_from_slice(b"\0\0set k text\r\n*0\r\n");
        }
    }
    let whole = file.len() as u64;
    // A torn tail is cut once everything applied.
    file.extend_from_slice(b"*3\r\n$3\r\nSET");
    std::fs::write(&path, &file).unwrap();
    let [a, b] = both(&path, "");
    assert_eq!(a, b);
    assert_eq!(a.0.len(), 5005);
    assert_eq!(a.1, Ok((5005, 11)));
    assert_eq!(std::fs::metadata(&path).unwrap().len(), whole);
    // A failing command stops both at its offset, and a torn tail after
    // it stays in the file.
    file.extend_from_slice(b"*3\r\n$3\r\nSET");
    std::fs::write(&path, &file).unwrap();
    let [a, b] = both(&path, "SET k id4321");
    assert_eq!(a, b);
    assert!(a
        .1
        .as_ref()
        .unwrap_err()
        .starts_with("refused (at byte offset "));
    assert_eq!(a.0.last().map(String::as_str), Some("SET k id4321"));
    assert_eq!(std::fs::metadata(&path).unwrap().len(), file.len() as u64);
    // So does a framing error, after applying everything before it.
    let mut bad = file[..cut].to_vec();
    bad.extend_from_slice(b"*2\r\n+3\r\nDEL\r\n");
    bad.extend_from_slice(&file[cut..]);
    std::fs::write(&path, &bad).unwrap();
    let [a, b] = both(&path, "");
    assert_eq!(a, b);
    assert_eq!(a.0.len(), 301);
    let err = a.1.unwrap_err();
    assert!(err.starts_with("Protocol error: "), "{err}");
    assert!(err.ends_with(&format!("(at byte offset {cut})")), "{err}");
    // A missing file loads nothing.
    std::fs::remove_file(&path).unwrap();
    let r = load_pipelined(&path, |_| (), |_, ()| Ok(())).unwrap();
    assert_eq!((r.commands, r.bytes), (0, 0));
}

#[test]
fn records_across_chunks_and_longer_than_a_chunk() {
    let path = tmp("chunks");
    let mut file = Vec::new();
    let mut want = Vec::new();
    let big = "x".repeat(9 << 20);
    for i in 0..60_000 {
        let id = format!("id{i}");
        let value = if i == 30_000 { big.as_str() } else { "v" };
        resp::command(
            &mut file,
            [&b"SET"[..], b"k", id.as_bytes(), value.as_bytes()].into_iter(),
        );
        want.push(format!("SET k {id} {}", value.len()));
        if i % 7000 == 0 {
            // Zeros and a text line straddle chunk ends somewhere.
            file.extend_from_slice(&[0; 3000]);
            file.extend_from_slice(b"del k x\r\n");
            want.push("del k x 1".to_string());
        }
    }
    file.extend_from_slice(b"*2\r\n$3\r\ndel");
    std::fs::write(&path, &file).unwrap();
    let seen = |a: &Args| {
        let s = a.to_strings();
        format!(
            "{} {} {} {}",
            s[0],
            s[1],
            s[2],
            s.get(3).map_or(1, |v| v.len())
        )
    };
    let mut plain = Vec::new();
    let stats = load(&path, |a| {
        plain.push(seen(a));
        Ok(())
    })
    .unwrap();
    let first_difference = |got: &[String]| got.iter().zip(&want).position(|(a, b)| a != b);
    assert_eq!((plain.len(), first_difference(&plain)), (want.len(), None));
    assert_eq!((stats.commands, stats.truncated), (want.len() as u64, 11));
    assert_eq!(stats.bytes, file.len() as u64 - 11);
    std::fs::write(&path, &file).unwrap();
    let mut piped = Vec::new();
    load_pipelined(
        &path,
        |_| (),
        |a, ()| {
            piped.push(seen(a));
            Ok(())
        },
    )
    .unwrap();
    assert_eq!((piped.len(), first_difference(&piped)), (want.len(), None));
    // Without the torn tail every byte is loaded.
    std::fs::write(&path, &file[..file.len() - 11]).unwrap();
    let stats = load(&path, |_| Ok(())).unwrap();
    assert_eq!(stats.bytes, file.len() as u64 - 11);
    let stats = load_pipelined(&path, |_| (), |_, ()| Ok(())).unwrap();
    assert_eq!(stats.bytes, file.len() as u64 - 11);
    // A bad record past the first chunk stops both at its offset.
    let at = file.len() - 1000;
    let at = at + file[at..].windows(3).position(|w| w == b"*4\r").unwrap();
    file[at + 1] = b'x';
    for pipelined in [false, true] {
        std::fs::write(&path, &file).unwrap();
        let err = if pipelined {
            load_pipelined(&path, |_| (), |_, ()| Ok(())).unwrap_err()
        } else {
            load(&path, |_| Ok(())).unwrap_err()
        };
        let err = err.to_string();
        assert!(err.ends_with(&format!("(at byte offset {at})")), "{err}");
    }
    std::fs::remove_file(&path).unwrap();
}

/// Polls until every appended byte is durable; false after 5 s.
fn becomes_durable(aof: &Aof) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while aof.durable() < aof.appended() {
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    true
}

/// Under `always`, records another thread flushed without fsync (the
/// expiry sweep, `AOFMD5`) still get their fsync, even when the writer
/// finds nothing pending.
#[test]
fn always_fsyncs_records_flushed_by_other_threads() {
    let path = tmp("always-flush");
    let aof = Aof::open(&path).unwrap();
    aof.set_fsync_policy(Fsync::Always);
    for i in 0..300 {
        aof.append([&b"SET"[..], b"k", format!("id{i}").as_bytes()].into_iter());
        aof.flush().unwrap();
        assert!(becomes_durable(&aof), "round {i}: never fsynced");
    }
    drop(aof);
    std::fs::remove_file(&path).unwrap();
}

/// A policy change fsyncs what replies may be waiting on: switching to
/// `always` after a plain write, or away from `always` with a reply
/// waiting (nothing would fsync it under `no`).
#[test]
fn policy_changes_release_waiting_records() {
    let path = tmp("policy-switch");
    let aof = Aof::open(&path).unwrap();
    for i in 0..100 {
        aof.set_fsync_policy(Fsync::No);
        aof.append([&b"SET"[..], b"k", format!("a{i}").as_bytes()].into_iter());
        aof.flush().unwrap();
        aof.set_fsync_policy(Fsync::Always);
        assert!(becomes_durable(&aof), "round {i}: no → always");
        aof.append([&b"SET"[..], b"k", format!("b{i}").as_bytes()].into_iter());
        aof.set_fsync_policy(Fsync::No);
        assert!(becomes_durable(&aof), "round {i}: always → no");
    }
    drop(aof);
    std::fs::remove_file(&path).unwrap();
}

/// A rewrite that fails at the end leaves the AOF whole and appending.
#[test]
fn a_failed_rewrite_keeps_every_record() {
    let path = tmp("rw-fail");
    let aof = Aof::open(&path).unwrap();
    aof.append([&b"SET"[..], b"k", b"before"].into_iter());
    let rw = aof.begin_rewrite().unwrap();
    aof.append([&b"SET"[..], b"k", b"during"].into_iter());
    std::fs::remove_file(rewrite::shrink_path(&path)).unwrap();
    assert!(aof.finish_rewrite(rw).is_err());
    aof.append([&b"SET"[..], b"k", b"after"].into_iter());
    aof.sync().unwrap();
    assert_eq!(aof.durable(), aof.appended());
    let mut seen = Vec::new();
    load(&path, |a| {
        seen.push(a.to_strings().join(" "));
        Ok(())
    })
    .unwrap();
    assert_eq!(seen, ["SET k before", "SET k during", "SET k after"]);
    assert_eq!(aof.size(), std::fs::metadata(&path).unwrap().len());
    // The next rewrite starts clean (no side log left over).
    let mut rw = aof.begin_rewrite().unwrap();
    rw.write([&b"SET"[..], b"k", b"compact"].into_iter())
        .unwrap();
    aof.finish_rewrite(rw).unwrap();
    let mut seen = Vec::new();
    load(&path, |a| {
        seen.push(a.to_strings().join(" "));
        Ok(())
    })
    .unwrap();
    assert_eq!(seen, ["SET k compact"]);
    drop(aof);
    std::fs::remove_file(&path).unwrap();
}
