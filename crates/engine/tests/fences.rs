//! `Engine::fences` kept in step with the hook and channel definitions,
//! in process: SETCHAN/SETHOOK add (a replacement keeps one fence, an
//! identical one changes nothing), DELCHAN/PDELHOOK remove, FLUSHDB
//! removes every definition's fence, and nothing is active without them.
//! The runtime's `HookSink` gets each hook event, hears of every hook
//! definition and every hook removal (DELHOOK, PDELHOOK, FLUSHDB, EX expiry).

use std::sync::{Arc, Mutex};

use tile38_engine::fence::HookSink;
use tile38_engine::{Engine, Reply, Session};
use tile38_proto::Args;

fn run(engine: &Engine, session: &mut Session, line: &str) -> String {
    let mut args = Args::from_slices(&line.split(' ').collect::<Vec<_>>());
    let mut out = Reply::new(false);
    let res = session.execute(engine, &mut args, &mut out);
    session.lock.release();
    match res {
        Ok(()) => String::from_utf8_lossy(&out.buf).into_owned(),
        Err(e) => format!("-{}", e.message()),
    }
}

#[test]
fn definitions_keep_the_fences_in_step() {
    let engine = Engine::in_process();
    let mut s = Session::local(&engine, 1);
    assert!(!engine.fences.active(), "no fence: writes skip geofencing");
    let chan = "SETCHAN c1 WITHIN fleet FENCE BOUNDS 0 0 10 10";
    assert_eq!(run(&engine, &mut s, chan), ":1\r\n");
    assert_eq!(engine.fences.len(), 1);
    assert_eq!(run(&engine, &mut s, chan), ":0\r\n");
    let replaced = "SETCHAN c1 NEARBY fleet FENCE DETECT enter POINT 1 2 100";
    assert_eq!(run(&engine, &mut s, replaced), ":1\r\n");
    assert_eq!(engine.fences.len(), 1, "a replacement keeps one fence");
    let hook = "SETHOOK h1 http://127.0.0.1:9/x NEARBY fleet FENCE ROAM fleet * 5";
    assert_eq!(run(&engine, &mut s, hook), ":1\r\n");
    let hook2 = "SETHOOK h2 http://127.0.0.1:9/x WITHIN fleet FENCE BOUNDS 0 0 1 1";
    assert_eq!(run(&engine, &mut s, hook2), ":1\r\n");
    assert_eq!(engine.fences.len(), 3);
    assert_eq!(run(&engine, &mut s, "DELCHAN c1"), ":1\r\n");
    assert_eq!(run(&engine, &mut s, "PDELHOOK h*"), ":2\r\n");
    assert!(!engine.fences.active());
    assert_eq!(run(&engine, &mut s, chan), ":1\r\n");
    assert_eq!(run(&engine, &mut s, "FLUSHDB"), "+OK\r\n");
    assert!(
        !engine.fences.active(),
        "FLUSHDB removes definitions' fences"
    );
    // A GET area must exist when the definition is set (Tile38).
    let get = "SETCHAN c2 WITHIN fleet FENCE GET zones nope";
    assert!(run(&engine, &mut s, get).starts_with('-'));
    assert!(!engine.fences.active());
}

#[test]
fn a_fence_search_goes_live_with_its_fence() {
    let engine = Engine::in_process();
    let mut s = Session::local(&engine, 1);
    let mut args = Args::from_slices(&["NEARBY", "fleet", "FENCE", "ROAM", "fleet", "*", "5"]);
    let mut out = Reply::new(false);
    s.execute(&engine, &mut args, &mut out).unwrap();
    s.lock.release();
    let fence = out.live.take().expect("a live fence");
    assert_eq!(fence.key(), b"fleet");
    assert_eq!(
        run(
            &engine,
            &mut s,
            "WITHIN fleet FENCE DETECT bogus BOUNDS 0 0 1 1"
        ),
        "-invalid argument 'bogus'"
    );
    // A word FENCE that is not the option leaves a plain search.
    assert_eq!(
        run(&engine, &mut s, "WITHIN fleet MATCH fence BOUNDS 0 0 1 1"),
        "*2\r\n:0\r\n*0\r\n"
    );
}

/// What a [`HookSink`] was told, in order.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl HookSink for Recorder {
    fn deliver(&self, name: &[u8], endpoints: &[Vec<u8>], json: &str) {
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        let line = format!(
            "deliver {} {} {}",
            String::from_utf8_lossy(name),
            endpoints.len(),
            v["detect"].as_str().unwrap()
        );
        self.0.lock().unwrap().push(line);
    }

    fn defined(&self, name: &[u8], endpoints: &[Vec<u8>]) {
        let line = format!(
            "defined {} {}",
            String::from_utf8_lossy(name),
            endpoints.len()
        );
        self.0.lock().unwrap().push(line);
    }

    fn removed(&self, name: &[u8]) {
        let line = format!("removed {}", String::from_utf8_lossy(name));
        self.0.lock().unwrap().push(line);
    }
}

#[test]
fn the_hook_sink_hears_events_and_every_removal() {
    let engine = Engine::in_process();
    let rec = Arc::new(Recorder::default());
    engine.fences.set_hook_sink(rec.clone());
    let mut s = Session::local(&engine, 1);
    let taken = || std::mem::take(&mut *rec.0.lock().unwrap());
    let hook = |n: &str| {
        format!(
            "SETHOOK {n} http://a/x,http://b/y WITHIN fleet FENCE DETECT enter BOUNDS 0 0 10 10"
        )
    };
    for n in ["h1", "h2", "h3"] {
        assert_eq!(run(&engine, &mut s, &hook(n)), ":1\r\n");
    }
    assert_eq!(taken(), ["defined h1 2", "defined h2 2", "defined h3 2"]);
    assert_eq!(
        run(
            &engine,
            &mut s,
            "SETCHAN c WITHIN fleet FENCE BOUNDS 0 0 10 10"
        ),
        ":1\r\n"
    );
    assert_eq!(run(&engine, &mut s, "SET fleet t POINT 5 5"), "+OK\r\n");
    let mut got = taken();
    got.sort();
    assert_eq!(
        got,
        [
            "deliver h1 2 enter",
            "deliver h2 2 enter",
            "deliver h3 2 enter"
        ]
    );
    assert_eq!(run(&engine, &mut s, "DELHOOK h1"), ":1\r\n");
    assert_eq!(taken(), ["removed h1"]);
    assert_eq!(run(&engine, &mut s, "PDELHOOK h2*"), ":1\r\n");
    assert_eq!(run(&engine, &mut s, "DELCHAN c"), ":1\r\n");
    assert_eq!(taken(), ["removed h2"], "a channel is no hook");
    assert_eq!(run(&engine, &mut s, "FLUSHDB"), "+OK\r\n");
    assert_eq!(taken(), ["removed h3"]);
    let expiring = hook("h4").replace("http://b/y WITHIN", "http://b/y EX 0.05 WITHIN");
    assert_eq!(run(&engine, &mut s, &expiring), ":1\r\n");
    assert_eq!(taken(), ["defined h4 2"]);
    let gone = (0..500).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(10));
        tile38_engine::cmd::hooks::sweep_expired(&engine) == 1
    });
    assert!(gone, "the hook expires");
    assert_eq!(taken(), ["removed h4"]);
}
