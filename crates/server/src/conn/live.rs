//! A live geofence connection (`NEARBY|WITHIN|INTERSECTS key … FENCE …`),
//! as Tile38's `live.go:goLive` serves it: one `{"ok":true,"live":true}`
//! frame (`+OK` in RESP mode; double-wrapped on native and WebSocket
//! connections, nothing over plain HTTP), then every event of the fence,
//! each a JSON bulk string in both output modes, until the client closes.
//! Any command the client sends, QUIT included, closes the connection
//! without a reply.
//!
//! The fence lives in `Engine::fences` with this connection's outbox,
//! which the write path sends its events to; it is removed when the
//! connection ends. The serving loop is the subscribers' one
//! ([`Conn::serve_outbox`]).
//!
//! A MONITOR connection is served the same way (`monitor.go:liveMonitor`):
//! `+OK` in every output mode, then a line per command run
//! (`tile38_engine::monitor`), until the client sends anything: `QUIT`
//! is answered `+OK`, then the connection closes.

use crate::tls::ClientStream;
use bytes::BytesMut;
use tile38_engine::pubsub::{Outbox, Transport};
use tile38_geofence::{Fence, FenceId};
use tile38_proto::resp;
use tokio::sync::Notify;

use super::subscriber::Input;
use super::Conn;
use std::sync::Arc;

/// The first frame's JSON (no `elapsed`).
const LIVE_JSON: &[u8] = br#"{"ok":true,"live":true}"#;

/// A connection that went live: its fence (none for a monitor) and the
/// outbox of its events.
pub(crate) struct Live {
    id: Option<FenceId>,
    outbox: Arc<Outbox>,
}

impl Conn {
    /// The command just run succeeded as a live fence: registers `fence`
    /// with a new outbox and queues the first frame in the output.
    /// [`Conn::serve_live`] takes over once it is written.
    pub(crate) fn go_live(&mut self, fence: Box<Fence>, transport: Transport, json: bool) {
        let outbox = self.new_outbox(transport, json);
        let mut first = Vec::with_capacity(32);
        if json {
            resp::bulk(&mut first, LIVE_JSON);
        } else {
            resp::ok(&mut first);
        }
        outbox.wire().frame(&first, false, &mut self.out);
        // Fences change under the database write lock (writes rely on it);
        // this connection's batch may hold it already.
        self.state.lock.release();
        let id = {
            let _db = self.server.db.write();
            self.server.fences.add_live(*fence, outbox.clone())
        };
        self.live = Some(Live {
            id: Some(id),
            outbox,
        });
    }

    /// Whether the command just run (successfully: `ok`) was MONITOR.
    pub(crate) fn monitoring(&mut self, ok: bool) -> bool {
        std::mem::take(&mut self.state.monitoring) && ok
    }

    /// MONITOR succeeded: queues `+OK` and registers the connection's
    /// outbox with the monitors. [`Conn::serve_live`] takes over.
    pub(crate) fn go_monitor(&mut self) {
        let outbox = self.new_outbox(Transport::Resp, false);
        resp::ok(&mut self.out);
        self.server.monitors.add(outbox.clone());
        self.live = Some(Live { id: None, outbox });
    }

    /// Whether the connection went live.
    pub(crate) fn is_live(&self) -> bool {
        self.live.is_some()
    }

    /// Serves the live connection until it closes, then removes its fence.
    pub(crate) async fn serve_live(
        &mut self,
        stream: &mut impl ClientStream,
        inbuf: &mut BytesMut,
        killed: &Notify,
    ) {
        let Some(live) = self.live.take() else {
            return;
        };
        let input = match (live.id, live.outbox.wire().transport) {
            (None, _) => Input::Monitor,
            (_, Transport::Resp | Transport::Native) => Input::Live,
            (_, Transport::WebSocket | Transport::Http) => Input::Drop,
        };
        self.serve_outbox(stream, inbuf, killed, &live.outbox, input)
            .await;
        live.outbox.close();
        let Some(id) = live.id else {
            self.server.monitors.remove(&live.outbox);
            return;
        };
        let _db = self.server.db.write();
        self.server.fences.remove_live(id);
    }
}
