//! Replication commands: `FOLLOW host port | no one`, `REPLCONF
//! listening-port p | ip-address ip | follower-id id | ack offset id`, `AOF
//! pos`, `AOFMD5 pos size`, `ROLE`, `HEALTHZ`, `WAIT numfollowers timeout`,
//! and the INFO replication section.

use std::time::{Duration, Instant};

use tile38_proto::Args;
use tile38_repl::Target;

use super::{ConnCommand, ConnCx, ReadCommand, ReadCx};
use crate::cursor::{int, uint, Cursor};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::reply::Reply;

/// Read commands refused with `catching up to leader` until a follower has
/// caught up once (Tile38's list, plus HEALTHZ which says so itself).
pub const GATED_READS: &[&str] = &[
    "get",
    "keys",
    "scan",
    "nearby",
    "within",
    "intersects",
    "hooks",
    "chans",
    "search",
    "ttl",
    "bounds",
    "server",
    "info",
    "type",
    "jget",
    "evalro",
    "evalrosha",
    "role",
    "fget",
    "exists",
    "fexists",
    "test",
];

/// An AOF position or size: Go's `ParseInt` (`+5` is 5), refused below 0.
fn next_offset(c: &mut Cursor<'_>) -> Result<u64> {
    let arg = c.next()?;
    u64::try_from(int(arg)?).map_err(|_| Error::invalid_arg(arg))
}

/// `FOLLOW host port` / `FOLLOW no one` (and its alias `SLAVEOF`).
pub struct Follow {
    target: Option<Target>,
    /// A port Go's `ParseUint` reads but no TCP port is (above 65535):
    /// Tile38 refuses it only when it dials, as Go's dialer words it.
    bad_port: Option<u64>,
}

impl ConnCommand<'_> for Follow {
    fn parse(args: &Args) -> Result<Self> {
        let mut c = Cursor::new(args);
        // An empty host or port counts as missing (Tile38's `tokenval`).
        let (host, port) = (c.token()?, c.token()?);
        c.finish()?;
        let host = String::from_utf8_lossy(host).to_lowercase();
        if host == "no" && port.eq_ignore_ascii_case(b"one") {
            return Ok(Follow {
                target: None,
                bad_port: None,
            });
        }
        // Go's `ParseUint`, as Tile38 reads it (`+80` is refused).
        let n = uint(port)?;
        let (port, bad_port) = match u16::try_from(n) {
            Ok(port) => (port, None),
            Err(_) => (0, Some(n)),
        };
        Ok(Follow {
            target: Some(Target { host, port }),
            bad_port,
        })
    }

    fn apply(self, cx: &mut ConnCx, out: &mut Reply) -> Result<()> {
        if let Some(n) = self.bad_port {
            // Tile38 dials `host:int(n)`; Go checks the port first.
            let msg = format!(
                "cannot follow: dial tcp: address {}: invalid port",
                n as i64
            );
            return Err(Error::Message(msg));
        }
        let server = cx.engine;
        if server.elect.on() {
            // The elector decides whom this member follows (issue 20).
            return Err(Error::Message(
                "cannot follow: the role is elected (--elect)".into(),
            ));
        }
        if server.repl.target() == self.target {
            out.ok();
            return Ok(());
        }
        let runtime = server.runtime();
        if let Some(t) = &self.target {
            runtime
                .check_leader(&t.host, t.port)
                .map_err(Error::Message)?;
        }
        server
            .config
            .set_follow(self.target.as_ref().map(|t| (t.host.as_str(), t.port)))
            .map_err(|e| Error::Message(e.to_string()))?;
        runtime
            .start_following(self.target)
            .map_err(Error::Message)?;
        out.ok();
        Ok(())
    }
}

/// `REPLCONF listening-port <port>` / `REPLCONF ip-address <ip>`, read as
/// Tile38 reads them: two non-empty arguments (an empty one counts as
/// missing, arguments past them are ignored), the option spelled in lower
/// case (`LISTENING-PORT` is `cannot find follower`), and the port a Go
/// `Atoi` (`+12` is 12, `1.5` is `invalid argument`).
///
/// Ours only (a Tile38 leader answers both with `cannot find follower`,
/// and our follower then sends no acks): `REPLCONF follower-id <id>` on
/// the stream connection names the follower by its server id, and
/// `REPLCONF ack <offset> <id>` on a side connection says what it has
/// applied and written (`tile38_repl::acks`).
pub enum Replconf {
    Port(String),
    Ip(String),
    Id(String),
    Ack(u64, String),
}

impl ConnCommand<'_> for Replconf {
    fn parse(args: &Args) -> Result<Self> {
        let mut c = Cursor::new(args);
        let (option, value) = (c.token()?, c.token()?);
        let text = |v: &[u8]| String::from_utf8_lossy(v).into_owned();
        match option {
            b"listening-port" => Ok(Replconf::Port(int(value)?.to_string())),
            b"ip-address" => Ok(Replconf::Ip(text(value))),
            b"follower-id" => Ok(Replconf::Id(text(value))),
            b"ack" => {
                let offset = u64::try_from(int(value)?).map_err(|_| Error::invalid_arg(value))?;
                Ok(Replconf::Ack(offset, text(c.token()?)))
            }
            _ => Err(Error::Message("cannot find follower".into())),
        }
    }

    fn apply(self, cx: &mut ConnCx, out: &mut Reply) -> Result<()> {
        let client = &cx.conn.client;
        let (repl, ip) = (&cx.engine.repl, client.addr.ip().to_string());
        match self {
            Replconf::Port(port) => repl.announce(client.id, &ip, Some(&port), None),
            Replconf::Ip(addr) => repl.announce(client.id, &ip, None, Some(&addr)),
            Replconf::Id(id) => repl.identify(client.id, &ip, &id),
            Replconf::Ack(offset, id) => {
                if !repl.ack(&id, offset, std::time::Instant::now()) {
                    return Err(Error::Message("cannot find follower".into()));
                }
            }
        }
        out.ok();
        Ok(())
    }
}

/// `AOF pos`: answers `+OK` (RESP in every output mode) and turns the
/// connection into a stream of the AOF from `pos` ([`crate::repl::leader`]).
pub struct AofCmd {
    pos: u64,
}

impl ConnCommand<'_> for AofCmd {
    fn parse(args: &Args) -> Result<Self> {
        let mut c = Cursor::new(args);
        c.exactly(1)?;
        Ok(AofCmd {
            pos: next_offset(&mut c)?,
        })
    }

    fn apply(self, cx: &mut ConnCx, out: &mut Reply) -> Result<()> {
        let aof = cx.engine.aof.as_ref().ok_or(Error::AofDisabled)?;
        // Before the size check: a rewrite in between makes `pos` an offset
        // of another file, and the stream then ends at once.
        let generation = aof.generation();
        if self.pos > aof.size() {
            return Err(Error::PosTooBig);
        }
        // The stream reads the file: records still buffered must be in it.
        aof.flush().map_err(|e| Error::Message(e.to_string()))?;
        out.buf.clear();
        out.buf.extend_from_slice(b"+OK\r\n");
        out.raw = true;
        out.close = true;
        cx.conn.takeover = Some((self.pos, generation));
        Ok(())
    }
}

/// `AOFMD5 pos size`: MD5 of bytes `[pos, pos+size)` of the AOF.
pub struct AofMd5 {
    pos: u64,
    size: u64,
}

impl ConnCommand<'_> for AofMd5 {
    fn parse(args: &Args) -> Result<Self> {
        let mut c = Cursor::new(args);
        c.exactly(2)?;
        Ok(AofMd5 {
            pos: next_offset(&mut c)?,
            size: next_offset(&mut c)?,
        })
    }

    fn apply(self, cx: &mut ConnCx, out: &mut Reply) -> Result<()> {
        let aof = cx.engine.aof.as_ref().ok_or(Error::AofDisabled)?;
        let md5 = aof
            .md5(self.pos, self.size)
            .map_err(|e| Error::Message(e.to_string()))?
            .ok_or(Error::Eof)?;
        if out.json {
            out.key("md5");
            out.json_str(md5.as_bytes());
        } else {
            out.resp_simple(md5.as_bytes());
        }
        Ok(())
    }
}

/// `ROLE`: `master offset [[ip port offset]…]` or
/// `slave host port connected offset`.
pub struct Role;

impl ReadCommand<'_> for Role {
    fn parse(_: &Args) -> Result<Self> {
        Ok(Role)
    }

    fn apply(&self, cx: &ReadCx, out: &mut Reply) -> Result<()> {
        let own = cx.engine.aof_size();
        let snap = cx.engine.repl.snapshot(own);
        match (&snap.following, out.json) {
            (Some(t), true) => {
                out.push(b",\"role\":{\"role\":\"slave\",\"host\":");
                out.json_str(t.host.as_bytes());
                out.push(b",\"port\":");
                out.json_i64(t.port as i64);
                out.push(b",\"state\":\"connected\",\"offset\":");
                out.json_i64(snap.offset as i64);
                out.push(b"}");
            }
            (Some(t), false) => {
                out.resp_array(5);
                out.resp_bulk(b"slave");
                out.resp_bulk(t.host.as_bytes());
                out.resp_int(t.port as i64);
                out.resp_bulk(b"connected");
                out.resp_int(snap.offset as i64);
            }
            (None, true) => {
                out.push(b",\"role\":{\"role\":\"master\",\"offset\":");
                out.json_i64(own as i64);
                out.push(b",\"slaves\":[");
                for (i, f) in snap.followers.iter().enumerate() {
                    if i > 0 {
                        out.push(b",");
                    }
                    out.push(b"{\"ip\":");
                    out.json_str(f.ip.as_bytes());
                    out.push(b",\"port\":");
                    out.json_str(f.port.as_bytes());
                    out.push(b",\"offset\":");
                    out.json_str(own.to_string().as_bytes());
                    out.push(b"}");
                }
                out.push(b"]}");
            }
            (None, false) => {
                out.resp_array(3);
                out.resp_bulk(b"master");
                out.resp_int(own as i64);
                out.resp_array(snap.followers.len());
                for f in &snap.followers {
                    out.resp_array(3);
                    out.resp_bulk(f.ip.as_bytes());
                    out.resp_bulk(f.port.as_bytes());
                    out.resp_bulk(own.to_string().as_bytes());
                }
            }
        }
        Ok(())
    }
}

/// `WAIT numfollowers timeout` (Redis's, timeout in milliseconds, 0 =
/// forever; Tile38 has no WAIT): the number of followers that acked the
/// AOF's end as of this command (which covers every write this client made
/// before it; Tile38 keeps no per-client offset), once `numfollowers` of
/// them have or the timeout passed. RESP: an integer; JSON:
/// `{"ok":true,"followers":N,"elapsed":…}`. The connection waits, not the
/// server: the command only records [`WaitFor`] in the session when it
/// cannot answer at once, and the connection finishes it
/// (`server/src/conn/wait.rs`). On a follower: `not the leader`.
pub struct Wait {
    followers: u64,
    timeout_ms: u64,
}

/// A `WAIT` its connection must finish.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitFor {
    pub followers: u64,
    /// The leader AOF offset followers must have acked.
    pub target: u64,
    /// `None`: no timeout.
    pub deadline: Option<Instant>,
}

impl ConnCommand<'_> for Wait {
    fn parse(args: &Args) -> Result<Self> {
        let mut c = Cursor::new(args);
        c.exactly(2)?;
        Ok(Wait {
            followers: uint(c.next()?)?,
            timeout_ms: uint(c.next()?)?,
        })
    }

    fn apply(self, cx: &mut ConnCx, out: &mut Reply) -> Result<()> {
        let engine = cx.engine;
        if engine.repl.following() {
            return Err(Error::NotLeader);
        }
        let target = engine.aof.as_ref().map_or(0, |a| a.size());
        let acked = engine.repl.acked(target);
        if acked >= self.followers {
            write_wait_reply(out, acked);
            return Ok(());
        }
        // 0, or a timeout too far to represent: no deadline.
        let deadline = (self.timeout_ms > 0)
            .then(|| Instant::now().checked_add(Duration::from_millis(self.timeout_ms)))
            .flatten();
        cx.conn.wait = Some(WaitFor {
            followers: self.followers,
            target,
            deadline,
        });
        Ok(())
    }
}

/// `WAIT`'s reply: the number of followers that have the writes.
pub fn write_wait_reply(out: &mut Reply, followers: u64) {
    if out.json {
        out.key("followers");
        out.json_i64(followers as i64);
    } else {
        out.resp_int(followers as i64);
    }
}

/// `HEALTHZ`: OK on a leader and on a caught-up follower (under
/// `--elect`: on the elected leader and a caught-up follower only).
pub struct Healthz;

impl ConnCommand<'_> for Healthz {
    fn parse(args: &Args) -> Result<Self> {
        Cursor::new(args).finish()?;
        Ok(Healthz)
    }

    fn apply(self, cx: &mut ConnCx, out: &mut Reply) -> Result<()> {
        if let Some(e) = cx.engine.elect.health() {
            return Err(e);
        }
        let r = &cx.engine.repl;
        if r.following() {
            if !r.caught_up_once() {
                return Err(Error::CatchingUp);
            }
            if !r.caught_up() {
                return Err(Error::NotCaughtUp);
            }
        }
        out.ok();
        Ok(())
    }
}

/// The `# Replication` lines of INFO: Tile38's, then what it lacks (link
/// status, lag, per-follower offsets in Redis's `slaveN` syntax).
pub fn info_lines(s: &Engine) -> Vec<(String, String)> {
    let own = s.aof_size();
    let snap = s.repl.snapshot(own);
    let mut lines: Vec<(&str, String)> = Vec::new();
    let mut slaves = Vec::new();
    match &snap.following {
        Some(t) => {
            lines.push(("role", "slave".to_string()));
            lines.push(("master_host", t.host.clone()));
            lines.push(("master_port", t.port.to_string()));
            lines.push(("slave_repl_offset", snap.offset.to_string()));
            let up = if snap.connected { "up" } else { "down" };
            lines.push(("master_link_status", up.into()));
            if !snap.connected && !snap.link_error.is_empty() {
                lines.push((
                    "master_link_error",
                    snap.link_error.replace(['\r', '\n'], " "),
                ));
            }
            lines.push((
                "master_sync_in_progress",
                u8::from(snap.syncing).to_string(),
            ));
            lines.push(("master_aof_size", snap.leader_size.to_string()));
            lines.push(("slave_repl_lag_bytes", snap.lag_bytes.to_string()));
            lines.push(("slave_repl_lag_seconds", format!("{:.3}", snap.lag_seconds)));
        }
        None => {
            lines.push(("role", "master".to_string()));
            for (i, f) in snap.followers.iter().enumerate() {
                let (offset, lag) = f.offset_and_lag();
                let (ip, port) = (&f.ip, &f.port);
                slaves.push((
                    format!("slave{i}"),
                    format!("ip={ip},port={port},state=online,offset={offset},lag={lag:.0}"),
                ));
            }
        }
    }
    let mut all: Vec<(String, String)> =
        lines.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    all.extend(slaves);
    all.push(("connected_slaves".into(), snap.streaming.to_string()));
    all.extend(s.elect.info_lines());
    all
}
