//! Hook and channel definitions beyond the conformance replies: what the
//! AOF records (the client's command for each change, nothing for no-ops,
//! `delchan`/`delhook` when an EX runs out), that a restart serves the same
//! definitions, and their interplay with FLUSHDB, DROP, RENAME, READONLY,
//! SERVER and `GET` fences.

use std::path::Path;
use std::time::Duration;

use tile38::{read_resp, resp_strings, temp_dir, Resp, TestServer};

/// The AOF's records, each as its words.
fn records(dir: &Path) -> Vec<Vec<String>> {
    let bytes = std::fs::read(dir.join("appendonly.aof")).unwrap_or_default();
    let mut r = bytes.as_slice();
    let mut out = Vec::new();
    while !r.is_empty() {
        let rec = read_resp(&mut r).expect("AOF record");
        out.push(resp_strings(&rec));
    }
    out
}

fn verbs(dir: &Path) -> Vec<String> {
    records(dir).into_iter().map(|r| r[0].clone()).collect()
}

fn stop(srv: TestServer) {
    assert!(srv.terminate().success());
}

fn cmd(c: &mut Resp, line: &str) -> String {
    c.cmd_str(&line.split(' ').collect::<Vec<_>>())
}

#[test]
fn changes_are_logged_verbatim_and_survive_a_restart() {
    let dir = temp_dir("hooks-restart");
    let srv = TestServer::start_in(&dir, &[]);
    let mut c = srv.resp();
    let set_h1 = "SETHOOK h1 http://127.0.0.1:1/a META b 2 META a 1 META b 3 WITHIN fleet FENCE BOUNDS 0 0 1 1";
    assert_eq!(cmd(&mut c, set_h1), ":1\r\n");
    assert_eq!(cmd(&mut c, set_h1), ":0\r\n", "identical definition");
    let chans = [
        "SETCHAN c1 meta k v INTERSECTS fleet BOUNDS 0 0 1 1",
        "SETCHAN x1 NEARBY fleet FENCE POINT 1 2 3",
        "SETCHAN x2 NEARBY fleet FENCE ROAM fleet * 100",
    ];
    for line in chans {
        assert_eq!(cmd(&mut c, line), ":1\r\n", "{line}");
    }
    assert_eq!(cmd(&mut c, "PDELCHAN x*"), ":2\r\n");
    assert_eq!(cmd(&mut c, "PDELCHAN x*"), ":0\r\n");
    assert_eq!(cmd(&mut c, "DELHOOK nope"), ":0\r\n");
    assert_eq!(cmd(&mut c, "DELCHAN h1"), ":0\r\n", "h1 is a hook");
    assert_eq!(
        cmd(&mut c, "SETHOOK h2 grpc://h:1 NEARBY fleet POINT 1 2"),
        ":1\r\n"
    );
    assert_eq!(cmd(&mut c, "DELHOOK h2"), ":1\r\n");
    let hooks = cmd(&mut c, "HOOKS *");
    let chans_now = cmd(&mut c, "CHANS *");
    // META names deduplicated (last value wins) and sorted.
    assert!(hooks.ends_with("*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n3\r\n"));
    assert!(cmd(&mut c, "SERVER").contains("num_hooks\r\n$1\r\n2\r\n"));
    stop(srv);

    assert_eq!(
        verbs(&dir),
        ["SETHOOK", "SETCHAN", "SETCHAN", "SETCHAN", "PDELCHAN", "SETHOOK", "DELHOOK"]
    );
    assert_eq!(records(&dir)[0].join(" "), set_h1);

    let srv = TestServer::start_in(&dir, &[]);
    let mut c = srv.resp();
    assert_eq!(cmd(&mut c, "HOOKS *"), hooks);
    assert_eq!(cmd(&mut c, "CHANS *"), chans_now);
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn expiry_removes_and_logs_like_tile38() {
    let dir = temp_dir("hooks-expiry");
    let srv = TestServer::start_in(&dir, &[]);
    let mut c = srv.resp();
    assert_eq!(
        cmd(&mut c, "SETCHAN tmp EX 0.3 NEARBY fleet FENCE POINT 0 0 10"),
        ":1\r\n"
    );
    assert_eq!(
        cmd(
            &mut c,
            "SETHOOK htmp http://x/y ex 0.4 NEARBY fleet POINT 0 0"
        ),
        ":1\r\n"
    );
    assert_eq!(
        cmd(&mut c, "SETCHAN keep EX 1000 NEARBY fleet POINT 0 0"),
        ":1\r\n"
    );
    let mut j = srv.resp();
    assert!(cmd(&mut j, "OUTPUT json").contains(r#""ok":true"#));
    let listed = cmd(&mut j, "CHANS keep");
    assert!(listed.contains(r#""ttl":999,"#) || listed.contains(r#""ttl":1000,"#));
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(cmd(&mut c, "HOOKS *"), "*0\r\n");
    assert_eq!(cmd(&mut c, "CHANS t*"), "*0\r\n");
    assert!(cmd(&mut c, "SERVER").contains("num_hooks\r\n$1\r\n1\r\n"));
    // The records are written by the sweep; until the background tick runs
    // it, the next write that touches definitions does.
    assert_eq!(cmd(&mut c, "DELCHAN nothing"), ":0\r\n");
    stop(srv);
    let recs = records(&dir);
    let tail: Vec<String> = recs[recs.len() - 2..].iter().map(|r| r.join(" ")).collect();
    assert_eq!(tail, ["delchan tmp", "delhook htmp"]);

    let srv = TestServer::start_in(&dir, &[]);
    let mut c = srv.resp();
    assert_eq!(cmd(&mut c, "HOOKS *"), "*0\r\n");
    assert!(cmd(&mut c, "CHANS *").contains("keep"));
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn flushdb_clears_drop_keeps_rename_refuses() {
    let dir = temp_dir("hooks-keys");
    let srv = TestServer::start_in(&dir, &[]);
    let mut c = srv.resp();
    assert_eq!(cmd(&mut c, "SET fleet a POINT 1 2"), "+OK\r\n");
    assert_eq!(cmd(&mut c, "SET other a POINT 1 2"), "+OK\r\n");
    assert_eq!(
        cmd(&mut c, "SETHOOK h http://x/y NEARBY target POINT 1 2"),
        ":1\r\n"
    );
    assert_eq!(
        cmd(&mut c, "RENAME fleet target"),
        "-ERR key has hooks set\r\n",
        "the target key is watched"
    );
    assert_eq!(cmd(&mut c, "SETCHAN ch WITHIN fleet GET other a"), ":1\r\n");
    assert_eq!(
        cmd(&mut c, "SETCHAN ch2 WITHIN fleet GET other nope"),
        "-ERR id not found\r\n"
    );
    assert_eq!(
        cmd(&mut c, "SETCHAN ch2 WITHIN fleet GET nokey a"),
        "-ERR key not found\r\n"
    );
    assert_eq!(cmd(&mut c, "DROP fleet"), ":1\r\n");
    assert!(
        cmd(&mut c, "CHANS *").starts_with("*1\r\n"),
        "DROP keeps channels"
    );
    assert_eq!(cmd(&mut c, "READONLY yes"), "+OK\r\n");
    assert_eq!(cmd(&mut c, "DELCHAN ch"), "-ERR read only\r\n");
    assert_eq!(cmd(&mut c, "READONLY no"), "+OK\r\n");
    assert_eq!(cmd(&mut c, "FLUSHDB"), "+OK\r\n");
    assert_eq!(cmd(&mut c, "CHANS *"), "*0\r\n");
    assert_eq!(cmd(&mut c, "HOOKS *"), "*0\r\n");
    stop(srv);
    let srv = TestServer::start_in(&dir, &[]);
    let mut c = srv.resp();
    assert_eq!(cmd(&mut c, "CHANS *"), "*0\r\n");
    assert_eq!(cmd(&mut c, "HOOKS *"), "*0\r\n");
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn endpoint_lists_and_json_listing() {
    let srv = TestServer::start(&[]);
    let mut c = srv.resp();
    // Split at commas, then trimmed (so a Kafka broker list cannot be one).
    let urls = "http://a/b, grpc://h:1";
    let reply = c.cmd_str(&["SETHOOK", "m", urls, "NEARBY", "fleet", "POINT", "1", "2"]);
    assert_eq!(reply, ":1\r\n");
    assert_eq!(
        c.cmd_str(&[
            "SETHOOK",
            "n",
            "http://a/b,",
            "NEARBY",
            "fleet",
            "POINT",
            "1",
            "2"
        ]),
        "-ERR invalid argument ''\r\n"
    );
    assert!(cmd(&mut c, "OUTPUT json").contains(r#""ok":true"#));
    let json = cmd(&mut c, "HOOKS m");
    let body = json.split("\r\n").nth(1).unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(body).expect("JSON reply");
    assert_eq!(
        v["hooks"][0]["endpoints"],
        serde_json::json!(["http://a/b", "grpc://h:1"])
    );
    assert_eq!(v["hooks"][0]["ttl"], -1);
    assert_eq!(
        v["hooks"][0]["command"],
        serde_json::json!(["NEARBY", "fleet", "POINT", "1", "2"])
    );
}
