//! Command parsing and execution against a real in-process server, for
//! every command of the command table (`cmd::lookup`) and `TIMEOUT`.
//!
//! Input format: byte 0 holds flags; the rest is split on `\n` into at most
//! [`MAX_LINES`] lines, each split on `0x00` into at most [`MAX_ARGS`]
//! arguments. Each line is one command: its first argument is the name.
//!
//! Flags:
//! * bit 0: JSON output mode (the connection starts in JSON).
//! * bit 1: no fixture: an empty database and no hooks.
//! * bit 2: broadcast: the first [`BROADCAST_LINES`] lines are also run once
//!   under every name of [`NAMES`] (`[name] + line`), so one line reaches
//!   the argument parser of every command.
//! * bit 3: one pipelined batch: the batch write lock is kept across lines
//!   (by default each line is a batch of its own and the lock is dropped
//!   after it, as a connection does at the end of a batch).
//! * bit 4: the commands arrive over HTTP (`Session::execute_via` with
//!   `Via::Http`, no `Authorization` header): AUTH is answered as HTTP
//!   requests get it.
//!
//! Every input runs on a fresh `Engine::in_process()` (configuration,
//! clients, replication state, counters all new), into which the fixture
//! (database and hooks) is moved. Building the fixture (319 objects) per
//! input would cost more than most inputs, and `Database` is not `Clone`,
//! so the harness keeps one fixture and repairs it after each input
//! ([`Pool::restore`]): keys the input created are dropped; a fixture key
//! is replaced by a fresh copy of its pristine collection if a write that
//! named it reported a change, if FLUSHDB did, or if its fingerprint
//! changed; the hooks are rebuilt if a hook command reported a change. A
//! key or the hooks changing with no command to explain it is a panic. So a
//! crash reproduces from its input alone. `T38FUZZ_CHECK_REPAIR=1` checks
//! the repair in full after every input; `T38FUZZ_STATS=1` counts repairs.
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
//!
//! `T38FUZZ_TRACE=1` prints every command and its reply.
#![no_main]

use std::cell::RefCell;
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use tile38_proto::Args;
use tile38_engine::cmd::Via;
use tile38_engine::Session as ConnState;
use tile38_engine::reply::Reply;
use tile38_engine::Engine as Server;

// The target's modules, in `command_args/` (next to the other targets, a
// `mod` would look in `fuzz_targets/` itself).
#[path = "command_args/check.rs"]
mod check;
#[path = "command_args/dirty.rs"]
mod dirty;
#[path = "command_args/fixture.rs"]
mod fixture;
#[path = "command_args/pool.rs"]
mod pool;

use check::{check_reply, Checks};
use dirty::Dirty;
use pool::{new_conn, Pool};

/// Lines (commands) read from one input.
const MAX_LINES: usize = 8;
/// Arguments per line.
const MAX_ARGS: usize = 64;
/// Lines that broadcast mode (flag bit 2) runs under every name.
const BROADCAST_LINES: usize = 1;

/// Every command of the table (`static TABLE` in `cmd/mod.rs`), in its
/// order, and `TIMEOUT` (handled before the table). Checked against
/// `cmd::lookup` at start-up; a command added to the table must be added
/// here too.
const NAMES: &[&str] = &[
    "SET",
    "GET",
    "PING",
    "DEL",
    "FSET",
    "FGET",
    "FEXISTS",
    "EXISTS",
    "SCAN",
    "SEARCH",
    "NEARBY",
    "WITHIN",
    "INTERSECTS",
    "TEST",
    "PDEL",
    "DROP",
    "FLUSHDB",
    "RENAME",
    "RENAMENX",
    "KEYS",
    "TYPE",
    "BOUNDS",
    "STATS",
    "EXPIRE",
    "PERSIST",
    "TTL",
    "JSET",
    "JGET",
    "JDEL",
    "SETHOOK",
    "SETCHAN",
    "DELHOOK",
    "DELCHAN",
    "PDELHOOK",
    "PDELCHAN",
    "HOOKS",
    "CHANS",
    "ECHO",
    "OUTPUT",
    "AUTH",
    "HEALTHZ",
    "SERVER",
    "INFO",
    "ROLE",
    "CONFIG",
    "READONLY",
    "GC",
    "AOFSHRINK",
    "CLIENT",
    "AOFMD5",
    "AOF",
    "FOLLOW",
    "REPLCONF",
    "TIMEOUT",
];

/// Runs `[name] + tail` (`name` empty: `tail` alone) as one command,
/// recording in `dirty` what it may have changed in the fixture.
#[allow(clippy::too_many_arguments)]
fn run(
    pool: &Pool,
    server: &Server,
    conn: &mut ConnState,
    args: &mut Args,
    name: &[u8],
    tail: &[&[u8]],
    json: bool,
    http: bool,
    checks: &mut Checks,
    dirty: &mut Dirty,
) {
    args.clear();
    if !name.is_empty() {
        args.push(name);
    }
    for a in tail {
        args.push(a);
    }
    if args.is_empty() {
        return;
    }
    let prefix = name;
    let name = if name.is_empty() { tail[0] } else { name };
    let touch = Dirty::touch(pool, args);
    conn.wrote = false;
    let mut reply = Reply::new(conn.output.unwrap_or(json));
    // (TIMEOUT changes `args`; messages below show the command as given.)
    let via = if http { Via::Http(None) } else { Via::Stream };
    let res = conn.execute_via(server, args, &mut reply, via);
    // The connection makes the mode sticky after every command.
    conn.output = Some(reply.json);
    if let Some(t) = touch {
        dirty.record(t, conn.wrote);
    }
    let shown = || {
        let prefix = (!prefix.is_empty()).then_some(prefix);
        prefix
            .iter()
            .chain(tail)
            .map(|a| String::from_utf8_lossy(&a[..a.len().min(300)]).into_owned())
            .collect::<Vec<_>>()
    };
    if checks.trace {
        match &res {
            Ok(()) => eprintln!(
                "> {:?}\n< {:?}",
                shown(),
                String::from_utf8_lossy(&reply.buf[..reply.buf.len().min(300)])
            ),
            Err(e) => eprintln!("> {:?}\n< ERR {}", shown(), e.message()),
        }
    }
    match res {
        Ok(()) => {
            check_reply(&reply, checks, shown);
            if name.eq_ignore_ascii_case(b"jset") {
                checks.docs_tainted = true;
            }
        }
        Err(e) => {
            std::hint::black_box(e.message());
            std::hint::black_box(e.resp_text(name));
        }
    }
}

thread_local! {
    static POOL: RefCell<Option<Pool>> = const { RefCell::new(None) };
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let json = flags & 1 != 0;
    let fixture = flags & 2 == 0;
    let broadcast = flags & 4 != 0;
    let pipeline = flags & 8 != 0;
    let http = flags & 16 != 0;
    static ENV: std::sync::OnceLock<(bool, bool)> = std::sync::OnceLock::new();
    let (enabled, trace) = *ENV.get_or_init(|| {
        let set = |name| std::env::var_os(name).is_some();
        (!set("T38FUZZ_NO_REPLY_CHECK"), set("T38FUZZ_TRACE"))
    });
    let mut checks = Checks {
        enabled,
        docs_tainted: false,
        trace,
    };

    POOL.with_borrow_mut(|pool| {
        let pool = pool.get_or_insert_with(Pool::new);
        let server = Arc::new(Server::in_process());
        let mut conn = new_conn(&server, 1);
        let mut args = Args::new();
        let mut dirty = Dirty::default();
        if fixture {
            pool.lend(&server);
        }

        let mut tail: Vec<&[u8]> = Vec::new();
        for (n, line) in rest.split(|&b| b == b'\n').take(MAX_LINES).enumerate() {
            tail.clear();
            if !line.is_empty() {
                tail.extend(line.split(|&b| b == 0).take(MAX_ARGS));
            }
            if broadcast && n < BROADCAST_LINES {
                // FLUSHDB takes no arguments: broadcast, it would wipe the
                // fixture on every empty line (and cost a rebuild).
                for name in NAMES.iter().filter(|n| **n != "FLUSHDB") {
                    let name = name.as_bytes();
                    run(
                        pool,
                        &server,
                        &mut conn,
                        &mut args,
                        name,
                        &tail,
                        json,
                        http,
                        &mut checks,
                        &mut dirty,
                    );
                }
            }
            run(
                pool,
                &server,
                &mut conn,
                &mut args,
                b"",
                &tail,
                json,
                http,
                &mut checks,
                &mut dirty,
            );
            // A connection drops its batch write lock at the end of every
            // batch.
            if !pipeline {
                conn.lock.release();
            }
        }
        conn.lock.release();
        server.unregister_client(conn.client.id);

        if fixture {
            pool.restore(&server, &dirty);
        }
    });
});
