//! The order NEARBY returns objects in, as Tile38 1.37's kNN (tidwall/rtree's
//! `Nearby`: a binary heap of index nodes and objects keyed by distance)
//! produces it.
//!
//! While a collection holds at most 64 spatial objects, Tile38's R-tree
//! is one leaf (objects sorted by west edge, newest first among equals,
//! as [`leaf_order`] has them): every object is pushed
//! onto the heap in that order and popped with Go's sift rules, which
//! [`small_tree`] replays exactly, ties and NaN distances included. Bigger
//! collections come from our own index walk, nearest first, with ties
//! newest first ([`NewestFirstTies`]) and inverted BOUNDS measured as
//! given ([`AsGiven`]).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use tile38_collection::{Collection, Id, Item, Walk};
use tile38_geo::{Position, Rect, Value};

use super::geodetic::{point_rect_distance, FromPoint};
use super::results::Hit;

/// Tile38's float32 rounding of box edges (`rtreeValueDown`/`Up`).
pub use tile38_collection::leaf::{f32_down, f32_up};

/// Objects in the order of Tile38's one-leaf R-tree: each write inserts
/// its object before the first one whose west edge (as given, rounded down
/// to float32) is not below its own. That is by west edge, newest first
/// among equals; a NaN edge compares false both ways, so such an object
/// stays where the writes put it, as in Go. Replayed in write order.
pub fn leaf_order<'a>(found: impl Iterator<Item = (&'a Id, &'a Item)>) -> Vec<(&'a Id, &'a Item)> {
    // Keys computed once per object, not per comparison.
    let mut all: Vec<_> = found
        .map(|(id, item)| (f32_down(item.value.bbox().min.x), id, item))
        .collect();
    all.sort_by_key(|(_, _, item)| item.seq);
    if all.iter().all(|(k, _, _)| !k.is_nan()) {
        // Without NaN the replay is a stable sort, newest first on ties.
        all.sort_by(|(ka, _, a), (kb, _, b)| ka.total_cmp(kb).then(b.seq.cmp(&a.seq)));
        return all.into_iter().map(|(_, id, item)| (id, item)).collect();
    }
    let mut leaf: Vec<(f32, &'a Id, &'a Item)> = Vec::with_capacity(all.len());
    for entry in all {
        let at = leaf
            .iter()
            .position(|(k, _, _)| k.partial_cmp(&entry.0) != Some(std::cmp::Ordering::Less))
            .unwrap_or(leaf.len());
        leaf.insert(at, entry);
    }
    leaf.into_iter().map(|(_, id, item)| (id, item)).collect()
}

/// Every spatial object of a one-leaf collection in Tile38's leaf order:
/// the collection's replica of that leaf while it follows it (history
/// included, [`tile38_collection::leaf`]), else a replay of the objects
/// present ([`leaf_order`]). Objects with a NaN side included: Tile38's
/// R-tree holds them.
pub fn leaf_entries(col: &Collection) -> Vec<(&Id, &Item)> {
    if let Some((leaf, object)) = col.leaf() {
        return leaf.entries.iter().map(|&(_, slot)| object(slot)).collect();
    }
    let everywhere = Rect::new(
        Position::new(-f64::MAX, -f64::MAX),
        Position::new(f64::MAX, f64::MAX),
    );
    leaf_order(col.intersecting(everywhere).chain(col.unindexed()))
}

/// `BOUNDS key` of a one-leaf collection as Tile38 computes it: each side
/// from the leftmost/bottommost/rightmost/topmost object of its R-tree (the
/// first in leaf order, replaced only by one strictly beyond it on the
/// float32 side), printed with that object's own side. So sides that round
/// to the same float32 keep the earlier object's, and a NaN side is kept
/// only by an object that comes first.
pub fn leaf_bounds(col: &Collection) -> Option<Rect> {
    let leaf = leaf_entries(col);
    let (first, rest) = leaf.split_first()?;
    let mut best = [first.1.value.bbox(); 4];
    for (_, item) in rest {
        let r = item.value.bbox();
        if f32_down(r.min.x) < f32_down(best[0].min.x) {
            best[0] = r;
        }
        if f32_down(r.min.y) < f32_down(best[1].min.y) {
            best[1] = r;
        }
        if f32_up(r.max.x) > f32_up(best[2].max.x) {
            best[2] = r;
        }
        if f32_up(r.max.y) > f32_up(best[3].max.y) {
            best[3] = r;
        }
    }
    Some(Rect::new(
        Position::new(best[0].min.x, best[1].min.y),
        Position::new(best[2].max.x, best[3].max.y),
    ))
}

/// Every object of a one-leaf collection in Tile38's kNN order, each with
/// its distance (to its box as given).
pub fn small_tree<'a>(col: &'a Collection, qlat: f64, qlon: f64) -> GoHeap<'a> {
    let mut heap = GoHeap(Vec::new());
    let from = FromPoint::new(qlat, qlon);
    for (id, item) in leaf_entries(col) {
        let dist = from.to_rect(&item.value.bbox());
        heap.push(Hit {
            id: id.as_bytes(),
            item,
            dist,
        });
    }
    heap
}

/// tidwall/rtree's `queue`: a binary heap on `dist` whose sift rules
/// (`>` up, `<=` down, left before right) decide the order of ties.
pub struct GoHeap<'a>(Vec<Hit<'a>>);

impl<'a> GoHeap<'a> {
    fn push(&mut self, hit: Hit<'a>) {
        let nodes = &mut self.0;
        nodes.push(hit);
        let mut i = nodes.len() - 1;
        // Go's `nodes[parent].dist > nodes[i].dist`: false for NaN.
        while i != 0 {
            let parent = (i - 1) / 2;
            if nodes[parent].dist.partial_cmp(&nodes[i].dist) != Some(Ordering::Greater) {
                break;
            }
            nodes.swap(parent, i);
            i = parent;
        }
    }
}

impl<'a> Iterator for GoHeap<'a> {
    type Item = Hit<'a>;

    fn next(&mut self) -> Option<Hit<'a>> {
        let nodes = &mut self.0;
        if nodes.is_empty() {
            return None;
        }
        let top = nodes.swap_remove(0);
        let mut i = 0;
        loop {
            let (left, right) = (2 * i + 1, 2 * i + 2);
            let mut smallest = i;
            if left < nodes.len() && nodes[left].dist <= nodes[smallest].dist {
                smallest = left;
            }
            if right < nodes.len() && nodes[right].dist <= nodes[smallest].dist {
                smallest = right;
            }
            if smallest == i {
                break;
            }
            nodes.swap(smallest, i);
            i = smallest;
        }
        Some(top)
    }
}

/// Measures objects stored as inverted BOUNDS (`SET … BOUNDS` with the
/// south above the north or the west east of the east) on the box as
/// given, as Tile38 does, and keeps the distance order: the index orders
/// them by their normalised box, which is never farther, so each is held
/// back until nothing nearer can follow.
pub struct AsGiven<'a, I: Walk<Item = Hit<'a>>> {
    inner: I,
    /// The inner walk's next hit, once looked at.
    peeked: Option<Hit<'a>>,
    held: BinaryHeap<Held<'a>>,
    n: u64,
    qlat: f64,
    qlon: f64,
}

/// A held hit, ordered nearest first, then as it arrived.
struct Held<'a>(Hit<'a>, u64);

impl PartialEq for Held<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Held<'_> {}
impl PartialOrd for Held<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Held<'_> {
    // Reversed: BinaryHeap pops the greatest.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.0.dist.total_cmp(&self.0.dist)).then(other.1.cmp(&self.1))
    }
}

impl<'a, I: Walk<Item = Hit<'a>>> AsGiven<'a, I> {
    pub fn new(inner: I, qlat: f64, qlon: f64) -> Self {
        AsGiven {
            inner,
            peeked: None,
            held: BinaryHeap::new(),
            n: 0,
            qlat,
            qlon,
        }
    }
}

impl<'a, I: Walk<Item = Hit<'a>>> Iterator for AsGiven<'a, I> {
    type Item = Hit<'a>;

    fn next(&mut self) -> Option<Hit<'a>> {
        loop {
            // Nothing held: a hit measured as given (every one but an
            // inverted box) is the nearest left, as the walk is in order
            // and a box as given is never nearer than normalised.
            if self.held.is_empty() {
                let mut hit = self.peeked.take().or_else(|| self.inner.next())?;
                if !self.as_given(&mut hit) {
                    return Some(hit);
                }
                self.n += 1;
                self.held.push(Held(hit, self.n));
                continue;
            }
            if self.peeked.is_none() {
                self.peeked = self.inner.next();
            }
            let next = self.peeked.as_ref().map(|h| h.dist);
            if let Some(top) = self.held.peek() {
                if next.is_none_or(|d| top.0.dist <= d) {
                    return self.held.pop().map(|h| h.0);
                }
            }
            let mut hit = self.peeked.take()?;
            self.as_given(&mut hit);
            self.n += 1;
            self.held.push(Held(hit, self.n));
        }
    }
}

impl<'a, I: Walk<Item = Hit<'a>>> AsGiven<'a, I> {
    /// Measures an inverted box as given; returns whether `hit` is one.
    fn as_given(&self, hit: &mut Hit<'a>) -> bool {
        if let Value::Rect(r) = &hit.item.value {
            if r.min.x > r.max.x || r.min.y > r.max.y {
                hit.dist = point_rect_distance(r, self.qlat, self.qlon);
                return true;
            }
        }
        false
    }
}

impl<'a, I: Walk<Item = Hit<'a>>> Walk for AsGiven<'a, I> {
    /// The nearest of what is held, what was looked at, and the walk's
    /// own bound.
    fn next_bound(&self) -> f64 {
        let next = match &self.peeked {
            Some(h) => h.dist,
            None => self.inner.next_bound(),
        };
        match self.held.peek() {
            Some(top) if top.0.dist < next => top.0.dist,
            _ => next,
        }
    }
}

/// Reorders runs of equal distance newest first, as Tile38's kNN returns
/// them (its queue favours the most recently inserted entry). Whether the
/// next hit ties with the one at hand is known without measuring it when
/// the walk's bound is already farther: a LIMIT 1 then measures one object,
/// not two.
pub struct NewestFirstTies<'a, I: Walk<Item = Hit<'a>>> {
    inner: I,
    peeked: Option<Hit<'a>>,
    run: Vec<Hit<'a>>,
}

impl<'a, I: Walk<Item = Hit<'a>>> NewestFirstTies<'a, I> {
    pub fn new(inner: I) -> Self {
        NewestFirstTies {
            inner,
            peeked: None,
            run: Vec::new(),
        }
    }

    /// The next hit if its distance is `dist`.
    fn next_at(&mut self, dist: f64) -> Option<Hit<'a>> {
        if self.peeked.is_none() {
            self.peeked = self.inner.next();
        }
        self.peeked.take_if(|n| n.dist == dist)
    }
}

impl<'a, I: Walk<Item = Hit<'a>>> Iterator for NewestFirstTies<'a, I> {
    type Item = Hit<'a>;

    fn next(&mut self) -> Option<Hit<'a>> {
        if let Some(h) = self.run.pop() {
            return Some(h);
        }
        let first = self.peeked.take().or_else(|| self.inner.next())?;
        // `>` is false for a NaN distance: such a hit is looked past.
        if self.inner.next_bound() > first.dist {
            return Some(first);
        }
        let dist = first.dist;
        let Some(second) = self.next_at(dist) else {
            return Some(first);
        };
        self.run.push(first);
        self.run.push(second);
        while let Some(h) = self.next_at(dist) {
            self.run.push(h);
        }
        // Popped from the back, so the newest goes last.
        self.run.sort_by_key(|h| h.item.seq);
        self.run.pop()
    }
}

/// A nearest-first walk of a collection as [`Hit`]s, counting the objects
/// it reports (`walked`).
pub struct Hits<'a, W> {
    walk: W,
    walked: &'a std::cell::Cell<usize>,
}

impl<'a, W: Walk<Item = (f64, &'a Id, &'a Item)>> Hits<'a, W> {
    pub fn new(walk: W, walked: &'a std::cell::Cell<usize>) -> Self {
        Hits { walk, walked }
    }
}

impl<'a, W: Walk<Item = (f64, &'a Id, &'a Item)>> Iterator for Hits<'a, W> {
    type Item = Hit<'a>;

    fn next(&mut self) -> Option<Hit<'a>> {
        let (dist, id, item) = self.walk.next()?;
        self.walked.set(self.walked.get() + 1);
        Some(Hit {
            id: id.as_bytes(),
            item,
            dist,
        })
    }
}

impl<'a, W: Walk<Item = (f64, &'a Id, &'a Item)>> Walk for Hits<'a, W> {
    fn next_bound(&self) -> f64 {
        self.walk.next_bound()
    }
}
