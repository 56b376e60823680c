//! The follower's acknowledgements: what it has applied and written to its
//! own AOF, told to the leader so that `WAIT` and `min-followers-to-write`
//! can count it (leader side: `tile38_repl::acks`).
//!
//! A Tile38 leader ends the stream as soon as its follower sends anything
//! on it (spec §2 `AOF pos`), so acks never go on the stream:
//!
//! 1. on the stream connection, after `replconf listening-port` (and
//!    `ip-address`), the follower sends `replconf follower-id <server id>`.
//!    A Tile38 leader answers `cannot find follower` (its REPLCONF knows
//!    two options) and the connection goes on as before: that follower
//!    then sends no acks to it, and the leader sees nothing else of ours;
//! 2. a leader of ours answers `OK`; once the stream runs, a side
//!    connection sends `replconf ack <offset> <server id>` whenever the
//!    offset moved (at most every [`ACK_GAP`]), and at least every
//!    [`ACK_IDLE`] while it does not, so the leader can tell a live
//!    follower from a silent one. An error reply (the leader no longer
//!    has that stream) ends the acks; the next stream starts them again.
//!
//! The offset acked is the leader AOF offset applied, capped at what the
//! local AOF file holds: a byte-exact prefix of the leader's, written (not
//! necessarily fsynced), so an acked write survives the follower's process
//! dying; an OS crash of the follower host can still lose what the last
//! fsync (`appendfsync`, every second by default) had not covered.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tile38_repl::Target;

use super::client::{LeaderConn, Value};
use crate::server::Server;

/// Shortest gap between two acks (bounds them to 100 a second).
const ACK_GAP: Duration = Duration::from_millis(10);
/// Longest gap: an idle follower still acks this often.
const ACK_IDLE: Duration = Duration::from_secs(1);

/// The `replconf` part of the handshake on the stream connection: the
/// port (and IP) the follower announces, then its id. Returns whether the
/// leader takes acks.
pub async fn announce(conn: &mut LeaderConn, server: &Server) -> Result<bool, String> {
    let props = server.config.props().clone();
    let port = match props.replica_announce_port {
        0 => server.opts.port.to_string(),
        p => p.to_string(),
    };
    if !conn
        .command(&[b"replconf", b"listening-port", port.as_bytes()])
        .await?
        .is_ok()
    {
        return Err("invalid response to replconf request".into());
    }
    if !props.replica_announce_ip.is_empty()
        && !conn
            .command(&[
                b"replconf",
                b"ip-address",
                props.replica_announce_ip.as_bytes(),
            ])
            .await?
            .is_ok()
    {
        return Err("invalid response to replconf request".into());
    }
    let id = server.config.identity().server_id;
    match conn
        .command(&[b"replconf", b"follower-id", id.as_bytes()])
        .await?
    {
        v if v.is_ok() => Ok(true),
        // A Tile38 leader: `cannot find follower`.
        Value::Error(_) => Ok(false),
        _ => Err("invalid response to replconf request".into()),
    }
}

/// The offset to ack: applied, and in the local AOF file.
fn written_offset(server: &Server) -> u64 {
    let applied = server.repl.offset();
    match &server.aof {
        Some(aof) => applied.min(aof.written()),
        None => applied,
    }
}

/// Sends acks to `target` on a side connection (redialed if it drops)
/// until the follow loop aborts this task with its stream, or the leader
/// refuses an ack.
pub async fn run(server: Arc<Server>, target: Target) {
    let id = server.config.identity().server_id;
    let mut written = server.aof_written.subscribe();
    loop {
        let dialed = match super::follower::dial(&server) {
            Ok(dial) => LeaderConn::connect(&target.host, target.port, &dial).await,
            Err(e) => Err(e),
        };
        let Ok(mut conn) = dialed else {
            tokio::time::sleep(ACK_IDLE).await;
            continue;
        };
        let mut last: Option<(u64, Instant)> = None;
        loop {
            let offset = written_offset(&server);
            if last.is_none_or(|(o, at)| o != offset || at.elapsed() >= ACK_IDLE) {
                let text = offset.to_string();
                match conn
                    .command(&[b"replconf", b"ack", text.as_bytes(), id.as_bytes()])
                    .await
                {
                    Ok(v) if v.is_ok() => last = Some((offset, Instant::now())),
                    Ok(v) => {
                        tracing::debug!("follow: the leader refused an ack: {}", v.text());
                        return;
                    }
                    // Redial the side connection.
                    Err(_) => break,
                }
            }
            tokio::time::sleep(ACK_GAP).await;
            // Woken by the local AOF growing (a follower without an AOF
            // acks what it applied once a tick).
            tokio::select! {
                _ = written.changed() => {}
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
        }
    }
}
