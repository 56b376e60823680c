//! The gates every request passes before its command runs: one path for
//! every transport (RESP, telnet, native, HTTP, WebSocket) and for the
//! command a `TIMEOUT` prefix wraps, in Tile38's order
//! (`handleInputCommand`):
//!
//! 1. LOADING: while the AOF loads, only PING, ECHO, OUTPUT and AUTH run;
//! 2. `HELLO` is an unknown command (clients probing for RESP3 get that
//!    before being asked to authenticate);
//! 3. `TIMEOUT seconds CMD …` is unwrapped (its own arity and number
//!    errors);
//! 4. AUTH: with a password set, a connection that has not authenticated
//!    (AUTH, or for HTTP the `Authorization` header) may only send PING,
//!    ECHO, OUTPUT, AUTH and HEALTHZ, and none of them inside TIMEOUT;
//! 5. the command must exist ([`super::resolve`]: `CONFIG GET` is one
//!    command, however its words are sent);
//! 6. by kind: a write on a follower is `not the leader` (under `--elect`,
//!    on any member that does not hold the lock: `crate::elect`), on a read-only
//!    server `read only`, while the AOF cannot be written `MISCONF …`
//!    and past `maxmemory` (SET, FSET, JSET) `OOM …`, with too few followers
//!    acking (`min-followers-to-write`) `not enough good followers to write`
//!    ([`Engine::write_refusal`]); Tile38's read list on a follower that
//!    never caught up (under `--elect`, also on a member that neither leads
//!    nor follows) is `catching up to leader`;
//! 7. inside TIMEOUT a write of Tile38's write list (every write but
//!    JDEL) is `timeout not supported for '<cmd>'`, and
//!    PING, ECHO and (once authenticated) AUTH, which Tile38 answers
//!    before its command switch, are unknown commands.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tile38_proto::Args;

use super::{lookup, repl, resolve, Run, Spec};
use crate::cursor::{not_negative, Cursor};
use crate::engine::{now_nanos, Engine};
use crate::error::{Error, Result};
use crate::session::Session;

/// A request the gates let through.
pub struct Admitted {
    /// The command to run; `None`: an unknown command, which inside
    /// `TIMEOUT` still gets the deadline's `timeout` once it passed (it
    /// is Tile38's command switch that does not know it).
    pub spec: Option<&'static Spec>,
    /// The `TIMEOUT` deadline, if the request had the prefix.
    pub deadline: Option<Instant>,
}

/// How a request arrived, for AUTH.
#[derive(Clone, Copy)]
pub enum Via<'a> {
    /// RESP, telnet or native: the connection's AUTH state counts.
    Stream,
    /// HTTP or WebSocket, with its `Authorization` header (an empty one is
    /// none): the header authenticates like an AUTH; an `AUTH pw` request
    /// is checked (header first) and then, as in Tile38, unknown.
    Http(Option<&'a [u8]>),
}

/// Runs every gate for the request in `args` (unwrapping a `TIMEOUT`
/// prefix in place).
pub fn admit(server: &Engine, conn: &mut Session, args: &mut Args, via: Via) -> Result<Admitted> {
    let first = lookup(args.get(0));
    if server.loading.load(Ordering::Acquire) && !first.is_some_and(|s| s.while_loading) {
        return Err(Error::Loading);
    }
    let mut deadline = None;
    if first.is_none() {
        if args.get(0).eq_ignore_ascii_case(b"hello") {
            return Err(Error::UnknownCommand(args.get(0).to_vec()));
        }
        if args.get(0).eq_ignore_ascii_case(b"timeout") {
            deadline = Some(unwrap_timeout(args)?);
        }
    }
    // The command switch's "unknown command" (inside TIMEOUT it still
    // gets the deadline's `timeout`).
    let unknown = || {
        Ok(Admitted {
            spec: None,
            deadline,
        })
    };
    if !authenticate(server, conn, args, first, via)? {
        return unknown();
    }
    let Some(spec) = first.or_else(|| resolve(args)) else {
        return unknown();
    };
    refuse_by_kind(server, spec, args)?;
    if deadline.is_some() {
        if spec.no_timeout {
            return Err(Error::TimeoutNotSupported(spec.name.to_string()));
        }
        if matches!(spec.name, "ping" | "echo") || (spec.name == "auth" && conn.authed) {
            return unknown();
        }
    }
    Ok(Admitted {
        spec: Some(spec),
        deadline,
    })
}

/// Step 4. `first`: the command as sent (`None` for TIMEOUT, whose
/// wrapped command is never exempt). Returns `false` for an HTTP `AUTH`
/// that passed: Tile38 then answers it as an unknown command.
fn authenticate(
    server: &Engine,
    conn: &mut Session,
    args: &Args,
    first: Option<&Spec>,
    via: Via,
) -> Result<bool> {
    let header = match via {
        Via::Http(header) => header.filter(|h| !h.is_empty()),
        Via::Stream => None,
    };
    if matches!(via, Via::Http(_)) && first.is_some_and(|s| s.name == "auth") {
        let given = header.or(Cursor::new(args).next().ok());
        check_password(server, given.unwrap_or_default())?;
        return Ok(false);
    }
    let exempt = first.is_some_and(|s| s.no_auth);
    if !(conn.authed || exempt || !server.config.has_password()) {
        check_password(server, header.ok_or(Error::AuthRequired)?)?;
        conn.authed = true;
    }
    Ok(true)
}

/// A password a request presents: `invalid password` unless one is set
/// and this is it.
fn check_password(server: &Engine, given: &[u8]) -> Result<()> {
    let pass = &server.config.props().requirepass;
    if pass.is_empty() || pass.as_bytes() != given.trim_ascii() {
        return Err(Error::InvalidPassword);
    }
    Ok(())
}

/// Step 6: the refusals that depend on the command's kind and the
/// server's role. The one place for every write refusal: follower,
/// READONLY, and any other (MISCONF, OOM) next to `read_only()`.
fn refuse_by_kind(server: &Engine, spec: &Spec, args: &Args) -> Result<()> {
    // EVAL/EVALSHA may write: refused like a write, but neither MISCONF
    // nor OOM nor TIMEOUT applies to the script command itself (Tile38).
    if matches!(spec.name, "eval" | "evalsha") {
        if server.repl.following() {
            return Err(Error::NotLeader);
        }
        if let Some(e) = server.elect.refusal() {
            return Err(e);
        }
        if server.config.read_only() {
            return Err(Error::ReadOnly);
        }
    }
    if matches!(spec.run, Run::Write(_)) {
        refuse_write(server, args)?;
    } else if repl::GATED_READS.contains(&spec.name) && stale(server, spec.name) {
        return Err(Error::CatchingUp);
    }
    Ok(())
}

/// Whether this server's data may be behind or ahead of the leader's: a
/// follower that never caught up, or under `--elect` a member that neither
/// leads nor follows (starting, no leader, stepping down: what it loaded
/// may be a tail the elected leader never had; its data reads only: INFO,
/// ROLE and SERVER show the election).
fn stale(server: &Engine, name: &str) -> bool {
    if server.repl.following() {
        !server.repl.caught_up_once()
    } else {
        server.elect.refusal().is_some() && !matches!(name, "info" | "role" | "server")
    }
}

/// The refusals of a write `args` (a client's, or a script's call):
/// follower, READONLY, then MISCONF and maxmemory.
pub(super) fn refuse_write(server: &Engine, args: &Args) -> Result<()> {
    if server.repl.following() {
        return Err(Error::NotLeader);
    }
    if let Some(e) = server.elect.refusal() {
        return Err(e);
    }
    if server.config.read_only() {
        return Err(Error::ReadOnly);
    }
    match server.write_refusal(args) {
        Some(refusal) => Err(refusal),
        None => Ok(()),
    }
}

/// `TIMEOUT seconds CMD args…` → `CMD args…` and its deadline. The
/// seconds are Go's float (`NaN`, `inf` parse; `1e400` does not) converted
/// as Tile38 does: `now + Duration(secs·1e9)`, where NaN, an infinity or a
/// sum past the year 2262 wraps into the past, so the command times out.
fn unwrap_timeout(args: &mut Args) -> Result<Instant> {
    let mut c = Cursor::new(args);
    c.at_least(2)?;
    let secs = not_negative(c.token()?)?;
    args.drop_front(2);
    let now = Instant::now();
    let nanos = go_duration(secs);
    let in_range = nanos > 0 && now_nanos().checked_add(nanos).is_some();
    Ok(in_range
        .then(|| now.checked_add(Duration::from_nanos(nanos as u64)))
        .flatten()
        .unwrap_or(now))
}

/// Go's `time.Duration(secs * float64(time.Second))` on amd64, where an
/// out-of-range or NaN conversion yields the minimum int64.
pub fn go_duration(secs: f64) -> i64 {
    let ns = secs * 1e9;
    if ns.is_nan() || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&ns) {
        i64::MIN
    } else {
        ns as i64
    }
}
