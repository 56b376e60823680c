//! A subscriber connection's outbox: the queue every message for it goes
//! through (pub/sub messages, its own replies in subscription mode, and
//! geofence events later), framed for its transport and output mode as
//! Tile38's `live.go:writeLiveMessage` frames them.
//!
//! Messages are queued from inside other clients' commands (PUBLISH, and
//! channel events from writes, under the database write lock), so queuing
//! never blocks and never waits for the subscriber: it appends to a buffer
//! under a mutex that the connection task holds only to swap the buffer
//! out, and wakes the task through a callback the runtime installs (no
//! async runtime here). A subscriber that does not read is held to
//! `client-output-buffer-limit` (`crate::output_limit`): past it, it is
//! disconnected and its queue dropped, instead of pausing the publishers.

use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;
use tile38_proto::fmt::write_u64;
use tile38_proto::{http, resp};

use crate::clients::ClientInfo;
use crate::engine::Engine;
use crate::output_limit::{self, OutputLimit, OutputLimits, Verdict};

/// The framing of the connection a subscription was made on (Tile38's
/// `ConnType`, plus the WebSocket and plain-HTTP cases).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// RESP or telnet: JSON is sent as a bulk string, RESP as it is.
    Resp,
    /// `$<len> <message>\r\n` for everything.
    Native,
    /// One text frame per message.
    WebSocket,
    /// A plain HTTP request: Tile38 registers the subscription but writes
    /// nothing at all (the socket stays open, PUBLISH counts it).
    Http,
}

/// How one subscriber's messages are framed: its transport and output
/// mode, fixed when it subscribed (OUTPUT is refused afterwards).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wire {
    pub transport: Transport,
    /// JSON output (always for WebSocket).
    pub json: bool,
}

impl Wire {
    /// The wire of a subscription made in output mode `json` over
    /// `transport` (WebSocket forces JSON, as in Tile38).
    pub fn new(transport: Transport, json: bool) -> Wire {
        Wire {
            transport,
            json: json || transport == Transport::WebSocket,
        }
    }

    /// Appends `body` framed for this wire. `wrap`: on a RESP connection,
    /// send it as a bulk string (JSON messages and geofence events) rather
    /// than as the RESP bytes it is. An empty body is not sent (Tile38
    /// alike).
    pub fn frame(&self, body: &[u8], wrap: bool, out: &mut Vec<u8>) {
        if body.is_empty() {
            return;
        }
        match self.transport {
            Transport::Resp if wrap => resp::bulk(out, body),
            Transport::Resp => out.extend_from_slice(body),
            Transport::Native => {
                out.push(b'$');
                write_u64(out, body.len() as u64);
                out.push(b' ');
                out.extend_from_slice(body);
                out.extend_from_slice(b"\r\n");
            }
            Transport::WebSocket => {
                http::ws_text_frame_head(out, body.len());
                out.extend_from_slice(body);
            }
            Transport::Http => {}
        }
    }
}

type Wake = Box<dyn Fn() + Send + Sync>;

/// One subscriber connection's queue (see the module docs).
pub struct Outbox {
    client: Arc<ClientInfo>,
    wire: Wire,
    state: Mutex<State>,
    wake: Wake,
}

#[derive(Default)]
struct State {
    /// Framed bytes not yet taken by the connection.
    queued: Vec<u8>,
    /// Bytes taken and being written (still pending for the limit).
    in_flight: usize,
    limit: OutputLimit,
    /// Disconnected by the limit, or the connection is gone: nothing more
    /// is queued.
    closed: bool,
}

impl Outbox {
    /// The outbox of `client`'s connection; `wake` tells its task that
    /// bytes are queued (it must not block: e.g. a notify).
    pub fn new(
        client: Arc<ClientInfo>,
        wire: Wire,
        wake: impl Fn() + Send + Sync + 'static,
    ) -> Arc<Outbox> {
        Arc::new(Outbox {
            client,
            wire,
            state: Mutex::new(State::default()),
            wake: Box::new(wake),
        })
    }

    pub fn wire(&self) -> Wire {
        self.wire
    }

    pub fn client(&self) -> &Arc<ClientInfo> {
        &self.client
    }

    /// Queues `body` framed for this subscriber ([`Wire::frame`]) and
    /// wakes its connection; never blocks. Returns `false` when nothing
    /// was queued because the subscriber is closed, or is disconnected now
    /// for passing `limits` (logged and counted, see [`output_limit`]).
    pub fn send(&self, engine: &Engine, limits: &OutputLimits, body: &[u8], wrap: bool) -> bool {
        let mut st = self.state.lock();
        if st.closed {
            return false;
        }
        self.wire.frame(body, wrap, &mut st.queued);
        let pending = (st.queued.len() + st.in_flight) as u64;
        if let Verdict::Disconnect(breach) = st.limit.check(pending, limits, Instant::now()) {
            st.closed = true;
            st.queued = Vec::new();
            drop(st);
            output_limit::disconnect(engine, &self.client, pending, limits, breach);
            return false;
        }
        drop(st);
        (self.wake)();
        true
    }

    /// Moves the queued bytes into `into` (which should be empty; its
    /// buffer is reused) for the connection to write. They stay pending
    /// for the limit until [`Outbox::written`].
    pub fn take(&self, into: &mut Vec<u8>) {
        let mut st = self.state.lock();
        into.clear();
        std::mem::swap(&mut st.queued, into);
        st.in_flight = into.len();
    }

    /// The bytes last taken have been written.
    pub fn written(&self) {
        self.state.lock().in_flight = 0;
    }

    /// Bytes queued or being written.
    pub fn pending(&self) -> usize {
        let st = self.state.lock();
        st.queued.len() + st.in_flight
    }

    /// Whether nothing more is queued (the limit disconnected it, or
    /// [`Outbox::close`]).
    pub fn is_closed(&self) -> bool {
        self.state.lock().closed
    }

    /// The connection is going: drop what is queued and queue nothing more.
    pub fn close(&self) {
        let mut st = self.state.lock();
        st.closed = true;
        st.queued = Vec::new();
    }
}
