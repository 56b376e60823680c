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
//!
//! [`Conn::serve_outbox`] is the part a live geofence connection shares:
//! it gets its own outbox ([`Conn::new_outbox`]), which the engine's fence
//! evaluation sends to from the write path, and an [`Input`] of its own.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use crate::tls::ClientStream;
use bytes::{Buf, BytesMut};
use tile38_engine::output_limit::OutputLimits;
use tile38_engine::pubsub::{After, Outbox, Transport, Wire};
use tile38_proto::request::parse_resume;
use tile38_proto::{Framing, Limits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
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

/// What a connection serving an outbox does with what its client sends.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Input {
    /// Subscription mode: runs the commands Tile38 allows there.
    Subscription,
    /// Reads and drops it (HTTP and WebSocket subscribers).
    Drop,
    /// A live geofence: any command, QUIT included, closes the connection
    /// silently (`live.go`), which `handle_input` does for any mode that
    /// runs no commands.
    Live,
    /// A MONITOR connection: any input closes it, after `+OK` if a
    /// message of it is a lone `QUIT` (`monitor.go`).
    Monitor,
}

impl Conn {
    /// An outbox for this connection's client, framed for `transport` in
    /// output mode `json`, that wakes [`Conn::serve_outbox`].
    pub(crate) fn new_outbox(&mut self, transport: Transport, json: bool) -> Arc<Outbox> {
        let notify = self.wake.get_or_insert_with(Default::default).clone();
        Outbox::new(
            self.state.client.clone(),
            Wire::new(transport, json),
            move || notify.notify_one(),
        )
    }

    /// The SUBSCRIBE or PSUBSCRIBE in `self.args` asked for subscription
    /// mode: makes the outbox and runs the command there.
    /// [`Conn::serve_subscribed`] takes over once the replies before it
    /// are written.
    pub(crate) fn enter_subscription(
        &mut self,
        transport: Transport,
        json: bool,
        started: Instant,
    ) {
        let outbox = self.new_outbox(transport, json);
        // A first (P)SUBSCRIBE never closes.
        let _ = self
            .state
            .enter_subscription(&self.server, outbox, &self.args, started);
    }

    /// Serves the connection in subscription mode until it closes, then
    /// leaves every channel and pattern. `inbuf` may hold commands sent
    /// after the SUBSCRIBE.
    pub(crate) async fn serve_subscribed(
        &mut self,
        stream: &mut impl ClientStream,
        inbuf: &mut BytesMut,
        killed: &Notify,
    ) {
        let Some(outbox) = self.state.subscription.as_ref().map(|s| s.outbox().clone()) else {
            return;
        };
        let input = match outbox.wire().transport {
            Transport::Resp | Transport::Native => Input::Subscription,
            Transport::WebSocket | Transport::Http => Input::Drop,
        };
        self.serve_outbox(stream, inbuf, killed, &outbox, input)
            .await;
        if let Some(sub) = self.state.subscription.take() {
            sub.close(&self.server);
        }
    }

    /// Writes what `outbox` queues whenever it is woken, and handles input
    /// as `input` says, until the connection closes: end of input, a
    /// protocol error, QUIT, a kill, or the outbox's output limit (whose
    /// kill also ends a write the client does not read). `inbuf` may hold
    /// input already.
    pub(crate) async fn serve_outbox(
        &mut self,
        stream: &mut impl ClientStream,
        inbuf: &mut BytesMut,
        killed: &Notify,
        outbox: &Outbox,
        input: Input,
    ) {
        let wake = self.wake.get_or_insert_with(Default::default).clone();
        let limits = Limits::default();
        let mut closing = self.handle_input(inbuf, &limits, input, outbox) == After::Close;
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
                    closing = self.handle_input(inbuf, &limits, input, outbox) == After::Close;
                }
                _ = wake.notified() => {}
                _ = killed.notified() => break,
            }
        }
    }

    /// Handles the complete messages in `inbuf` as `input` says. A
    /// protocol error closes the connection without a reply (Tile38's
    /// loops end on a read error).
    fn handle_input(
        &mut self,
        inbuf: &mut BytesMut,
        limits: &Limits,
        input: Input,
        outbox: &Outbox,
    ) -> After {
        match input {
            Input::Drop => {
                inbuf.clear();
                return After::Stay;
            }
            Input::Monitor if !inbuf.is_empty() => {
                return self.monitor_input(inbuf, limits, outbox)
            }
            Input::Monitor => return After::Stay,
            _ => {}
        }
        let after = loop {
            let frame = match parse_resume(inbuf, &mut self.args, limits, &mut self.progress) {
                Ok(Some(frame)) => frame,
                Ok(None) => break After::Stay,
                Err(_) => break After::Close,
            };
            inbuf.advance(frame.consumed);
            if self.args.is_empty() {
                continue;
            }
            self.commands += 1;
            let Some(sub) = self
                .state
                .subscription
                .as_mut()
                .filter(|_| input == Input::Subscription)
            else {
                break After::Close;
            };
            if sub.execute(&self.server, &self.args, Instant::now()) == After::Close {
                break After::Close;
            }
        };
        self.finish_batch();
        after
    }

    /// Input on a MONITOR connection: `+OK` if one of its complete
    /// messages is a lone `QUIT`; the connection closes either way.
    fn monitor_input(&mut self, inbuf: &mut BytesMut, limits: &Limits, outbox: &Outbox) -> After {
        let mut quit = false;
        while let Ok(Some(frame)) = parse_resume(inbuf, &mut self.args, limits, &mut self.progress)
        {
            inbuf.advance(frame.consumed);
            quit |= self.args.len() == 1 && self.args.get(0).eq_ignore_ascii_case(b"quit");
        }
        if quit {
            let limits = OutputLimits::current(&self.server);
            outbox.send(&self.server, &limits, b"+OK\r\n", false);
        }
        After::Close
    }
}
