//! A replica of Tile38's R-tree while it is a single leaf, for the order
//! and the root box searches see on small keys.
//!
//! Tile38 1.37 indexes each spatial, non-empty object in a tidwall/rtree
//! v1.10 `RTreeGN[float32]` under its box rounded outward to `float32`
//! (`rtreeRect`). Every write re-sets the object: the old entry is deleted
//! and the new one inserted (`Collection.setFill`), so FSET and EXPIRE move
//! an entry too. Up to 63 entries the tree is one leaf, and what a search
//! sees of it depends on history, not only on the objects present:
//! * the leaf order: an insert goes before the first entry whose west edge
//!   is not below its own (`rsearch`, `!(min < key)`), so an entry with a
//!   NaN west edge takes every later insert before it, unsorted, and the
//!   leaf stays so after it leaves; a delete closes the gap;
//! * the root box `tr.rect`, which `Search` tests first: the first entry's
//!   box, grown side by side with `<`/`>` comparisons (a NaN side of the
//!   first entry stays, NaN sides of later ones never enter), recomputed
//!   from the leaf (from its first entry on) when a deleted entry touched
//!   its edge, zeroed when the tree empties.
//!
//! Rebuilding either from the objects present loses what deleted NaN
//! entries left behind, so the collection keeps this replica from the first
//! insert on. At 64 entries Tile38 splits the leaf; the replica is then
//! dropped (orders of bigger trees are our index's own) until the tree
//! empties again.

use tile38_geo::{Rect, Value};

/// Tile38's leaf capacity: the insert that fills it splits the root.
const MAX_ENTRIES: usize = 64;

/// SQLite's (and Tile38's) nudges toward and away from zero: one part in
/// 2²³, a float32 step.
const TOWARDS: f64 = 1.0 - 1.0 / 8_388_608.0;
const AWAY: f64 = 1.0 + 1.0 / 8_388_608.0;

/// A box's low edge as Tile38's R-tree stores it: a float32 not above `d`
/// (its `rtreeValueDown`: nudged when the cast rounded up).
pub fn f32_down(d: f64) -> f32 {
    let f = d as f32;
    if f64::from(f) > d {
        return (if d < 0.0 { d * AWAY } else { d * TOWARDS }) as f32;
    }
    f
}

/// A box's high edge as Tile38's R-tree stores it: a float32 not below
/// `d` (its `rtreeValueUp`).
pub fn f32_up(d: f64) -> f32 {
    let f = d as f32;
    if f64::from(f) < d {
        return (if d < 0.0 { d * TOWARDS } else { d * AWAY }) as f32;
    }
    f
}

/// A box as Tile38's R-tree holds it, with Go's comparisons (every one
/// with a NaN is false).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GoRect {
    pub min: [f32; 2],
    pub max: [f32; 2],
}

impl GoRect {
    /// `rtreeRect`: rounded outward, corners as given (not normalised).
    pub fn of(r: &Rect) -> GoRect {
        GoRect {
            min: [f32_down(r.min.x), f32_down(r.min.y)],
            max: [f32_up(r.max.x), f32_up(r.max.y)],
        }
    }

    fn contains(&self, b: &GoRect) -> bool {
        !(b.min[0] < self.min[0]
            || b.max[0] > self.max[0]
            || b.min[1] < self.min[1]
            || b.max[1] > self.max[1])
    }

    /// `rect.intersects`.
    pub fn intersects(&self, b: &GoRect) -> bool {
        !(b.min[0] > self.max[0]
            || b.max[0] < self.min[0]
            || b.min[1] > self.max[1]
            || b.max[1] < self.min[1])
    }

    fn expand(&mut self, b: &GoRect) {
        for a in 0..2 {
            if b.min[a] < self.min[a] {
                self.min[a] = b.min[a];
            }
            if b.max[a] > self.max[a] {
                self.max[a] = b.max[a];
            }
        }
    }

    /// `onedge`: `self` is not strictly inside `b`.
    fn on_edge(&self, b: &GoRect) -> bool {
        !(self.min[0] > b.min[0]
            && self.min[1] > b.min[1]
            && self.max[0] < b.max[0]
            && self.max[1] < b.max[1])
    }
}

/// Whether Tile38 puts `value` in its R-tree (`IsSpatial() && !Empty()`).
pub fn in_rtree(value: &Value) -> bool {
    value.is_spatial() && !value.is_empty()
}

/// The leaf: entries (box, store slot) in Tile38's order, and `tr.rect`.
#[derive(Debug)]
pub struct Leaf {
    pub entries: Vec<(GoRect, u32)>,
    pub rect: GoRect,
}

impl Leaf {
    /// `node.rect()`: the first entry's box grown by the others.
    fn recompute(&mut self) {
        let mut r = self.entries[0].0;
        for (b, _) in &self.entries[1..] {
            r.expand(b);
        }
        self.rect = r;
    }
}

/// The replica a collection keeps ([`Leaf`] while Tile38's tree is one).
#[derive(Debug, Default)]
pub struct LeafMirror {
    leaf: Option<Box<Leaf>>,
    /// Entries in Tile38's tree (counted on while it is split).
    count: usize,
    /// Tile38's tree has split (or lost track): no replica until it empties.
    lost: bool,
}

impl LeafMirror {
    /// The leaf, if Tile38's tree is one we follow.
    pub fn leaf(&self) -> Option<&Leaf> {
        self.leaf.as_deref().filter(|_| !self.lost)
    }

    /// `Insert` of `value`'s entry for `slot` (a no-op outside the tree).
    pub fn insert(&mut self, slot: u32, value: &Value) {
        if !in_rtree(value) {
            return;
        }
        self.count += 1;
        if self.lost {
            return;
        }
        let ir = GoRect::of(&value.bbox());
        let leaf = self.leaf.get_or_insert_with(|| {
            Box::new(Leaf {
                entries: Vec::new(),
                rect: ir,
            })
        });
        let at = leaf
            .entries
            .iter()
            // Go's `!(min < key)`: true for a NaN on either side.
            .position(|(r, _)| r.min[0].partial_cmp(&ir.min[0]) != Some(std::cmp::Ordering::Less))
            .unwrap_or(leaf.entries.len());
        leaf.entries.insert(at, (ir, slot));
        if leaf.entries.len() == MAX_ENTRIES {
            self.lose();
            return;
        }
        if !leaf.rect.contains(&ir) {
            leaf.rect.expand(&ir);
        }
    }

    /// `Delete` of `value`'s entry for `slot` (a no-op outside the tree).
    pub fn remove(&mut self, slot: u32, value: &Value) {
        if !in_rtree(value) {
            return;
        }
        self.count -= 1;
        if self.count == 0 {
            // Tile38 zeroes the root; a new tree starts on the next insert.
            *self = LeafMirror::default();
            return;
        }
        let Some(leaf) = self.leaf.as_deref_mut().filter(|_| !self.lost) else {
            return;
        };
        let ir = GoRect::of(&value.bbox());
        let found = leaf
            .rect
            .contains(&ir)
            .then(|| {
                leaf.entries
                    .iter()
                    .position(|(r, s)| *s == slot && ir.contains(r))
            })
            .flatten();
        let Some(i) = found else {
            // Tile38 keeps an entry it cannot find; we do not follow that.
            self.lose();
            return;
        };
        leaf.entries.remove(i);
        if ir.on_edge(&leaf.rect) {
            leaf.recompute();
        }
    }

    /// `Delete` then `Insert` of the same entry (a rewrite that keeps the
    /// object: FSET, EXPIRE, PERSIST).
    pub fn reinsert(&mut self, slot: u32, value: &Value) {
        self.remove(slot, value);
        self.insert(slot, value);
    }

    fn lose(&mut self) {
        self.lost = true;
        self.leaf = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tile38_geo::Position;

    fn point(x: f64, y: f64) -> Value {
        Value::Rect(Rect::new(Position::new(x, y), Position::new(x, y)))
    }

    fn order(m: &LeafMirror) -> Vec<u32> {
        m.leaf().unwrap().entries.iter().map(|e| e.1).collect()
    }

    #[test]
    fn sorted_by_west_edge_newest_first() {
        let mut m = LeafMirror::default();
        m.insert(1, &point(2.0, 0.0));
        m.insert(2, &point(1.0, 0.0));
        m.insert(3, &point(2.0, 1.0));
        assert_eq!(order(&m), [2, 3, 1]);
        assert_eq!(m.leaf().unwrap().rect.min, [1.0, 0.0]);
    }

    #[test]
    fn a_nan_entry_leaves_its_disorder_behind() {
        let mut m = LeafMirror::default();
        m.insert(1, &point(5.0, 0.0));
        // NaN is "not below" 5: it goes first, and takes every later
        // insert before it
        m.insert(2, &point(f64::NAN, 0.0));
        m.insert(3, &point(3.0, 0.0));
        m.insert(4, &point(7.0, 0.0));
        assert_eq!(order(&m), [3, 4, 2, 1]);
        m.remove(2, &point(f64::NAN, 0.0));
        assert_eq!(order(&m), [3, 4, 1]); // west edges 3, 7, 5
        let r = m.leaf().unwrap().rect;
        assert_eq!((r.min, r.max), ([3.0, 0.0], [7.0, 0.0]));
    }

    #[test]
    fn a_first_nan_side_stays_in_the_root_box() {
        let mut m = LeafMirror::default();
        m.insert(1, &point(f64::NAN, 0.0));
        m.insert(2, &point(5.0, 0.0));
        // Go's contains is true against a NaN side: the box never grew
        let r = m.leaf().unwrap().rect;
        assert!(r.min[0].is_nan() && r.max[0].is_nan());
        m.remove(1, &point(f64::NAN, 0.0));
        assert_eq!(m.leaf().unwrap().rect.min, [5.0, 0.0]);
    }

    #[test]
    fn a_nan_side_of_a_later_entry_never_enters_the_root_box() {
        let mut m = LeafMirror::default();
        m.insert(1, &point(1.0, 1.0));
        let nan = Value::Rect(Rect::new(
            Position::new(f64::NAN, 0.0),
            Position::new(3.0, 2.0),
        ));
        m.insert(2, &nan);
        let r = m.leaf().unwrap().rect;
        assert_eq!((r.min, r.max), ([1.0, 0.0], [3.0, 2.0]));
    }

    #[test]
    fn the_split_drops_the_replica_until_the_tree_empties() {
        let mut m = LeafMirror::default();
        for s in 0..64 {
            m.insert(s, &point(f64::from(s), 0.0));
        }
        assert!(m.leaf().is_none());
        for s in 0..63 {
            m.remove(s, &point(f64::from(s), 0.0));
        }
        assert!(m.leaf().is_none());
        m.remove(63, &point(63.0, 0.0));
        m.insert(7, &point(1.0, 1.0));
        assert_eq!(order(&m), [7]);
    }
}
