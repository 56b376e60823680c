//! Pub/sub: the registry of subscribers and PUBLISH delivery, as Tile38's
//! `pubsub.go` does it.
//!
//! * [`PubSub`]: channel → subscribers and pattern → subscribers, each a
//!   connection's [`Outbox`]. [`Engine::publish`] queues one message per
//!   (subscriber, exact channel) and per (subscriber, matching pattern) and
//!   returns that count (PUBLISH's reply). Delivery never blocks, so it can
//!   run anywhere: inside PUBLISH, and for SETCHAN channels and live fences
//!   from inside the write path under the database write lock. Lock order:
//!   database, then this registry, then an outbox.
//! * [`Subscription`] (`subscription`): one connection in subscription
//!   mode, its channel and pattern sets and the commands it may send there.
//! * [`Outbox`] (`outbox`): the per-connection queue, its framing per
//!   transport and output mode, and `client-output-buffer-limit`.
//! * [`pattern`]: PSUBSCRIBE's pattern syntax.
//! * Forwarding: a leader passes every message it publishes on to the
//!   followers streaming its AOF, as `PUBLISH <channel> <message>` records
//!   between the file's records (spec §2 `AOF pos`, Tile38's `pubq`), so
//!   that subscribers on a follower hear the leader's channel events. Each
//!   stream has an [`Outbox`] of its own, held to the same output limit as
//!   a subscriber, and is not counted in PUBLISH's reply (Tile38 alike).
//!
//! The runtime (the server's connection task) creates the outbox with a
//! wake-up for itself, drains it to the socket, and closes the
//! subscription when the connection ends.

pub mod outbox;
pub mod pattern;
mod subscription;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use tile38_proto::fmt::write_json_str;
use tile38_proto::resp;

pub use outbox::{Outbox, Transport, Wire};
pub use subscription::{After, Subscription};

use crate::engine::Engine;
use crate::output_limit::OutputLimits;

/// Subscribers of one channel or pattern, by connection (client) id: one
/// entry per connection however often it subscribed, in connection order.
type Targets = BTreeMap<u64, Arc<Outbox>>;

/// The subscriber registry (see the module docs).
#[derive(Default)]
pub struct PubSub {
    hubs: RwLock<Hubs>,
    /// Whether `heard` has anything (checked by every fenced write).
    changed: AtomicBool,
    heard: Mutex<HeardChanges>,
}

/// What changed in who hears which channel since geofencing last looked
/// ([`PubSub::take_heard_changes`]): it keeps channel fences nobody hears
/// out of its index.
#[derive(Debug, Default)]
pub struct HeardChanges {
    /// Channels that got their first or lost their last subscriber.
    pub channels: Vec<Vec<u8>>,
    /// A pattern or a follower stream came or went: any channel may have.
    pub all: bool,
}

#[derive(Default)]
struct Hubs {
    channels: HashMap<Vec<u8>, Targets>,
    /// Ordered so that one connection's pattern messages for one PUBLISH
    /// come in a fixed order (Tile38's is Go map order, i.e. random).
    patterns: BTreeMap<Vec<u8>, Targets>,
    /// The AOF streams of followers, by connection id (see the module docs).
    forwarders: Targets,
}

/// A channel or a pattern subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Channel,
    Pattern,
}

impl PubSub {
    /// Adds `outbox` to the subscribers of `name`.
    pub fn register(&self, kind: Kind, name: &[u8], outbox: &Arc<Outbox>) {
        let mut hubs = self.hubs.write();
        let id = outbox.client().id;
        let targets = match kind {
            Kind::Channel => hubs.channels.entry(name.to_vec()).or_default(),
            Kind::Pattern => hubs.patterns.entry(name.to_vec()).or_default(),
        };
        let first = targets.is_empty();
        targets.insert(id, outbox.clone());
        if first {
            self.heard_changed(kind, name);
        }
    }

    /// Notes for geofencing that `name` got its first or lost its last
    /// subscriber (with the registry's write lock held, so that it is
    /// noted before anyone can see the new registry).
    fn heard_changed(&self, kind: Kind, name: &[u8]) {
        let mut heard = self.heard.lock();
        match kind {
            // Bounded: with no fence nobody takes the log.
            Kind::Channel if !heard.all && heard.channels.len() < 1024 => {
                heard.channels.push(name.to_vec())
            }
            _ => {
                heard.all = true;
                heard.channels = Vec::new();
            }
        }
        self.changed.store(true, Ordering::Release);
    }

    /// What changed since the last call (see [`HeardChanges`]); `None`,
    /// at the cost of one atomic load, when nothing did.
    pub fn take_heard_changes(&self) -> Option<HeardChanges> {
        if !self.changed.swap(false, Ordering::AcqRel) {
            return None;
        }
        Some(std::mem::take(&mut *self.heard.lock()))
    }

    /// Removes `outbox` from the subscribers of `name` (nothing if it was
    /// not one).
    pub fn unregister(&self, kind: Kind, name: &[u8], outbox: &Outbox) {
        let mut hubs = self.hubs.write();
        let id = outbox.client().id;
        let emptied = match kind {
            Kind::Channel => hubs.channels.get_mut(name).map(|t| {
                t.remove(&id);
                t.is_empty()
            }),
            Kind::Pattern => hubs.patterns.get_mut(name).map(|t| {
                t.remove(&id);
                t.is_empty()
            }),
        };
        if emptied == Some(true) {
            match kind {
                Kind::Channel => hubs.channels.remove(name),
                Kind::Pattern => hubs.patterns.remove(name),
            };
            self.heard_changed(kind, name);
        }
    }

    /// Passes every message published from now on to `stream` (a
    /// follower's AOF stream), framed as a `PUBLISH` record.
    pub fn forward_to(&self, stream: &Arc<Outbox>) {
        let id = stream.client().id;
        let mut hubs = self.hubs.write();
        if hubs.forwarders.is_empty() {
            self.heard_changed(Kind::Pattern, b"*");
        }
        hubs.forwarders.insert(id, stream.clone());
    }

    /// Stops [`PubSub::forward_to`] for `stream`.
    pub fn stop_forwarding(&self, stream: &Outbox) {
        let id = stream.client().id;
        let mut hubs = self.hubs.write();
        if hubs.forwarders.remove(&id).is_some() && hubs.forwarders.is_empty() {
            self.heard_changed(Kind::Pattern, b"*");
        }
    }

    /// Whether a message on `channel` would reach anyone (a subscriber of
    /// the channel or of a pattern matching it, or a follower, whose own
    /// subscribers this server cannot know): a channel fence nobody hears
    /// is not evaluated.
    pub fn has_receiver(&self, channel: &[u8]) -> bool {
        let hubs = self.hubs.read();
        !hubs.forwarders.is_empty()
            || hubs.channels.contains_key(channel)
            || hubs.patterns.keys().any(|p| pattern::matches(p, channel))
    }

    /// Channels and patterns with at least one subscriber.
    pub fn counts(&self) -> (usize, usize) {
        let hubs = self.hubs.read();
        (hubs.channels.len(), hubs.patterns.len())
    }
}

/// One PUBLISH's message bodies, each built once for all the subscribers
/// that need it.
struct Bodies<'a> {
    channel: &'a [u8],
    message: &'a [u8],
    /// The JSON-mode body: the message if it is valid JSON, else a JSON
    /// string of it (`gjson.Valid`, then Tile38's `appendJSONString`).
    json: Option<Vec<u8>>,
    /// `*3 message <channel> <message>`.
    resp: Option<Vec<u8>>,
}

impl Bodies<'_> {
    fn json(&mut self) -> &[u8] {
        let message = self.message;
        self.json.get_or_insert_with(|| {
            if tile38_geo::geojson::valid_json(message) {
                return message.to_vec();
            }
            let mut out = Vec::with_capacity(message.len() + 2);
            write_json_str(&mut out, message);
            out
        })
    }

    fn resp(&mut self) -> &[u8] {
        let (channel, message) = (self.channel, self.message);
        self.resp.get_or_insert_with(|| {
            let mut out = Vec::with_capacity(channel.len() + message.len() + 32);
            resp::array(&mut out, 3);
            resp::bulk(&mut out, b"message");
            resp::bulk(&mut out, channel);
            resp::bulk(&mut out, message);
            out
        })
    }

    /// `*3 PUBLISH <channel> <message>`, the record a follower gets.
    fn forward(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.channel.len() + self.message.len() + 32);
        resp::array(&mut out, 3);
        resp::bulk(&mut out, b"PUBLISH");
        resp::bulk(&mut out, self.channel);
        resp::bulk(&mut out, self.message);
        out
    }

    /// `*4 pmessage <pattern> <channel> <message>`.
    fn pattern_resp(&self, pattern: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(pattern.len() + self.channel.len() + 48);
        resp::array(&mut out, 4);
        resp::bulk(&mut out, b"pmessage");
        resp::bulk(&mut out, pattern);
        resp::bulk(&mut out, self.channel);
        resp::bulk(&mut out, self.message);
        out
    }
}

impl Engine {
    /// Publishes `message` on `channel`: queues it for every subscriber of
    /// the channel, then once per matching pattern of every pattern
    /// subscriber (so a connection gets its `message` before its
    /// `pmessage`s), and passes it on to the followers. Returns the number
    /// of messages queued for subscribers (PUBLISH's reply); never blocks.
    pub fn publish(&self, channel: &[u8], message: &[u8]) -> usize {
        let limits = OutputLimits::current(self);
        let mut bodies = Bodies {
            channel,
            message,
            json: None,
            resp: None,
        };
        let hubs = self.pubsub.hubs.read();
        let mut sent = 0;
        if let Some(targets) = hubs.channels.get(channel) {
            for outbox in targets.values() {
                let json = outbox.wire().json;
                let body = if json { bodies.json() } else { bodies.resp() };
                sent += usize::from(outbox.send(self, &limits, body, json));
            }
        }
        for (pattern, targets) in &hubs.patterns {
            if !pattern::matches(pattern, channel) {
                continue;
            }
            let mut resp = None;
            for outbox in targets.values() {
                let json = outbox.wire().json;
                let body = if json {
                    bodies.json()
                } else {
                    resp.get_or_insert_with(|| bodies.pattern_resp(pattern))
                };
                sent += usize::from(outbox.send(self, &limits, body, json));
            }
        }
        if !hubs.forwarders.is_empty() {
            let record = bodies.forward();
            for stream in hubs.forwarders.values() {
                stream.send(self, &limits, &record, false);
            }
        }
        drop(hubs);
        self.stats
            .total_messages_sent
            .fetch_add(sent as u64, Ordering::Relaxed);
        sent
    }
}
