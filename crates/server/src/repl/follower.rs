//! The follower: `FOLLOW host port` and the loop that keeps this server a
//! copy of its leader.
//!
//! Each attempt: dial (2 s), `auth` with `leaderauth`, `server` (the
//! leader's id and AOF size = the catch-up target), find the resume
//! position ([`tile38_repl::Probe`] over a second connection), `replconf
//! listening-port` and `follower-id` ([`super::ack`]), `aof pos`, then
//! apply the stream in order (acknowledged on a side connection when the
//! leader is ours). Every
//! streamed record is appended verbatim to the local AOF, applied or not,
//! so the local AOF stays a byte-exact prefix of the leader's and a
//! restarted follower resumes where it stopped.
//!
//! Unlike Tile38 (#740, #688), a follower whose history differs from the
//! leader's (leader restarted empty, restored from an older backup,
//! shrunk) drops its data before replaying the leader's, and refuses reads
//! with `catching up to leader` until it has caught up again: it never
//! serves objects the leader no longer has.

use std::sync::Arc;
use std::time::Duration;

use tile38_proto::request::{parse_resume, Progress};
use tile38_proto::{parse_next, Args, Framing, Limits};
use tile38_repl::{Probe, Resume, Step, Target};

use super::client::{Dial, LeaderConn, Value};
use crate::server::Server;

/// Backoff between attempts: doubles from the first value to the second.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(250), Duration::from_secs(4));

/// How often the leader's AOF size is polled for the lag figures.
const LAG_POLL: Duration = Duration::from_millis(500);

/// The `FOLLOW` pre-check: the target must answer as a leader other than
/// this server. Errors are the text after `cannot follow`.
pub async fn check(server: &Server, host: &str, port: u16) -> Result<(), String> {
    let dial = dial(server).map_err(|e| format!("cannot follow: {e}"))?;
    let mut conn = LeaderConn::connect(host, port, &dial)
        .await
        .map_err(|e| format!("cannot follow: {e}"))?;
    let info = conn
        .server_info()
        .await
        .map_err(|e| format!("cannot follow: {e}"))?;
    validate(server, &info)?;
    let _ = conn.command(&[b"quit"]).await;
    Ok(())
}

/// How to reach the leader with the settings now in force.
pub(super) fn dial(server: &Server) -> Result<Dial, String> {
    let props = server.config.props();
    Dial::new(&props.leaderauth, &props.tls)
}

/// A field of a leader's `SERVER` reply.
fn field<'a>(info: &'a [(String, String)], name: &str) -> Option<&'a str> {
    info.iter()
        .find(|(key, _)| key == name)
        .map(|(_, v)| v.as_str())
}

/// Checks a leader's `SERVER` reply; returns its AOF size and id.
fn validate(server: &Server, info: &[(String, String)]) -> Result<(u64, String), String> {
    let get = |k: &str| field(info, k);
    let id = get("id").filter(|id| !id.is_empty());
    match id {
        None => return Err("cannot follow: invalid id".into()),
        Some(id) if id == server.config.identity().server_id => {
            return Err("cannot follow self".into())
        }
        _ => {}
    }
    if get("following").is_some_and(|f| !f.is_empty()) {
        return Err("cannot follow a follower".into());
    }
    let size = get("aof_size").and_then(|s| s.parse().ok()).unwrap_or(0);
    Ok((size, id.unwrap_or_default().to_string()))
}

/// Makes this server follow `target` (or stop following with `None`) and
/// starts the follow loop.
pub fn start(server: &Arc<Server>, target: Option<Target>) {
    let epoch = server.repl.set_target(target.clone());
    // A full resync defers spatial indexing; whoever takes over serves
    // searches from now on.
    server.db.write().build_indexes();
    server.follow_wake.notify_waiters();
    if let Some(t) = target {
        tracing::info!("following {t}");
        tokio::spawn(follow_loop(server.clone(), epoch));
    }
}

async fn follow_loop(server: Arc<Server>, epoch: u64) {
    let _running = server.follow_running.lock().await;
    let mut delay = BACKOFF.0;
    while server.repl.epoch() == epoch {
        let mut streamed = false;
        match attempt(&server, epoch, &mut streamed).await {
            Ok(()) => tracing::info!("follow: leader closed the stream"),
            Err(e) => {
                tracing::warn!("follow: {e}");
                server.repl.link_failed_in(epoch, &e);
            }
        }
        server.repl.disconnected_in(epoch);
        if streamed {
            delay = BACKOFF.0;
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = server.follow_wake.notified() => {}
        }
        delay = (delay * 2).min(BACKOFF.1);
    }
}

/// One connection's life: handshake, resume, stream.
async fn attempt(server: &Arc<Server>, epoch: u64, streamed: &mut bool) -> Result<(), String> {
    let target = server.repl.target().ok_or("not following")?;
    let dial = dial(server)?;
    let mut conn = LeaderConn::connect(&target.host, target.port, &dial).await?;
    let (leader_size, leader_id) = validate(server, &conn.server_info().await?)?;
    let pos = resume(server, epoch, &target, &dial).await?;
    if server.repl.epoch() != epoch {
        return Ok(());
    }
    let acks = super::ack::announce(&mut conn, server).await?;
    match conn.command(&[b"aof", pos.to_string().as_bytes()]).await? {
        v if v.is_ok() => {}
        Value::Error(e) => return Err(String::from_utf8_lossy(&e).into_owned()),
        _ => return Err("invalid response to aof live request".into()),
    }
    *streamed = true;
    server.repl.connected_in(epoch, pos, leader_size);
    tracing::info!("follow: streaming from {target} at {pos} (leader at {leader_size})");
    let leader = (leader_id, leader_size);
    let acker = acks.then(|| tokio::spawn(super::ack::run(server.clone(), target.clone())));
    let mut poller = tokio::spawn(poll_leader(server.clone(), target, dial, leader));
    let res = stream(server, epoch, conn, leader_size, &mut poller).await;
    poller.abort();
    if let Some(acker) = acker {
        acker.abort();
    }
    res
}

/// Applies the live stream until it ends, the target changes, or the
/// poller finds the leader's history replaced.
async fn stream(
    server: &Arc<Server>,
    epoch: u64,
    mut conn: LeaderConn,
    leader_size: u64,
    poller: &mut tokio::task::JoinHandle<String>,
) -> Result<(), String> {
    use tokio::io::AsyncReadExt;
    let limits = Limits::default();
    let mut args = Args::new();
    let mut front = Progress::new();
    loop {
        aof_writable(server, epoch).await;
        // Everything complete in the buffer first: a batch stops after
        // 4 MiB, and the leader may send nothing more for a long time.
        loop {
            if front_incomplete(&conn.buf, &mut args, &limits, &mut front) {
                break;
            }
            let used = apply_batch(server, epoch, &conn.buf, &mut args, &limits)?;
            bytes::Buf::advance(&mut conn.buf, used);
            if used == 0 || conn.buf.is_empty() {
                break;
            }
        }
        if server.repl.epoch() != epoch {
            return Ok(());
        }
        check_caught_up(server, epoch, leader_size);
        tokio::select! {
            r = conn.stream.read_buf(&mut conn.buf) => match r {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) => return Err(e.to_string()),
            },
            _ = server.follow_wake.notified() => {}
            why = &mut *poller => return Err(why.unwrap_or_else(|e| e.to_string())),
        }
    }
}

/// Whether the record at the front of `buf` is still incomplete. Scanned
/// resumably and without the database lock, so a big record arriving in
/// many reads is neither rescanned from its start on every read nor
/// scanned while the lock is held (leading zero bytes and framing errors
/// are left to [`apply_batch`]).
fn front_incomplete(buf: &[u8], args: &mut Args, limits: &Limits, front: &mut Progress) -> bool {
    match buf.first() {
        None => true,
        Some(0) => false,
        Some(_) => matches!(parse_resume(buf, args, limits, front), Ok(None)),
    }
}

fn check_caught_up(server: &Server, epoch: u64, leader_size: u64) {
    if !server.repl.caught_up() && server.repl.offset() >= leader_size {
        // Indexes deferred by a full resync are built in bulk before any
        // search may run.
        server.db.write().build_indexes();
        if let Some(aof) = &server.aof {
            let _ = aof.flush();
        }
        if server.repl.mark_caught_up_in(epoch) {
            tracing::info!("follow: caught up at {}", server.repl.offset());
        }
    }
}

/// Applies every complete record at the front of `buf` under one write
/// lock, mirrors them into the local AOF, and returns the bytes used.
fn apply_batch(
    server: &Server,
    epoch: u64,
    buf: &[u8],
    args: &mut Args,
    limits: &Limits,
) -> Result<usize, String> {
    if buf.is_empty() {
        return Ok(0);
    }
    let mut db = server.db.write();
    // Under the lock: once FOLLOW (which waits for this lock) has
    // answered, a replaced loop applies nothing more.
    if server.repl.epoch() != epoch {
        return Ok(0);
    }
    let mut pos = 0;
    // The record bytes to mirror: everything except injected PUBLISH.
    let mut mirrored = 0u64;
    let mut run_start = 0;
    let mut failed = None;
    while pos < buf.len() {
        if buf[pos] == 0 {
            // Zero bytes a crash left in the leader's file, which its load
            // skips: skipped here too, and mirrored like the records.
            pos += buf[pos..].iter().take_while(|&&b| b == 0).count();
            continue;
        }
        let frame = match parse_next(&buf[pos..], args, limits) {
            Ok(Some(frame)) if frame.framing == Framing::Resp => frame,
            Ok(Some(_)) => {
                failed = Some("invalid multibulk".to_string());
                break;
            }
            Ok(None) => break,
            Err(e) => {
                failed = Some(e.to_string());
                break;
            }
        };
        if args.get(0).eq_ignore_ascii_case(b"publish") {
            // A Tile38 leader forwards its channel messages and PUBLISHes
            // for the follower's own subscribers (not logged here).
            if args.len() == 3 {
                server.publish(args.get(1), args.get(2));
            }
            mirrored += mirror(server, &buf[run_start..pos]);
            run_start = pos + frame.consumed;
        } else if !args.is_empty() {
            if let Err(e) = tile38_engine::cmd::apply_replicated(server, &mut db, args) {
                failed = Some(e);
                break;
            }
        }
        pos += frame.consumed;
        if pos - run_start > 4 << 20 {
            break;
        }
    }
    // Also on failure: what was applied is in the AOF and the offset, so
    // that a reconnect resumes after it rather than applying it twice.
    mirrored += mirror(server, &buf[run_start..pos]);
    drop(db);
    if mirrored > 0 {
        server.repl.applied(server.repl.offset() + mirrored);
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(pos),
    }
}

fn mirror(server: &Server, records: &[u8]) -> u64 {
    if let Some(aof) = &server.aof {
        aof.append_raw(records);
    }
    records.len() as u64
}

/// Finds where to resume and makes the local state match it: keeps the
/// AOF and data (resume at its end), or cuts the AOF and reloads, or drops
/// everything.
async fn resume(
    server: &Arc<Server>,
    epoch: u64,
    target: &Target,
    dial: &Dial,
) -> Result<u64, String> {
    let local = match &server.aof {
        Some(aof) => aof.size(),
        None => 0,
    };
    let mut probe = Probe::new(local);
    let mut conn = None;
    let decision = loop {
        match probe.next() {
            Step::Done(r) => break r,
            Step::Compare { pos, len } => {
                if conn.is_none() {
                    conn = Some(LeaderConn::connect(&target.host, target.port, dial).await?);
                }
                let c = conn.as_mut().expect("connected above");
                let theirs = c
                    .command(&[
                        b"aofmd5",
                        pos.to_string().as_bytes(),
                        len.to_string().as_bytes(),
                    ])
                    .await?;
                let ours = local_md5(server, pos, len)?;
                probe.answer(
                    matches!((theirs, ours), (Value::Simple(t), Some(o)) if t == o.as_bytes()),
                );
            }
        }
    };
    if let Some(mut c) = conn {
        let _ = c.command(&[b"quit"]).await;
    }
    match decision {
        Resume::At(p) if p >= local => Ok(local),
        Resume::At(p) => {
            tracing::warn!(
                "follow: history differs from the leader's after {p}: truncating and reloading"
            );
            rebuild(server, epoch, Some(p)).await
        }
        Resume::Reset => {
            if local > 0 || !server.db.read().is_empty() {
                tracing::warn!("follow: no common history with the leader: dropping local data");
            }
            rebuild(server, epoch, None).await
        }
    }
}

fn local_md5(server: &Server, pos: u64, len: u64) -> Result<Option<String>, String> {
    match &server.aof {
        Some(aof) => aof.md5(pos, len).map_err(|e| e.to_string()),
        None => Ok(None),
    }
}

/// Drops the data, cuts the AOF to `keep` bytes (`None`: empty) and
/// reloads what is left (a torn last record is cut by the loader). Reads
/// are refused meanwhile. Returns the new offset.
async fn rebuild(server: &Arc<Server>, epoch: u64, keep: Option<u64>) -> Result<u64, String> {
    let s = server.clone();
    tokio::task::spawn_blocking(move || -> Result<u64, String> {
        let mut db = s.db.write();
        if s.repl.epoch() != epoch {
            // FOLLOW changed meanwhile: this data is no longer ours to drop.
            return Err("the follow target changed".into());
        }
        s.repl.resyncing(true);
        // Reads are refused until caught up: a full resync indexes once,
        // at the end.
        drop_data(&s, &mut db, keep.is_none());
        let Some(aof) = &s.aof else {
            return Ok(0);
        };
        aof.truncate(keep.unwrap_or(0)).map_err(|e| e.to_string())?;
        drop(db);
        if keep.is_some_and(|k| k > 0) {
            if let Err(e) = reload_aof(&s) {
                // Half loaded: the next attempt starts from nothing rather
                // than resuming on top of it.
                drop_data(&s, &mut s.db.write(), true);
                aof.truncate(0).map_err(|e| e.to_string())?;
                return Err(format!("reload: {e}"));
            }
        }
        let size = aof.size();
        s.aof_written.send_replace(size);
        Ok(size)
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Empties the database and the hooks (indexing deferred with `defer`).
fn drop_data(server: &Server, db: &mut tile38_collection::Database, defer: bool) {
    *db = tile38_collection::Database::new();
    if defer {
        db.defer_indexes();
    }
    *server.hooks.lock() = Default::default();
}

/// Polls the leader's `SERVER` while streaming: its AOF size for the lag
/// figures (the lag is logged when it stays above a second, at most every
/// 10 s), and signs that its history was replaced behind an open stream,
/// which end the stream with the returned reason: another id (a new
/// process), an AOF shorter than what was applied (a restart with less
/// data) or than at the handshake (a rewrite between the handshake and
/// `AOF pos`: the catch-up target and maybe the position belong to the old
/// file).
async fn poll_leader(
    server: Arc<Server>,
    target: Target,
    dial: Dial,
    (id, handshake_size): (String, u64),
) -> String {
    let mut last_report = std::time::Instant::now();
    loop {
        tokio::time::sleep(LAG_POLL).await;
        let Ok(mut conn) = LeaderConn::connect(&target.host, target.port, &dial).await else {
            continue;
        };
        while let Ok(info) = conn.server_info().await {
            let get = |k: &str| field(&info, k);
            if get("id").is_some_and(|now| now != id) {
                return "the leader's id changed: reconnecting".into();
            }
            if let Some(size) = get("aof_size").and_then(|v| v.parse::<u64>().ok()) {
                if size < server.repl.offset().max(handshake_size) {
                    return format!("the leader's AOF shrank to {size} bytes: reconnecting");
                }
                server.repl.observe_leader(size);
            }
            let snap = server.repl.snapshot(0);
            if snap.lag_seconds > 1.0 && last_report.elapsed() > Duration::from_secs(10) {
                last_report = std::time::Instant::now();
                tracing::warn!(
                    "follow: {:.1}s ({} bytes) behind the leader",
                    snap.lag_seconds,
                    snap.lag_bytes
                );
            }
            tokio::time::sleep(LAG_POLL).await;
        }
    }
}

/// A follower's counterpart of the MISCONF refusal: returns once the AOF
/// can be written (or the follow target changed, `epoch`), so that the
/// leader's stream is not applied faster than it can be mirrored.
async fn aof_writable(server: &Server, epoch: u64) {
    while server
        .aof
        .as_ref()
        .is_some_and(|a| a.write_error().is_some())
        && server.repl.epoch() == epoch
    {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Reloads the AOF file into the (emptied) database: a follower keeping
/// the part of its history its leader still has. A torn last record is cut.
fn reload_aof(server: &Server) -> std::result::Result<(), String> {
    let Some(aof) = &server.aof else {
        return Ok(());
    };
    aof.flush().map_err(|e| e.to_string())?;
    crate::load::replay_file(server, aof.path()).map_err(|e| e.to_string())?;
    aof.reread_size().map_err(|e| e.to_string())
}
