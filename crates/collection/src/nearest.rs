//! Best-first nearest-neighbour search over the spatial index: R-tree
//! nodes, then pages, then page entries, in ascending distance.
//!
//! Node, page and entry boxes are `f32` rounded outward, and they are
//! ordered by the caller's `bound`, which may be a cheap lower bound of the
//! exact distance (it must not exceed the exact distance of anything inside
//! the box). An entry reached with such a bound gets its exact distance,
//! `exact_dist` of the object's `f64` box (NEARBY prints distances to 17
//! digits), and is reported once nothing left can be nearer.
//!
//! Why hand-written rather than `rstar`'s `nearest_neighbor_iter`: the
//! tree's leaves are our pages, not objects, and a heap of every node met
//! was the cost. Profiled (NEARBY over 100k points), the walk pushed each
//! child of a node it opened (about 130 a query for LIMIT 1) and popped,
//! pushed again (with its exact distance) and popped each entry it
//! reached. Here what one node opens (its children, a page's quarters, a
//! quarter's entries) is a *run*, sorted by key in a buffer of its own,
//! and the heap holds one head per run: taking the nearest thing left
//! re-keys its run's head in place (one sift-down), and an entry whose
//! exact distance is not yet the smallest goes back into its run, in
//! order, not into the heap. The objects of a run are prefetched when it
//! is made: their exact boxes are cache misses, which then overlap.
//! Measured in `benches/README.md` ("Issue 18: third session
//! (in-process)").

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rstar::{ParentNode, RTreeNode};
use tile38_geo::Rect;

use crate::page::Bbox;
use crate::page::NO_PAGE;
use crate::spatial::SpatialIndex;
use crate::store::Store;
use crate::tree::PageRef;
use crate::{Id, Item};

mod scratch;

#[derive(Clone, Copy)]
enum Node<'a> {
    Parent(&'a ParentNode<PageRef>),
    Page(u32),
    /// A quarter of a page: `len` entries of `quarters` from `start`.
    Quarter {
        start: u32,
        len: u32,
    },
    /// An object (slot) under a lower bound of its distance.
    Bound(u32),
    /// An object under its exact distance.
    Exact(u32),
}

/// A node of a run under its key.
#[derive(Clone, Copy)]
struct Keyed<'a> {
    key: f64,
    node: Node<'a>,
}

/// The head of a run: `runs[start..end]` in ascending key, `key` that of
/// `runs[start]`.
#[derive(Clone, Copy)]
struct Head {
    key: f64,
    start: u32,
    end: u32,
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.key.total_cmp(&other.key) == Ordering::Equal
    }
}
impl Eq for Head {}
impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Head {
    // Reversed: BinaryHeap is a max-heap, we take the smallest key.
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.total_cmp(&self.key)
    }
}

/// Iterator of `(exact distance, slot)`, nearest first.
pub struct Nearest<'a, D, X, E, P> {
    index: &'a SpatialIndex,
    heap: BinaryHeap<Head>,
    runs: Vec<Keyed<'a>>,
    /// Where the run being built starts in `runs`.
    building: usize,
    /// How many nodes of `runs` are still queued (the rest were taken).
    live: usize,
    /// Lower bound of the distance to anything in a box.
    dist: D,
    /// Exact distance to an object's box.
    exact_dist: X,
    /// Exact box of an object (by slot).
    exact: E,
    /// Brings an object towards the cache: its exact box will be read if
    /// its entry's run is reached.
    prefetch: P,
    /// Entries of expanded pages, by quarter.
    quarters: Vec<(Bbox, u32)>,
    /// The walk ends once everything left is farther than this.
    cutoff: f64,
}

/// Pages of more entries than this are expanded by quarters.
const QUARTER_FROM: usize = 8;

/// `runs` is compacted once it is longer than this and than four times
/// what is still queued in it.
const COMPACT_FROM: usize = 1024;

impl<'a, D, X, E, P> Nearest<'a, D, X, E, P>
where
    D: Fn(&Rect) -> f64,
    X: Fn(&Rect) -> f64,
    E: Fn(u32) -> Rect,
    P: Fn(u32),
{
    pub fn new(index: &'a SpatialIndex, dist: D, exact_dist: X, exact: E, prefetch: P) -> Self {
        let scratch::Buffers {
            heap,
            runs,
            quarters,
        } = scratch::take();
        let mut walk = Nearest {
            index,
            heap,
            runs,
            building: 0,
            live: 0,
            dist,
            exact_dist,
            exact,
            prefetch,
            quarters,
            cutoff: f64::INFINITY,
        };
        // Both trees' roots open the walk: shared pages and wide ones.
        for tree in index.tree.trees().into_iter().filter(|t| t.size() > 0) {
            let root = tree.root();
            walk.add(&Bbox::from_aabb(&root.envelope()), Node::Parent(root));
        }
        walk.close_run();
        walk
    }

    /// Ends the walk at the first box or object whose distance (bound)
    /// exceeds `cutoff`: a search with a radius then never goes on to find
    /// the nearest object beyond it, which can be far away.
    pub fn with_cutoff(mut self, cutoff: f64) -> Self {
        self.cutoff = cutoff;
        self
    }

    /// Adds a node under its box's bound to the run being built.
    fn add(&mut self, b: &Bbox, node: Node<'a>) {
        let key = (self.dist)(&b.rect());
        self.add_keyed(key, node);
    }

    /// Adds a node to the run being built (from `self.building` to the
    /// end), in order: a run is what one node opens, a few dozen at most.
    fn add_keyed(&mut self, key: f64, node: Node<'a>) {
        self.runs.push(Keyed { key, node });
        let mut i = self.runs.len() - 1;
        while i > self.building && self.runs[i - 1].key.total_cmp(&key).is_gt() {
            self.runs.swap(i - 1, i);
            i -= 1;
        }
    }

    /// Queues the run being built, if not empty, and starts the next.
    fn close_run(&mut self) {
        let (start, end) = (self.building, self.runs.len());
        if end > start {
            self.live += end - start;
            self.heap.push(Head {
                key: self.runs[start].key,
                start: start as u32,
                end: end as u32,
            });
        }
        self.building = end;
        if end > COMPACT_FROM && end > 4 * self.live {
            self.compact();
        }
    }

    /// Drops the nodes already taken from `runs`, and the entries of
    /// quarters already opened: a long walk (NEARBY … COUNT over millions
    /// of objects) would otherwise keep everything it ever opened. The
    /// heap's order is by key, which does not change.
    fn compact(&mut self) {
        let mut runs = Vec::with_capacity(2 * self.live);
        let heads = std::mem::take(&mut self.heap).into_vec();
        let heads: Vec<Head> = heads
            .into_iter()
            .map(|h| {
                let start = runs.len() as u32;
                runs.extend_from_slice(&self.runs[h.start as usize..h.end as usize]);
                Head {
                    key: h.key,
                    start,
                    end: runs.len() as u32,
                }
            })
            .collect();
        // The quarters still queued, likewise.
        let mut quarters = Vec::with_capacity(self.quarters.len().min(4 * runs.len()));
        for k in &mut runs {
            if let Node::Quarter { start, len } = &mut k.node {
                let at = quarters.len() as u32;
                quarters
                    .extend_from_slice(&self.quarters[*start as usize..(*start + *len) as usize]);
                *start = at;
            }
        }
        self.heap = BinaryHeap::from(heads);
        self.runs = runs;
        self.quarters = quarters;
        self.building = self.runs.len();
    }

    /// Opens a node into a run of its own: a parent's children, a page's
    /// entries (by quarters if it is large), a quarter's entries.
    fn open(&mut self, key: f64, node: Node<'a>) {
        match node {
            Node::Parent(parent) => {
                for child in parent.children() {
                    match child {
                        RTreeNode::Leaf(r) => {
                            self.add(&Bbox::from_aabb(&r.bbox), Node::Page(r.page))
                        }
                        RTreeNode::Parent(q) => {
                            self.add(&Bbox::from_aabb(&q.envelope()), Node::Parent(q))
                        }
                    }
                }
            }
            Node::Page(p) => {
                // The rest of its group (same box) when this is reached
                // again: a crowd is read a page at a time.
                let next = self.index.tree.pages.get(p).next;
                if next != NO_PAGE {
                    self.add_keyed(key, Node::Page(next));
                }
                self.expand(p);
            }
            Node::Quarter { start, len } => {
                for i in start..start + len {
                    let (b, slot) = self.quarters[i as usize];
                    (self.prefetch)(slot);
                    self.add(&b, Node::Bound(slot));
                }
            }
            Node::Bound(_) | Node::Exact(_) => unreachable!("objects are not opened"),
        }
        self.close_run();
    }

    /// Adds a page's entries to the run being built. Distances are the
    /// costly part of a search (haversine), and most entries of a page
    /// never matter: a larger page is cut into quarters around its centre,
    /// each under its box, so only the entries of the quarters reached are
    /// measured.
    fn expand(&mut self, p: u32) {
        let page = self.index.tree.pages.get(p);
        if page.len() <= QUARTER_FROM {
            for (b, slot) in page.entries() {
                (self.prefetch)(slot);
                self.add(&b, Node::Bound(slot));
            }
            return;
        }
        let c = page.bbox.center();
        let quarter = |b: &Bbox| {
            let m = b.center();
            usize::from(m[0] > c[0]) + 2 * usize::from(m[1] > c[1])
        };
        let base = self.quarters.len();
        let mut end = [0usize; 4];
        for (b, _) in page.entries() {
            end[quarter(&b)] += 1;
        }
        for q in 1..4 {
            end[q] += end[q - 1];
        }
        let mut at = [0, end[0], end[1], end[2]];
        let filler = (page.bbox, 0);
        self.quarters.resize(base + page.len(), filler);
        let mut boxes: [Option<Bbox>; 4] = [None; 4];
        for (b, slot) in page.entries() {
            let q = quarter(&b);
            self.quarters[base + at[q]] = (b, slot);
            at[q] += 1;
            boxes[q] = Some(boxes[q].map_or(b, |u| u.union(&b)));
        }
        for q in 0..4 {
            if let Some(b) = boxes[q] {
                let start = if q == 0 { 0 } else { end[q - 1] };
                let node = Node::Quarter {
                    start: (base + start) as u32,
                    len: (end[q] - start) as u32,
                };
                self.add(&b, node);
            }
        }
    }

    /// A lower bound of the distance of the next object the walk reports
    /// (infinity when nothing is queued): the smallest key queued, as
    /// every key is a lower bound of what its node holds.
    pub fn next_bound(&self) -> f64 {
        self.heap.peek().map_or(f64::INFINITY, |h| h.key)
    }

    /// The smallest key in the heap after its top.
    fn second(&self) -> f64 {
        let s = self.heap.as_slice();
        let key = |i: usize| s.get(i).map_or(f64::INFINITY, |h| h.key);
        let (a, b) = (key(1), key(2));
        if a.total_cmp(&b).is_le() {
            a
        } else {
            b
        }
    }

    /// Takes the first node of the top run out of it: the run's head moves
    /// on (re-keyed in place) or the run is done.
    fn advance(&mut self, head: Head) {
        self.live -= 1;
        let start = head.start + 1;
        if start < head.end {
            let mut top = self.heap.peek_mut().expect("top run");
            *top = Head {
                key: self.runs[start as usize].key,
                start,
                end: head.end,
            };
        } else {
            self.heap.pop();
        }
    }

    /// The first object of the top run, under a bound: its exact distance
    /// if that is the smallest key left, else it goes back into its run
    /// under that distance, in order.
    fn measure(&mut self, head: Head, slot: u32) -> Option<f64> {
        let d = (self.exact_dist)(&(self.exact)(slot));
        let (start, end) = (head.start as usize, head.end as usize);
        let in_run = if start + 1 < end {
            self.runs[start + 1].key
        } else {
            f64::INFINITY
        };
        if d.total_cmp(&in_run).is_le() && d.total_cmp(&self.second()).is_le() {
            self.advance(head);
            return Some(d);
        }
        let mut i = start;
        while i + 1 < end && self.runs[i + 1].key.total_cmp(&d).is_lt() {
            self.runs[i] = self.runs[i + 1];
            i += 1;
        }
        self.runs[i] = Keyed {
            key: d,
            node: Node::Exact(slot),
        };
        let mut top = self.heap.peek_mut().expect("top run");
        top.key = self.runs[start].key;
        None
    }
}

impl<D, X, E, P> Drop for Nearest<'_, D, X, E, P> {
    fn drop(&mut self) {
        scratch::give_back(scratch::Buffers {
            heap: std::mem::take(&mut self.heap),
            runs: std::mem::take(&mut self.runs),
            quarters: std::mem::take(&mut self.quarters),
        });
    }
}

impl<D, X, E, P> Iterator for Nearest<'_, D, X, E, P>
where
    D: Fn(&Rect) -> f64,
    X: Fn(&Rect) -> f64,
    E: Fn(u32) -> Rect,
    P: Fn(u32),
{
    type Item = (f64, u32);

    fn next(&mut self) -> Option<(f64, u32)> {
        while let Some(&head) = self.heap.peek() {
            if head.key > self.cutoff {
                self.heap.clear();
                return None;
            }
            let Keyed { key, node } = self.runs[head.start as usize];
            match node {
                Node::Exact(slot) => {
                    self.advance(head);
                    return Some((key, slot));
                }
                Node::Bound(slot) => match self.measure(head, slot) {
                    // Beyond the cutoff: dropped (NaN is not beyond).
                    Some(d) if d > self.cutoff => {}
                    Some(d) => return Some((d, slot)),
                    None => {}
                },
                _ => {
                    self.advance(head);
                    self.open(key, node);
                }
            }
        }
        None
    }
}

/// A nearest-first walk that can tell, without taking it, a lower bound
/// of the distance of what it reports next: a caller that needs to know
/// whether the next object ties with the last (NEARBY's newest-first ties)
/// then measures nothing more when the bound already rules a tie out.
pub trait Walk: Iterator {
    /// Never above the distance of the next item (infinity at the end).
    fn next_bound(&self) -> f64;
}

/// [`crate::Collection::nearest_bounded`]'s walk, by object.
pub(crate) struct Objects<'a, W> {
    walk: W,
    store: &'a Store,
}

impl<'a, W> Objects<'a, W> {
    pub(crate) fn new(walk: W, store: &'a Store) -> Self {
        Objects { walk, store }
    }
}

impl<'a, D, X, E, P> Iterator for Objects<'a, Nearest<'a, D, X, E, P>>
where
    D: Fn(&Rect) -> f64,
    X: Fn(&Rect) -> f64,
    E: Fn(u32) -> Rect,
    P: Fn(u32),
{
    type Item = (f64, &'a Id, &'a Item);

    fn next(&mut self) -> Option<Self::Item> {
        let (d, s) = self.walk.next()?;
        let e = self.store.get(s);
        Some((d, &e.id, &e.item))
    }
}

impl<'a, D, X, E, P> Walk for Objects<'a, Nearest<'a, D, X, E, P>>
where
    D: Fn(&Rect) -> f64,
    X: Fn(&Rect) -> f64,
    E: Fn(u32) -> Rect,
    P: Fn(u32),
{
    fn next_bound(&self) -> f64 {
        self.walk.next_bound()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spatial::{PageOf, SpatialIndex};

    struct Nowhere;
    impl PageOf for Nowhere {
        fn page_of(&self, _: u32) -> Option<u32> {
            None
        }
        fn set_page_of(&mut self, _: u32, _: Option<u32>) {}
    }

    /// A full walk over 20k objects compacts its runs and still reports
    /// every object once, in order.
    #[test]
    fn long_walk_compacts_runs() {
        let n = 20_000u32;
        let at = |s: u32| [f64::from(s % 150), f64::from(s / 150)];
        let entries = (0..n).map(|s| (Bbox::outward(at(s), at(s)), s)).collect();
        let index = SpatialIndex::pack(entries).record(&mut Nowhere);
        let dist = |r: &Rect| r.min.x.hypot(r.min.y);
        let exact = |s: u32| {
            let [x, y] = at(s);
            Rect::new(
                tile38_geo::Position::new(x, y),
                tile38_geo::Position::new(x, y),
            )
        };
        let mut walk = Nearest::new(&index, dist, dist, exact, |_| {});
        let mut seen = vec![false; n as usize];
        let mut last = 0.0;
        let mut longest = 0;
        while let Some((d, s)) = walk.next() {
            assert!(d >= last && !seen[s as usize]);
            (last, seen[s as usize]) = (d, true);
            longest = longest.max(walk.runs.len()).max(walk.quarters.len());
        }
        assert!(seen.iter().all(|&s| s));
        assert!(longest < n as usize / 2, "runs or quarters kept {longest}");
    }
}
