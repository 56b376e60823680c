//! [`Fences`]: the server's one [`Geofence`] and where each fence's
//! events go: hook and channel fences by definition name (kept in step
//! with `cmd::hooks`), live fences with their connection's outbox.
//!
//! Lock order: the database lock, then `Engine::hooks`, then this one,
//! then the pub/sub registry and outboxes (delivery). Every change of the
//! set of fences happens under the database write lock, so the writes'
//! [`Fences::active`] check holds still for a write.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use tile38_geofence::{Event, Fence, FenceId, Geofence};

use super::heard::Audience;
use crate::engine::Engine;
use crate::pubsub::Outbox;

/// What the runtime does with hook events: the server implements it with
/// its webhook queues (`crates/webhook`). Called under the database write
/// lock, in execution order, with each event of each hook once; it must
/// not block (queue and return). Without one, hooks are not evaluated at
/// all; neither are they on a follower (Tile38 fires webhooks on the
/// leader only).
pub trait HookSink: Send + Sync {
    /// One event of hook `name`, for its `endpoints` (in failover order).
    fn deliver(&self, name: &[u8], endpoints: &[Vec<u8>], json: &str);

    /// Hook `name` is gone (DELHOOK, PDELHOOK, EX expiry, FLUSHDB, or
    /// replaced by a channel): stop delivering it. Same rules as
    /// [`HookSink::deliver`]: under the database write lock, never blocks.
    fn removed(&self, _name: &[u8]) {}

    /// Hook `name` was (re)defined with `endpoints` (SETHOOK, also a
    /// replicated one): the delivery side may take them up before the
    /// first event. Same rules as [`HookSink::deliver`].
    fn defined(&self, _name: &[u8], _endpoints: &[Vec<u8>]) {}
}

/// A [`HookSink`] that drops every event (what an engine without a
/// webhook runtime does, made explicit).
pub struct NoHooks;

impl HookSink for NoHooks {
    fn deliver(&self, _: &[u8], _: &[Vec<u8>], _: &str) {}
}

pub(super) struct Inner {
    pub(super) geo: Geofence,
    /// Hook and channel fences by definition name.
    pub(super) defs: HashMap<Vec<u8>, FenceId>,
    /// A hook's endpoints.
    pub(super) endpoints: HashMap<FenceId, Vec<Vec<u8>>>,
    /// A live fence's connection.
    pub(super) live: HashMap<FenceId, Arc<Outbox>>,
    /// Reused event buffer of the write path.
    pub(super) events: Vec<Event>,
    /// The audience the heard flags were last brought up to date for
    /// (`super::heard`).
    pub(super) audience: Option<Audience>,
}

/// The fences of the server (see the module docs).
pub struct Fences {
    pub(super) inner: Mutex<Inner>,
    /// How many fences exist: zero makes a write skip geofencing entirely.
    count: AtomicUsize,
    pub(super) hook_sink: RwLock<Option<Arc<dyn HookSink>>>,
}

impl Default for Fences {
    fn default() -> Fences {
        Fences {
            inner: Mutex::new(Inner {
                // Group ids: random per server, as Tile38's are.
                geo: Geofence::new(crate::engine::now_nanos() as u64),
                defs: HashMap::new(),
                endpoints: HashMap::new(),
                live: HashMap::new(),
                events: Vec::new(),
                audience: None,
            }),
            count: AtomicUsize::new(0),
            hook_sink: RwLock::new(None),
        }
    }
}

impl Fences {
    /// Whether any fence exists (writes check this before anything else).
    pub fn active(&self) -> bool {
        self.count.load(Ordering::Relaxed) > 0
    }

    /// How many fences exist (hooks, channels and live connections).
    pub fn len(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Installs the runtime's webhook delivery (see [`HookSink`]).
    pub fn set_hook_sink(&self, sink: Arc<dyn HookSink>) {
        *self.hook_sink.write() = Some(sink);
    }

    fn recount(&self, inner: &Inner) {
        self.count.store(inner.geo.len(), Ordering::Relaxed);
    }

    /// SETCHAN/SETHOOK `name`: replaces the fence of that name, if any
    /// (its groups go with it, as Tile38 disconnects a replaced hook).
    /// `endpoints` are a hook's (none for a channel).
    pub fn define(&self, engine: &Engine, name: &[u8], fence: Fence, endpoints: Vec<Vec<u8>>) {
        let mut inner = self.inner.lock();
        let was_hook = remove_def(&mut inner, name);
        let heard = Audience::now(self, engine).hears(engine, &fence);
        let id = inner.geo.insert(fence);
        inner.geo.set_heard(id, heard);
        inner.defs.insert(name.to_vec(), id);
        let is_hook = !endpoints.is_empty();
        let sink = self.hook_sink.read();
        if let (true, Some(sink)) = (is_hook, sink.as_ref()) {
            sink.defined(name, &endpoints);
        }
        drop(sink);
        if is_hook {
            inner.endpoints.insert(id, endpoints);
        }
        self.recount(&inner);
        drop(inner);
        if was_hook && !is_hook {
            self.hook_removed(name);
        }
    }

    /// DELCHAN/DELHOOK/PDEL…/expiry of definition `name`.
    pub fn undefine(&self, name: &[u8]) {
        let mut inner = self.inner.lock();
        let was_hook = remove_def(&mut inner, name);
        self.recount(&inner);
        drop(inner);
        if was_hook {
            self.hook_removed(name);
        }
    }

    fn hook_removed(&self, name: &[u8]) {
        if let Some(sink) = self.hook_sink.read().as_ref() {
            sink.removed(name);
        }
    }

    /// Every hook's name and endpoints (for the runtime's delivery side
    /// at startup, once the AOF has defined them).
    pub fn hooks(&self) -> Vec<(Vec<u8>, Vec<Vec<u8>>)> {
        let inner = self.inner.lock();
        let hook = |(name, id): (&Vec<u8>, &FenceId)| {
            let endpoints = inner.endpoints.get(id)?;
            Some((name.clone(), endpoints.clone()))
        };
        inner.defs.iter().filter_map(hook).collect()
    }

    /// FLUSHDB: every hook and channel fence goes; live fences stay.
    pub fn flush(&self) {
        let mut inner = self.inner.lock();
        let defs = std::mem::take(&mut inner.defs);
        let hooks: Vec<Vec<u8>> = defs
            .into_iter()
            .filter(|(_, id)| inner.endpoints.contains_key(id))
            .map(|(name, _)| name)
            .collect();
        for id in inner.geo.flush() {
            inner.endpoints.remove(&id);
        }
        self.recount(&inner);
        drop(inner);
        for name in hooks {
            self.hook_removed(&name);
        }
    }

    /// A connection went live with `fence`; its events go to `outbox`.
    /// Take the database write lock around it (see the module docs).
    pub fn add_live(&self, fence: Fence, outbox: Arc<Outbox>) -> FenceId {
        let mut inner = self.inner.lock();
        let id = inner.geo.insert(fence);
        inner.live.insert(id, outbox);
        self.recount(&inner);
        id
    }

    /// The live connection of `id` ended.
    pub fn remove_live(&self, id: FenceId) {
        let mut inner = self.inner.lock();
        inner.geo.remove(id);
        inner.live.remove(&id);
        self.recount(&inner);
    }
}

/// Removes definition `name`; whether it was a hook.
fn remove_def(inner: &mut Inner, name: &[u8]) -> bool {
    let Some(id) = inner.defs.remove(name) else {
        return false;
    };
    inner.geo.remove(id);
    inner.endpoints.remove(&id).is_some()
}
