//! The batch's updates looked up before the first is applied
//! (`tile38_engine::ahead`), once the write lock is held for it.

use tile38_proto::request::parse_next;
use tile38_proto::Limits;

use super::Conn;

/// Bytes of the buffered input framed ahead at most: a batch of small
/// updates, never a copy of a large command's arguments.
const AHEAD_BYTES: usize = 8 * 1024;

impl Conn {
    /// At a batch's first command under the write lock: notes it and the
    /// complete commands after it in `rest` (framed here and again when
    /// they run), and looks their ids up. Nothing is consumed.
    pub(super) fn look_ahead(&mut self, rest: &[u8], limits: &Limits) {
        if self.looked_ahead {
            return;
        }
        let Some(db) = self.state.lock.held() else {
            return;
        };
        self.looked_ahead = true;
        let ahead = &mut self.ahead;
        ahead.clear();
        if !ahead.note(&self.args) {
            return;
        }
        let rest = &rest[..rest.len().min(AHEAD_BYTES)];
        let mut at = 0;
        while let Ok(Some(frame)) = parse_next(&rest[at..], &mut self.ahead_args, limits) {
            at += frame.consumed;
            if !ahead.note(&self.ahead_args) {
                break;
            }
        }
        ahead.prefetch(db);
    }
}
