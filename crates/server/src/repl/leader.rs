//! The leader side of `AOF pos`: after `+OK` the connection carries the
//! AOF's bytes from `pos`, then every record as it reaches the file.
//!
//! Each stream reads the file through its own handle at its own pace, so a
//! slow follower holds no buffer on the leader and never delays writes or
//! other followers; a follower that falls behind simply reads older bytes.
//! The stream ends when the follower sends anything (Tile38: followers only
//! read), when the file is replaced (AOFSHRINK; the follower reconnects and
//! finds the new history), or when the connection is killed.

use std::os::unix::fs::FileExt;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::server::{ClientInfo, Server};

/// Largest slice of the file sent in one write.
const CHUNK: usize = 256 * 1024;

/// Wake-up interval when no new bytes were announced (Tile38: 250 ms).
const POLL: Duration = Duration::from_millis(250);

/// Streams the AOF from `pos` (an offset in AOF generation `generation`)
/// until the follower goes away. `+OK` has already been sent.
pub async fn stream(
    server: Arc<Server>,
    mut sock: TcpStream,
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
    let ip = client.addr.ip().to_string();
    let (sent, idle_since) = server.repl.start_stream(client.id, &ip);
    tracing::info!("follower {} streaming from {pos}", client.addr);
    let mut written = server.aof_written.subscribe();
    let mut buf = vec![0u8; CHUNK];
    let mut probe = [0u8; 1];
    let mut pos = pos;
    sent.store(pos, Ordering::Release);
    *idle_since.lock() = Some(Instant::now());
    let (mut rd, mut wr) = sock.split();
    loop {
        if aof.generation() != generation || client.killed.load(Ordering::Acquire) {
            break;
        }
        let end = aof.written();
        if pos < end {
            let want = ((end - pos) as usize).min(CHUNK);
            let n = match file.read_at(&mut buf[..want], pos) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            tokio::select! {
                r = wr.write_all(&buf[..n]) => if r.is_err() { break },
                _ = rd.read(&mut probe) => break,
                _ = killed.notified() => break,
            }
            pos += n as u64;
            sent.store(pos, Ordering::Release);
            if pos >= aof.written() {
                *idle_since.lock() = Some(Instant::now());
            }
            continue;
        }
        *idle_since.lock() = Some(Instant::now());
        tokio::select! {
            r = written.changed() => if r.is_err() { break },
            _ = rd.read(&mut probe) => break,
            _ = tokio::time::sleep(POLL) => {}
            _ = killed.notified() => break,
        }
    }
    tracing::info!("follower {} stream closed at {pos}", client.addr);
    let _ = sock.shutdown().await;
}
