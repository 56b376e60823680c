//! The connection's parts the HTTP/WebSocket responder (`crate::http`)
//! reaches: it runs a request through the same [`Conn`] as any other
//! transport.

use tile38_engine::reply::Reply;
use tile38_proto::Args;

use super::Conn;
use crate::server::Server;
use std::sync::Arc;

/// Accessors used by the HTTP/WebSocket responder.
impl Conn {
    pub(crate) fn server(&self) -> &Arc<Server> {
        &self.server
    }
    pub(crate) fn args_ref(&self) -> &Args {
        &self.args
    }
    pub(crate) fn out_mut(&mut self) -> &mut Vec<u8> {
        &mut self.out
    }
    pub(crate) fn reply_ref(&self) -> &Reply {
        &self.reply
    }
    pub(crate) fn reset_reply(&mut self, json: bool) {
        self.reply.reset(json);
    }
    pub(crate) fn count_command(&mut self) {
        self.commands += 1;
    }
    /// The fence the command just run (successfully: `ok`) made live.
    pub(crate) fn take_live(&mut self, ok: bool) -> Option<Box<tile38_geofence::Fence>> {
        self.reply.live.take().filter(|_| ok)
    }

    /// Whether the command just run (successfully: `ok`) asked for
    /// subscription mode (a SUBSCRIBE whose `TIMEOUT` passed did not).
    pub(crate) fn subscribing(&mut self, ok: bool) -> bool {
        std::mem::take(&mut self.state.subscribing) && ok
    }
}
