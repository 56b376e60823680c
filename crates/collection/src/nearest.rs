//! Best-first nearest-neighbour search over the spatial index: R-tree
//! nodes, then pages, then page entries, in ascending distance.
//!
//! Node, page and entry boxes are `f32` rounded outward, and they are
//! ordered by the caller's `bound`, which may be a cheap lower bound of the
//! exact distance (it must not exceed the exact distance of anything inside
//! the box). An entry popped with such a bound gets its exact distance,
//! `exact_dist` of the object's `f64` box (NEARBY prints distances to 17
//! digits), and is reported once nothing left in the queue can be nearer.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rstar::{ParentNode, RTreeNode};
use tile38_geo::Rect;

use crate::page::Bbox;
use crate::page::NO_PAGE;
use crate::spatial::SpatialIndex;
use crate::tree::PageRef;

enum Node<'a> {
    Parent(&'a ParentNode<PageRef>),
    Page(u32),
    /// A quarter of a page: `len` entries of `quarters` from `start`.
    Quarter {
        start: u32,
        len: u32,
    },
    /// An object (slot) with a lower bound of its distance.
    Bound(u32),
    /// An object with its exact distance.
    Exact(u32),
}

struct Queued<'a> {
    dist: f64,
    node: Node<'a>,
}

impl PartialEq for Queued<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.dist.total_cmp(&other.dist) == Ordering::Equal
    }
}
impl Eq for Queued<'_> {}
impl PartialOrd for Queued<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Queued<'_> {
    // Reversed: BinaryHeap is a max-heap, we pop the smallest distance.
    fn cmp(&self, other: &Self) -> Ordering {
        other.dist.total_cmp(&self.dist)
    }
}

/// Iterator of `(exact distance, slot)`, nearest first.
pub struct Nearest<'a, D, X, E> {
    index: &'a SpatialIndex,
    heap: BinaryHeap<Queued<'a>>,
    /// Lower bound of the distance to anything in a box.
    dist: D,
    /// Exact distance to an object's box.
    exact_dist: X,
    /// Exact box of an object (by slot).
    exact: E,
    /// Entries of expanded pages, by quarter.
    quarters: Vec<(Bbox, u32)>,
    /// The walk ends once everything left is farther than this.
    cutoff: f64,
}

/// Pages of more entries than this are expanded by quarters.
const QUARTER_FROM: usize = 8;

impl<'a, D: Fn(&Rect) -> f64, X: Fn(&Rect) -> f64, E: Fn(u32) -> Rect> Nearest<'a, D, X, E> {
    pub fn new(index: &'a SpatialIndex, dist: D, exact_dist: X, exact: E) -> Self {
        let mut heap = BinaryHeap::new();
        if !index.is_empty() {
            let root = index.tree.rtree.root();
            heap.push(Queued {
                dist: dist(&Bbox::from_aabb(&root.envelope()).rect()),
                node: Node::Parent(root),
            });
        }
        Nearest {
            index,
            heap,
            dist,
            exact_dist,
            exact,
            quarters: Vec::new(),
            cutoff: f64::INFINITY,
        }
    }

    /// Ends the walk at the first box or object whose distance (bound)
    /// exceeds `cutoff`: a search with a radius then never goes on to find
    /// the nearest object beyond it, which can be far away.
    pub fn with_cutoff(mut self, cutoff: f64) -> Self {
        self.cutoff = cutoff;
        self
    }

    /// Queues a page's entries. Distances are the costly part of a search
    /// (haversine), and most entries of a page never matter: a larger page
    /// is cut into quarters around its centre, each queued under its box,
    /// so only the entries of the quarters reached are measured.
    fn expand(&mut self, p: u32) {
        let page = self.index.tree.pages.get(p);
        if page.len() <= QUARTER_FROM {
            for (b, slot) in page.entries() {
                self.push(&b, Node::Bound(slot));
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
                self.push(&b, node);
            }
        }
    }

    fn push(&mut self, b: &Bbox, node: Node<'a>) {
        let dist = (self.dist)(&b.rect());
        self.heap.push(Queued { dist, node });
    }
}

impl<D: Fn(&Rect) -> f64, X: Fn(&Rect) -> f64, E: Fn(u32) -> Rect> Iterator
    for Nearest<'_, D, X, E>
{
    type Item = (f64, u32);

    fn next(&mut self) -> Option<(f64, u32)> {
        while let Some(Queued { dist, node }) = self.heap.pop() {
            if dist > self.cutoff {
                self.heap.clear();
                return None;
            }
            match node {
                Node::Exact(slot) => return Some((dist, slot)),
                Node::Bound(slot) => {
                    let d = (self.exact_dist)(&(self.exact)(slot));
                    if d > self.cutoff {
                        continue;
                    }
                    if self.heap.peek().is_none_or(|next| d <= next.dist) {
                        return Some((d, slot));
                    }
                    self.heap.push(Queued {
                        dist: d,
                        node: Node::Exact(slot),
                    });
                }
                Node::Quarter { start, len } => {
                    let (start, len) = (start as usize, len as usize);
                    for i in start..start + len {
                        let (b, slot) = self.quarters[i];
                        self.push(&b, Node::Bound(slot));
                    }
                }
                Node::Page(p) => {
                    self.expand(p);
                    // The rest of its group (same box) when this is reached
                    // again: a crowd is read a page at a time.
                    let page = self.index.tree.pages.get(p);
                    if page.next != NO_PAGE {
                        self.heap.push(Queued {
                            dist,
                            node: Node::Page(page.next),
                        });
                    }
                }
                Node::Parent(parent) => {
                    for child in parent.children() {
                        match child {
                            RTreeNode::Leaf(r) => {
                                self.push(&Bbox::from_aabb(&r.bbox), Node::Page(r.page))
                            }
                            RTreeNode::Parent(q) => {
                                self.push(&Bbox::from_aabb(&q.envelope()), Node::Parent(q))
                            }
                        }
                    }
                }
            }
        }
        None
    }
}
