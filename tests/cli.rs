//! `tile38-cli` against the real server: one-shot commands in JSON, RESP and
//! raw modes, exit statuses, arguments with blanks and JSON, passwords and
//! commands on stdin. Also the server's `--log-format json`. The
//! interactive prompt on a pseudo-terminal is in `cli_terminal.rs`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Output, Stdio};

use tile38::{temp_dir, TestServer};

const CLI: &str = env!("CARGO_BIN_EXE_tile38-cli");

/// Runs the cli to completion with `stdin` as input.
fn cli_with(args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Output {
    let mut child = Command::new(CLI)
        .args(args)
        .env_remove("TILE38_PASSWORD")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tile38-cli");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().expect("wait tile38-cli")
}

fn cli(s: &TestServer, args: &[&str]) -> Output {
    let port = s.port.to_string();
    let mut all = vec!["-p", port.as_str()];
    all.extend_from_slice(args);
    cli_with(&all, &[], b"")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

/// The stored object of `fleet id`, read over a separate RESP connection.
fn stored(s: &TestServer, id: &str) -> String {
    String::from_utf8_lossy(&s.resp().cmd(&["GET", "fleet", id])).into_owned()
}

#[test]
fn one_shot_json_mode() {
    let s = TestServer::start(&[]);
    let set = cli(
        &s,
        &[
            "SET", "fleet", "truck1", "FIELD", "speed", "10", "POINT", "33", "-112",
        ],
    );
    assert_eq!(set.status.code(), Some(0), "{}", stderr(&set));
    assert_eq!(json(&set)["ok"], true);
    let get = cli(&s, &["GET", "fleet", "truck1", "WITHFIELDS"]);
    assert_eq!(get.status.code(), Some(0));
    let out = stdout(&get);
    assert_eq!(out.lines().count(), 1, "one line, not indented: {out}");
    assert!(out.starts_with(r#"{"ok":true,"object":{"type":"Point","coordinates":[-112,33]},"fields":{"speed":10},"elapsed":""#));
    let pretty = cli(&s, &["--pretty", "GET", "fleet", "truck1"]);
    let text = stdout(&pretty);
    assert!(
        text.contains(
            "\n  \"object\": {\n    \"type\": \"Point\",\n    \"coordinates\": [-112, 33]\n  },"
        ),
        "{text}"
    );
    assert_eq!(json(&pretty)["object"]["coordinates"][0], -112);
}

#[test]
fn one_shot_resp_and_raw_modes() {
    let s = TestServer::start(&[]);
    cli(
        &s,
        &[
            "SET", "fleet", "truck1", "FIELD", "speed", "10", "POINT", "33", "-112",
        ],
    );
    let get = cli(&s, &["--resp", "GET", "fleet", "truck1", "WITHFIELDS"]);
    assert_eq!(
        stdout(&get),
        "1) \"{\"type\":\"Point\",\"coordinates\":[-112,33]}\"\n2) 1) \"speed\"\n   2) \"10\"\n"
    );
    let scan = cli(&s, &["--resp", "SCAN", "fleet"]);
    assert_eq!(
        stdout(&scan),
        "1) (integer) 0\n2) 1) 1) \"truck1\"\n      2) \"{\"type\":\"Point\",\"coordinates\":[-112,33]}\"\n      3) 1) \"speed\"\n         2) \"10\"\n"
    );
    assert_eq!(
        stdout(&cli(&s, &["--resp", "GET", "fleet", "nope"])),
        "(nil)\n"
    );
    assert_eq!(stdout(&cli(&s, &["--resp", "PING"])), "PONG\n");
    assert_eq!(
        stdout(&cli(&s, &["--resp", "TTL", "fleet", "truck1"])),
        "(integer) -1\n"
    );
    assert_eq!(stdout(&cli(&s, &["--resp", "KEYS", "*"])), "1) \"fleet\"\n");

    let raw = cli(&s, &["--raw", "--resp", "GET", "fleet", "truck1"]);
    assert_eq!(
        raw.stdout,
        b"$40\r\n{\"type\":\"Point\",\"coordinates\":[-112,33]}\r\n\n"
    );
    let raw = cli(&s, &["--raw", "GET", "fleet", "truck1"]);
    let text = stdout(&raw);
    let (head, body) = text.split_once("\r\n").expect("bulk frame");
    let body = body.strip_suffix("\r\n\n").expect("CRLF then newline");
    assert_eq!(head, format!("${}", body.len()));
    assert!(body.starts_with(r#"{"ok":true,"object":{"type":"Point""#));
}

#[test]
fn exit_status_reflects_errors_and_connection() {
    let s = TestServer::start(&[]);
    let missing = cli(&s, &["GET", "fleet", "nope"]);
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(json(&missing)["err"], "key not found");
    let bad = cli(&s, &["--resp", "BADCMD", "x"]);
    assert_eq!(bad.status.code(), Some(1));
    assert_eq!(stdout(&bad), "(error) ERR unknown command 'BADCMD'\n");
    assert_eq!(
        cli(&s, &["--raw", "GET", "fleet", "nope"]).status.code(),
        Some(1)
    );

    // A port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let refused = cli_with(&["-p", &port.to_string(), "PING"], &[], b"");
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(
        stderr(&refused),
        format!("Could not connect to Tile38 at 127.0.0.1:{port}: Connection refused\n")
    );
    assert!(refused.stdout.is_empty());

    let bogus = cli_with(&["--bogus", "PING"], &[], b"");
    assert_eq!(bogus.status.code(), Some(2));
    assert_eq!(
        stderr(&bogus),
        "Unrecognized option or bad number of args for: '--bogus'\n"
    );
    assert_eq!(
        cli_with(&["-p", "notaport", "PING"], &[], b"")
            .status
            .code(),
        Some(2)
    );
    let help = cli_with(&["-h"], &[], b"");
    assert_eq!(help.status.code(), Some(0));
    assert!(stdout(&help).contains("Usage: tile38-cli [OPTIONS] [cmd [arg [arg ...]]]"));
    let version = cli_with(&["--version"], &[], b"");
    assert!(stdout(&version).starts_with("tile38-cli "));
}

#[test]
fn arguments_with_blanks_and_json_arrive_intact() {
    let s = TestServer::start(&[]);
    let spaced = r#"{"type": "Point", "coordinates": [1, 2]}"#;
    let set = cli(&s, &["SET", "fleet", "j", "OBJECT", spaced]);
    assert_eq!(set.status.code(), Some(0), "{}", stdout(&set));
    assert!(stored(&s, "j").contains(r#"{"type":"Point","coordinates":[1,2]}"#));

    cli(&s, &["SET", "fleet", "t2", "STRING", "hello world"]);
    assert!(stored(&s, "t2").contains("$11\r\nhello world\r\n"));
    cli(
        &s,
        &["SET", "fleet", "q", "STRING", r#"it's "quoted" \ too"#],
    );
    assert!(stored(&s, "q").contains(r#"it's "quoted" \ too"#));

    let port = s.port.to_string();
    let piped = cli_with(
        &["-p", &port, "-x", "SET", "fleet", "t3", "OBJECT"],
        &[],
        b"{\"type\":\"Point\",\"coordinates\":[3, 4]}\n",
    );
    assert_eq!(piped.status.code(), Some(0), "{}", stdout(&piped));
    assert!(stored(&s, "t3").contains(r#""coordinates":[3,4]"#));
    let text = cli_with(
        &["-p", &port, "-x", "SET", "fleet", "t4", "STRING"],
        &[],
        b"abc def",
    );
    assert_eq!(text.status.code(), Some(0));
    assert!(stored(&s, "t4").contains("abc def"));
}

#[test]
fn commands_on_stdin() {
    let s = TestServer::start(&[]);
    let port = s.port.to_string();
    let script = "SET fleet a POINT 1 2\n\
                  SET fleet j OBJECT {\"type\": \"Point\", \"coordinates\": [5, 6]}\n\
                  SET fleet q STRING \"hello world\"\n\
                  GET fleet q\n\
                  GET fleet nope\n\
                  \n\
                  help set\n\
                  OUTPUT resp\n\
                  GET fleet a\n\
                  quit\n\
                  GET fleet never\n";
    let out = cli_with(&["-p", &port, "--noprompt"], &[], script.as_bytes());
    let lines: Vec<String> = stdout(&out).lines().map(String::from).collect();
    assert_eq!(lines.len(), 6, "{lines:?}");
    assert!(lines[..3]
        .iter()
        .all(|l| l.starts_with(r#"{"ok":true,"elapsed":"#)));
    assert!(lines[3].starts_with(r#"{"ok":true,"object":"hello world","#));
    assert_eq!(lines[4], "OK");
    assert_eq!(lines[5], r#""{"type":"Point","coordinates":[2,1]}""#);
    assert_eq!(
        stderr(&out),
        "(error) id not found\n  SET key id [FIELD name value ...] [EX seconds] [NX|XX] \
         (OBJECT geojson)|(POINT lat lon [z])|(BOUNDS minlat minlon maxlat maxlon)|\
         (HASH geohash)|(STRING value)\n  summary: Sets the value of an id\n\n"
    );
    assert_eq!(out.status.code(), Some(1), "an error reply on the way");
    assert!(stored(&s, "j").contains(r#""coordinates":[5,6]"#));

    let ok = cli_with(&["-p", &port, "--noprompt"], &[], b"PING\nGET fleet a\n");
    assert_eq!(ok.status.code(), Some(0));
    assert_eq!(stdout(&ok).lines().count(), 2);
    let prompted = cli_with(&["-p", &port], &[], b"PING\n");
    let prompt = format!("127.0.0.1:{port}> ");
    assert!(stdout(&prompted).starts_with(&format!("{prompt}{{\"ok\":true,\"ping\":\"pong\"")));
    assert!(stdout(&prompted).ends_with(&format!("\n{prompt}")));
}

#[test]
fn password_from_flag_and_environment() {
    let s = TestServer::start(&[]);
    let port = s.port.to_string();
    // Before a password is set, `-a` warns and carries on.
    let open = cli_with(&["-p", &port, "-a", "x", "PING"], &[], b"");
    assert_eq!(open.status.code(), Some(0));
    assert!(stderr(&open).starts_with("AUTH failed: ERR invalid password"));

    let mut admin = s.resp();
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "requirepass", "s3cret"]),
        b"+OK\r\n"
    );
    let denied = cli_with(
        &["-p", &port, "SET", "fleet", "a", "POINT", "1", "2"],
        &[],
        b"",
    );
    assert_eq!(denied.status.code(), Some(1));
    assert_eq!(json(&denied)["err"], "authentication required");

    let flag = cli_with(
        &[
            "-p", &port, "-a", "s3cret", "SET", "fleet", "a", "POINT", "1", "2",
        ],
        &[],
        b"",
    );
    assert_eq!(flag.status.code(), Some(0), "{}", stdout(&flag));
    let env = cli_with(
        &["-p", &port, "GET", "fleet", "a"],
        &[("TILE38_PASSWORD", "s3cret")],
        b"",
    );
    assert_eq!(env.status.code(), Some(0), "{}", stdout(&env));
    assert_eq!(
        json(&env)["object"]["coordinates"],
        serde_json::json!([2, 1])
    );
    let wrong = cli_with(&["-p", &port, "-a", "nope", "GET", "fleet", "a"], &[], b"");
    assert_eq!(wrong.status.code(), Some(1));
    assert!(stderr(&wrong).starts_with("AUTH failed: ERR invalid password"));
    let resp = cli_with(
        &["-p", &port, "--resp", "-a", "s3cret", "GET", "fleet", "a"],
        &[],
        b"",
    );
    assert_eq!(
        stdout(&resp),
        "\"{\"type\":\"Point\",\"coordinates\":[2,1]}\"\n"
    );
}

#[test]
fn server_log_format_json() {
    let dir = temp_dir("logjson");
    let mut server = Command::new(env!("CARGO_BIN_EXE_tile38-server"))
        .args(["-h", "127.0.0.1", "-p", "0", "--log-format", "json", "-d"])
        .arg(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tile38-server");
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let mut messages = Vec::new();
    let port = loop {
        let line = lines.next().expect("log line before readiness").unwrap();
        let entry: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert_eq!(entry["level"], "INFO", "{line}");
        assert!(entry["timestamp"].is_string(), "{line}");
        let message = entry["message"].as_str().expect("message").to_string();
        messages.push(message.clone());
        if let Some(addr) = message.strip_prefix("Ready to accept connections at ") {
            break addr.rsplit(':').next().unwrap().parse::<u16>().unwrap();
        }
    };
    assert!(messages[0].starts_with("Server started, Tile38 version"));
    let pong = cli_with(&["-p", &port.to_string(), "PING"], &[], b"");
    assert_eq!(pong.status.code(), Some(0));
    let _ = server.kill();
    let _ = server.wait();
    let bad = Command::new(env!("CARGO_BIN_EXE_tile38-server"))
        .args(["--log-format", "xml", "-d"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_ne!(bad.status.code(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}
