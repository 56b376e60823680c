//! The `<data dir>/config` file: format (tab-indented sorted JSON, mode
//! 0600, 32-hex `server_id` stable across restarts), `CONFIG SET` +
//! `CONFIG REWRITE` persistence of `requirepass` (AUTH required after a
//! restart), `CONFIG SET` without REWRITE being memory-only, and `READONLY`
//! persisting immediately.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use tile38::{resp_strings, temp_dir, Resp, TestServer};

fn config_text(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("config")).expect("config file")
}

fn stop(srv: TestServer) {
    let status = srv.terminate();
    assert!(status.success(), "{status:?}");
}

/// The `server_id` from the config file, checked to be 32 lowercase hex.
fn server_id(dir: &Path) -> String {
    let v: serde_json::Value = serde_json::from_str(&config_text(dir)).expect("config is JSON");
    let id = v["server_id"].as_str().expect("server_id").to_string();
    assert_eq!(id.len(), 32, "{id}");
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{id}"
    );
    id
}

fn server_field(c: &mut Resp, name: &str) -> String {
    let kv = resp_strings(&c.cmd(&["SERVER"]));
    kv.chunks(2)
        .find(|p| p[0] == name)
        .map(|p| p[1].clone())
        .unwrap_or_else(|| panic!("no {name} in {kv:?}"))
}

#[test]
fn config_file_format_and_stable_server_id() {
    let root = temp_dir("cfg");
    let dir = root.join("data"); // created by the server
    let srv = TestServer::start_in(&dir, &[]);
    let id = server_id(&dir);
    assert_eq!(
        config_text(&dir),
        format!("{{\n\t\"server_id\": \"{id}\"\n}}\n")
    );
    assert_eq!(
        std::fs::metadata(dir.join("config"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert_eq!(server_field(&mut srv.resp(), "id"), id);
    stop(srv);
    let srv = TestServer::start_in(&dir, &[]);
    assert_eq!(server_id(&dir), id, "server_id must survive a restart");
    assert_eq!(server_field(&mut srv.resp(), "id"), id);
    drop(srv);
    // Another data dir gets another id.
    let other = TestServer::start_in(&root.join("other"), &[]);
    assert_ne!(server_id(&root.join("other")), id);
    drop(other);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn requirepass_persists_after_config_rewrite() {
    let dir = temp_dir("requirepass");
    let srv = TestServer::start_in(&dir, &[]);
    let id = server_id(&dir);
    let mut c = srv.resp();
    assert_eq!(
        c.cmd(&["SET", "fleet", "t1", "POINT", "1", "2"]),
        b"+OK\r\n"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "requirepass", "secret"]),
        b"+OK\r\n"
    );
    // Setting the password does not authenticate the issuing connection.
    assert_eq!(
        c.cmd(&["CONFIG", "REWRITE"]),
        b"-ERR authentication required\r\n"
    );
    assert_eq!(c.cmd(&["AUTH", "secret"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["CONFIG", "REWRITE"]), b"+OK\r\n");
    assert_eq!(
        config_text(&dir),
        format!("{{\n\t\"requirepass\": \"secret\",\n\t\"server_id\": \"{id}\"\n}}\n")
    );
    assert_eq!(
        std::fs::metadata(dir.join("config"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    stop(srv);

    let srv = TestServer::start_in(&dir, &[]);
    let mut c = srv.resp();
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
    assert_eq!(c.cmd(&["HEALTHZ"]), b"+OK\r\n");
    assert_eq!(
        c.cmd(&["GET", "fleet", "t1", "POINT"]),
        b"-ERR authentication required\r\n"
    );
    assert_eq!(c.cmd(&["AUTH", "nope"]), b"-ERR invalid password\r\n");
    assert_eq!(c.cmd(&["AUTH", "secret"]), b"+OK\r\n");
    assert_eq!(
        c.cmd(&["GET", "fleet", "t1", "POINT"]),
        b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "requirepass"]),
        b"*2\r\n$11\r\nrequirepass\r\n$6\r\nsecret\r\n"
    );
    // The redis crate authenticates through the URL.
    let url = format!("redis://:secret@{}/", srv.addr());
    let mut con = redis::Client::open(url).unwrap().get_connection().unwrap();
    let n: i64 = redis::cmd("SCAN")
        .arg("fleet")
        .arg("COUNT")
        .query(&mut con)
        .unwrap();
    assert_eq!(n, 1);
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn config_set_without_rewrite_is_memory_only() {
    let dir = temp_dir("norewrite");
    let srv = TestServer::start_in(&dir, &[]);
    let before = config_text(&dir);
    let mut c = srv.resp();
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", "10mb"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["CONFIG", "SET", "keepalive", "100"]), b"+OK\r\n");
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "maxmemory"]),
        b"*2\r\n$9\r\nmaxmemory\r\n$4\r\n10mb\r\n"
    );
    assert_eq!(
        config_text(&dir),
        before,
        "CONFIG SET alone must not touch the file"
    );
    stop(srv);
    let srv = TestServer::start_in(&dir, &[]);
    let mut c = srv.resp();
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "maxmemory"]),
        b"*2\r\n$9\r\nmaxmemory\r\n$0\r\n\r\n"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "keepalive"]),
        b"*2\r\n$9\r\nkeepalive\r\n$3\r\n300\r\n"
    );
    // With REWRITE the values are written (non-defaults only) and reloaded.
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", "10mb"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["CONFIG", "REWRITE"]), b"+OK\r\n");
    let v: serde_json::Value = serde_json::from_str(&config_text(&dir)).unwrap();
    assert_eq!(v["maxmemory"], "10mb");
    assert!(v.get("keepalive").is_none(), "defaults are omitted: {v}");
    stop(srv);
    let srv = TestServer::start_in(&dir, &[]);
    assert_eq!(
        srv.resp().cmd(&["CONFIG", "GET", "maxmemory"]),
        b"*2\r\n$9\r\nmaxmemory\r\n$4\r\n10mb\r\n"
    );
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn readonly_persists_across_restart() {
    let dir = temp_dir("readonly");
    let srv = TestServer::start_in(&dir, &[]);
    let id = server_id(&dir);
    let mut c = srv.resp();
    assert_eq!(
        c.cmd(&["SET", "fleet", "t1", "POINT", "1", "2"]),
        b"+OK\r\n"
    );
    assert_eq!(c.cmd(&["READONLY", "yes"]), b"+OK\r\n");
    // Written at once, no CONFIG REWRITE needed.
    assert_eq!(
        config_text(&dir),
        format!("{{\n\t\"read_only\": true,\n\t\"server_id\": \"{id}\"\n}}\n")
    );
    assert_eq!(
        c.cmd(&["SET", "fleet", "t2", "POINT", "1", "2"]),
        b"-ERR read only\r\n"
    );
    stop(srv);

    let srv = TestServer::start_in(&dir, &[]);
    let mut c = srv.resp();
    assert_eq!(
        c.cmd(&["SET", "fleet", "t2", "POINT", "1", "2"]),
        b"-ERR read only\r\n"
    );
    assert_eq!(c.cmd(&["DEL", "fleet", "t1"]), b"-ERR read only\r\n");
    assert_eq!(
        c.cmd(&["FSET", "fleet", "t1", "a", "1"]),
        b"-ERR read only\r\n"
    );
    assert_eq!(
        c.cmd(&["GET", "fleet", "t1", "POINT"]),
        b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    );
    assert_eq!(server_field(&mut c, "read_only"), "true");
    assert_eq!(c.cmd(&["READONLY", "no"]), b"+OK\r\n");
    assert_eq!(
        config_text(&dir),
        format!("{{\n\t\"server_id\": \"{id}\"\n}}\n")
    );
    assert_eq!(
        c.cmd(&["SET", "fleet", "t2", "POINT", "1", "2"]),
        b"+OK\r\n"
    );
    assert_eq!(server_field(&mut c, "read_only"), "false");
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}
