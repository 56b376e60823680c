//! The leader side of `AOF pos`: after `+OK` the connection carries the
//! AOF's bytes from `pos`, then every record as it reaches the file.
//!
//! Each stream reads the file through its own handle at its own pace, so a
//! slow follower holds no buffer on the leader and never delays writes or
//! other followers; a follower that falls behind simply reads older bytes.
//! The stream ends when the follower sends anything (Tile38: followers only
//! read), when the file is replaced (AOFSHRINK; the follower reconnects and
//! finds the new history), or when the connection is killed.
//!
//! Messages this server publishes (PUBLISH, channel events) are injected as
//! `PUBLISH` records (spec §2 `AOF pos`). Tile38 writes them from another
//! goroutine whenever they come, which can split a file record that a
//! backlog read cut in two; here they go only at a record boundary (a
//! point the file's `written` mark reached), and only once the stream has
//! passed the AOF records appended before them, so a follower's subscriber
//! hears of a write after the follower has it. A stream whose messages
//! pile up past the subscriber output limit is closed like a slow
//! subscriber; the follower reconnects and resumes.

use std::os::unix::fs::FileExt;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Notify;

use tile38_engine::pubsub::{Outbox, Transport, Wire};

use crate::server::{ClientInfo, Server};
use crate::tls::ClientStream;

/// Largest slice of the file sent in one write.
const CHUNK: usize = 256 * 1024;

/// Wake-up interval when no new bytes were announced (Tile38: 250 ms).
const POLL: Duration = Duration::from_millis(250);

/// The messages forwarded to one stream (see the module docs).
struct Forward {
    outbox: Arc<Outbox>,
    wake: Arc<Notify>,
    /// The AOF size when messages were first seen queued: they go out
    /// once the stream has passed it.
    due: Option<u64>,
    buf: Vec<u8>,
}

impl Forward {
    fn new(client: &Arc<ClientInfo>) -> Forward {
        let wake = Arc::new(Notify::new());
        let notify = wake.clone();
        let wire = Wire::new(Transport::Resp, false);
        Forward {
            outbox: Outbox::new(client.clone(), wire, move || notify.notify_one()),
            wake,
            due: None,
            buf: Vec::new(),
        }
    }

    /// Notes where queued messages are due (`size`: the AOF's size now).
    fn note(&mut self, size: u64) {
        if self.due.is_none() && self.outbox.pending() > 0 {
            self.due = Some(size);
        }
    }

    /// The messages to send at record boundary `pos`, if they are due.
    fn take(&mut self, pos: u64) -> Option<&[u8]> {
        if self.due.is_none_or(|d| pos < d) {
            return None;
        }
        self.due = None;
        self.outbox.take(&mut self.buf);
        Some(&self.buf)
    }
}

/// Writes `bytes` unless the follower sends something or the connection
/// is killed first; whether the stream goes on.
async fn send(
    (rd, wr): (
        &mut (impl AsyncRead + Unpin),
        &mut (impl AsyncWrite + Unpin),
    ),
    killed: &Notify,
    bytes: &[u8],
) -> bool {
    let mut probe = [0u8; 1];
    tokio::select! {
        r = wr.write_all(bytes) => r.is_ok(),
        _ = rd.read(&mut probe) => false,
        _ = killed.notified() => false,
    }
}

/// Streams the AOF from `pos` (an offset in AOF generation `generation`)
/// until the follower goes away. `+OK` has already been sent.
pub async fn stream(
    server: Arc<Server>,
    mut sock: impl ClientStream,
    client: Arc<ClientInfo>,
    (pos, generation): (u64, u64),
) {
    let Some(aof) = &server.aof else {
        return;
    };
    let file = match aof.reader() {
        Ok((f, g)) if g == generation => f,
        // Replaced since `AOF pos` was checked: the follower reconnects.
        Ok(_) => return,
        Err(e) => {
            tracing::warn!("aof stream: {e}");
            return;
        }
    };
    let killed = crate::server::kill_notify(&client);
    let mut forward = Forward::new(&client);
    server.pubsub.forward_to(&forward.outbox);
    let ip = client.addr.ip().to_string();
    let (sent, idle_since) = server.repl.start_stream(client.id, &ip);
    tracing::info!("follower {} streaming from {pos}", client.addr);
    let mut written = server.aof_written.subscribe();
    let mut buf = vec![0u8; CHUNK];
    let mut probe = [0u8; 1];
    let mut pos = pos;
    sent.store(pos, Ordering::Release);
    *idle_since.lock() = Some(Instant::now());
    let (mut rd, mut wr) = tokio::io::split(&mut sock);
    loop {
        if aof.generation() != generation || client.killed.load(Ordering::Acquire) {
            break;
        }
        forward.note(aof.size());
        let end = aof.written();
        if pos < end {
            let want = ((end - pos) as usize).min(CHUNK);
            let n = match file.read_at(&mut buf[..want], pos) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if !send((&mut rd, &mut wr), &killed, &buf[..n]).await {
                break;
            }
            pos += n as u64;
            sent.store(pos, Ordering::Release);
            if pos >= aof.written() {
                *idle_since.lock() = Some(Instant::now());
            }
            if pos < end {
                continue;
            }
        }
        // At a record boundary.
        if let Some(messages) = forward.take(pos) {
            if !send((&mut rd, &mut wr), &killed, messages).await {
                break;
            }
            forward.outbox.written();
            continue;
        }
        if pos < aof.written() {
            continue;
        }
        *idle_since.lock() = Some(Instant::now());
        tokio::select! {
            r = written.changed() => if r.is_err() { break },
            _ = forward.wake.notified(), if forward.due.is_none() => {}
            _ = rd.read(&mut probe) => break,
            _ = tokio::time::sleep(POLL) => {}
            _ = killed.notified() => break,
        }
    }
    server.pubsub.stop_forwarding(&forward.outbox);
    forward.outbox.close();
    tracing::info!("follower {} stream closed at {pos}", client.addr);
    let _ = sock.shutdown().await;
}
