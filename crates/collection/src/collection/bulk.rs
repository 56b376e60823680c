//! Deferred indexes, for an AOF load: while deferred, writes leave the
//! spatial index empty and the id order unbuilt, and
//! [`Collection::build_indexes`] builds each in one go at the end (a sort
//! each), far cheaper than placing objects one at a time.
//!
//! Nothing searches while loading, so the spatial index and the string
//! values' SEARCH order just wait. The strings' B-tree, kept entry by entry
//! (a search, a boxed copy of the text and of the id, node splits; a
//! removal and two frees for each replaced string), was a sixth of the
//! replay of `pair.py`'s AOF with its 100 000 string SETs (median replay
//! 0.207 → 0.172 s); collected and sorted at the end
//! (`BTreeSet::from_iter` builds from sorted entries) it is a few
//! milliseconds on the id sort's thread. The id order is also read by
//! PDEL: the first read builds it from the objects (`OnceLock`), and from
//! then on writes keep it up to date.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use super::{bbox, envelope, Collection};
use crate::id::Id;
use crate::order::{Order, Sorted};
use crate::spatial::{PageOf, SpatialIndex};

/// String values by (text, id): SEARCH order.
pub(super) type Strings = BTreeSet<(Box<[u8]>, Id)>;

/// The string values' order for a write to keep up to date: `None` while
/// deferred.
pub(super) fn strings_mut(strings: &mut Strings, deferred: bool) -> Option<&mut Strings> {
    (!deferred).then_some(strings)
}

/// The id order for a write to keep up to date: `None` while deferred and
/// not built yet. An order never built outside a deferral belongs to a
/// collection that has had no object yet: it starts empty.
pub(super) fn order_mut(order: &mut OnceLock<Order>, deferred: bool) -> Option<&mut Order> {
    if !deferred {
        order.get_or_init(Order::default);
    }
    order.get_mut()
}

impl Collection {
    /// The id order, built first if deferred.
    pub(super) fn order(&self) -> &Order {
        self.order.get_or_init(|| {
            let slots = self.store.iter().map(|(s, _)| s).collect();
            Order::bulk(slots, |s| self.store.id(s))
        })
    }

    /// Stops maintaining the spatial index (emptied) and the id order
    /// (dropped) until [`Collection::build_indexes`]; meanwhile searches
    /// find nothing.
    pub fn defer_indexes(&mut self) {
        if self.deferred {
            return;
        }
        self.deferred = true;
        self.order = OnceLock::new();
        self.strings = Strings::new();
        if !self.spatial.is_empty() {
            let slots: Vec<u32> = self.store.iter().map(|(s, _)| s).collect();
            for s in slots {
                self.store.set_page_of(s, None);
            }
            self.spatial = SpatialIndex::default();
        }
    }

    /// Builds the indexes deferred by [`Collection::defer_indexes`] from
    /// all objects at once (no-op when not deferred). For a big collection
    /// the id order is sorted on a second thread while the spatial index
    /// is packed.
    pub fn build_indexes(&mut self) {
        if !self.deferred {
            return;
        }
        self.deferred = false;
        let (store, order) = (&self.store, &self.order);
        let spatial = self.store.len() - self.num_strings;
        let pack = || {
            let mut entries = Vec::with_capacity(spatial);
            for (s, e) in store.iter() {
                if let Some(env) = envelope(&e.item.value) {
                    entries.push((bbox(&env), s));
                }
            }
            SpatialIndex::pack(entries)
        };
        // Sorted on a second thread for a big collection, in room made
        // here; the blocks are made here too (see `Sorted::with_capacity`).
        let mut sorted = order
            .get()
            .is_none()
            .then(|| Sorted::with_capacity(store.len()));
        let (strings, num_strings) = (&mut self.strings, self.num_strings);
        let sort_ids = |sorted: &mut Option<Sorted>, strings: &mut Strings| {
            if let Some(sorted) = sorted {
                sorted.sort(store.iter().map(|(s, _)| s), |s| store.id(s));
            }
            if num_strings > 0 {
                *strings = store
                    .iter()
                    .filter_map(|(_, e)| Some((e.item.value.search_text()?.into(), e.id.clone())))
                    .collect();
            }
        };
        let packed = if self.store.len() >= PARALLEL_FROM {
            std::thread::scope(|scope| {
                let sorting = scope.spawn(|| sort_ids(&mut sorted, strings));
                let packed = pack();
                if let Err(panic) = sorting.join() {
                    std::panic::resume_unwind(panic);
                }
                packed
            })
        } else {
            sort_ids(&mut sorted, strings);
            pack()
        };
        if let Some(sorted) = sorted {
            let _ = order.set(Order::from_sorted(sorted, |s| store.id(s)));
        }
        self.spatial = packed.record(&mut self.store);
    }
}

/// Collections of at least this many objects build their two indexes on
/// two threads.
const PARALLEL_FROM: usize = 20_000;
