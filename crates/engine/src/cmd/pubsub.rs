//! Pub/sub commands outside subscription mode (Tile38's `pubsub.go`):
//!
//! * `SUBSCRIBE channel…` / `PSUBSCRIBE pattern…`: with no name, the arity
//!   error; otherwise the connection enters subscription mode
//!   ([`Session::subscribing`](crate::Session), acted on by the
//!   connection, which then runs the command in
//!   [`crate::pubsub::Subscription`]), and this writes nothing itself.
//! * `PUBLISH channel message` (exactly): `:<receivers>` or
//!   `{"ok":true,"published":<n>}`. Not journaled, allowed on a follower
//!   (it delivers to the follower's own subscribers) and on a read-only
//!   server, as in Tile38.
//!
//! `UNSUBSCRIBE`/`PUNSUBSCRIBE` outside a subscription are unknown
//! commands in Tile38, so they have no row in the table.

use tile38_proto::Args;

use super::{ConnCommand, ConnCx};
use crate::error::{Error, Result};
use crate::reply::Reply;

/// `SUBSCRIBE` and `PSUBSCRIBE` (the names are checked again in
/// subscription mode, which runs them).
pub struct Subscribe;

impl ConnCommand<'_> for Subscribe {
    fn parse(args: &Args) -> Result<Self> {
        if args.len() < 2 {
            return Err(Error::Arity);
        }
        Ok(Subscribe)
    }

    fn apply(self, cx: &mut ConnCx, out: &mut Reply) -> Result<()> {
        cx.conn.subscribing = true;
        // The confirmations go through the subscriber's outbox.
        out.raw = true;
        Ok(())
    }
}

pub struct Publish<'a> {
    channel: &'a [u8],
    message: &'a [u8],
}

impl<'a> ConnCommand<'a> for Publish<'a> {
    fn parse(args: &'a Args) -> Result<Self> {
        if args.len() != 3 {
            return Err(Error::Arity);
        }
        Ok(Publish {
            channel: args.get(1),
            message: args.get(2),
        })
    }

    fn apply(self, cx: &mut ConnCx, out: &mut Reply) -> Result<()> {
        let n = cx.engine.publish(self.channel, self.message) as i64;
        if out.json {
            out.key("published");
            out.json_i64(n);
        } else {
            out.resp_int(n);
        }
        Ok(())
    }
}
