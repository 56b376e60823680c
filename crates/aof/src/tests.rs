//! Unit tests of the AOF: append/flush/load round trips, torn tails,
//! `always` durable offsets, and rewrites.

use super::*;

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
