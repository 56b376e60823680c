//! The listening socket and its accept loop, and the connection drain of a
//! shutdown.
//!
//! * The backlog is `tcp-backlog` (4096 by default, Tile38's: Go listens
//!   with the kernel's somaxconn, 4096 on current Linux; tokio's `bind`
//!   would use 1024), so a burst of thousands of connects is queued instead
//!   of dropped into SYN retransmits.
//! * At the file-descriptor limit every `accept(2)` fails until a
//!   connection closes; the loop then backs off (100 ms doubling to 1 s,
//!   reset by the next accepted connection) and logs at most once a
//!   second, with the count of failures it did not log.
//! * Shutdown ([`Connections::drain`]): the listener closes first, then
//!   every connection is told to stop as `CLIENT KILL` does (it executes
//!   nothing more, sends the replies of what it executed, closes); the
//!   drain waits for them up to [`DRAIN_TIMEOUT`].
//! * The TLS port (`tls-port`) has a loop of its own, beside the plain
//!   one or instead of it (`tls-port` equal to `-p`); both count their
//!   connections in one [`Connections`] and stop together.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tile38_tls::reload::Reloading;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::server::Server;

/// How long connections get, after a terminating signal, to finish the
/// command they are executing and send their replies before the process
/// exits without them (a client that does not read its replies).
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Binds `host:port` (the first address it resolves to that binds) with
/// `backlog`, `SO_REUSEADDR` set as tokio does on Unix.
pub fn bind(host: &str, port: u16, backlog: u32) -> io::Result<TcpListener> {
    warn_if_capped(backlog);
    let mut last = None;
    for addr in (host, port).to_socket_addrs()? {
        match bind_one(addr, backlog) {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{host}: no address to listen on"),
        )
    }))
}

fn bind_one(addr: SocketAddr, backlog: u32) -> io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog.min(i32::MAX as u32) as i32)?;
    TcpListener::from_std(socket.into())
}

/// Redis's startup warning: the kernel silently caps the backlog.
fn warn_if_capped(backlog: u32) {
    let max = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok());
    if let Some(max) = max.filter(|&m| m < backlog) {
        tracing::warn!(
            "The TCP backlog setting of {backlog} cannot be enforced because \
             /proc/sys/net/core/somaxconn is set to the lower value of {max}."
        );
    }
}

/// The pacing of failed accepts.
#[derive(Debug, Default)]
struct Backoff {
    /// The current pause (zero: the last accept succeeded).
    delay: Duration,
    last_log: Option<Instant>,
    /// Failures since the last one logged.
    unlogged: u64,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(100);
    const MAX: Duration = Duration::from_secs(1);
    const LOG_EVERY: Duration = Duration::from_secs(1);
    /// Other failures (a connection aborted before it was accepted) are
    /// about one connection: retry soon, without backing off.
    const OTHER: Duration = Duration::from_millis(10);

    /// Records a failure at `now`: the pause before the next accept, and
    /// the line to log, if it is time for one.
    fn failed(&mut self, e: &io::Error, now: Instant) -> (Duration, Option<String>) {
        let exhausted = matches!(
            e.raw_os_error(),
            Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
        );
        let pause = if exhausted {
            self.delay = (self.delay * 2).clamp(Self::FIRST, Self::MAX);
            self.delay
        } else {
            Self::OTHER
        };
        if self
            .last_log
            .is_some_and(|t| now.duration_since(t) < Self::LOG_EVERY)
        {
            self.unlogged += 1;
            return (pause, None);
        }
        let more = match std::mem::take(&mut self.unlogged) {
            0 => String::new(),
            n => format!(" ({n} more since the last report)"),
        };
        self.last_log = Some(now);
        let line = format!("accept: {e}; retrying in {pause:?}{more}");
        (pause, Some(line))
    }

    /// An accept succeeded.
    fn reset(&mut self) {
        self.delay = Duration::ZERO;
    }
}

/// The connection tasks the accept loop started and that are still running.
#[derive(Clone, Default)]
pub struct Connections(Arc<AtomicUsize>);

/// Counts one connection task while it lives.
struct Live(Arc<AtomicUsize>);

impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Connections {
    fn enter(&self) -> Live {
        self.0.fetch_add(1, Ordering::AcqRel);
        Live(self.0.clone())
    }

    fn running(&self) -> usize {
        self.0.load(Ordering::Acquire)
    }

    /// Tells every connection to stop and waits until all have closed, or
    /// [`DRAIN_TIMEOUT`]. Call once the accept loop has stopped.
    pub async fn drain(&self, server: &Server) {
        let deadline = Instant::now() + DRAIN_TIMEOUT;
        loop {
            // Every round: a connection accepted just before the listener
            // closed may register after the previous round.
            for c in server.clients.lock().values() {
                c.kill();
            }
            let n = self.running();
            if n == 0 {
                return;
            }
            if Instant::now() >= deadline {
                tracing::warn!(
                    "{n} connection(s) still sending after {DRAIN_TIMEOUT:?}; closing them"
                );
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Accepts connections until `stop` turns true (the listener closes when
/// this returns); with `tls`, each connection's TLS handshake runs in its
/// own task first.
pub async fn accept_loop(
    server: Arc<Server>,
    listener: TcpListener,
    tls: Option<Arc<Reloading>>,
    conns: Connections,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = Backoff::default();
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = stop.wait_for(|s| *s) => return,
        };
        let e = match accepted {
            Ok((stream, addr)) => {
                backoff.reset();
                let live = conns.enter();
                let server = server.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    match tls {
                        Some(tls) => crate::tls::serve(server, tls, stream, addr).await,
                        None => crate::conn::serve(server, stream, addr).await,
                    }
                    drop(live);
                });
                continue;
            }
            Err(e) => e,
        };
        server
            .metrics
            .conn
            .accept_errors
            .fetch_add(1, Ordering::Relaxed);
        let (pause, line) = backoff.failed(&e, Instant::now());
        if let Some(line) = line {
            tracing::warn!("{line}");
        }
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emfile() -> io::Error {
        io::Error::from_raw_os_error(libc::EMFILE)
    }

    #[test]
    fn fd_exhaustion_backs_off_and_logs_once_a_second() {
        let mut b = Backoff::default();
        let t = Instant::now();
        let ms = Duration::from_millis;
        let (pause, line) = b.failed(&emfile(), t);
        assert_eq!(pause, ms(100));
        assert!(line.unwrap().contains("retrying in 100ms"));
        // Retries at the paused times: logged again only a second later.
        let mut at = t;
        let mut got = Vec::new();
        for _ in 0..5 {
            at += got.last().map_or(ms(100), |(p, _)| *p);
            got.push(b.failed(&emfile(), at));
        }
        let pauses: Vec<Duration> = got.iter().map(|(p, _)| *p).collect();
        assert_eq!(pauses, [ms(200), ms(400), ms(800), ms(1000), ms(1000)]);
        let lines: Vec<Option<String>> = got.into_iter().map(|(_, l)| l).collect();
        assert_eq!(lines[..3], [None, None, None]);
        assert!(lines[3]
            .as_ref()
            .unwrap()
            .contains("(3 more since the last report)"));
        assert!(!lines[4].as_ref().unwrap().contains("more since"));
        b.reset();
        assert_eq!(b.failed(&emfile(), at + ms(5000)).0, ms(100));
    }

    #[test]
    fn other_failures_retry_soon() {
        let mut b = Backoff::default();
        let aborted = io::Error::from_raw_os_error(libc::ECONNABORTED);
        let t = Instant::now();
        assert_eq!(b.failed(&aborted, t).0, Backoff::OTHER);
        assert_eq!(b.failed(&aborted, t).0, Backoff::OTHER);
    }
}
