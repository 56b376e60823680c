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
//! entries left behind. Without a NaN side ever, though, the leaf is the
//! present objects by west edge, newest first among equals, and the root
//! box their union (an edge is always some present entry's: deleting one
//! on the edge recomputes it), which the root test never rejects where an
//! entry's test passes. So the replica wakes when the first entry with a
//! NaN side arrives, built then by replaying the present entries in write
//! order, and is kept until the tree empties: small keys without NaN pay
//! nothing. At 64 entries Tile38 splits the leaf; the replica is then
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

    fn has_nan(&self) -> bool {
        self.min.iter().chain(&self.max).any(|v| v.is_nan())
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
    /// `Insert` into the one leaf: before the first entry not below it.
    fn insert(&mut self, ir: GoRect, slot: u32) {
        let at = self
            .entries
            .iter()
            // Go's `!(min < key)`: true for a NaN on either side.
            .position(|(r, _)| r.min[0].partial_cmp(&ir.min[0]) != Some(std::cmp::Ordering::Less))
            .unwrap_or(self.entries.len());
        self.entries.insert(at, (ir, slot));
        if !self.rect.contains(&ir) {
            self.rect.expand(&ir);
        }
    }

    /// `node.rect()`: the first entry's box grown by the others.
    fn recompute(&mut self) {
        let mut r = self.entries[0].0;
        for (b, _) in &self.entries[1..] {
            r.expand(b);
        }
        self.rect = r;
    }
}

/// The replica a collection keeps ([`Leaf`] while Tile38's tree is one
/// and a NaN side has entered it).
#[derive(Debug, Default)]
pub struct LeafMirror {
    leaf: Option<Box<Leaf>>,
    /// Entries in Tile38's tree (counted on while asleep or split).
    count: usize,
    /// Tile38's tree has split (or lost track): no replica until it empties.
    lost: bool,
}

impl LeafMirror {
    /// The leaf, if awake (a replay of the present objects stands in for
    /// it otherwise, see the module doc).
    pub fn leaf(&self) -> Option<&Leaf> {
        self.leaf.as_deref().filter(|_| !self.lost)
    }

    /// Whether inserting `value` wakes the replica: it has a NaN side and
    /// the tree stays one leaf. [`LeafMirror::wake`] first, then insert.
    pub fn wakes_for(&self, value: &Value) -> bool {
        in_rtree(value)
            && !self.lost
            && self.leaf.is_none()
            && self.count + 1 < MAX_ENTRIES
            && GoRect::of(&value.bbox()).has_nan()
    }

    /// Builds the leaf from the entries present, `(write order, slot,
    /// box)`, by replaying their inserts in write order.
    pub fn wake(&mut self, mut present: Vec<(u64, u32, GoRect)>) {
        present.sort_unstable_by_key(|e| e.0);
        let mut entries = present.into_iter();
        let Some((_, slot, first)) = entries.next() else {
            return;
        };
        let mut leaf = Leaf {
            entries: vec![(first, slot)],
            rect: first,
        };
        for (_, slot, ir) in entries {
            leaf.insert(ir, slot);
        }
        self.leaf = Some(Box::new(leaf));
    }

    /// `Insert` of `value`'s entry for `slot` (a no-op outside the tree).
    pub fn insert(&mut self, slot: u32, value: &Value) {
        if !in_rtree(value) {
            return;
        }
        self.count += 1;
        if self.count >= MAX_ENTRIES {
            self.lose();
        }
        if self.lost {
            return;
        }
        let ir = GoRect::of(&value.bbox());
        match self.leaf.as_deref_mut() {
            Some(leaf) => leaf.insert(ir, slot),
            // Asleep: nothing with a NaN side yet. The first insert into
            // an empty tree that wakes it takes its box as the root box.
            None if ir.has_nan() && self.count == 1 => {
                self.leaf = Some(Box::new(Leaf {
                    entries: vec![(ir, slot)],
                    rect: ir,
                }))
            }
            None => {}
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
    /// object: FSET, EXPIRE, PERSIST). Never wakes the replica: an entry
    /// with a NaN side already did.
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

    /// A mirror fed as the collection feeds it: objects present by slot,
    /// with their write order.
    #[derive(Default)]
    struct Key {
        m: LeafMirror,
        present: Vec<(u64, u32, Value)>,
        seq: u64,
    }

    impl Key {
        fn set(&mut self, slot: u32, v: Value) {
            if let Some(i) = self.present.iter().position(|e| e.1 == slot) {
                let old = self.present.remove(i);
                self.m.remove(slot, &old.2);
            }
            if self.m.wakes_for(&v) {
                let boxes = self.present.iter();
                self.m.wake(
                    boxes
                        .map(|(q, s, v)| (*q, *s, GoRect::of(&v.bbox())))
                        .collect(),
                );
            }
            self.m.insert(slot, &v);
            self.seq += 1;
            self.present.push((self.seq, slot, v));
        }

        fn del(&mut self, slot: u32) {
            let i = self.present.iter().position(|e| e.1 == slot).unwrap();
            let old = self.present.remove(i);
            self.m.remove(slot, &old.2);
        }

        fn order(&self) -> Vec<u32> {
            self.m.leaf().unwrap().entries.iter().map(|e| e.1).collect()
        }
    }

    #[test]
    fn asleep_without_nan_and_woken_by_the_first_nan_side() {
        let mut k = Key::default();
        k.set(1, point(2.0, 0.0));
        k.set(2, point(1.0, 0.0));
        k.set(3, point(2.0, 1.0));
        assert!(k.m.leaf().is_none());
        // Woken: the present entries replayed (west edge, newest first),
        // then the NaN entry, which goes first ("not below" anything).
        k.set(4, point(f64::NAN, 0.0));
        assert_eq!(k.order(), [4, 2, 3, 1]);
        let r = k.m.leaf().unwrap().rect;
        assert_eq!((r.min, r.max), ([1.0, 0.0], [2.0, 1.0]));
    }

    #[test]
    fn a_nan_entry_leaves_its_disorder_behind() {
        let mut k = Key::default();
        k.set(1, point(5.0, 0.0));
        k.set(2, point(f64::NAN, 0.0));
        k.set(3, point(3.0, 0.0));
        k.set(4, point(7.0, 0.0));
        assert_eq!(k.order(), [3, 4, 2, 1]);
        k.del(2);
        assert_eq!(k.order(), [3, 4, 1]); // west edges 3, 7, 5
        let r = k.m.leaf().unwrap().rect;
        assert_eq!((r.min, r.max), ([3.0, 0.0], [7.0, 0.0]));
        // a rewrite of a kept object moves it, as Tile38's re-insert does
        k.set(3, point(3.0, 0.0));
        assert_eq!(k.order(), [3, 4, 1]);
        k.set(1, point(5.0, 0.0));
        assert_eq!(k.order(), [3, 1, 4]);
    }

    #[test]
    fn a_first_nan_side_stays_in_the_root_box() {
        let mut k = Key::default();
        k.set(1, point(f64::NAN, 0.0));
        k.set(2, point(5.0, 0.0));
        // Go's contains is true against a NaN side: the box never grew
        let r = k.m.leaf().unwrap().rect;
        assert!(r.min[0].is_nan() && r.max[0].is_nan());
        k.del(1);
        assert_eq!(k.m.leaf().unwrap().rect.min, [5.0, 0.0]);
    }

    #[test]
    fn a_nan_side_of_a_later_entry_never_enters_the_root_box() {
        let mut k = Key::default();
        k.set(1, point(1.0, 1.0));
        let nan = Value::Rect(Rect::new(
            Position::new(f64::NAN, 0.0),
            Position::new(3.0, 2.0),
        ));
        k.set(2, nan);
        let r = k.m.leaf().unwrap().rect;
        assert_eq!((r.min, r.max), ([1.0, 0.0], [3.0, 2.0]));
    }

    #[test]
    fn the_split_drops_the_replica_until_the_tree_empties() {
        let mut k = Key::default();
        k.set(100, point(f64::NAN, 0.0));
        for s in 0..63 {
            k.set(s, point(f64::from(s), 0.0));
        }
        assert!(k.m.leaf().is_none());
        for s in 0..63 {
            k.del(s);
        }
        assert!(k.m.leaf().is_none());
        k.del(100);
        k.set(7, point(f64::NAN, 1.0));
        assert_eq!(k.order(), [7]);
    }
}
