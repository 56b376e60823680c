//! A connection in subscription mode (after SUBSCRIBE or PSUBSCRIBE): the
//! runtime half of `tile38_engine::pubsub`.
//!
//! The engine queues everything for the connection in its
//! [`Outbox`] (messages other clients publish, and the replies to its own
//! commands, in one order); this task writes the queue to the socket
//! whenever it is woken, and runs the commands the client sends, which
//! Tile38 restricts to (P)(UN)SUBSCRIBE, PING and QUIT. Publishers never
//! wait for it: a subscriber that does not read is disconnected by the
//! outbox's `client-output-buffer-limit` check, which kills the client and
//! so wakes this task, even while it is stuck writing.
//!
//! HTTP and WebSocket subscribers: Tile38 reads nothing more from them
//! (their input is dropped), sends WebSocket subscribers text frames and
//! plain HTTP ones nothing at all, and keeps both open until the client
//! closes.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Buf, BytesMut};
use tile38_engine::pubsub::{After, Outbox, Transport, Wire};
use tile38_proto::request::parse_resume;
use tile38_proto::{Framing, Limits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Notify;

use super::Conn;

/// The transport a subscription made with a message of this framing uses.
pub(crate) fn transport(framing: Framing) -> Transport {
    match framing {
        Framing::Resp | Framing::Telnet => Transport::Resp,
        Framing::Native => Transport::Native,
        Framing::WebSocket => Transport::WebSocket,
        Framing::Http => Transport::Http,
    }
}

impl Conn {
    /// The SUBSCRIBE or PSUBSCRIBE in `self.args` asked for subscription
    /// mode: makes the outbox (woken through `self.wake`) and runs the
    /// command there. [`Conn::serve_subscribed`] takes over once the
    /// replies before it are written.
    pub(crate) fn enter_subscription(
        &mut self,
        transport: Transport,
        json: bool,
        started: Instant,
    ) {
        let notify = Arc::new(Notify::new());
        let wake = notify.clone();
        let outbox = Outbox::new(
            self.state.client.clone(),
            Wire::new(transport, json),
            move || wake.notify_one(),
        );
        self.wake = Some(notify);
        // A first (P)SUBSCRIBE never closes.
        let _ = self
            .state
            .enter_subscription(&self.server, outbox, &self.args, started);
    }

    /// Serves the connection in subscription mode until it closes (QUIT,
    /// end of input, a protocol error, a kill, or the output limit), then
    /// leaves every channel and pattern. `inbuf` may hold commands sent
    /// after the SUBSCRIBE.
    pub(crate) async fn serve_subscribed(
        &mut self,
        stream: &mut TcpStream,
        inbuf: &mut BytesMut,
        killed: &Notify,
    ) {
        let (Some(sub), Some(wake)) = (self.state.subscription.as_ref(), self.wake.clone()) else {
            return;
        };
        let outbox = sub.outbox().clone();
        let listens = matches!(outbox.wire().transport, Transport::Resp | Transport::Native);
        let limits = Limits::default();
        let mut closing = false;
        if listens {
            closing = self.run_subscribed(inbuf, &limits) == After::Close;
            self.finish_batch();
        }
        let mut buf = std::mem::take(&mut self.out);
        loop {
            outbox.take(&mut buf);
            if !buf.is_empty() {
                let wrote = tokio::select! {
                    r = stream.write_all(&buf) => r.is_ok(),
                    _ = killed.notified() => false,
                };
                outbox.written();
                if !wrote {
                    break;
                }
                continue;
            }
            if closing || outbox.is_closed() || self.state.client.killed.load(Ordering::Acquire) {
                break;
            }
            tokio::select! {
                r = stream.read_buf(inbuf) => {
                    if !matches!(r, Ok(n) if n > 0) {
                        break;
                    }
                    if !listens {
                        inbuf.clear();
                        continue;
                    }
                    closing = self.run_subscribed(inbuf, &limits) == After::Close;
                    self.finish_batch();
                }
                _ = wake.notified() => {}
                _ = killed.notified() => break,
            }
        }
        if let Some(sub) = self.state.subscription.take() {
            sub.close(&self.server);
        }
    }

    /// Runs the complete commands in `inbuf` in subscription mode. A
    /// protocol error closes the connection without a reply (Tile38's
    /// subscription loop ends on a read error).
    fn run_subscribed(&mut self, inbuf: &mut BytesMut, limits: &Limits) -> After {
        loop {
            let frame = match parse_resume(inbuf, &mut self.args, limits, &mut self.progress) {
                Ok(Some(frame)) => frame,
                Ok(None) => return After::Stay,
                Err(_) => return After::Close,
            };
            inbuf.advance(frame.consumed);
            if self.args.is_empty() {
                continue;
            }
            self.commands += 1;
            let Some(sub) = self.state.subscription.as_mut() else {
                return After::Close;
            };
            if sub.execute(&self.server, &self.args, Instant::now()) == After::Close {
                return After::Close;
            }
        }
    }
}
