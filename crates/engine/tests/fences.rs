//! `Engine::fences` kept in step with the hook and channel definitions,
//! in process: SETCHAN/SETHOOK add (a replacement keeps one fence, an
//! identical one changes nothing), DELCHAN/PDELHOOK remove, FLUSHDB
//! removes every definition's fence, and nothing is active without them.

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
