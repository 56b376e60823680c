//! Command argument parsing and execution against a real in-process server.
//!
//! Input format: byte 0 holds flags, the rest is split on `\n` into at most
//! four "lines", each line split on `0x00` into arguments (at most 64). For
//! every line and every command name of [`NAMES`], `[name] + line` is run
//! through `cmd::execute` on one fresh server per input (so a crash
//! reproduces from its input alone), pre-loaded with a small fixture.
//!
//! Flags: bit 0 = JSON output mode; bit 1 = skip the fixture; bit 2 = also
//! run each line as a command of its own (its first argument is the name, so
//! `TIMEOUT`, `ROLE`, `GC` and unknown names are reached too).
//!
//! Errors are rendered (`message`, `resp_text`) the way a connection does.
//!
//! Reply checks (disable with `T38FUZZ_NO_REPLY_CHECK=1`): a successful
//! RESP-mode reply must be exactly one well-formed RESP value, and a
//! successful JSON-mode reply must form valid JSON once wrapped the way
//! `conn.rs` wraps it (`{"ok":true` … `,"elapsed":"…"}`). The JSON check
//! stops for the rest of an input after a fuzzed `JSET` succeeds, because
//! `JSET … RAW` (and Tile38's loose numbers such as `.5`) store arbitrary
//! text by design.
#![no_main]

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use tile38_proto::Args;
use tile38_server::cmd;
use tile38_server::conn::ConnState;
use tile38_server::reply::Reply;
use tile38_server::server::Server;

const NAMES: &[&str] = &[
    "SET", "GET", "DEL", "PDEL", "DROP", "FLUSHDB", "RENAME", "RENAMENX", "KEYS", "TYPE", "EXISTS",
    "FEXISTS", "FSET", "FGET", "EXPIRE", "PERSIST", "TTL", "BOUNDS", "STATS", "JSET", "JGET",
    "JDEL", "SCAN", "SERVER", "INFO", "CONFIG", "CLIENT", "OUTPUT", "PING", "ECHO", "AUTH",
    "READONLY", "AOFMD5", "AOF", "HEALTHZ",
];

const FIXTURE: &[&[&str]] = &[
    &["SET", "fleet", "truck1", "POINT", "33", "-112"],
    &[
        "SET", "fleet", "truck2", "FIELD", "speed", "90", "POINT", "33.5", "-112.5", "10",
    ],
    &[
        "SET",
        "fleet",
        "poly",
        "OBJECT",
        r#"{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,0]]]}"#,
    ],
    &["SET", "fleet", "str", "STRING", "hello"],
    &["SET", "fleet", "bnd", "BOUNDS", "1", "2", "3", "4"],
    &["SET", "fleet", "gh", "HASH", "9q8yy"],
    &[
        "SET",
        "props",
        "p1",
        "OBJECT",
        r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2,3]},"properties":{"a":1},"id":"x"}"#,
    ],
    &["JSET", "docs", "d1", "a.b", "1"],
    &["JSET", "docs", "d1", "arr.2", "x", "STR"],
    &["FSET", "fleet", "truck1", "speed", "10", "name", "\"joe\""],
    &["EXPIRE", "fleet", "truck1", "1000"],
];

fn new_server() -> (Server, ConnState) {
    let server = Server::in_process();
    let client = server.register_client(SocketAddr::from((Ipv4Addr::LOCALHOST, 1)));
    let conn = ConnState::new(client);
    (server, conn)
}

/// Length of the one RESP value at the start of `b`, if well formed.
fn resp_value(b: &[u8], depth: usize) -> Option<usize> {
    fn line(b: &[u8]) -> Option<(&[u8], usize)> {
        let i = b.iter().position(|&c| c == b'\n')?;
        (i >= 1 && b[i - 1] == b'\r').then(|| (&b[..i - 1], i + 1))
    }
    fn int(s: &[u8]) -> Option<i64> {
        std::str::from_utf8(s).ok()?.parse().ok()
    }
    if depth > 64 {
        return None;
    }
    let (&kind, rest) = b.split_first()?;
    let (text, mut n) = line(rest)?;
    n += 1;
    match kind {
        b'+' | b'-' => (!text.contains(&b'\r')).then_some(n),
        b':' => int(text).map(|_| n),
        b'$' => match int(text)? {
            -1 => Some(n),
            len if len >= 0 => {
                let len = len as usize;
                (b.get(n + len..n + len + 2)? == b"\r\n").then_some(n + len + 2)
            }
            _ => None,
        },
        b'*' => match int(text)? {
            -1 => Some(n),
            count if count >= 0 => {
                for _ in 0..count {
                    n += resp_value(&b[n..], depth + 1)?;
                }
                Some(n)
            }
            _ => None,
        },
        _ => None,
    }
}

struct Checks {
    enabled: bool,
    /// A fuzzed JSET succeeded: documents may hold non-JSON text now.
    docs_tainted: bool,
}

fn check_reply(name: &[u8], args: &Args, reply: &Reply, checks: &Checks) {
    if !checks.enabled || reply.raw {
        return;
    }
    if !reply.json {
        let n = resp_value(&reply.buf, 0);
        assert_eq!(
            n,
            Some(reply.buf.len()),
            "{} {:?}: RESP reply is not exactly one value: {:?}",
            String::from_utf8_lossy(name),
            args,
            String::from_utf8_lossy(&reply.buf)
        );
    } else if !checks.docs_tainted {
        let mut body = b"{\"ok\":true".to_vec();
        body.extend_from_slice(&reply.buf);
        body.extend_from_slice(b",\"elapsed\":\"1s\"}");
        match serde_json::from_slice::<serde::de::IgnoredAny>(&body) {
            Ok(_) => {}
            // serde_json stops at 128 levels; stored JSON may nest deeper.
            Err(e) if e.to_string().contains("recursion limit") => {}
            Err(e) => panic!(
                "{} {:?}: JSON reply is invalid ({e}): {}",
                String::from_utf8_lossy(name),
                args,
                String::from_utf8_lossy(&body)
            ),
        }
    }
}

fn run(server: &Server, conn: &mut ConnState, args: &mut Args, json: bool, checks: &mut Checks) {
    if args.is_empty() {
        return;
    }
    let name = args.get(0).to_vec();
    let shown = args.clone();
    let mut reply = Reply::new(conn.output.unwrap_or(json));
    let res = cmd::execute(server, conn, args, &mut reply);
    // The connection makes the mode sticky after every command.
    conn.output = Some(reply.json);
    match res {
        Ok(()) => {
            check_reply(&name, &shown, &reply, checks);
            if name.eq_ignore_ascii_case(b"jset") {
                checks.docs_tainted = true;
            }
        }
        Err(e) => {
            std::hint::black_box(e.message());
            std::hint::black_box(e.resp_text(&name));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let json = flags & 1 != 0;
    let (server, mut conn) = new_server();
    let server = Arc::new(server);
    let mut args = Args::new();
    static CHECK: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let mut checks = Checks {
        enabled: *CHECK.get_or_init(|| std::env::var_os("T38FUZZ_NO_REPLY_CHECK").is_none()),
        docs_tainted: false,
    };

    if flags & 2 == 0 {
        for cmd in FIXTURE {
            args.clear();
            for a in *cmd {
                args.push(a.as_bytes());
            }
            run(&server, &mut conn, &mut args, false, &mut checks);
        }
        conn.lock.release();
        // Fixture commands run in RESP mode; start the fuzzed ones afresh.
        // The fixture's own JSETs store valid JSON.
        conn.output = None;
        checks.docs_tainted = false;
    }

    for line in rest.split(|&b| b == b'\n').take(4) {
        let tail: Vec<&[u8]> = if line.is_empty() {
            Vec::new()
        } else {
            line.split(|&b| b == 0).take(64).collect()
        };
        for name in NAMES {
            args.clear();
            args.push(name.as_bytes());
            for a in &tail {
                args.push(a);
            }
            run(&server, &mut conn, &mut args, json, &mut checks);
        }
        if flags & 4 != 0 {
            args.clear();
            for a in &tail {
                args.push(a);
            }
            run(&server, &mut conn, &mut args, json, &mut checks);
        }
        // Each line is one pipelined batch: the connection drops its batch
        // write lock at the end of every batch.
        conn.lock.release();
    }
    server.unregister_client(conn.client.id);
});
