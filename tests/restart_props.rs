//! Property test: for random command sequences, the state a server serves
//! after a restart equals the state before it — straight from the AOF, and
//! after an AOFSHRINK. State = every key's objects with fields (SCAN), and
//! which objects have a TTL.

use std::time::Duration;

use proptest::prelude::*;
use tile38::{temp_dir, wait_until, TestServer};

#[derive(Clone, Debug)]
enum Cmd {
    Point(u8, u8, i8, i8, Option<u8>),
    Bounds(u8, u8, i8, i8),
    Str(u8, u8, u8),
    Fset(u8, u8, u8),
    Del(u8, u8),
    Expire(u8, u8),
    Persist(u8, u8),
    Jset(u8, u8, u8),
    Pdel(u8),
    Drop(u8),
    Rename(u8, u8),
}

fn cmd() -> impl Strategy<Value = Cmd> {
    let (k, i, c) = (0u8..3, 0u8..12, -80i8..80);
    prop_oneof![
        6 => (k.clone(), i.clone(), c.clone(), c.clone(), proptest::option::of(0u8..50))
            .prop_map(|(k, i, a, b, f)| Cmd::Point(k, i, a, b, f)),
        2 => (k.clone(), i.clone(), c.clone(), c.clone()).prop_map(|(k, i, a, b)| Cmd::Bounds(k, i, a, b)),
        2 => (k.clone(), i.clone(), any::<u8>()).prop_map(|(k, i, v)| Cmd::Str(k, i, v)),
        2 => (k.clone(), i.clone(), 0u8..5).prop_map(|(k, i, v)| Cmd::Fset(k, i, v)),
        2 => (k.clone(), i.clone()).prop_map(|(k, i)| Cmd::Del(k, i)),
        1 => (k.clone(), i.clone()).prop_map(|(k, i)| Cmd::Expire(k, i)),
        1 => (k.clone(), i.clone()).prop_map(|(k, i)| Cmd::Persist(k, i)),
        1 => (k.clone(), i.clone(), any::<u8>()).prop_map(|(k, i, v)| Cmd::Jset(k, i, v)),
        1 => k.clone().prop_map(Cmd::Pdel),
        1 => k.clone().prop_map(Cmd::Drop),
        1 => (k.clone(), k).prop_map(|(a, b)| Cmd::Rename(a, b)),
    ]
}

fn args(c: &Cmd) -> Vec<String> {
    let key = |k: &u8| format!("k{k}");
    let id = |i: &u8| format!("id{i}");
    let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    match c {
        Cmd::Point(k, i, a, b, f) => {
            let mut out = v(&["SET", &key(k), &id(i)]);
            if let Some(f) = f {
                out.extend(v(&["FIELD", "speed", &f.to_string()]));
            }
            out.extend(v(&[
                "POINT",
                &(*a as f64 / 2.0).to_string(),
                &(*b as f64 * 1.5).to_string(),
            ]));
            out
        }
        Cmd::Bounds(k, i, a, b) => v(&[
            "SET",
            &key(k),
            &id(i),
            "BOUNDS",
            &a.to_string(),
            &b.to_string(),
            &(a.saturating_add(3)).to_string(),
            &(b.saturating_add(5)).to_string(),
        ]),
        Cmd::Str(k, i, s) => v(&["SET", &key(k), &id(i), "STRING", &format!("v{s}")]),
        Cmd::Fset(k, i, x) => v(&["FSET", &key(k), &id(i), "name", &format!("n {x}")]),
        Cmd::Del(k, i) => v(&["DEL", &key(k), &id(i)]),
        Cmd::Expire(k, i) => v(&["EXPIRE", &key(k), &id(i), "3600"]),
        Cmd::Persist(k, i) => v(&["PERSIST", &key(k), &id(i)]),
        Cmd::Jset(k, i, x) => v(&["JSET", &key(k), &id(i), "a.b", &x.to_string()]),
        Cmd::Pdel(k) => v(&["PDEL", &key(k), "id1*"]),
        Cmd::Drop(k) => v(&["DROP", &key(k)]),
        Cmd::Rename(a, b) => v(&["RENAME", &key(a), &key(b)]),
    }
}

/// Every key's objects with fields, and the ids that have a TTL.
fn state(c: &mut redis::Connection) -> Vec<(String, redis::Value, Vec<String>)> {
    let mut keys: Vec<String> = redis::cmd("KEYS").arg("*").query(c).unwrap();
    keys.sort();
    keys.into_iter()
        .map(|k| {
            let objects: redis::Value = redis::cmd("SCAN")
                .arg(&k)
                .arg("LIMIT")
                .arg(100_000)
                .query(c)
                .unwrap();
            let (_, ids): (i64, Vec<String>) = redis::cmd("SCAN")
                .arg(&k)
                .arg("LIMIT")
                .arg(100_000)
                .arg("IDS")
                .query(c)
                .unwrap();
            let with_ttl = ids
                .into_iter()
                .filter(|id| redis::cmd("TTL").arg(&k).arg(id).query::<i64>(c).unwrap() >= 0)
                .collect();
            (k, objects, with_ttl)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn restart_serves_the_same_state(cmds in proptest::collection::vec(cmd(), 1..120), shrink in any::<bool>()) {
        let dir = temp_dir("restart-prop");
        let srv = TestServer::start_in(&dir, &[]);
        let mut c = srv.redis();
        for cmd in &cmds {
            // Errors (missing keys, wrong types) are part of the sequence.
            let _: redis::RedisResult<redis::Value> = redis::cmd(&args(cmd)[0]).arg(&args(cmd)[1..]).query(&mut c);
        }
        let before = state(&mut c);
        if shrink {
            let _: () = redis::cmd("AOFSHRINK").query(&mut c).unwrap();
            prop_assert!(wait_until(Duration::from_secs(10), || srv.logs().iter().any(|l| l.contains("AOF rewritten"))));
        }
        srv.terminate();
        let srv = TestServer::start_in(&dir, &[]);
        let mut c = srv.redis();
        let after = state(&mut c);
        srv.terminate();
        let _ = std::fs::remove_dir_all(&dir);
        prop_assert_eq!(before, after);
    }
}
