//! The pages of the spatial index and the `rstar` R-tree over their boxes,
//! with one tree entry per distinct page box.
//!
//! Why: an R-tree cannot tell equal boxes apart, so removing one of many
//! entries with the same box scans all of them. Objects sharing a position
//! (a depot, a default coordinate: 100 000 trucks at one spot) fill many
//! pages with one box. Such pages form a group, a doubly linked list whose
//! first page (the head) alone is in the tree; leaving or joining a group is
//! O(1) plus one tree search that stops at the one entry with that box.
//! Pages of a group that gain room move to just behind the head, where
//! [`PageTree::choose`] looks for room.
//!
//! A wide object's page of its own (`Page::solo`) is in a second tree
//! ([`PageTree::wide`]), never among the shared pages. In one tree, a few
//! hundred objects 360° wide (LineStrings across the antimeridian, 0.5 % of
//! `pair.py`'s `key:bench`) made the nodes above them as wide as the
//! world: every search and every insert at their latitudes went down
//! those nodes too. Measured on that key with its 753 wide objects
//! deleted (server CPU per request, alternating runs): a moving SET point
//! 3.0 → 2.7 µs, intersects-bounds 1 km 1.4 → 1.2, within-circle 1 km 2.65
//! → 2.25, NEARBY limit 1 8.15 → 5.6. Searches read both trees; inserts
//! only ever choose among shared pages, so they read the first alone.

use rstar::{
    Envelope, ParentNode, PointDistance, RTree, RTreeNode, RTreeObject, SelectionFunction, AABB,
};

use crate::page::{Bbox, Page, NO_PAGE};
use crate::slab::Slab;

mod hint;

/// The R-tree's entry: the head page of a group and the group's box.
#[derive(Clone, Copy, Debug)]
pub struct PageRef {
    pub bbox: AABB<[f32; 2]>,
    pub page: u32,
}

/// Heads are unique: equality (used by `RTree::remove`) is by page.
impl PartialEq for PageRef {
    fn eq(&self, other: &Self) -> bool {
        self.page == other.page
    }
}

impl RTreeObject for PageRef {
    type Envelope = AABB<[f32; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.bbox
    }
}

impl PointDistance for PageRef {
    fn distance_2(&self, point: &[f32; 2]) -> f32 {
        self.bbox.distance_2(point)
    }
}

/// Selects the groups whose box covers a box.
struct Covering(AABB<[f32; 2]>);

impl SelectionFunction<PageRef> for Covering {
    fn should_unpack_parent(&self, envelope: &AABB<[f32; 2]>) -> bool {
        envelope.contains_envelope(&self.0)
    }
    fn should_unpack_leaf(&self, leaf: &PageRef) -> bool {
        leaf.bbox.contains_envelope(&self.0)
    }
}

/// Selects the group whose box is exactly a box (at most one).
struct Exactly(AABB<[f32; 2]>);

impl SelectionFunction<PageRef> for Exactly {
    fn should_unpack_parent(&self, envelope: &AABB<[f32; 2]>) -> bool {
        envelope.contains_envelope(&self.0)
    }
    fn should_unpack_leaf(&self, leaf: &PageRef) -> bool {
        leaf.bbox == self.0
    }
}

/// What a search for a page to put a box in found.
enum Descent {
    /// A covering page with room.
    Room(u32),
    /// Every covering group was seen, none with room: the first full
    /// covering page, if any.
    Whole { full: Option<u32> },
    /// A descent that passed overlapping covering nodes and found no
    /// room on its path: other paths may have some.
    Branched,
}

/// The head of the group nearest to `p` below `node`, if nearer than
/// `best` (distance², head), into `best`: depth first, each node's
/// children nearest first, a child no nearer than the best so far skipped.
///
/// Why not `RTree::nearest_neighbor`: it weighs every child it meets by its
/// min-max distance too, and it cost 2.4 µs a call (a twentieth of a
/// moving SET's server samples for the 7 % of moves that land where no
/// page covers them); descending nearest first finds a near group at once,
/// and its distance prunes nearly all the rest.
fn nearest_head(node: &ParentNode<PageRef>, p: &[f32; 2], best: &mut (f32, Option<u32>)) {
    let children = node.children();
    let visit = |c: &RTreeNode<PageRef>, d: f32, best: &mut (f32, Option<u32>)| match c {
        RTreeNode::Parent(n) => nearest_head(n, p, best),
        RTreeNode::Leaf(r) => *best = (d, Some(r.page)),
    };
    let dist = |c: &RTreeNode<PageRef>| match c {
        RTreeNode::Parent(n) => n.envelope().distance_2(p),
        RTreeNode::Leaf(r) => r.bbox.distance_2(p),
    };
    if children.len() > 16 {
        // Not with rstar's default node size (3 to 6 children).
        for c in children {
            let d = dist(c);
            if best.1.is_none() || d < best.0 {
                visit(c, d, best);
            }
        }
        return;
    }
    // The children by distance (an insertion sort of at most 16).
    let mut order = [(0f32, 0u8); 16];
    for (i, c) in children.iter().enumerate() {
        let d = dist(c);
        let mut j = i;
        while j > 0 && order[j - 1].0 > d {
            order[j] = order[j - 1];
            j -= 1;
        }
        order[j] = (d, i as u8);
    }
    for &(near, i) in &order[..children.len()] {
        // Only a first group is taken at any distance (overflowing boxes).
        if best.1.is_some() && near >= best.0 {
            return;
        }
        visit(&children[usize::from(i)], near, best);
    }
}

/// 256 pages a chunk (about 110 KiB).
pub type Pages = Slab<Page, 8>;

#[derive(Default)]
pub struct PageTree {
    /// The groups of shared pages.
    pub rtree: RTree<PageRef>,
    /// The groups of solo pages (wide objects).
    pub wide: RTree<PageRef>,
    pub pages: Pages,
    /// Where the last descents found room ([`hint`]).
    hint: Option<hint::Hint>,
}

impl PageTree {
    /// The tree of solo pages (`true`) or of shared ones.
    fn tree(&self, solo: bool) -> &RTree<PageRef> {
        if solo {
            &self.wide
        } else {
            &self.rtree
        }
    }

    fn tree_mut(&mut self, solo: bool) -> &mut RTree<PageRef> {
        if solo {
            &mut self.wide
        } else {
            &mut self.rtree
        }
    }

    /// Both trees, shared pages first.
    pub fn trees(&self) -> [&RTree<PageRef>; 2] {
        [&self.rtree, &self.wide]
    }

    /// The head of the group of solo (or shared) pages whose box is `b`.
    fn head(&self, b: &Bbox, solo: bool) -> Option<u32> {
        self.tree(solo)
            .locate_with_selection_function(Exactly(b.aabb()))
            .next()
            .map(|r| r.page)
    }

    /// Puts page `p` (in no group) into its tree (by `Page::solo`, which
    /// must not change while it is linked): into the group of its box
    /// (behind the head), or as a new tree entry.
    pub fn link(&mut self, p: u32) {
        let (b, solo) = (self.pages.get(p).bbox, self.pages.get(p).solo);
        let Some(h) = self.head(&b, solo) else {
            self.tree_mut(solo).insert(PageRef {
                bbox: b.aabb(),
                page: p,
            });
            return;
        };
        let next = self.pages.get(h).next;
        let page = self.pages.get_mut(p);
        (page.prev, page.next) = (h, next);
        if next != NO_PAGE {
            self.pages.get_mut(next).prev = p;
        }
        self.pages.get_mut(h).next = p;
    }

    /// Takes page `p` out of the tree (its group goes on without it).
    pub fn unlink(&mut self, p: u32) {
        let page = self.pages.get_mut(p);
        let (prev, next, bbox, solo) = (page.prev, page.next, page.bbox.aabb(), page.solo);
        (page.prev, page.next) = (NO_PAGE, NO_PAGE);
        if next != NO_PAGE {
            self.pages.get_mut(next).prev = prev;
        }
        if prev != NO_PAGE {
            self.pages.get_mut(prev).next = next;
        } else if next != NO_PAGE {
            // `p` was the head: its successor takes its tree entry.
            let entry = self
                .tree_mut(solo)
                .locate_with_selection_function_mut(Exactly(bbox))
                .next()
                .expect("group head in the tree");
            entry.page = next;
        } else {
            self.tree_mut(solo).remove(&PageRef { bbox, page: p });
        }
    }

    /// Gives page `p` the box `b`.
    pub fn rebox(&mut self, p: u32, b: Bbox) {
        self.unlink(p);
        self.pages.get_mut(p).bbox = b;
        self.link(p);
    }

    /// Gives page `p` its entries' union as its box, `b` (marked tight).
    pub fn rebox_tight(&mut self, p: u32, b: Bbox) {
        self.rebox(p, b);
        self.pages.get_mut(p).loose = false;
    }

    /// Moves page `p` (which just gained room) to just behind its group's
    /// head.
    pub fn promote(&mut self, p: u32) {
        let page = self.pages.get(p);
        if page.prev == NO_PAGE {
            return;
        }
        let Some(h) = self.head(&page.bbox, page.solo) else {
            return;
        };
        if self.pages.get(h).next != p {
            self.unlink(p);
            self.link(p);
        }
    }

    /// The pages of the group headed by `head`.
    pub fn group(&self, head: u32) -> impl Iterator<Item = u32> + '_ {
        std::iter::successors(Some(head), |&p| {
            Some(self.pages.get(p).next).filter(|&n| n != NO_PAGE)
        })
    }

    /// The page to put `b` in: a covering page with room, else a full
    /// covering page, else the head of the nearest group; never a wide
    /// object's page of its own (`Page::solo`). `None`: no page can take it.
    ///
    /// One descent first ([`PageTree::descend`]): it finds a covering page
    /// with room for most moves at the cost of one path. Only when it does
    /// not, and the covering nodes branched on the way (where nodes
    /// overlap), are all the covering groups searched (looking at the first
    /// three pages of each): a descent that met one covering node a level
    /// has seen every covering group already.
    ///
    /// Before the descent, the page a descent last found for the same place
    /// ([`hint`]), if it still covers `b` and has room.
    pub fn choose(&mut self, b: &Bbox) -> Option<u32> {
        if let Some(p) = self.hinted(b) {
            return Some(p);
        }
        let (p, room) = self.search(b);
        if let (Some(p), true, Some(h)) = (p, room, &mut self.hint) {
            h.set(b, p);
        }
        p
    }

    /// [`PageTree::choose`] without the hint: the page, and whether it is
    /// a covering one with room.
    fn search(&self, b: &Bbox) -> (Option<u32>, bool) {
        let ab = b.aabb();
        let found = match self.descend(&ab) {
            Descent::Branched => self.covering(ab),
            seen => seen,
        };
        match found {
            Descent::Room(p) => return (Some(p), true),
            Descent::Whole { full: Some(p) } => return (Some(p), false),
            _ => {}
        }
        // The nearest group rather than the one whose box grows least:
        // least growth made long, overlapping pages (at 1M random points a
        // 10° box search read 1.7× the entries). Solo pages are not in
        // this tree.
        let mut best = (f32::INFINITY, None);
        nearest_head(self.rtree.root(), &b.center(), &mut best);
        (best.1, false)
    }

    /// The hinted page for `b` if it is shared, has room and covers `b`;
    /// first (re)sizes the hint's grid to the page count if needed.
    fn hinted(&mut self, b: &Bbox) -> Option<u32> {
        let pages = self.pages.len();
        if self.hint.as_ref().is_none_or(|h| h.stale(pages)) {
            self.hint = (pages >= hint::MIN_PAGES)
                .then(|| hint::Hint::new(&Bbox::from_aabb(&self.rtree.root().envelope()), pages));
        }
        let p = self.hint.as_ref()?.get(b);
        let page = self.pages.try_get(p)?;
        (!page.solo && !page.is_full() && page.bbox.contains(b)).then_some(p)
    }

    /// Every group whose box covers `b`, in tree order: the first covering
    /// page with room, else the first full one.
    fn covering(&self, b: AABB<[f32; 2]>) -> Descent {
        let mut full = None;
        for r in self.rtree.locate_with_selection_function(Covering(b)) {
            match self.pick(r.page) {
                Some((p, true)) => return Descent::Room(p),
                Some((p, false)) => full = full.or(Some(p)),
                None => {}
            }
        }
        Descent::Whole { full }
    }

    /// Of the first three pages of the group headed by `head` (shared
    /// pages: solo ones are in the other tree): the first with room
    /// (`true`), else the first full one.
    fn pick(&self, head: u32) -> Option<(u32, bool)> {
        let mut full = None;
        for p in self.group(head).take(3) {
            let page = self.pages.get(p);
            if !page.is_full() {
                return Some((p, true));
            }
            full = full.or(Some((p, false)));
        }
        full
    }

    /// Goes down one path of nodes covering `b`, into the child of least
    /// area at each level, as an R-tree insert chooses its subtree: at its
    /// end the smallest covering group with room (in one of its first three
    /// pages), if any. A node that does not cover `b` has no page that
    /// does below it, so the descent stops where no child covers `b`; when
    /// no level had two covering nodes, it has met every covering group
    /// and says whether one was full.
    fn descend(&self, b: &AABB<[f32; 2]>) -> Descent {
        let mut node = self.rtree.root();
        let (mut branched, mut full) = (false, None);
        loop {
            let mut best: Option<(&ParentNode<PageRef>, f32)> = None;
            let mut room: Option<(u32, f32)> = None;
            for child in node.children() {
                match child {
                    RTreeNode::Parent(p) => {
                        let e = p.envelope();
                        if !e.contains_envelope(b) {
                            continue;
                        }
                        branched |= best.is_some();
                        let area = e.area();
                        if best.is_none_or(|(_, a)| area < a) {
                            best = Some((p, area));
                        }
                    }
                    RTreeNode::Leaf(r) => {
                        let area = r.bbox.area();
                        if !r.bbox.contains_envelope(b) || room.is_some_and(|(_, a)| a <= area) {
                            continue;
                        }
                        match self.pick(r.page) {
                            Some((p, true)) => room = Some((p, area)),
                            Some((p, false)) => full = full.or(Some(p)),
                            None => {}
                        }
                    }
                }
            }
            if let Some((p, _)) = room {
                return Descent::Room(p);
            }
            match best {
                Some((next, _)) => node = next,
                None if branched => return Descent::Branched,
                None => return Descent::Whole { full },
            }
        }
    }

    /// A tree over `pages`, none of them linked yet (a bulk load): pages
    /// with equal boxes form groups, and the heads go into
    /// `RTree::bulk_load` at once rather than one insert each.
    pub fn bulk(mut pages: Pages) -> PageTree {
        // Box bits, with -0.0 as 0.0: the tree compares boxes with `==`.
        // Groups are per tree: solo pages group only with solo pages.
        let key = |b: &Bbox, solo: bool| {
            let bits = [b.min, b.max].map(|c| c.map(|v| (v + 0.0).to_bits()));
            (bits, solo)
        };
        let mut heads: hashbrown::HashMap<([[u32; 2]; 2], bool), u32> =
            hashbrown::HashMap::with_capacity(pages.len());
        let (mut refs, mut wide) = (Vec::with_capacity(pages.len()), Vec::new());
        let all: Vec<(u32, Bbox, bool)> = pages
            .iter()
            .map(|(p, page)| (p, page.bbox, page.solo))
            .collect();
        for (p, b, solo) in all {
            match heads.entry(key(&b, solo)) {
                hashbrown::hash_map::Entry::Vacant(v) => {
                    v.insert(p);
                    let refs = if solo { &mut wide } else { &mut refs };
                    refs.push(PageRef {
                        bbox: b.aabb(),
                        page: p,
                    });
                }
                hashbrown::hash_map::Entry::Occupied(o) => {
                    // Behind the head, as `link` does.
                    let h = *o.get();
                    let next = pages.get(h).next;
                    let page = pages.get_mut(p);
                    (page.prev, page.next) = (h, next);
                    if next != NO_PAGE {
                        pages.get_mut(next).prev = p;
                    }
                    pages.get_mut(h).next = p;
                }
            }
        }
        PageTree {
            rtree: RTree::bulk_load(refs),
            wide: RTree::bulk_load(wide),
            pages,
            hint: None,
        }
    }

    /// Checks the groups (tests): each tree entry heads a list of pages
    /// with the entry's box, linked both ways, solo pages in the wide tree
    /// and only there, and no two entries of a tree share a box; every
    /// page is in one group.
    pub fn check(&self) {
        let mut seen = 0;
        for (solo, tree) in [(false, &self.rtree), (true, &self.wide)] {
            seen += self.check_tree(tree, solo);
        }
        assert_eq!(seen, self.pages.len(), "pages in groups");
    }

    /// [`PageTree::check`] of one tree: how many pages its groups hold.
    fn check_tree(&self, tree: &RTree<PageRef>, solo: bool) -> usize {
        let mut seen = 0;
        let mut boxes = Vec::new();
        for r in tree.iter() {
            assert_eq!(self.pages.get(r.page).prev, NO_PAGE, "head {}", r.page);
            let mut prev = NO_PAGE;
            for p in self.group(r.page) {
                let page = self.pages.get(p);
                assert_eq!(page.solo, solo, "tree of {p}");
                assert_eq!(page.prev, prev, "links of {p}");
                assert_eq!(page.bbox.aabb(), r.bbox, "box of {p}");
                prev = p;
                seen += 1;
            }
            boxes.push(Bbox::from_aabb(&r.bbox));
        }
        let key = |b: &Bbox| [b.min, b.max].map(|c| c.map(f32::to_bits));
        boxes.sort_by_key(key);
        assert!(
            boxes.windows(2).all(|w| key(&w[0]) != key(&w[1])),
            "one entry per box"
        );
        seen
    }
}

#[cfg(test)]
mod tests;
