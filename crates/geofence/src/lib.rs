//! Tile38 1.37 geofencing without I/O: what a write means to the fences
//! watching its key, as the JSON events Tile38 sends.
//!
//! * [`fence`]: fence definitions ([`FenceSpec`] → [`Fence`]): area or
//!   ROAM, DETECT, COMMANDS, output form, MATCH/WHERE/NOFIELDS, DISTANCE,
//!   NODWELL, META.
//! * [`change`]: the input, one [`Change`] per changed object (per PDEL
//!   child), as the engine's journal seam sees it.
//! * `matcher`: one fence against one change (`fence.go:fenceMatch`);
//!   `roam`: nearby/faraway; `message`: the event JSON.
//! * [`groups`]: the server-wide group table (`groups.go`).
//! * `index`: per key, an R-tree of fence boxes plus the fences that see
//!   every change (`aof.go:getQueueCandidates`).
//!
//! [`match_fence`] is one fence against one change, on its own.
//! [`Geofence`] ties them together: it owns the fences, their index and
//! the group table, and [`Geofence::evaluate`] turns a change into events,
//! sorted as Tile38 publishes them (`aof.go:queueHooks`, `sortMsgs`).
//! Delivery (pub/sub, webhook queues, live connections) is the caller's.
//!
//! # Use from the engine
//!
//! * **Definitions.** SETCHAN/SETHOOK parse as today, then build a
//!   [`FenceSpec`] (region with `GET` areas resolved, DETECT, COMMANDS,
//!   output, MATCH, WHERE/WHEREIN/WHEREEVAL as an [`ObjectFilter`],
//!   NOFIELDS, DISTANCE, NODWELL, META) and [`Geofence::insert`] it,
//!   keeping the [`FenceId`] with the definition. A replacing definition
//!   is [`Geofence::remove`] then `insert` (its groups go); an identical
//!   one (`:0`) changes nothing. DELCHAN/DELHOOK/PDEL*/EX expiry remove;
//!   FLUSHDB is [`Geofence::flush`]. A live connection inserts a
//!   [`Target::Live`] fence when it goes live and removes it when it ends.
//! * **Changes.** At the journal seam, under the write lock and after the
//!   data changed, each write that changed something becomes one
//!   [`Change`] (PDEL: one per deleted id, ascending, one time; expiry: a
//!   `Del`; JSET/JDEL on a spatial object: a `Set`), and
//!   [`Geofence::evaluate`] appends its events. Fences nobody hears (a
//!   channel without subscribers; on a follower every hook and channel,
//!   only live fences fire there) are taken out of the index with
//!   [`Geofence::set_heard`], so they cost a write nothing; the
//!   `listened` predicate is checked again for the candidates.
//! * **Events.** Each [`Event`] names its fence: publish channel events in
//!   the order given, queue hook events per hook, write live events to
//!   the fence's connection.

pub mod change;
pub mod fence;
pub mod groups;
mod index;
mod matcher;
mod message;
mod roam;

use std::collections::HashMap;

pub use change::Change;
pub use fence::{
    Command, CommandSet, Detect, DetectSet, Fence, FenceSpec, ObjectFilter, Output, Region, Roam,
    Target,
};
pub use groups::{GroupId, Groups};

pub use evaluate::match_fence;
use index::KeyIndex;

/// A fence's handle in a [`Geofence`]; stale handles (of removed fences)
/// are never reused for another fence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FenceId {
    index: u32,
    generation: u32,
}

impl FenceId {
    /// The id [`match_fence`] gives events of a fence outside a
    /// [`Geofence`].
    pub const DETACHED: FenceId = FenceId {
        index: u32::MAX,
        generation: u32::MAX,
    };
}

/// One message for one fence.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub fence: FenceId,
    /// The `detect` member (`None` for del and drop).
    pub detect: Option<Detect>,
    /// The message, exactly as Tile38 writes it.
    pub json: String,
}

struct Slot {
    generation: u32,
    /// Registration order: live fences, which share group entries, are
    /// evaluated in it.
    seq: u64,
    fence: Option<Fence>,
    /// In the index (see [`Geofence::set_heard`]).
    heard: bool,
}

/// Reused buffers of [`Geofence::evaluate`].
#[derive(Default)]
struct Scratch {
    candidates: Vec<(u64, FenceId)>,
    ids: Vec<FenceId>,
    time: Vec<u8>,
    body: Vec<u8>,
    nested: Vec<u8>,
    pattern: Vec<u8>,
}

/// The fences of a server, their index and the group table.
pub struct Geofence {
    slots: Vec<Slot>,
    free: Vec<u32>,
    next_seq: u64,
    keys: HashMap<Box<[u8]>, KeyIndex>,
    groups: Groups,
    scratch: Scratch,
}

#[cfg(test)]
const _: () = {
    const fn shared<T: Send + Sync>() {}
    shared::<Geofence>();
};

impl Geofence {
    /// An empty set of fences; `seed` seeds the group ids (see
    /// [`Groups::new`]).
    pub fn new(seed: u64) -> Geofence {
        Geofence {
            slots: Vec::new(),
            free: Vec::new(),
            next_seq: 0,
            keys: HashMap::new(),
            groups: Groups::new(seed),
            scratch: Scratch::default(),
        }
    }

    /// Adds a fence. A SETCHAN/SETHOOK that replaces a definition is
    /// [`Geofence::remove`] of the old one (which drops its groups) and
    /// then `insert`; an identical one changes nothing.
    pub fn insert(&mut self, fence: Fence) -> FenceId {
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    seq: 0,
                    fence: None,
                    heard: true,
                });
                (self.slots.len() - 1) as u32
            }
        };
        self.next_seq += 1;
        let slot = &mut self.slots[index as usize];
        slot.seq = self.next_seq;
        slot.heard = true;
        let id = FenceId {
            index,
            generation: slot.generation,
        };
        let k = self.keys.entry(fence.key().into()).or_default();
        k.insert(id, &fence);
        k.fences += 1;
        k.heard += 1;
        slot.fence = Some(fence);
        id
    }

    /// Puts a fence in the index (`heard`) or takes it out: a fence that
    /// is out is never evaluated, as if it did not exist (its groups stay
    /// as they were). New fences are heard. Returns whether it changed.
    pub fn set_heard(&mut self, id: FenceId, heard: bool) -> bool {
        let Some(slot) = self.slots.get_mut(id.index as usize) else {
            return false;
        };
        let Some(fence) = slot.fence.as_ref() else {
            return false;
        };
        if slot.generation != id.generation || slot.heard == heard {
            return false;
        }
        slot.heard = heard;
        let Some(k) = self.keys.get_mut(fence.key()) else {
            return false;
        };
        if heard {
            k.insert(id, fence);
            k.heard += 1;
        } else {
            k.remove(id, fence);
            k.heard -= 1;
        }
        true
    }

    /// Removes a fence. A hook's or channel's groups go with it
    /// (`groupDisconnectHook`); live fences leave the shared `""` entries.
    pub fn remove(&mut self, id: FenceId) -> Option<Fence> {
        let slot = self.slots.get_mut(id.index as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        let fence = slot.fence.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(id.index);
        if let Some(k) = self.keys.get_mut(fence.key()) {
            if slot.heard {
                k.remove(id, &fence);
                k.heard -= 1;
            }
            k.fences -= 1;
            if k.is_empty() {
                self.keys.remove(fence.key());
            }
        }
        if fence.target() != Target::Live {
            self.groups.disconnect_hook(fence.name());
        }
        Some(fence)
    }

    pub fn get(&self, id: FenceId) -> Option<&Fence> {
        let slot = self.slots.get(id.index as usize)?;
        (slot.generation == id.generation)
            .then_some(slot.fence.as_ref())
            .flatten()
    }

    /// Whether any fence watches `key`: a write to another key cannot
    /// produce an event (the caller may skip building its [`Change`]).
    pub fn watches(&self, key: &[u8]) -> bool {
        self.keys.contains_key(key)
    }

    /// Whether a fence someone hears watches `key`: if not, only a delete
    /// still matters there (it ends the object's groups).
    pub fn hears(&self, key: &[u8]) -> bool {
        self.keys.get(key).is_some_and(|k| k.heard > 0)
    }

    /// Number of fences.
    pub fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// FLUSHDB: every hook and channel goes, and the whole group table;
    /// live fences stay. Returns the removed fences' ids.
    pub fn flush(&mut self) -> Vec<FenceId> {
        let ids: Vec<FenceId> = self
            .iter()
            .filter(|(_, f)| f.target() != Target::Live)
            .map(|(id, _)| id)
            .collect();
        for &id in &ids {
            self.remove(id);
        }
        self.groups.clear();
        ids
    }

    /// Every fence, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (FenceId, &Fence)> {
        self.slots.iter().enumerate().filter_map(|(i, s)| {
            let id = FenceId {
                index: i as u32,
                generation: s.generation,
            };
            s.fence.as_ref().map(|f| (id, f))
        })
    }

    /// The group table (for callers that must change it without a data
    /// change, e.g. a RENAME of a key live fences watch).
    pub fn groups_mut(&mut self) -> &mut Groups {
        &mut self.groups
    }
}

mod evaluate;
