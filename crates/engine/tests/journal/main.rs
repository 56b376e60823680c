//! The journal of changes (`tile38_engine::journal`): a recording
//! subscriber sees, for every write command, exactly the change it made:
//! the command, the record the AOF logs, the key, and each object before
//! and after; refused writes and errors report nothing. The AOF gets the
//! same bytes it always did; AOF replay is not shown to subscribers,
//! writes applied from a leader are.

mod support;

use std::sync::Arc;

use support::*;
use tile38_engine::journal::{ChangeSink, Origin};
use tile38_engine::{Engine, Options};
use tile38_proto::Args;

#[test]
fn set_reports_the_new_object_and_the_one_it_replaced() {
    let mut f = Fixture::new();
    let line = "SET fleet truck1 POINT 33 -112";
    let p1 = point("33", "-112");
    let kind = edit("truck1", None, object(&p1, &[], false));
    assert_eq!(f.one(line), rec("set", line, "fleet", kind));

    // Fields merge in: the old object had none.
    let line = "set fleet truck1 FIELD speed 10 POINT 34 -111";
    let p2 = point("34", "-111");
    let kind = edit(
        "truck1",
        object(&p1, &[], false),
        object(&p2, &[("speed", "10")], false),
    );
    assert_eq!(f.one(line), rec("set", line, "fleet", kind));

    // No FIELD: the fields stay, before and after; EX sets a deadline.
    let line = "SET fleet truck1 EX 100 POINT 35 -110";
    let p3 = point("35", "-110");
    let kind = edit(
        "truck1",
        object(&p2, &[("speed", "10")], false),
        object(&p3, &[("speed", "10")], true),
    );
    assert_eq!(f.one(line), rec("set", line, "fleet", kind));

    // A changed field: the old value is in the old object; SET drops EX.
    let line = "SET fleet truck1 FIELD speed 20 STRING hello";
    let kind = edit(
        "truck1",
        object(&p3, &[("speed", "10")], true),
        object("hello", &[("speed", "20")], false),
    );
    assert_eq!(f.one(line), rec("set", line, "fleet", kind));
}

#[test]
fn refused_sets_and_errors_report_nothing() {
    let mut f = Fixture::new();
    f.given(&["SET fleet truck1 POINT 33 -112"]);
    f.none("SET fleet truck1 NX POINT 1 2", "$-1\r\n");
    f.none("SET fleet truck2 XX POINT 1 2", "$-1\r\n");
    f.none("SET other truck2 XX POINT 1 2", "$-1\r\n");
    f.none("SET fleet truck2 POINT 1", "invalid number of arguments");
    f.none("SET fleet truck2 POINT x 2", "invalid argument 'x'");
    f.none("NOSUCH fleet", "unknown command 'NOSUCH'");
    f.none("DEL fleet truck9 ERRON404", "id not found");
    f.none("DEL nokey truck9 ERRON404", "key not found");
    f.none("FSET nokey truck1 speed 1", "key not found");
    f.none("FSET fleet truck9 speed 1", "id not found");
    // A write the gates refuse.
    assert_eq!(f.run("READONLY yes"), "+OK\r\n");
    f.none("SET fleet truck3 POINT 1 2", "read only");
    f.none("DEL fleet truck1", "read only");
    assert_eq!(f.run("READONLY no"), "+OK\r\n");
    // Reads report nothing either.
    f.none("GET fleet truck1 POINT", "*2\r\n$2\r\n33\r\n$4\r\n-112\r\n");
}

#[test]
fn fset_reports_the_fields_before_and_after() {
    let mut f = Fixture::new();
    f.given(&["SET fleet truck1 FIELD speed 10 POINT 33 -112"]);
    let p = point("33", "-112");
    let line = "FSET fleet truck1 speed 30 wheels 18";
    let kind = edit(
        "truck1",
        object(&p, &[("speed", "10")], false),
        object(&p, &[("speed", "30"), ("wheels", "18")], false),
    );
    assert_eq!(f.one(line), rec("fset", line, "fleet", kind));
    // Nothing changed, or XX on a missing id: no change.
    f.none("FSET fleet truck1 speed 30", ":0\r\n");
    f.none("FSET fleet truck9 XX speed 1", ":0\r\n");
}

#[test]
fn jset_and_jdel_report_the_documents() {
    let mut f = Fixture::new();
    let line = "JSET doc d1 name Tom";
    let kind = edit("d1", None, object(r#"{"name":"Tom"}"#, &[], false));
    assert_eq!(f.one(line), rec("jset", line, "doc", kind));

    let line = "JSET doc d1 age 5";
    let kind = edit(
        "d1",
        object(r#"{"name":"Tom"}"#, &[], false),
        object(r#"{"name":"Tom","age":5}"#, &[], false),
    );
    assert_eq!(f.one(line), rec("jset", line, "doc", kind));

    let line = "JDEL doc d1 name";
    let kind = edit(
        "d1",
        object(r#"{"name":"Tom","age":5}"#, &[], false),
        object(r#"{"age":5}"#, &[], false),
    );
    assert_eq!(f.one(line), rec("jdel", line, "doc", kind));
    f.none("JDEL doc d1 name", ":0\r\n");
    f.none("JDEL doc d9 name", ":0\r\n");

    // Appending to an array is not idempotent.
    let line = "JSET doc d1 tags.-1 x";
    let kind = edit(
        "d1",
        object(r#"{"age":5}"#, &[], false),
        object(r#"{"age":5,"tags":["x"]}"#, &[], false),
    );
    let appended = Rec {
        idempotent: false,
        ..rec("jset", line, "doc", kind)
    };
    assert_eq!(f.one(line), appended);
}

#[test]
fn deletions_report_each_object_removed() {
    let mut f = Fixture::new();
    f.given(&[
        "SET fleet truck1 POINT 33 -112",
        "SET fleet truck2 FIELD speed 5 POINT 34 -112",
        "SET fleet truck3 POINT 35 -112",
        "SET fleet van1 POINT 36 -112",
    ]);
    let line = "DEL fleet truck1";
    let kind = edit("truck1", object(&point("33", "-112"), &[], false), None);
    assert_eq!(f.one(line), rec("del", line, "fleet", kind));
    f.none("DEL fleet truck1", ":0\r\n");
    f.none("DEL nokey truck1", ":0\r\n");

    // PDEL: one change, one edit per object, in id order.
    let line = "PDEL fleet truck*";
    let kind = Kind::Objects(vec![
        Seen {
            id: "truck2".into(),
            before: object(&point("34", "-112"), &[("speed", "5")], false),
            after: None,
        },
        Seen {
            id: "truck3".into(),
            before: object(&point("35", "-112"), &[], false),
            after: None,
        },
    ]);
    assert_eq!(f.one(line), rec("pdel", line, "fleet", kind));
    f.none("PDEL fleet truck*", ":0\r\n");
    f.none("PDEL nokey *", ":0\r\n");
}

#[test]
fn drop_and_flushdb_report_key_level_changes() {
    let mut f = Fixture::new();
    f.given(&[
        "SET fleet truck1 POINT 33 -112",
        "SET fleet truck2 POINT 34 -112",
        "SET other a STRING x",
    ]);
    let line = "DROP fleet";
    assert_eq!(f.one(line), rec("drop", line, "fleet", Kind::Dropped(2)));
    f.none("DROP fleet", ":0\r\n");
    let line = "FLUSHDB";
    assert_eq!(f.one(line), rec("flushdb", line, "", Kind::Flushed));
}

#[test]
fn renames_report_the_move_and_are_not_idempotent() {
    let mut f = Fixture::new();
    f.given(&[
        "SET a 1 POINT 33 -112",
        "SET b 1 POINT 33 -112",
        "SET b 2 POINT 33 -112",
        "SET c 1 POINT 33 -112",
    ]);
    let line = "RENAME a b";
    let kind = Kind::Renamed {
        to: "b".into(),
        replaced: Some(2),
    };
    let moved = Rec {
        idempotent: false,
        ..rec("rename", line, "a", kind)
    };
    assert_eq!(f.one(line), moved);
    f.none("RENAMENX b c", ":0\r\n");
    f.none("RENAME a d", "key not found");
    let line = "RENAMENX b d";
    let kind = Kind::Renamed {
        to: "d".into(),
        replaced: None,
    };
    let moved = Rec {
        idempotent: false,
        ..rec("renamenx", line, "b", kind)
    };
    assert_eq!(f.one(line), moved);
    // Onto itself: logged, moves nothing, idempotent.
    let line = "RENAME c c";
    let kind = Kind::Renamed {
        to: "c".into(),
        replaced: None,
    };
    assert_eq!(f.one(line), rec("rename", line, "c", kind));
}

#[test]
fn expire_and_persist_report_the_deadline() {
    let mut f = Fixture::new();
    f.given(&["SET fleet truck1 FIELD speed 5 POINT 33 -112"]);
    let p = point("33", "-112");
    let line = "EXPIRE fleet truck1 100";
    let kind = edit(
        "truck1",
        object(&p, &[("speed", "5")], false),
        object(&p, &[("speed", "5")], true),
    );
    assert_eq!(f.one(line), rec("expire", line, "fleet", kind));
    let line = "PERSIST fleet truck1";
    let kind = edit(
        "truck1",
        object(&p, &[("speed", "5")], true),
        object(&p, &[("speed", "5")], false),
    );
    assert_eq!(f.one(line), rec("persist", line, "fleet", kind));
    f.none("PERSIST fleet truck1", ":0\r\n");
    f.none("EXPIRE fleet truck9 100", ":0\r\n");
    f.none("EXPIRE nokey truck1 100", ":0\r\n");
}

#[test]
fn hook_definitions_and_their_expiry_are_reported() {
    let mut f = Fixture::new();
    let line = "SETCHAN ch NEARBY fleet FENCE POINT 33 -112 1000";
    assert_eq!(f.one(line), rec("setchan", line, "", Kind::Definitions));
    f.none(line, ":0\r\n");
    let line = "DELCHAN ch";
    assert_eq!(f.one(line), rec("delchan", line, "", Kind::Definitions));
    f.none("DELCHAN ch", ":0\r\n");

    // Expiry is the server's own write, logged as Tile38 logs it.
    f.given(&["SETCHAN short EX 0.001 NEARBY fleet FENCE POINT 33 -112 1000"]);
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert_eq!(tile38_engine::cmd::hooks::sweep_expired(&f.engine), 1);
    let expired = Rec {
        origin: Origin::Internal,
        ..rec("delchan", "delchan short", "", Kind::Definitions)
    };
    assert_eq!(f.take(), [expired]);
}

/// A write applied from a leader's stream is shown to subscribers; a
/// record replayed from the AOF at startup is not.
#[test]
fn replicated_writes_are_seen_and_loaded_ones_are_not() {
    let f = Fixture::new();
    let args = Args::from_slices(&["SET", "fleet", "truck1", "POINT", "33", "-112"]);
    tile38_engine::cmd::replay(&f.engine, &args).unwrap();
    assert_eq!(f.take(), []);
    let args = Args::from_slices(&["DEL", "fleet", "truck1"]);
    tile38_engine::cmd::apply_replicated(&f.engine, &mut f.engine.db.write(), &args).unwrap();
    let kind = edit("truck1", object(&point("33", "-112"), &[], false), None);
    let seen = Rec {
        origin: Origin::Replicated,
        ..rec("del", "DEL fleet truck1", "fleet", kind)
    };
    assert_eq!(f.take(), [seen]);
}

/// The rewrite is invalidated by exactly the changes that are not
/// idempotent.
#[test]
fn only_non_idempotent_changes_invalidate_a_rewrite() {
    let mut f = Fixture::new();
    let invalidates = |f: &mut Fixture, line: &str| {
        f.engine.shrink.begin();
        f.run(line);
        f.engine.shrink.invalidated()
    };
    assert!(!invalidates(&mut f, "SET a 1 POINT 33 -112"));
    assert!(!invalidates(&mut f, "JSET doc d1 tags.0 x"));
    assert!(invalidates(&mut f, "JSET doc d1 tags.-1 y"));
    assert!(!invalidates(&mut f, "RENAME a a"));
    assert!(invalidates(&mut f, "RENAME a b"));
    assert!(!invalidates(&mut f, "DROP b"));
}

#[test]
fn an_unsubscribed_sink_hears_nothing_more() {
    let mut f = Fixture::new();
    assert!(f.engine.listening());
    let sink: Arc<dyn ChangeSink> = f.recorder.clone();
    assert!(f.engine.unsubscribe(&sink));
    assert!(!f.engine.unsubscribe(&sink));
    assert!(!f.engine.listening());
    f.none("SET fleet truck1 POINT 33 -112", "+OK\r\n");
}

/// The AOF logs each changing write's arguments as the client sent them,
/// and nothing for the rest.
#[test]
fn the_aof_gets_the_records_it_always_got() {
    let dir = std::env::temp_dir().join(format!("tile38-journal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("appendonly.aof");
    let _ = std::fs::remove_file(&path);
    let aof = tile38_aof::Aof::open(&path).unwrap();
    let config = tile38_engine::config::Config::load(None).unwrap();
    let mut f = Fixture::with_engine(Engine::new(Options::in_process(), config, Some(aof)));
    let lines = [
        "SET fleet truck1 POINT 33 -112",
        "SET fleet truck1 NX POINT 1 2",
        "set fleet truck2 FIELD speed 5 POINT 34 -112",
        "FSET fleet truck2 speed 5",
        "FSET fleet truck2 speed 6",
        "EXPIRE fleet truck2 100",
        "PERSIST fleet truck2",
        "PERSIST fleet truck2",
        "JSET doc d1 a 1",
        "DEL fleet truck9",
        "DEL fleet truck1",
        "PDEL fleet nothing*",
        "RENAME doc doc2",
        "DROP doc2",
        "SETCHAN ch NEARBY fleet FENCE POINT 33 -112 1000",
        "FLUSHDB",
    ];
    for line in lines {
        f.run(line);
    }
    f.engine.aof.as_ref().unwrap().flush().unwrap();
    let logged = [0, 2, 4, 5, 6, 8, 10, 12, 13, 14, 15];
    let mut expected = Vec::new();
    for i in logged {
        let words: Vec<&str> = lines[i].split(' ').collect();
        expected.extend_from_slice(format!("*{}\r\n", words.len()).as_bytes());
        for w in words {
            expected.extend_from_slice(format!("${}\r\n{w}\r\n", w.len()).as_bytes());
        }
    }
    assert_eq!(text(&std::fs::read(&path).unwrap()), text(&expected));
    assert_eq!(f.take().len(), logged.len());
    let _ = std::fs::remove_dir_all(&dir);
}
