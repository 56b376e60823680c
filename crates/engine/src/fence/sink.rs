//! The write path's geofencing: each journal [`Change`] as the geofence
//! [`GeoChange`]s Tile38's `commandDetails` make of it (spec §6.5), their
//! evaluation, and the delivery of the events.
//!
//! * SET, JSET, JDEL: `set` of the object as it is now, against the one it
//!   replaced (rebuilt from what the write moved out, only when a fence
//!   watches the key).
//! * FSET, EXPIRE, PERSIST: `fset`/`expire`/`persist` of the object now.
//! * DEL, each PDEL child in order, expiry: `del` of the removed object.
//! * DROP: `drop`. FLUSHDB and RENAME: nothing (Tile38 alike).
//!
//! Called by `Engine::journal` under the database write lock for every
//! origin but `Loaded`, before the generic change sinks. Nothing is built
//! for a key no fence watches, and a fence is evaluated only if someone
//! hears it (`super::heard`): a channel needs a subscriber, a hook a
//! [`HookSink`](super::HookSink) and a leader.

use std::num::NonZeroI64;
use std::sync::atomic::Ordering;

use tile38_collection::{Database, Item};
use tile38_geofence::{Change as GeoChange, Command, Fence, FenceId, Target};

use super::heard::Audience;
use super::state::Inner;
use super::Fences;
use crate::engine::{now_nanos, Engine};
use crate::journal::{Change, Edit, Op, What};
use crate::output_limit::OutputLimits;

impl Fences {
    /// Evaluates `change` (applied to `db`) and delivers its events.
    pub(crate) fn on_change(&self, engine: &Engine, db: &Database, change: &Change) {
        if !self.active() {
            return;
        }
        let mut guard = self.inner.lock();
        let inner = &mut *guard;
        let audience = Audience::now(self, engine);
        self.sync_heard(engine, inner, audience);
        if !inner.geo.watches(change.key) {
            return;
        }
        // Without a heard fence only a delete matters (it ends groups).
        let heard = inner.geo.hears(change.key);
        let time = now_nanos();
        match change.what {
            What::Objects(edits) => {
                for edit in edits {
                    let Some(command) = command_of(change.command, edit) else {
                        continue;
                    };
                    if !heard && command != Command::Del {
                        continue;
                    }
                    let after = change.after(db, edit.id);
                    let rebuilt;
                    let (old, new) = match (&edit.op, command) {
                        (Op::Deleted(item), _) => (Some(item), None),
                        (Op::Updated(prior), Command::Set) => {
                            rebuilt = after.and_then(|a| replaced(prior, a));
                            (rebuilt.as_ref().or(after), after)
                        }
                        _ => (None, after),
                    };
                    let geo = GeoChange {
                        command,
                        key: change.key,
                        id: edit.id,
                        old,
                        new,
                        time,
                    };
                    self.evaluate(engine, db, inner, &audience, &geo);
                }
            }
            What::Dropped(_) => {
                let geo = GeoChange {
                    command: Command::Drop,
                    key: change.key,
                    id: b"",
                    old: None,
                    new: None,
                    time,
                };
                self.evaluate(engine, db, inner, &audience, &geo);
            }
            _ => {}
        }
    }

    fn evaluate(
        &self,
        engine: &Engine,
        db: &Database,
        inner: &mut Inner,
        audience: &Audience,
        change: &GeoChange,
    ) {
        // The index holds only heard fences; checked again for a change
        // since the flags were brought up to date.
        let listened = |_: FenceId, f: &Fence| audience.hears(engine, f);
        inner.events.clear();
        inner.geo.evaluate(change, db, listened, &mut inner.events);
        if inner.events.is_empty() {
            return;
        }
        let hook_sink = self.hook_sink.read();
        let mut limits = None;
        for e in &inner.events {
            let Some(fence) = inner.geo.get(e.fence) else {
                continue;
            };
            match fence.target() {
                Target::Channel => {
                    engine.publish(fence.name(), e.json.as_bytes());
                }
                Target::Hook => {
                    if let (Some(sink), Some(endpoints)) =
                        (hook_sink.as_ref(), inner.endpoints.get(&e.fence))
                    {
                        sink.deliver(fence.name(), endpoints, &e.json);
                    }
                }
                Target::Live => {
                    if let Some(outbox) = inner.live.get(&e.fence) {
                        let limits = limits.get_or_insert_with(|| OutputLimits::current(engine));
                        if outbox.send(engine, limits, e.json.as_bytes(), true) {
                            engine
                                .stats
                                .total_messages_sent
                                .fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }
        }
    }
}

/// The event command of one edit of a journaled command (`None`: the
/// command produces no events).
fn command_of(command: &str, edit: &Edit) -> Option<Command> {
    if let Op::Deleted(_) = edit.op {
        return Some(Command::Del);
    }
    Some(match command {
        "set" | "jset" | "jdel" => Command::Set,
        "fset" => Command::Fset,
        "expire" => Command::Expire,
        "persist" => Command::Persist,
        _ => return None,
    })
}

/// The object a SET replaced, from the parts it moved out and the rest as
/// the object has it now; `None` when nothing but the deadline changed
/// (the current object then stands for the old one).
fn replaced(prior: &tile38_collection::Prior, after: &Item) -> Option<Item> {
    if prior.value.is_none() && prior.fields.is_none() {
        return None;
    }
    let expires = match prior.expires {
        // A deadline of 0 is kept as -1 (both long past), as the collection does.
        Some(d) => d.and_then(|d| NonZeroI64::new(d).or(NonZeroI64::new(-1))),
        None => after.expires,
    };
    Some(Item {
        value: prior.value.clone().unwrap_or_else(|| after.value.clone()),
        fields: prior.fields.clone().unwrap_or_else(|| after.fields.clone()),
        expires,
        seq: after.seq,
    })
}
