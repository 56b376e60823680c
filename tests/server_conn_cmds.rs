//! Connection-scoped server commands: CLIENT LIST/SETNAME/GETNAME/KILL
//! (KILL really closes the other connection), AUTH with requirepass (which
//! commands are allowed before AUTH, exact errors in RESP and JSON), and the
//! TIMEOUT wrapper (passes through reads, refuses writes, times out scans).

use std::io::Read;
use std::time::Duration;

use tile38::{resp_cmd, wait_until, Resp, TestServer};

/// Parsed `CLIENT LIST` (RESP) lines: (id, addr, name).
fn client_list(c: &mut Resp) -> Vec<(u64, String, String)> {
    let raw = c.cmd_str(&["CLIENT", "LIST"]);
    let (len, body) = raw.split_once("\r\n").unwrap();
    let body = body.strip_suffix("\r\n").unwrap();
    assert_eq!(len[1..].parse::<usize>().unwrap(), body.len());
    assert!(body.ends_with('\n'));
    body.lines()
        .map(|line| {
            let f: Vec<(&str, &str)> = line
                .split(' ')
                .map(|kv| kv.split_once('=').unwrap())
                .collect();
            let keys: Vec<&str> = f.iter().map(|(k, _)| *k).collect();
            assert_eq!(keys, ["id", "addr", "name", "age", "idle"], "{line}");
            assert!(
                f[3].1.parse::<u64>().is_ok() && f[4].1.parse::<u64>().is_ok(),
                "{line}"
            );
            (
                f[0].1.parse().unwrap(),
                f[1].1.to_string(),
                f[2].1.to_string(),
            )
        })
        .collect()
}

#[test]
fn client_setname_getname_list() {
    let srv = TestServer::start(&[]);
    let mut a = srv.resp();
    let mut b = srv.resp();
    assert_eq!(a.cmd(&["CLIENT", "GETNAME"]), b"$0\r\n\r\n");
    assert_eq!(a.cmd(&["CLIENT", "SETNAME", "alpha"]), b"+OK\r\n");
    assert_eq!(a.cmd(&["CLIENT", "GETNAME"]), b"$5\r\nalpha\r\n");
    assert_eq!(
        a.cmd_str(&["CLIENT", "SETNAME", "a b"]),
        "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    );
    assert_eq!(a.cmd(&["CLIENT", "GETNAME"]), b"$5\r\nalpha\r\n");
    let list = client_list(&mut b);
    assert_eq!(list.len(), 2, "{list:?}");
    let a_addr = a.stream().local_addr().unwrap().to_string();
    let b_addr = b.stream().local_addr().unwrap().to_string();
    let find = |addr: &str| {
        list.iter()
            .find(|(_, ad, _)| ad == addr)
            .cloned()
            .expect(addr)
    };
    assert_eq!(find(&a_addr).2, "alpha");
    assert_eq!(find(&b_addr).2, "");
    assert_ne!(find(&a_addr).0, find(&b_addr).0, "ids are unique");
    // JSON form: sorted members.
    b.cmd(&["OUTPUT", "json"]);
    let raw = b.cmd_str(&["CLIENT", "LIST"]);
    assert!(
        raw.contains(&format!(
            r#"{{"addr":"{a_addr}","age":0,"id":{},"idle":0,"name":"alpha"}}"#,
            find(&a_addr).0
        )),
        "{raw}"
    );
    assert!(b
        .cmd_str(&["CLIENT", "GETNAME"])
        .contains(r#"{"ok":true,"name":"","elapsed":"#));
    // Errors.
    let mut c = srv.resp();
    assert_eq!(
        c.cmd_str(&["CLIENT"]),
        "-ERR wrong number of arguments for 'client' command\r\n"
    );
    assert_eq!(
        c.cmd_str(&["CLIENT", "hello"]),
        "-ERR Syntax error, try CLIENT (LIST | KILL | GETNAME | SETNAME)\r\n"
    );
}

/// Asserts the peer closed `r`'s connection (EOF or reset) within 5 s.
fn assert_closed(r: &mut Resp) {
    let mut s = r.stream().try_clone().unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 64];
    match s.read(&mut buf) {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("expected EOF, got {other:?}"),
    }
}

#[test]
fn client_kill_closes_the_other_connection() {
    let srv = TestServer::start(&[]);
    let mut killer = srv.resp();
    // By address (plain and ADDR forms) and by ID.
    for how in ["addr", "ADDR", "ID"] {
        let mut victim = srv.resp();
        assert_eq!(victim.cmd(&["PING"]), b"+PONG\r\n");
        let addr = victim.stream().local_addr().unwrap().to_string();
        let id = client_list(&mut killer)
            .into_iter()
            .find(|(_, a, _)| *a == addr)
            .unwrap()
            .0
            .to_string();
        let args: Vec<&str> = match how {
            "addr" => vec!["CLIENT", "KILL", &addr],
            "ADDR" => vec!["CLIENT", "KILL", "ADDR", &addr],
            _ => vec!["CLIENT", "KILL", "ID", &id],
        };
        assert_eq!(killer.cmd(&args), b"+OK\r\n", "{args:?}");
        assert_closed(&mut victim);
        assert!(wait_until(Duration::from_secs(5), || client_list(
            &mut killer
        )
        .iter()
        .all(|(_, a, _)| *a != addr)));
        assert_eq!(
            killer.cmd_str(&args),
            "-ERR No such client\r\n",
            "killing twice: {args:?}"
        );
    }
    assert_eq!(
        killer.cmd_str(&["CLIENT", "KILL", "ID", "100000"]),
        "-ERR No such client\r\n"
    );
    assert_eq!(
        killer.cmd_str(&["CLIENT", "KILL", "1.2.3.4:5"]),
        "-ERR No such client\r\n"
    );
    assert_eq!(killer.cmd(&["PING"]), b"+PONG\r\n");
}

#[test]
fn auth_with_requirepass() {
    let srv = TestServer::start(&[]);
    let mut admin = srv.resp();
    assert_eq!(
        admin.cmd(&["AUTH", "x"]),
        b"-ERR invalid password\r\n",
        "no password configured"
    );
    assert_eq!(
        admin.cmd(&["SET", "fleet", "t1", "POINT", "1", "2"]),
        b"+OK\r\n"
    );
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "requirepass", "secret"]),
        b"+OK\r\n"
    );

    let mut c = srv.resp();
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
    assert_eq!(c.cmd(&["ECHO", "hi"]), b"$2\r\nhi\r\n");
    assert_eq!(c.cmd(&["HEALTHZ"]), b"+OK\r\n");
    let refused = "-ERR authentication required\r\n";
    for args in [
        &["GET", "fleet", "t1"][..],
        &["SET", "fleet", "t2", "POINT", "1", "2"],
        &["SERVER"],
        &["KEYS", "*"],
    ] {
        assert_eq!(c.cmd_str(args), refused, "{args:?}");
    }
    assert_eq!(c.cmd(&["AUTH", "wrong"]), b"-ERR invalid password\r\n");
    assert_eq!(c.cmd_str(&["GET", "fleet", "t1"]), refused);
    assert_eq!(
        c.cmd(&["AUTH", " secret "]),
        b"+OK\r\n",
        "the supplied value is trimmed"
    );
    assert_eq!(
        c.cmd(&["GET", "fleet", "t1", "POINT"]),
        b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    );

    // JSON mode: the same errors as JSON bulks.
    let mut j = srv.resp();
    assert!(j.cmd_str(&["OUTPUT", "json"]).contains(r#"{"ok":true,"#));
    assert!(j
        .cmd_str(&["GET", "fleet", "t1"])
        .contains(r#"{"ok":false,"err":"authentication required","elapsed":"#));
    assert!(j
        .cmd_str(&["AUTH", "nope"])
        .contains(r#"{"ok":false,"err":"invalid password","elapsed":"#));
    assert!(j
        .cmd_str(&["AUTH", "secret"])
        .contains(r#"{"ok":true,"elapsed":"#));

    // redis crate: the error message surfaces verbatim.
    let e = redis::cmd("GET")
        .arg("fleet")
        .arg("t1")
        .query::<Option<String>>(&mut srv.redis())
        .unwrap_err();
    assert_eq!(
        (e.code(), e.detail()),
        (Some("ERR"), Some("authentication required"))
    );

    // Clearing the password (authenticated connection) opens the server again.
    assert_eq!(c.cmd(&["CONFIG", "SET", "requirepass"]), b"+OK\r\n");
    assert_eq!(
        srv.resp().cmd(&["GET", "fleet", "t1", "POINT"]),
        b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    );
}

#[test]
fn timeout_wrapper() {
    let srv = TestServer::start(&[]);
    let mut c = srv.resp();
    assert_eq!(c.cmd(&["SET", "k", "a", "POINT", "1", "2"]), b"+OK\r\n");
    let cases: &[(&[&str], &str)] = &[
        (
            &["TIMEOUT", "1", "GET", "k", "a"],
            "$36\r\n{\"type\":\"Point\",\"coordinates\":[2,1]}\r\n",
        ),
        (
            &["TIMEOUT", "1", "SCAN", "k", "IDS"],
            "*2\r\n:0\r\n*1\r\n$1\r\na\r\n",
        ),
        (
            &["TIMEOUT", "x", "GET", "k", "a"],
            "-ERR invalid argument 'x'\r\n",
        ),
        (
            &["TIMEOUT", "-1", "GET", "k", "a"],
            "-ERR invalid argument '-1'\r\n",
        ),
        (
            &["TIMEOUT"],
            "-ERR wrong number of arguments for 'timeout' command\r\n",
        ),
        (
            &["TIMEOUT", "1"],
            "-ERR wrong number of arguments for 'timeout' command\r\n",
        ),
        (
            &["TIMEOUT", "1", "GET", "k"],
            "-ERR wrong number of arguments for 'timeout' command\r\n",
        ),
        (
            &["TIMEOUT", "1", "SET", "k", "b", "POINT", "1", "2"],
            "-ERR timeout not supported for 'set'\r\n",
        ),
        (
            &["TIMEOUT", "1", "DEL", "k", "a"],
            "-ERR timeout not supported for 'del'\r\n",
        ),
    ];
    for (args, want) in cases {
        assert_eq!(c.cmd_str(args), *want, "{args:?}");
    }
    // A long scan hits a tiny deadline; a generous one lets it finish.
    let load: Vec<u8> = (0..5000)
        .flat_map(|i| resp_cmd(&["SET", "big", &format!("id{i:05}"), "POINT", "1", "2"]))
        .collect();
    c.send(&load);
    for _ in 0..5000 {
        assert_eq!(c.read(), b"+OK\r\n");
    }
    assert_eq!(
        c.cmd(&["SCAN", "big", "MATCH", "*nomatch", "COUNT"]),
        b":0\r\n"
    );
    assert_eq!(
        c.cmd(&["TIMEOUT", "10", "SCAN", "big", "MATCH", "*nomatch", "COUNT"]),
        b":0\r\n"
    );
    assert_eq!(
        c.cmd(&["TIMEOUT", "0.000001", "SCAN", "big", "MATCH", "*nomatch", "COUNT"]),
        b"-ERR timeout\r\n"
    );
    c.cmd(&["OUTPUT", "json"]);
    let raw = c.cmd_str(&[
        "TIMEOUT", "0.000001", "SCAN", "big", "MATCH", "*nomatch", "COUNT",
    ]);
    assert!(
        raw.contains(r#"{"ok":false,"err":"timeout","elapsed":"#),
        "{raw}"
    );
}
