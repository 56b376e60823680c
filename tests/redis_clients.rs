//! Real Redis clients against the server: the `redis` crate (typed
//! replies for SET/GET/PING/DEL/KEYS/SCAN/FSET/FGET/EXPIRE/TTL, pipelines,
//! errors surfacing as `redis::RedisError` with the exact code and message)
//! and the `redis-cli` binary (one-shot commands in raw and formatted mode,
//! `-x`, `-a`, and a piped multi-command stdin session).

use std::io::Write;
use std::process::{Command, Stdio};

use redis::{RedisError, Value};
use tile38::TestServer;

fn cmd(name: &str, args: &[&str]) -> redis::Cmd {
    let mut c = redis::cmd(name);
    for a in args {
        c.arg(*a);
    }
    c
}

/// Runs a command that must fail and returns the error.
fn err(con: &mut redis::Connection, name: &str, args: &[&str]) -> RedisError {
    match cmd(name, args).query::<Value>(con) {
        Ok(v) => panic!("{name} {args:?} should fail, got {v:?}"),
        Err(e) => e,
    }
}

#[test]
fn redis_crate_set_get_ping_del() {
    let srv = TestServer::start(&[]);
    let mut con = srv.redis();
    let ok: String = redis::cmd("SET")
        .arg("fleet")
        .arg("truck1")
        .arg("POINT")
        .arg(33)
        .arg(-112)
        .query(&mut con)
        .unwrap();
    assert_eq!(ok, "OK");
    let obj: Option<String> = redis::cmd("GET")
        .arg("fleet")
        .arg("truck1")
        .query(&mut con)
        .unwrap();
    assert_eq!(
        obj.as_deref(),
        Some(r#"{"type":"Point","coordinates":[-112,33]}"#)
    );
    let point: Vec<f64> = cmd("GET", &["fleet", "truck1", "POINT"])
        .query(&mut con)
        .unwrap();
    assert_eq!(point, [33.0, -112.0]);
    let missing: Option<String> = cmd("GET", &["fleet", "nope"]).query(&mut con).unwrap();
    assert_eq!(missing, None);
    let missing_key: Option<String> = cmd("GET", &["nokey", "nope"]).query(&mut con).unwrap();
    assert_eq!(missing_key, None);
    let pong: String = redis::cmd("PING").query(&mut con).unwrap();
    assert_eq!(pong, "PONG");
    let echo: String = cmd("PING", &["hello"]).query(&mut con).unwrap();
    assert_eq!(echo, "hello");
    let deleted: i64 = cmd("DEL", &["fleet", "truck1"]).query(&mut con).unwrap();
    assert_eq!(deleted, 1);
    let deleted: i64 = cmd("DEL", &["fleet", "truck1"]).query(&mut con).unwrap();
    assert_eq!(deleted, 0);
    // The last object gone, the key is gone too.
    let keys: Vec<String> = cmd("KEYS", &["*"]).query(&mut con).unwrap();
    assert!(keys.is_empty());
}

#[test]
fn redis_crate_keys_and_scan() {
    let srv = TestServer::start(&[]);
    let mut con = srv.redis();
    for (key, id) in [
        ("fleet", "t3"),
        ("fleet", "t1"),
        ("fleet", "t2"),
        ("props", "p1"),
        ("fleet2", "x"),
    ] {
        let _: () = cmd("SET", &[key, id, "POINT", "33", "-112"])
            .query(&mut con)
            .unwrap();
    }
    let keys: Vec<String> = cmd("KEYS", &["*"]).query(&mut con).unwrap();
    assert_eq!(keys, ["fleet", "fleet2", "props"]);
    let keys: Vec<String> = cmd("KEYS", &["fleet*"]).query(&mut con).unwrap();
    assert_eq!(keys, ["fleet", "fleet2"]);
    let (cursor, ids): (i64, Vec<String>) = cmd("SCAN", &["fleet", "IDS"]).query(&mut con).unwrap();
    assert_eq!(
        (cursor, ids),
        (0, vec!["t1".into(), "t2".into(), "t3".into()])
    );
    // Paging with LIMIT / CURSOR.
    let (cursor, ids): (i64, Vec<String>) = cmd("SCAN", &["fleet", "LIMIT", "2", "IDS"])
        .query(&mut con)
        .unwrap();
    assert_eq!((cursor, ids), (2, vec!["t1".into(), "t2".into()]));
    let (cursor, ids): (i64, Vec<String>) =
        cmd("SCAN", &["fleet", "CURSOR", "2", "LIMIT", "2", "IDS"])
            .query(&mut con)
            .unwrap();
    assert_eq!((cursor, ids), (0, vec!["t3".into()]));
    let count: i64 = cmd("SCAN", &["fleet", "COUNT"]).query(&mut con).unwrap();
    assert_eq!(count, 3);
    // Object output: [cursor, [[id, object], …]].
    let (cursor, items): (i64, Vec<(String, String)>) =
        cmd("SCAN", &["fleet", "DESC", "LIMIT", "1"])
            .query(&mut con)
            .unwrap();
    assert_eq!(cursor, 1);
    assert_eq!(
        items,
        [(
            "t3".to_string(),
            r#"{"type":"Point","coordinates":[-112,33]}"#.to_string()
        )]
    );
}

#[test]
fn redis_crate_fields() {
    let srv = TestServer::start(&[]);
    let mut con = srv.redis();
    let _: () = cmd(
        "SET",
        &["fleet", "t1", "FIELD", "speed", "50", "POINT", "33", "-112"],
    )
    .query(&mut con)
    .unwrap();
    let changed: i64 = cmd("FSET", &["fleet", "t1", "speed", "55", "name", "bob"])
        .query(&mut con)
        .unwrap();
    assert_eq!(changed, 2);
    let changed: i64 = cmd("FSET", &["fleet", "t1", "speed", "55"])
        .query(&mut con)
        .unwrap();
    assert_eq!(changed, 0);
    let speed: String = cmd("FGET", &["fleet", "t1", "speed"])
        .query(&mut con)
        .unwrap();
    assert_eq!(speed, "55");
    let speed: f64 = cmd("FGET", &["fleet", "t1", "speed"])
        .query(&mut con)
        .unwrap();
    assert_eq!(speed, 55.0);
    let unset: String = cmd("FGET", &["fleet", "t1", "nothing"])
        .query(&mut con)
        .unwrap();
    assert_eq!(unset, "0");
    let (point, fields): (Vec<String>, Vec<String>) =
        cmd("GET", &["fleet", "t1", "WITHFIELDS", "POINT"])
            .query(&mut con)
            .unwrap();
    assert_eq!(point, ["33", "-112"]);
    assert_eq!(fields, ["name", "bob", "speed", "55"]);
    let xx: i64 = cmd("FSET", &["fleet", "ghost", "XX", "a", "1"])
        .query(&mut con)
        .unwrap();
    assert_eq!(xx, 0);
    assert_eq!(
        err(&mut con, "FSET", &["fleet", "ghost", "a", "1"]).detail(),
        Some("id not found")
    );
    assert_eq!(
        err(&mut con, "FSET", &["fleet", "t1", "z", "1"]).detail(),
        Some("invalid argument 'z'")
    );
}

#[test]
fn redis_crate_expire_and_ttl() {
    let srv = TestServer::start(&[]);
    let mut con = srv.redis();
    let _: () = cmd("SET", &["fleet", "t1", "EX", "100", "POINT", "33", "-112"])
        .query(&mut con)
        .unwrap();
    let ttl: i64 = cmd("TTL", &["fleet", "t1"]).query(&mut con).unwrap();
    assert!((98..=100).contains(&ttl), "ttl {ttl}");
    let ok: i64 = cmd("EXPIRE", &["fleet", "t1", "500.5"])
        .query(&mut con)
        .unwrap();
    assert_eq!(ok, 1);
    let ttl: i64 = cmd("TTL", &["fleet", "t1"]).query(&mut con).unwrap();
    assert!((498..=500).contains(&ttl), "ttl {ttl}");
    let persisted: i64 = cmd("PERSIST", &["fleet", "t1"]).query(&mut con).unwrap();
    assert_eq!(persisted, 1);
    let ttl: i64 = cmd("TTL", &["fleet", "t1"]).query(&mut con).unwrap();
    assert_eq!(ttl, -1);
    let ttl: i64 = cmd("TTL", &["fleet", "nope"]).query(&mut con).unwrap();
    assert_eq!(ttl, -2);
    let missing: i64 = cmd("EXPIRE", &["fleet", "nope", "10"])
        .query(&mut con)
        .unwrap();
    assert_eq!(missing, 0);
    assert_eq!(
        err(&mut con, "EXPIRE", &["fleet", "t1", "soon"]).detail(),
        Some("invalid argument 'soon'")
    );
}

#[test]
fn redis_crate_errors_carry_exact_messages() {
    let srv = TestServer::start(&[]);
    let mut con = srv.redis();
    let cases: &[(&str, &[&str], &str, Option<&str>)] = &[
        (
            "GET",
            &["fleet"],
            "ERR",
            Some("wrong number of arguments for 'get' command"),
        ),
        ("FOO", &[], "ERR", Some("unknown command 'FOO'")),
        ("foo", &["bar"], "ERR", Some("unknown command 'foo'")),
        (
            "SET",
            &["fleet", "t1", "POINT", "33f", "-112"],
            "ERR",
            Some("invalid argument '33f'"),
        ),
        (
            "SET",
            &["fleet", "t1", "OBJECT", "asd"],
            "ERR",
            Some("invalid data"),
        ),
        (
            "GET",
            &["fleet", "t1", "HASH", "13"],
            "ERR",
            Some("invalid argument '13'"),
        ),
        (
            "DEL",
            &["fleet", "t1", "ERRON404"],
            "ERR",
            Some("key not found"),
        ),
        ("HELLO", &["3"], "ERR", Some("unknown command 'HELLO'")),
        ("AOFMD5", &["0", "100000000000"], "EOF", None),
    ];
    for (name, args, code, detail) in cases {
        let e = err(&mut con, name, args);
        assert_eq!(e.code(), Some(*code), "{name} {args:?}: {e}");
        assert_eq!(e.detail(), *detail, "{name} {args:?}: {e}");
    }
    // The connection survives errors.
    let pong: String = redis::cmd("PING").query(&mut con).unwrap();
    assert_eq!(pong, "PONG");
}

#[test]
fn redis_crate_pipeline() {
    let srv = TestServer::start(&[]);
    let mut con = srv.redis();
    let mut pipe = redis::pipe();
    for i in 0..50 {
        pipe.cmd("SET")
            .arg("fleet")
            .arg(format!("t{i:02}"))
            .arg("POINT")
            .arg(i)
            .arg(-i)
            .ignore();
    }
    pipe.cmd("SCAN").arg("fleet").arg("COUNT");
    pipe.cmd("GET").arg("fleet").arg("t07").arg("POINT");
    pipe.cmd("PING");
    let (count, point, pong): (i64, Vec<String>, String) = pipe.query(&mut con).unwrap();
    assert_eq!(
        (count, point, pong.as_str()),
        (50, vec!["7".into(), "-7".into()], "PONG")
    );
}

/// Runs `redis-cli -p PORT args…` and returns stdout (asserting exit 0).
fn cli(srv: &TestServer, args: &[&str]) -> String {
    cli_stdin(srv, args, None)
}

fn cli_stdin(srv: &TestServer, args: &[&str], stdin: Option<&str>) -> String {
    let mut child = Command::new("/usr/bin/redis-cli")
        .args(["-h", "127.0.0.1", "-p", &srv.port.to_string()])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn redis-cli");
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "redis-cli {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn redis_cli_one_shot_commands() {
    let srv = TestServer::start(&[]);
    assert_eq!(
        cli(&srv, &["SET", "fleet", "truck1", "POINT", "33", "-112"]),
        "OK\n"
    );
    assert_eq!(
        cli(&srv, &["--raw", "GET", "fleet", "truck1"]),
        "{\"type\":\"Point\",\"coordinates\":[-112,33]}\n"
    );
    assert_eq!(
        cli(&srv, &["--no-raw", "GET", "fleet", "truck1"]),
        "\"{\\\"type\\\":\\\"Point\\\",\\\"coordinates\\\":[-112,33]}\"\n"
    );
    assert_eq!(
        cli(&srv, &["--no-raw", "GET", "fleet", "truck1", "POINT"]),
        "1) \"33\"\n2) \"-112\"\n"
    );
    assert_eq!(cli(&srv, &["--no-raw", "GET", "fleet", "nope"]), "(nil)\n");
    assert_eq!(
        cli(&srv, &["--no-raw", "SCAN", "fleet", "IDS"]),
        "1) (integer) 0\n2) 1) \"truck1\"\n"
    );
    assert_eq!(
        cli(&srv, &["--no-raw", "TTL", "fleet", "truck1"]),
        "(integer) -1\n"
    );
    assert_eq!(cli(&srv, &["PING"]), "PONG\n");
    assert_eq!(
        cli(&srv, &["--no-raw", "FOO"]),
        "(error) ERR unknown command 'FOO'\n"
    );
    assert_eq!(
        cli(&srv, &["--no-raw", "GET", "fleet"]),
        "(error) ERR wrong number of arguments for 'get' command\n"
    );
}

#[test]
fn redis_cli_x_reads_last_argument_from_stdin() {
    let srv = TestServer::start(&[]);
    assert_eq!(
        cli_stdin(
            &srv,
            &["-x", "SET", "notes", "n1", "STRING"],
            Some("hello world\n")
        ),
        "OK\n"
    );
    assert_eq!(
        cli(&srv, &["--raw", "GET", "notes", "n1"]),
        "hello world\n\n"
    );
    assert_eq!(
        cli(&srv, &["--no-raw", "GET", "notes", "n1"]),
        "\"hello world\\n\"\n"
    );
}

#[test]
fn redis_cli_piped_session() {
    let srv = TestServer::start(&[]);
    let script = "SET fleet t1 POINT 1 2\n\
                  SET fleet t2 FIELD speed 90 POINT 3 4\n\
                  GET fleet t2 POINT\n\
                  FGET fleet t2 speed\n\
                  FOO\n\
                  SCAN fleet IDS\n\
                  DEL fleet t1\n\
                  KEYS *\n\
                  PING\n";
    let out = cli_stdin(&srv, &["--no-raw"], Some(script));
    let want = "OK\nOK\n1) \"3\"\n2) \"4\"\n\"90\"\n(error) ERR unknown command 'FOO'\n\
                1) (integer) 0\n2) 1) \"t1\"\n   2) \"t2\"\n(integer) 1\n1) \"fleet\"\nPONG\n";
    assert_eq!(out, want);
    // Raw mode (the default when stdout is not a terminal).
    let out = cli_stdin(&srv, &[], Some("GET fleet t2 POINT\nTTL fleet t2\n"));
    assert_eq!(out, "3\n4\n-1\n");
}

#[test]
fn redis_cli_with_password() {
    let srv = TestServer::start(&[]);
    let _: () = cmd("CONFIG", &["SET", "requirepass", "s3cret"])
        .query(&mut srv.redis())
        .unwrap();
    assert_eq!(
        cli(&srv, &["--no-raw", "SET", "a", "b", "POINT", "1", "2"]),
        "(error) ERR authentication required\n"
    );
    let out = cli(
        &srv,
        &[
            "--no-auth-warning",
            "-a",
            "s3cret",
            "SET",
            "a",
            "b",
            "POINT",
            "1",
            "2",
        ],
    );
    assert_eq!(out, "OK\n");
    // PING is allowed without AUTH.
    assert_eq!(cli(&srv, &["PING"]), "PONG\n");
}

/// Clients that send a two-word command as one argument (node-redis's
/// `CONFIG GET`): Tile38 names the command by the whole first argument.
/// INFO's CPU figures are whole seconds, so clients that read them as
/// integers after the `.00` accept them.
#[test]
fn redis_crate_config_get_as_one_argument_and_info_cpu() {
    let srv = TestServer::start(&[]);
    let mut con = srv.redis();
    let props: Vec<String> = cmd("CONFIG GET", &["maxmemory"]).query(&mut con).unwrap();
    assert_eq!(props, ["maxmemory", ""]);
    let ok: String = cmd("CONFIG SET", &["maxmemory", "1gb"])
        .query(&mut con)
        .unwrap();
    assert_eq!(ok, "OK");
    let props: Vec<String> = cmd("config get", &["maxmemory"]).query(&mut con).unwrap();
    assert_eq!(props, ["maxmemory", "1gb"]);
    let e = err(&mut con, "CONFIG", &["GET maxmemory"]);
    assert_eq!(e.detail(), Some("unknown command 'CONFIG GET maxmemory'"));
    let e = err(&mut con, "SERVER EXT", &[]);
    assert_eq!(e.detail(), Some("unknown command 'SERVER EXT'"));
    let info: redis::InfoDict = cmd("INFO", &["cpu"]).query(&mut con).unwrap();
    for key in ["used_cpu_sys", "used_cpu_user"] {
        let v: String = info.get(key).unwrap();
        let whole = v
            .strip_suffix(".00")
            .unwrap_or_else(|| panic!("{key}: {v}"));
        assert!(whole.parse::<u64>().is_ok(), "{key}: {v}");
    }
}
