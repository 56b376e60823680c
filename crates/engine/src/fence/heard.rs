//! Which fences someone hears, kept in the geofence index's heard flags
//! ([`tile38_geofence::Geofence::set_heard`]) so that a write is never
//! evaluated against a fence nobody hears: a channel without a subscriber
//! (Tile38 builds and drops its events: 10 000 such channels with the
//! default DETECT stall it), and on a follower every hook and channel (the
//! leader streams its channel messages; hooks fire on the leader only).
//!
//! The flags follow the pub/sub registry through its change log
//! ([`crate::pubsub::PubSub::take_heard_changes`]), which the write path
//! reads (one atomic load when nothing changed) before it evaluates: a
//! SUBSCRIBE re-checks the fence of that name only; a PSUBSCRIBE, a
//! follower stream, FOLLOW or the webhook runtime coming re-checks all.

use tile38_geofence::{Fence, FenceId, Target};

use super::state::Inner;
use super::Fences;
use crate::engine::Engine;

/// Who can hear fences, fixed for one write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Audience {
    following: bool,
    hooks: bool,
}

impl Audience {
    pub(super) fn now(fences: &Fences, engine: &Engine) -> Audience {
        let following = engine.repl.following();
        Audience {
            following,
            hooks: !following && fences.hook_sink.read().is_some(),
        }
    }

    /// Whether `fence`'s events would reach anyone.
    pub(super) fn hears(&self, engine: &Engine, fence: &Fence) -> bool {
        match fence.target() {
            Target::Live => true,
            Target::Channel => !self.following && engine.pubsub.has_receiver(fence.name()),
            Target::Hook => self.hooks,
        }
    }
}

impl Fences {
    /// Brings the heard flags up to date for `audience` (see the module
    /// docs). Called by the write path with the fence lock held.
    pub(super) fn sync_heard(&self, engine: &Engine, inner: &mut Inner, audience: Audience) {
        // Taken before the registry is read, so that a change made while
        // this runs is seen by the next write.
        let changes = engine.pubsub.take_heard_changes();
        let all = inner.audience != Some(audience) || changes.as_ref().is_some_and(|c| c.all);
        inner.audience = Some(audience);
        if all {
            let flags: Vec<(FenceId, bool)> = inner
                .geo
                .iter()
                .map(|(id, f)| (id, audience.hears(engine, f)))
                .collect();
            for (id, heard) in flags {
                inner.geo.set_heard(id, heard);
            }
        } else if let Some(changes) = changes {
            for name in &changes.channels {
                if let Some(&id) = inner.defs.get(name) {
                    let heard = inner.geo.get(id).is_some_and(|f| audience.hears(engine, f));
                    inner.geo.set_heard(id, heard);
                }
            }
        }
    }
}
