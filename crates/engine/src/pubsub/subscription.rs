//! A connection in subscription mode, as Tile38's
//! `pubsub.go:liveSubscription` runs it: after the first SUBSCRIBE or
//! PSUBSCRIBE, every command the connection sends comes here, and every
//! reply goes through its [`Outbox`], in order with the messages.
//!
//! * `SUBSCRIBE`/`PSUBSCRIBE`/`UNSUBSCRIBE`/`PUNSUBSCRIBE name…`: one
//!   confirmation per name, counting the connection's channels plus
//!   patterns after the change (also for names it did not have). With no
//!   name: only the arity error, and a bare UNSUBSCRIBE does not mean
//!   "all". Unsubscribing from everything does not leave the mode.
//! * `PING [msg]`: `*2 PONG <msg or "">` or `{"ok":true,"ping":…}`.
//! * `QUIT`: `+OK` or `{"ok":true,…}`, then the connection closes.
//! * anything else: `only (P)SUBSCRIBE / (P)UNSUBSCRIBE / PING / QUIT
//!   allowed in this context`, and the connection stays subscribed.
//!
//! The command name in confirmations and arity errors is the lower-case
//! one, whatever the client sent; JSON replies carry `elapsed` since the
//! command started.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use tile38_proto::fmt::{write_duration, write_json_str, write_u64};
use tile38_proto::{resp, Args};

use super::{Kind, Outbox};
use crate::engine::Engine;
use crate::output_limit::OutputLimits;
use crate::session::Session;

const ONLY_PUBSUB: &str =
    "only (P)SUBSCRIBE / (P)UNSUBSCRIBE / PING / QUIT allowed in this context";

/// One connection's subscriptions (see the module docs).
pub struct Subscription {
    outbox: Arc<Outbox>,
    channels: HashSet<Vec<u8>>,
    patterns: HashSet<Vec<u8>>,
}

/// The subscription commands.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Subscribe,
    PSubscribe,
    Unsubscribe,
    PUnsubscribe,
}

impl Op {
    fn parse(lower: &[u8]) -> Option<Op> {
        Some(match lower {
            b"subscribe" => Op::Subscribe,
            b"psubscribe" => Op::PSubscribe,
            b"unsubscribe" => Op::Unsubscribe,
            b"punsubscribe" => Op::PUnsubscribe,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Op::Subscribe => "subscribe",
            Op::PSubscribe => "psubscribe",
            Op::Unsubscribe => "unsubscribe",
            Op::PUnsubscribe => "punsubscribe",
        }
    }

    fn kind(self) -> Kind {
        match self {
            Op::Subscribe | Op::Unsubscribe => Kind::Channel,
            Op::PSubscribe | Op::PUnsubscribe => Kind::Pattern,
        }
    }
}

/// What the connection does after a command in subscription mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum After {
    Stay,
    /// QUIT: send what is queued, then close.
    Close,
}

impl Subscription {
    pub fn new(outbox: Arc<Outbox>) -> Subscription {
        Subscription {
            outbox,
            channels: HashSet::new(),
            patterns: HashSet::new(),
        }
    }

    pub fn outbox(&self) -> &Arc<Outbox> {
        &self.outbox
    }

    /// Channels plus patterns subscribed.
    pub fn count(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    /// Runs one command sent in subscription mode (`args[0]` is its
    /// name), queuing its replies; `started`: when it began (JSON
    /// `elapsed`).
    pub fn execute(&mut self, engine: &Engine, args: &Args, started: Instant) -> After {
        let lower = args.get(0).to_ascii_lowercase();
        let reply = Replier {
            engine,
            outbox: self.outbox.clone(),
            limits: OutputLimits::current(engine),
            json: self.outbox.wire().json,
            started,
        };
        let op = match lower.as_slice() {
            b"quit" => {
                reply.ok();
                return After::Close;
            }
            b"ping" => {
                reply.ping((args.len() > 1).then(|| args.get(1)));
                return After::Stay;
            }
            other => Op::parse(other),
        };
        let Some(op) = op else {
            reply.error(ONLY_PUBSUB, ONLY_PUBSUB);
            return After::Stay;
        };
        if args.len() < 2 {
            let resp = format!("wrong number of arguments for '{}' command", op.name());
            reply.error("invalid number of arguments", &resp);
        }
        for name in args.iter().skip(1) {
            self.apply(engine, op, name);
            reply.confirm(op.name(), name, self.count());
        }
        After::Stay
    }

    fn apply(&mut self, engine: &Engine, op: Op, name: &[u8]) {
        let set = match op.kind() {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
        };
        match op {
            Op::Subscribe | Op::PSubscribe => {
                set.insert(name.to_vec());
                engine.pubsub.register(op.kind(), name, &self.outbox);
            }
            Op::Unsubscribe | Op::PUnsubscribe => {
                set.remove(name);
                engine.pubsub.unregister(op.kind(), name, &self.outbox);
            }
        }
    }

    /// The connection ends: leaves every channel and pattern and drops
    /// what is still queued.
    pub fn close(self, engine: &Engine) {
        for name in &self.channels {
            engine.pubsub.unregister(Kind::Channel, name, &self.outbox);
        }
        for name in &self.patterns {
            engine.pubsub.unregister(Kind::Pattern, name, &self.outbox);
        }
        self.outbox.close();
    }
}

/// Builds and queues the replies of one command in subscription mode.
struct Replier<'a> {
    engine: &'a Engine,
    outbox: Arc<Outbox>,
    limits: OutputLimits,
    json: bool,
    started: Instant,
}

impl Replier<'_> {
    fn send(&self, body: &[u8]) {
        self.outbox.send(self.engine, &self.limits, body, self.json);
    }

    /// A JSON reply: `{"ok":<ok>` + `members` + `,"elapsed":"…"}`.
    fn send_json(&self, ok: bool, members: impl FnOnce(&mut Vec<u8>)) {
        let mut out = Vec::with_capacity(96);
        out.extend_from_slice(if ok {
            b"{\"ok\":true"
        } else {
            b"{\"ok\":false"
        });
        members(&mut out);
        out.extend_from_slice(b",\"elapsed\":\"");
        write_duration(&mut out, self.started.elapsed().as_nanos() as u64);
        out.extend_from_slice(b"\"}");
        self.send(&out);
    }

    fn ok(&self) {
        if self.json {
            self.send_json(true, |_| {});
        } else {
            self.send(b"+OK\r\n");
        }
    }

    fn ping(&self, msg: Option<&[u8]>) {
        if self.json {
            self.send_json(true, |out| {
                out.extend_from_slice(b",\"ping\":");
                write_json_str(out, msg.unwrap_or(b"pong"));
            });
        } else {
            let mut out = Vec::new();
            resp::array(&mut out, 2);
            resp::bulk(&mut out, b"PONG");
            resp::bulk(&mut out, msg.unwrap_or_default());
            self.send(&out);
        }
    }

    /// An error: `json` as the JSON `err`, `resp` after `-ERR `.
    fn error(&self, json: &str, resp: &str) {
        if self.json {
            self.send_json(false, |out| {
                out.extend_from_slice(b",\"err\":");
                write_json_str(out, json.as_bytes());
            });
        } else {
            self.send(format!("-ERR {resp}\r\n").as_bytes());
        }
    }

    fn confirm(&self, command: &str, name: &[u8], num: usize) {
        if self.json {
            self.send_json(true, |out| {
                out.extend_from_slice(b",\"command\":");
                write_json_str(out, command.as_bytes());
                out.extend_from_slice(b",\"channel\":");
                write_json_str(out, name);
                out.extend_from_slice(b",\"num\":");
                write_u64(out, num as u64);
            });
        } else {
            let mut out = Vec::with_capacity(name.len() + 40);
            resp::array(&mut out, 3);
            resp::bulk(&mut out, command.as_bytes());
            resp::bulk(&mut out, name);
            resp::int(&mut out, num as i64);
            self.send(&out);
        }
    }
}

impl Session {
    /// Puts this session in subscription mode (after a SUBSCRIBE or
    /// PSUBSCRIBE set [`Session::subscribing`]), with `outbox` for its
    /// output, and runs that command (`args`) there. The connection then
    /// sends every later command to [`Subscription::execute`], and calls
    /// [`Subscription::close`] when it ends.
    pub fn enter_subscription(
        &mut self,
        engine: &Engine,
        outbox: Arc<Outbox>,
        args: &Args,
        started: Instant,
    ) -> After {
        self.subscribing = false;
        let sub = self.subscription.insert(Subscription::new(outbox));
        sub.execute(engine, args, started)
    }
}
