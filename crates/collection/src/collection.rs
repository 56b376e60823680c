//! One key's objects and the indexes over them, kept in step on every
//! change:
//!
//! * [`Store`]: the objects, in a slab addressed by `u32` slot, and the
//!   hash table id → slot (GET/SET in O(1)).
//! * [`Order`]: the slots in id order (SCAN).
//! * [`SpatialIndex`]: the spatial objects' boxes (pages under an R-tree).
//! * strings by value (SEARCH) and slots by deadline (expiry sweep).
//!
//! The indexes hold slots, not ids, so an id is stored once.
//!
//! An AOF load defers the spatial index and the id order ([`bulk`]).

use std::collections::BTreeSet;
use std::mem;
use std::num::NonZeroI64;
use std::sync::OnceLock;

use tile38_geo::field::Rule;
use tile38_geo::{FieldList, FieldValue, Position, Rect, Value};

pub use crate::id::Id;
use crate::nearest::{Nearest, Objects, Walk};
use crate::order::Order;
use crate::spatial::{PageOf, SpatialIndex};
use crate::store::Store;

/// The condition of a `SET`: always, `XX` (only if the id exists), `NX`
/// (only if it does not).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetCond {
    Always,
    IfExists,
    IfAbsent,
}

/// A stored object.
#[derive(Clone, Debug)]
pub struct Item {
    pub value: Value,
    pub fields: FieldList,
    /// Expiry deadline in unix nanoseconds (8 bytes: a deadline of 0 is
    /// kept as -1, both long past).
    pub expires: Option<NonZeroI64>,
    /// When the object was last written (per-collection counter): Tile38's
    /// R-tree puts the most recently written of equal keys first.
    pub seq: u64,
}

impl Item {
    fn weight(&self, id: &[u8]) -> usize {
        id.len() + self.value.weight() + self.fields.weight()
    }

    /// The deadline as given to [`Collection::set`].
    pub fn deadline(&self) -> Option<i64> {
        self.expires.map(NonZeroI64::get)
    }
}

fn to_deadline(at: Option<i64>) -> Option<NonZeroI64> {
    at.and_then(|at| NonZeroI64::new(at).or(NonZeroI64::new(-1)))
}

/// A collection (the value of one key).
#[derive(Default)]
pub struct Collection {
    store: Store,
    /// Always set, except while deferred ([`bulk`]) until first needed.
    order: OnceLock<Order>,
    spatial: SpatialIndex,
    /// Non-spatial objects (strings, top-level Circles) by (text, id):
    /// SEARCH order. Empty while deferred ([`bulk`]).
    strings: Strings,
    expires: BTreeSet<(i64, u32)>,
    num_points: usize,
    num_strings: usize,
    /// Indexed rectangles given with a min above a max (`SET … BOUNDS`):
    /// while there are any, `BOUNDS key` folds the raw corners.
    inverted: usize,
    /// Spatial objects with a NaN side: Tile38's R-tree holds them and its
    /// kNN yields them, though no box test ever matches them; kept out of
    /// our index and listed here for NEARBY ([`Collection::unindexed`]).
    nan: BTreeSet<u32>,
    weight: usize,
    seq: u64,
    /// Tile38's R-tree while it is one leaf (small keys' search order).
    leaf: LeafMirror,
    /// The indexes are deferred ([`bulk`]).
    deferred: bool,
}

mod ahead;
pub use ahead::AHEAD;
mod boxes;
mod bulk;
mod prior;
mod small;

use crate::leaf::LeafMirror;
use boxes::{bbox, envelope, is_empty, is_inverted, rect};
use bulk::Strings;

use prior::merge_fields;
pub use prior::{Prior, SetOutcome};

impl Collection {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.store.len()
    }

    pub fn is_empty(&self) -> bool {
        self.store.is_empty()
    }

    /// Σ coordinates of spatial objects (STATS `num_points`).
    pub fn num_points(&self) -> usize {
        self.num_points
    }

    /// Number of string objects (STATS `num_strings`).
    pub fn num_strings(&self) -> usize {
        self.num_strings
    }

    /// Tile38's `in_memory_size` of the collection.
    pub fn weight(&self) -> usize {
        self.weight
    }

    pub fn get(&self, id: &[u8]) -> Option<&Item> {
        self.store.find(id).map(|s| &self.store.get(s).item)
    }

    pub fn contains(&self, id: &[u8]) -> bool {
        self.store.find(id).is_some()
    }

    /// Adds (or, `add == false`, takes away) the object at `slot` to the
    /// statistics.
    fn account(&mut self, slot: u32, add: bool) {
        let e = self.store.get(slot);
        let (points, strings, weight) = (
            e.item.value.num_points(),
            usize::from(!e.item.value.is_spatial()),
            e.item.weight(&e.id),
        );
        let inverted = usize::from(is_inverted(&e.item.value));
        let value = &e.item.value;
        if value.is_spatial() && !is_empty(value) && envelope(value).is_none() {
            if add {
                self.nan.insert(slot);
            } else {
                self.nan.remove(&slot);
            }
        }
        if add {
            self.num_points += points;
            self.num_strings += strings;
            self.inverted += inverted;
            self.weight += weight;
        } else {
            self.num_points -= points;
            self.num_strings -= strings;
            self.inverted -= inverted;
            self.weight -= weight;
        }
    }

    /// `SET`: stores `value`, keeping the old fields and merging `fields` into
    /// them (a zero value deletes); the expiry is replaced. A replaced
    /// object's value and deadline are handed back; its fields are not
    /// kept (see [`Collection::set_keeping_fields`]).
    pub fn set(
        &mut self,
        id: &[u8],
        value: Value,
        fields: Vec<(Box<[u8]>, FieldValue)>,
        expires: Option<i64>,
        cond: SetCond,
    ) -> SetOutcome {
        self.set_keeping_fields(id, value, fields, expires, cond, false)
    }

    /// [`Collection::set`], handing back the replaced fields too when
    /// `keep_fields` and `fields` changed them ([`Prior::fields`]).
    pub fn set_keeping_fields(
        &mut self,
        id: &[u8],
        value: Value,
        fields: Vec<(Box<[u8]>, FieldValue)>,
        expires: Option<i64>,
        cond: SetCond,
        keep_fields: bool,
    ) -> SetOutcome {
        let deadline = to_deadline(expires);
        let hash = self.store.hash(id);
        let Some(slot) = self.store.find_hashed(hash, id) else {
            if cond == SetCond::IfExists {
                return SetOutcome::Refused;
            }
            self.insert_new(hash, id, value, fields, deadline);
            return SetOutcome::Inserted;
        };
        if cond == SetCond::IfAbsent {
            return SetOutcome::Refused;
        }
        self.seq += 1;
        self.account(slot, false);
        // An unchanged box keeps its index entry: moving nothing is the
        // common update.
        let new_env = envelope(&value);
        let old_env = envelope(&self.store.get(slot).item.value);
        let moves = old_env != new_env && !self.deferred;
        // The index is updated last: its page is on its way to the cache
        // meanwhile (a miss of its own at every moving SET).
        if let Some(p) = moves.then(|| self.store.page_of(slot)).flatten() {
            self.spatial.prefetch_page(p);
        }
        self.leaf.remove(slot, &self.store.get(slot).item.value);
        small::leaf_insert(&mut self.leaf, &self.store, slot, &value);
        let entry = self.store.get_mut(slot);
        if entry.item.expires != deadline {
            if let Some(at) = entry.item.expires {
                self.expires.remove(&(at.get(), slot));
            }
            if let Some(at) = deadline {
                self.expires.insert((at.get(), slot));
            }
        }
        if let Some(strings) = bulk::strings_mut(&mut self.strings, self.deferred) {
            if let Some(v) = entry.item.value.search_text() {
                strings.remove(&(v.into(), entry.id.clone()));
            }
            if let Some(v) = value.search_text() {
                strings.insert((v.into(), entry.id.clone()));
            }
        }
        // Moved out, not dropped here: the journal hands the old value to
        // whoever watches the write, then drops it.
        let prior = Prior {
            value: Some(mem::replace(&mut entry.item.value, value)),
            expires: Some(entry.item.deadline()),
            fields: merge_fields(&mut entry.item.fields, fields, keep_fields, Rule::Set).1,
        };
        entry.item.expires = deadline;
        entry.item.seq = self.seq;
        if moves {
            self.move_in_index(slot, old_env.is_some(), new_env);
        }
        self.account(slot, true);
        SetOutcome::Replaced(prior)
    }

    /// Stores the object of a new id (`hash` is its hash) in the store
    /// and every index.
    fn insert_new(
        &mut self,
        hash: u64,
        id: &[u8],
        value: Value,
        fields: Vec<(Box<[u8]>, FieldValue)>,
        deadline: Option<NonZeroI64>,
    ) {
        let env = envelope(&value);
        self.seq += 1;
        let mut list = FieldList::new();
        list.set_all(fields);
        let strings = bulk::strings_mut(&mut self.strings, self.deferred);
        if let (Some(v), Some(strings)) = (value.search_text(), strings) {
            strings.insert((v.into(), Id::new(id)));
        }
        let item = Item {
            value,
            fields: list,
            expires: deadline,
            seq: self.seq,
        };
        let slot = self.store.insert_hashed(hash, Id::new(id), item);
        small::leaf_insert(
            &mut self.leaf,
            &self.store,
            slot,
            &self.store.get(slot).item.value,
        );
        let store = &self.store;
        if let Some(order) = bulk::order_mut(&mut self.order, self.deferred) {
            order.insert(slot, id, |s| store.id(s));
        }
        if let Some(e) = env.filter(|_| !self.deferred) {
            self.spatial.insert(&mut self.store, slot, bbox(&e));
        }
        if let Some(at) = deadline {
            self.expires.insert((at.get(), slot));
        }
        self.account(slot, true);
    }

    /// Removes an object.
    pub fn delete(&mut self, id: &[u8]) -> Option<Item> {
        let slot = self.store.find(id)?;
        self.account(slot, false);
        let store = &self.store;
        if let Some(order) = bulk::order_mut(&mut self.order, self.deferred) {
            order.remove(slot, id, |s| store.id(s));
        }
        self.spatial.remove(&mut self.store, slot);
        self.leaf.remove(slot, &self.store.get(slot).item.value);
        let entry = self.store.remove(slot);
        let strings = bulk::strings_mut(&mut self.strings, self.deferred);
        if let (Some(v), Some(strings)) = (entry.item.value.search_text(), strings) {
            strings.remove(&(v.into(), entry.id));
        }
        if let Some(at) = entry.item.expires {
            self.expires.remove(&(at.get(), slot));
        }
        Some(entry.item)
    }

    /// `FSET`: sets fields on an existing object; returns how many changed
    /// and, with `keep` and any change, the fields as they were (moved
    /// out), or `None` if the id does not exist.
    pub fn set_fields(
        &mut self,
        id: &[u8],
        fields: Vec<(Box<[u8]>, FieldValue)>,
        keep: bool,
    ) -> Option<(usize, Option<FieldList>)> {
        let slot = self.store.find(id)?;
        self.account(slot, false);
        let item = &mut self.store.get_mut(slot).item;
        let merged = merge_fields(&mut item.fields, fields, keep, Rule::Fset);
        // Tile38 re-inserts the rewritten object into its R-tree.
        self.seq += 1;
        item.seq = self.seq;
        self.leaf.reinsert(slot, &item.value);
        self.account(slot, true);
        Some(merged)
    }

    /// Sets or clears the expiry of an existing object; returns the old
    /// deadline (outer `None`: no such id).
    pub fn set_expires(&mut self, id: &[u8], expires: Option<i64>) -> Option<Option<i64>> {
        let slot = self.store.find(id)?;
        let item = &mut self.store.get_mut(slot).item;
        let old = item.expires;
        if let Some(at) = old {
            self.expires.remove(&(at.get(), slot));
        }
        item.expires = to_deadline(expires);
        if let Some(at) = item.expires {
            self.expires.insert((at.get(), slot));
        }
        self.seq += 1;
        item.seq = self.seq;
        self.leaf.reinsert(slot, &item.value);
        Some(old.map(NonZeroI64::get))
    }

    /// Ids whose deadline is at or before `now`, soonest first.
    pub fn expired(&self, now: i64) -> Vec<Id> {
        self.expires
            .iter()
            .take_while(|(at, _)| *at <= now)
            .map(|&(_, s)| self.store.get(s).id.clone())
            .collect()
    }

    /// Objects in id order from `start` (inclusive) on, or in reverse order
    /// from `start` (inclusive) down when `desc`.
    pub fn range<'a>(
        &'a self,
        start: Option<&[u8]>,
        desc: bool,
    ) -> Box<dyn Iterator<Item = (&'a Id, &'a Item)> + 'a> {
        let store = &self.store;
        Box::new(
            self.order()
                .iter(start, desc, |s| store.id(s))
                .map(move |s| {
                    let e = store.get(s);
                    (&e.id, &e.item)
                }),
        )
    }

    /// String objects in value order (ties by id), or reversed.
    pub fn by_value<'a>(&'a self, desc: bool) -> Box<dyn Iterator<Item = (&'a Id, &'a Item)> + 'a> {
        let entry = move |(_, id): &'a (Box<[u8]>, Id)| {
            let e = self.store.get(self.store.find(id).expect("string indexed"));
            (&e.id, &e.item)
        };
        if desc {
            Box::new(self.strings.iter().rev().map(entry))
        } else {
            Box::new(self.strings.iter().map(entry))
        }
    }

    /// The exact box of the indexed object at `slot`.
    fn exact(&self, slot: u32) -> [f64; 4] {
        envelope(&self.store.get(slot).item.value).expect("indexed objects have a box")
    }

    /// Bounding box of all indexed spatial objects (`BOUNDS key`): Tile38's
    /// R-tree root, the least of the objects' mins and the greatest of
    /// their maxes as given, so an inverted rectangle counts with its
    /// corners as they are.
    pub fn bounds(&self) -> Option<Rect> {
        if self.inverted == 0 {
            return self.spatial.bounds(|s| self.exact(s)).map(|e| rect(&e));
        }
        self.store
            .iter()
            .filter(|(_, e)| envelope(&e.item.value).is_some())
            .map(|(_, e)| e.item.value.bbox())
            .reduce(|a, b| {
                let min = Position::new(a.min.x.min(b.min.x), a.min.y.min(b.min.y));
                let max = Position::new(a.max.x.max(b.max.x), a.max.y.max(b.max.y));
                Rect::new(min, max)
            })
    }

    /// Number of spatial (indexed) objects.
    pub fn spatial_len(&self) -> usize {
        self.spatial.len()
    }

    /// Spatial objects left out of the index for a NaN side, by slot.
    pub fn unindexed(&self) -> impl Iterator<Item = (&Id, &Item)> + '_ {
        self.nan.iter().map(|&s| {
            let e = self.store.get(s);
            (&e.id, &e.item)
        })
    }

    /// How many objects [`Collection::unindexed`] lists.
    pub fn unindexed_len(&self) -> usize {
        self.nan.len()
    }

    /// Spatial objects whose bounding box meets `rect` (min/max in any
    /// order), in index order.
    pub fn intersecting(&self, rect: Rect) -> impl Iterator<Item = (&Id, &Item)> + '_ {
        let (a, b) = (rect.min, rect.max);
        let q = [a.x.min(b.x), a.y.min(b.y), a.x.max(b.x), a.y.max(b.y)];
        self.spatial.search(q).filter_map(move |(slot, certain)| {
            let e = self.store.get(slot);
            let meets = || {
                let x = self.exact(slot);
                x[0] <= q[2] && x[2] >= q[0] && x[1] <= q[3] && x[3] >= q[1]
            };
            (certain || meets()).then_some((&e.id, &e.item))
        })
    }

    /// Spatial objects in ascending `dist`, best first. `dist` gets boxes
    /// of index nodes and of objects, and must not decrease from a box to
    /// the boxes inside it (the distance from a point to a box does not).
    /// The distance reported is the one to the object's exact box.
    pub fn nearest<F: Fn(&Rect) -> f64 + Clone + 'static>(
        &self,
        dist: F,
    ) -> impl Walk<Item = (f64, &Id, &Item)> + '_ {
        self.nearest_bounded(dist.clone(), dist, f64::INFINITY)
    }

    /// Like [`Collection::nearest`], with index boxes ordered by `bound`,
    /// a cheaper lower bound of `dist` (never above `dist` of anything in
    /// the box): `dist` then runs only for objects near the front. Objects
    /// farther than `cutoff` are not reported, and the walk stops at the
    /// first one (a radius search never looks for what lies beyond).
    pub fn nearest_bounded<B, F>(
        &self,
        bound: B,
        dist: F,
        cutoff: f64,
    ) -> impl Walk<Item = (f64, &Id, &Item)> + '_
    where
        B: Fn(&Rect) -> f64 + 'static,
        F: Fn(&Rect) -> f64 + 'static,
    {
        let exact = move |s| rect(&self.exact(s));
        let walk = Nearest::new(&self.spatial, bound, dist, exact, |s| {
            self.store.prefetch(s)
        })
        .with_cutoff(cutoff);
        Objects::new(walk, &self.store)
    }

    /// Checks that every index agrees with the objects (tests; O(n log n)).
    #[doc(hidden)]
    pub fn check(&self) {
        if !self.deferred {
            self.spatial.check(&self.store);
        }
        let mut spatial = 0;
        for (slot, e) in self.store.iter() {
            assert_eq!(self.store.find(&e.id), Some(slot), "id map: {:?}", e.id);
            let env = envelope(&e.item.value).filter(|_| !self.deferred);
            assert_eq!(self.store.page_of(slot).is_some(), env.is_some());
            if let Some(env) = env {
                spatial += 1;
                let p = self.store.page_of(slot).expect("indexed");
                let page = self.spatial.tree.pages.get(p);
                let i = page.position(slot).expect("in its page");
                assert_eq!(page.entry(i), bbox(&env), "box of {:?}", e.id);
            }
            if let Some(at) = e.item.expires {
                assert!(self.expires.contains(&(at.get(), slot)));
            }
        }
        assert_eq!(spatial, self.spatial.len());
        let with_deadline = self.store.iter().filter(|(_, e)| e.item.expires.is_some());
        assert_eq!(self.expires.len(), with_deadline.count());
        if self.deferred && self.order.get().is_none() {
            return;
        }
        self.order().check(|s| self.store.id(s));
        let ordered: Vec<&[u8]> = self.order().all().map(|s| self.store.id(s)).collect();
        assert_eq!(ordered.len(), self.len());
        assert!(ordered.windows(2).all(|w| w[0] < w[1]), "id order");
    }
}
