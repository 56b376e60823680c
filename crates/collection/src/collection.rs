//! One key's objects: a hash map id → object (GET/SET in O(1)), the ids in
//! byte order (SCAN order), an `rstar` R-tree over the bounding boxes of
//! spatial objects, and an expiry index ordered by deadline. All stay in step
//! on every change.

use std::collections::BTreeSet;
use std::ops::Bound;

use hashbrown::HashMap;
use rstar::AABB;
use tile38_geo::{FieldList, FieldValue, Rect, Value};

pub use crate::id::Id;
use crate::spatial::SpatialIndex;

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
    /// Expiry deadline in unix nanoseconds.
    pub expires: Option<i64>,
    /// When the object was last written (per-collection counter): Tile38's
    /// R-tree puts the most recently written of equal keys first.
    pub seq: u64,
}

impl Item {
    fn weight(&self, id: &[u8]) -> usize {
        id.len() + self.value.weight() + self.fields.weight()
    }
}

/// The R-tree envelope of a value; non-finite boxes are not indexed (they
/// would corrupt the tree's ordering and no search can match them).
fn envelope(value: &Value) -> Option<AABB<[f64; 2]>> {
    if !value.is_spatial() {
        return None;
    }
    let r = value.bbox();
    let (min_x, max_x) = (r.min.x.min(r.max.x), r.min.x.max(r.max.x));
    let (min_y, max_y) = (r.min.y.min(r.max.y), r.min.y.max(r.max.y));
    if ![min_x, min_y, max_x, max_y].iter().all(|v| v.is_finite()) {
        return None;
    }
    Some(AABB::from_corners([min_x, min_y], [max_x, max_y]))
}

/// A collection (the value of one key).
#[derive(Default)]
pub struct Collection {
    items: HashMap<Id, Item>,
    order: BTreeSet<Id>,
    tree: SpatialIndex,
    /// String objects by (value, id): SEARCH order.
    strings: BTreeSet<(Box<[u8]>, Id)>,
    expires: BTreeSet<(i64, Id)>,
    num_points: usize,
    num_strings: usize,
    weight: usize,
    seq: u64,
}

impl Collection {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
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
        self.items.get(id)
    }

    pub fn contains(&self, id: &[u8]) -> bool {
        self.items.contains_key(id)
    }

    fn account(&mut self, id: &[u8], item: &Item, add: bool) {
        let (points, strings, weight) = (
            item.value.num_points(),
            usize::from(!item.value.is_spatial()),
            item.weight(id),
        );
        if add {
            self.num_points += points;
            self.num_strings += strings;
            self.weight += weight;
        } else {
            self.num_points -= points;
            self.num_strings -= strings;
            self.weight -= weight;
        }
    }

    fn unindex(&mut self, id: &Id, item: &Item) {
        self.account(id, item, false);
        if let Value::String(v) = &item.value {
            self.strings.remove(&(v.clone(), id.clone()));
        }
        if let Some(envelope) = envelope(&item.value) {
            self.tree.remove(envelope, id);
        }
        if let Some(at) = item.expires {
            self.expires.remove(&(at, id.clone()));
        }
    }

    fn index(&mut self, id: &Id, item: &Item) {
        self.account(id, item, true);
        if let Value::String(v) = &item.value {
            self.strings.insert((v.clone(), id.clone()));
        }
        if let Some(envelope) = envelope(&item.value) {
            self.tree.insert(envelope, id.clone());
        }
        if let Some(at) = item.expires {
            self.expires.insert((at, id.clone()));
        }
    }

    /// `SET`: stores `value`, keeping the old fields and merging `fields` into
    /// them (a zero value deletes); the expiry is replaced. Returns `false`
    /// when `cond` refused (`NX` on an existing id, `XX` on a missing one).
    pub fn set(
        &mut self,
        id: &[u8],
        value: Value,
        fields: Vec<(Box<[u8]>, FieldValue)>,
        expires: Option<i64>,
        cond: SetCond,
    ) -> bool {
        let new_env = envelope(&value);
        let Some((key, item)) = self.items.get_key_value_mut(id) else {
            if cond == SetCond::IfExists {
                return false;
            }
            let key = Id::from(id);
            let mut list = FieldList::new();
            for (name, v) in fields {
                list.set(&name, v);
            }
            self.seq += 1;
            let item = Item {
                value,
                fields: list,
                expires,
                seq: self.seq,
            };
            self.index(&key, &item);
            self.order.insert(key.clone());
            self.items.insert(key, item);
            return true;
        };
        if cond == SetCond::IfAbsent {
            return false;
        }
        self.num_points -= item.value.num_points();
        self.num_strings -= usize::from(!item.value.is_spatial());
        self.weight -= item.weight(key);
        // An unchanged bounding box keeps its tree entry: moving nothing is
        // the common update, and removal is the costly R-tree operation.
        let old_env = envelope(&item.value);
        if old_env != new_env {
            if let Some(envelope) = old_env {
                self.tree.remove(envelope, key);
            }
            if let Some(envelope) = new_env {
                self.tree.insert(envelope, key.clone());
            }
        }
        if item.expires != expires {
            if let Some(at) = item.expires {
                self.expires.remove(&(at, key.clone()));
            }
            if let Some(at) = expires {
                self.expires.insert((at, key.clone()));
            }
        }
        if let Value::String(v) = &item.value {
            self.strings.remove(&(v.clone(), key.clone()));
        }
        if let Value::String(v) = &value {
            self.strings.insert((v.clone(), key.clone()));
        }
        item.value = value;
        item.expires = expires;
        self.seq += 1;
        item.seq = self.seq;
        for (name, v) in fields {
            item.fields.set(&name, v);
        }
        self.num_points += item.value.num_points();
        self.num_strings += usize::from(!item.value.is_spatial());
        self.weight += item.weight(key);
        true
    }

    /// Removes an object.
    pub fn delete(&mut self, id: &[u8]) -> Option<Item> {
        let (key, item) = self.items.remove_entry(id)?;
        self.unindex(&key, &item);
        self.order.remove(&key);
        Some(item)
    }

    /// `FSET`: sets fields on an existing object; returns how many changed,
    /// or `None` if the id does not exist.
    pub fn set_fields(&mut self, id: &[u8], fields: Vec<(Box<[u8]>, FieldValue)>) -> Option<usize> {
        let item = self.items.get_mut(id)?;
        let before = item.weight(id);
        let changed = fields
            .into_iter()
            .filter(|(n, v)| item.fields.set(n, v.clone()))
            .count();
        // Tile38 re-inserts the rewritten object into its R-tree.
        self.seq += 1;
        item.seq = self.seq;
        self.weight = self.weight - before + item.weight(id);
        Some(changed)
    }

    /// Sets or clears the expiry of an existing object; returns the old
    /// deadline (outer `None`: no such id).
    pub fn set_expires(&mut self, id: &[u8], expires: Option<i64>) -> Option<Option<i64>> {
        let (key, item) = self.items.get_key_value(id)?;
        let key = key.clone();
        let old = item.expires;
        if let Some(at) = old {
            self.expires.remove(&(at, key.clone()));
        }
        if let Some(at) = expires {
            self.expires.insert((at, key.clone()));
        }
        self.seq += 1;
        let item = self.items.get_mut(id).expect("present");
        item.expires = expires;
        item.seq = self.seq;
        Some(old)
    }

    /// Ids whose deadline is at or before `now`, soonest first.
    pub fn expired(&self, now: i64) -> Vec<Id> {
        self.expires
            .iter()
            .take_while(|(at, _)| *at <= now)
            .map(|(_, id)| id.clone())
            .collect()
    }

    /// Objects in id order from `start` (inclusive) on, or in reverse order
    /// from `start` (inclusive) down when `desc`.
    pub fn range<'a>(
        &'a self,
        start: Option<&[u8]>,
        desc: bool,
    ) -> Box<dyn Iterator<Item = (&'a Id, &'a Item)> + 'a> {
        let ids: Box<dyn Iterator<Item = &'a Id> + 'a> = match (start, desc) {
            (None, false) => Box::new(self.order.iter()),
            (None, true) => Box::new(self.order.iter().rev()),
            (Some(s), false) => Box::new(
                self.order
                    .range::<[u8], _>((Bound::Included(s), Bound::Unbounded)),
            ),
            (Some(s), true) => Box::new(
                self.order
                    .range::<[u8], _>((Bound::Unbounded, Bound::Included(s)))
                    .rev(),
            ),
        };
        Box::new(ids.map(move |id| (id, &self.items[id])))
    }

    /// String objects in value order (ties by id), or reversed.
    pub fn by_value<'a>(&'a self, desc: bool) -> Box<dyn Iterator<Item = (&'a Id, &'a Item)> + 'a> {
        let entry = move |(_, id): &'a (Box<[u8]>, Id)| (id, &self.items[id]);
        if desc {
            Box::new(self.strings.iter().rev().map(entry))
        } else {
            Box::new(self.strings.iter().map(entry))
        }
    }

    /// Bounding box of all indexed spatial objects (`BOUNDS key`).
    pub fn bounds(&self) -> Option<Rect> {
        let env = self.tree.bounds()?;
        let (lo, hi) = (env.lower(), env.upper());
        Some(Rect::new(
            tile38_geo::Position::new(lo[0], lo[1]),
            tile38_geo::Position::new(hi[0], hi[1]),
        ))
    }

    /// Number of spatial (indexed) objects.
    pub fn spatial_len(&self) -> usize {
        self.tree.len()
    }

    /// Spatial objects whose bounding box meets `rect` (min/max in any
    /// order), in index order.
    pub fn intersecting(&self, rect: Rect) -> impl Iterator<Item = (&Id, &Item)> + '_ {
        let (a, b) = (rect.min, rect.max);
        let env = AABB::from_corners([a.x, a.y], [b.x, b.y]);
        self.tree
            .intersecting(env)
            .filter_map(move |id| self.items.get_key_value(id.as_bytes()))
    }

    /// Spatial objects in ascending `dist`, best first. `dist` gets boxes
    /// of index nodes and of objects, and must not decrease from a box to
    /// the boxes inside it (the distance from a point to a box does not).
    pub fn nearest<F: Fn(&Rect) -> f64 + 'static>(
        &self,
        dist: F,
    ) -> impl Iterator<Item = (f64, &Id, &Item)> + '_ {
        let to_rect = |e: &crate::spatial::Envelope| {
            let (lo, hi) = (e.lower(), e.upper());
            Rect::new(
                tile38_geo::Position::new(lo[0], lo[1]),
                tile38_geo::Position::new(hi[0], hi[1]),
            )
        };
        self.tree
            .nearest_by(move |e| dist(&to_rect(e)))
            .flat_map(|(d, bucket)| bucket.ids.iter().map(move |id| (d, id)))
            .filter_map(move |(d, id)| {
                self.items
                    .get_key_value(id.as_bytes())
                    .map(|(id, item)| (d, id, item))
            })
    }

    /// The spatial index (tests and benchmarks).
    pub fn tree(&self) -> &SpatialIndex {
        &self.tree
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(x: f64, y: f64) -> Value {
        Value::Point { x, y, z: 0.0 }
    }

    fn field(v: &[u8]) -> Vec<(Box<[u8]>, FieldValue)> {
        vec![(b"f"[..].into(), FieldValue::parse(v))]
    }

    #[test]
    fn set_delete_keep_indexes_in_step() {
        let mut c = Collection::new();
        assert!(!c.set(b"a", point(1.0, 2.0), vec![], Some(10), SetCond::IfExists));
        assert!(c.set(b"a", point(1.0, 2.0), vec![], Some(10), SetCond::Always));
        assert!(!c.set(b"a", point(3.0, 4.0), field(b"5"), None, SetCond::IfAbsent));
        assert!(c.set(b"a", point(3.0, 4.0), field(b"5"), None, SetCond::Always));
        assert_eq!(c.tree().len(), 1);
        assert!(c.expired(100).is_empty());
        c.set(
            b"s",
            Value::String(b"value"[..].into()),
            vec![],
            Some(5),
            SetCond::Always,
        );
        assert_eq!((c.len(), c.num_points(), c.num_strings()), (2, 1, 1));
        assert_eq!(c.expired(5).len(), 1);
        assert_eq!(c.get(b"a").unwrap().fields.len(), 1);
        let ids: Vec<_> = c.range(None, false).map(|(id, _)| id.to_vec()).collect();
        assert_eq!(ids, [b"a".to_vec(), b"s".to_vec()]);
        c.delete(b"a");
        c.delete(b"s");
        assert_eq!((c.tree().len(), c.weight(), c.num_points()), (0, 0, 0));
        assert!(c.expired(i64::MAX).is_empty());
        assert_eq!(c.range(None, true).count(), 0);
    }

    #[test]
    fn moving_and_same_place_updates_keep_one_tree_entry() {
        let mut c = Collection::new();
        for i in 0..100 {
            c.set(
                format!("id{i}").as_bytes(),
                point(1.0, 1.0),
                vec![],
                None,
                SetCond::Always,
            );
        }
        c.set(b"id5", point(1.0, 1.0), field(b"1"), None, SetCond::Always);
        c.set(b"id6", point(2.0, 2.0), vec![], None, SetCond::Always);
        assert_eq!(c.tree().len(), 100);
        assert_eq!(c.tree().tree().size(), 2);
        let moved: Vec<_> = c
            .tree()
            .intersecting(AABB::from_point([2.0, 2.0]))
            .collect();
        assert_eq!(moved.len(), 1);
        assert_eq!(&**moved[0], b"id6");
    }

    #[test]
    fn stats_weights_match_tile38() {
        let mut c = Collection::new();
        c.set(
            b"myid",
            Value::String(b"value"[..].into()),
            vec![],
            None,
            SetCond::Always,
        );
        assert_eq!(c.weight(), 9);
        c.set(b"myid3", point(-115.0, 33.0), vec![], None, SetCond::Always);
        assert_eq!(c.weight(), 9 + 21);
    }
}
