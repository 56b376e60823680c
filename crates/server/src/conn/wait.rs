//! `WAIT numfollowers timeout` on a connection: when the command cannot
//! answer at once it leaves a `WaitFor` in the session
//! (`tile38_engine::cmd::repl::Wait`); the connection then runs nothing
//! more of its input, sends the replies before it, and waits here with no
//! lock held, so only this client waits (Redis's blocked client), until
//! enough followers acked (`Server::acks` wakes it on every ack), the
//! deadline passes, or the client is killed. The reply is then framed as
//! the command's own would have been, and the pipelined commands after
//! WAIT run.

use std::time::Instant;

use tile38_engine::cmd::repl::write_wait_reply;
use tile38_engine::pubsub::Transport;
use tile38_proto::Framing;
use tokio::sync::Notify;

use super::{Conn, Step};
use crate::tls::ClientStream;

/// How the parked WAIT arrived, for framing its reply.
#[derive(Clone, Copy)]
pub(crate) enum Via {
    Stream(Framing),
    Http(Transport),
}

/// A WAIT the connection finishes before anything else.
pub(crate) struct Parked {
    via: Via,
    json: bool,
    started: Instant,
}

impl Conn {
    /// After a command ran (`ok`: successfully): whether it was a WAIT
    /// that must wait, which is then parked.
    pub(crate) fn park_wait(&mut self, ok: bool, via: Via, started: Option<Instant>) -> bool {
        if self.state.wait.is_none() {
            return false;
        }
        if !ok {
            self.state.wait = None;
            return false;
        }
        self.waiting = Some(Parked {
            via,
            json: self.reply.json,
            started: started.unwrap_or_else(Instant::now),
        });
        true
    }

    /// Waits for the parked WAIT's followers, then writes its reply and
    /// makes `step` run the rest of the input. Returns `false` when the
    /// connection must close (also after the reply when `step` said so:
    /// HTTP is one request per connection).
    pub(super) async fn finish_wait(
        &mut self,
        stream: &mut impl ClientStream,
        killed: &Notify,
        step: &mut Step,
    ) -> bool {
        let (Some(parked), Some(w)) = (self.waiting.take(), self.state.wait.take()) else {
            return true;
        };
        let repl = &self.server.repl;
        let mut acks = self.server.acks.subscribe();
        let deadline = async {
            match w.deadline {
                Some(d) => tokio::time::sleep_until(d.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(deadline);
        let count = loop {
            // Subscribed before counting: an ack between the two wakes us.
            acks.borrow_and_update();
            let n = repl.acked(w.target);
            if n >= w.followers {
                break n;
            }
            tokio::select! {
                r = acks.changed() => if r.is_err() { return false },
                _ = &mut deadline => break repl.acked(w.target),
                _ = killed.notified() => return false,
            }
        };
        self.reply.reset(parked.json);
        write_wait_reply(&mut self.reply, count);
        match parked.via {
            Via::Stream(framing) => {
                self.append_reply(Ok(()), framing, Some(parked.started));
            }
            Via::Http(transport) => {
                let body = self.render(Ok(()), parked.started);
                crate::http::write_body(self, transport, parked.json, false, &body);
            }
        }
        if !self.flush(stream).await || *step == Step::Close {
            return false;
        }
        *step = Step::Paused;
        true
    }
}
