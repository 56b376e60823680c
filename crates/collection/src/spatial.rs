//! The spatial index of a collection: an `rstar` R-tree whose entries are
//! distinct bounding boxes, each holding the ids of every object with exactly
//! that box. Objects sharing a position (a depot, a default coordinate) then
//! cost one tree entry, and removing one of them stays O(log n): an R-tree
//! cannot tell equal boxes apart, so with one entry per object a removal
//! scans every duplicate.

use std::collections::BTreeSet;

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rstar::{ParentNode, RTree, RTreeNode, RTreeObject, AABB};

use crate::id::Id;

/// Envelope type of the index (x = longitude, y = latitude).
pub type Envelope = AABB<[f64; 2]>;

/// The ids sharing one bounding box.
#[derive(Clone, Debug)]
pub enum Ids {
    One(Id),
    Many(BTreeSet<Id>),
}

impl Ids {
    pub fn iter(&self) -> Box<dyn Iterator<Item = &Id> + '_> {
        match self {
            Ids::One(id) => Box::new(std::iter::once(id)),
            Ids::Many(set) => Box::new(set.iter()),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Ids::One(_) => 1,
            Ids::Many(set) => set.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One tree entry: a distinct bounding box and its ids.
#[derive(Clone, Debug)]
pub struct Bucket {
    pub envelope: Envelope,
    pub ids: Ids,
}

/// Entries are unique per envelope, so equality is envelope equality.
impl PartialEq for Bucket {
    fn eq(&self, other: &Self) -> bool {
        self.envelope == other.envelope
    }
}

impl RTreeObject for Bucket {
    type Envelope = Envelope;
    fn envelope(&self) -> Envelope {
        self.envelope
    }
}

#[derive(Default)]
pub struct SpatialIndex {
    tree: RTree<Bucket>,
    ids: usize,
}

impl SpatialIndex {
    /// Number of indexed ids.
    pub fn len(&self) -> usize {
        self.ids
    }

    pub fn is_empty(&self) -> bool {
        self.ids == 0
    }

    fn bucket_mut(&mut self, envelope: Envelope) -> Option<&mut Bucket> {
        self.tree
            .locate_in_envelope_mut(envelope)
            .find(|b| b.envelope == envelope)
    }

    pub fn insert(&mut self, envelope: Envelope, id: Id) {
        self.ids += 1;
        if let Some(b) = self.bucket_mut(envelope) {
            match &mut b.ids {
                Ids::One(first) => {
                    let first = first.clone();
                    b.ids = Ids::Many(BTreeSet::from([first, id]));
                }
                Ids::Many(set) => {
                    set.insert(id);
                }
            }
            return;
        }
        self.tree.insert(Bucket {
            envelope,
            ids: Ids::One(id),
        });
    }

    pub fn remove(&mut self, envelope: Envelope, id: &[u8]) {
        let Some(b) = self.bucket_mut(envelope) else {
            return;
        };
        let removed = match &mut b.ids {
            Ids::One(only) if only.as_bytes() == id => {
                self.tree.remove(&Bucket {
                    envelope,
                    ids: Ids::Many(BTreeSet::new()),
                });
                true
            }
            Ids::One(_) => false,
            Ids::Many(set) => {
                let removed = set.remove(id);
                if set.len() == 1 {
                    let last = set.iter().next().cloned().expect("one left");
                    b.ids = Ids::One(last);
                }
                removed
            }
        };
        if removed {
            self.ids -= 1;
        }
    }

    /// Bounding box of everything indexed.
    pub fn bounds(&self) -> Option<Envelope> {
        (self.ids > 0).then(|| self.tree.root().envelope())
    }

    /// Ids whose box intersects `envelope`.
    pub fn intersecting(&self, envelope: Envelope) -> impl Iterator<Item = &Id> {
        self.tree
            .locate_in_envelope_intersecting(envelope)
            .flat_map(|b| b.ids.iter())
    }

    /// Buckets in ascending `dist` order (best-first search): `dist` must not
    /// decrease from a node's envelope to the envelopes inside it.
    pub fn nearest_by<F: Fn(&Envelope) -> f64>(&self, dist: F) -> Nearest<'_, F> {
        let mut heap = BinaryHeap::new();
        if self.ids > 0 {
            let root = self.tree.root();
            heap.push(Entry {
                dist: dist(&root.envelope()),
                node: Node::Parent(root),
            });
        }
        Nearest { heap, dist }
    }

    /// The underlying tree (for nearest-neighbour and custom searches).
    pub fn tree(&self) -> &RTree<Bucket> {
        &self.tree
    }
}

enum Node<'a> {
    Parent(&'a ParentNode<Bucket>),
    Leaf(&'a Bucket),
}

struct Entry<'a> {
    dist: f64,
    node: Node<'a>,
}

impl PartialEq for Entry<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.dist.total_cmp(&other.dist) == Ordering::Equal
    }
}
impl Eq for Entry<'_> {}
impl PartialOrd for Entry<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry<'_> {
    // Reversed: BinaryHeap is a max-heap, we pop the smallest distance.
    fn cmp(&self, other: &Self) -> Ordering {
        other.dist.total_cmp(&self.dist)
    }
}

/// Iterator of [`SpatialIndex::nearest_by`]: `(distance, bucket)`.
pub struct Nearest<'a, F> {
    heap: BinaryHeap<Entry<'a>>,
    dist: F,
}

impl<'a, F: Fn(&Envelope) -> f64> Iterator for Nearest<'a, F> {
    type Item = (f64, &'a Bucket);

    fn next(&mut self) -> Option<Self::Item> {
        while let Some(Entry { dist, node }) = self.heap.pop() {
            match node {
                Node::Leaf(b) => return Some((dist, b)),
                Node::Parent(p) => {
                    for child in p.children() {
                        let entry = match child {
                            RTreeNode::Leaf(b) => Entry {
                                dist: (self.dist)(&b.envelope),
                                node: Node::Leaf(b),
                            },
                            RTreeNode::Parent(q) => Entry {
                                dist: (self.dist)(&q.envelope()),
                                node: Node::Parent(q),
                            },
                        };
                        self.heap.push(entry);
                    }
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_boxes_share_an_entry() {
        let mut s = SpatialIndex::default();
        let p = AABB::from_point([1.0, 2.0]);
        for i in 0..1000 {
            s.insert(p, Id::new(format!("id{i}").as_bytes()));
        }
        s.insert(AABB::from_point([5.0, 5.0]), Id::new(b"far"));
        assert_eq!((s.len(), s.tree().size()), (1001, 2));
        s.remove(p, b"id7");
        s.remove(p, b"missing");
        assert_eq!(s.len(), 1000);
        assert_eq!(s.intersecting(p).count(), 999);
        for i in 0..1000 {
            s.remove(p, format!("id{i}").as_bytes());
        }
        assert_eq!((s.len(), s.tree().size()), (1, 1));
        let near: Vec<_> = s
            .nearest_by(|e| e.distance_2(&[0.0, 0.0]))
            .map(|(d, b)| (d, b.ids.len()))
            .collect();
        assert_eq!(near, vec![(50.0, 1)]);
        let b = s.bounds().unwrap();
        assert_eq!((b.lower(), b.upper()), ([5.0, 5.0], [5.0, 5.0]));
    }
}
