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

use rstar::{
    Envelope, ParentNode, PointDistance, RTree, RTreeNode, RTreeObject, SelectionFunction, AABB,
};

use crate::page::{Bbox, Page, NO_PAGE};
use crate::slab::Slab;

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

/// 256 pages a chunk (about 110 KiB).
pub type Pages = Slab<Page, 8>;

#[derive(Default)]
pub struct PageTree {
    pub rtree: RTree<PageRef>,
    pub pages: Pages,
}

impl PageTree {
    /// The head of the group whose box is `b`.
    fn head(&self, b: &Bbox) -> Option<u32> {
        self.rtree
            .locate_with_selection_function(Exactly(b.aabb()))
            .next()
            .map(|r| r.page)
    }

    /// Puts page `p` (in no group) into the tree: into the group of its box
    /// (behind the head), or as a new tree entry.
    pub fn link(&mut self, p: u32) {
        let b = self.pages.get(p).bbox;
        let Some(h) = self.head(&b) else {
            self.rtree.insert(PageRef {
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
        let (prev, next, bbox) = (page.prev, page.next, page.bbox.aabb());
        (page.prev, page.next) = (NO_PAGE, NO_PAGE);
        if next != NO_PAGE {
            self.pages.get_mut(next).prev = prev;
        }
        if prev != NO_PAGE {
            self.pages.get_mut(prev).next = next;
        } else if next != NO_PAGE {
            // `p` was the head: its successor takes its tree entry.
            let entry = self
                .rtree
                .locate_with_selection_function_mut(Exactly(bbox))
                .next()
                .expect("group head in the tree");
            entry.page = next;
        } else {
            self.rtree.remove(&PageRef { bbox, page: p });
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
        let Some(h) = self.head(&page.bbox) else {
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
    pub fn choose(&self, b: &Bbox) -> Option<u32> {
        let ab = b.aabb();
        let found = match self.descend(&ab) {
            Descent::Branched => self.covering(ab),
            seen => seen,
        };
        if let Descent::Room(p) | Descent::Whole { full: Some(p) } = found {
            return Some(p);
        }
        // The nearest group rather than the one whose box grows least:
        // least growth made long, overlapping pages (at 1M random points a
        // 10° box search read 1.7× the entries).
        let shared = |r: &&PageRef| !self.pages.get(r.page).solo;
        let center = b.center();
        match self.rtree.nearest_neighbor(center) {
            Some(r) if shared(&r) => Some(r.page),
            // Rare (wide objects are): the nearest groups in order.
            Some(_) => self
                .rtree
                .nearest_neighbor_iter(center)
                .find(shared)
                .map(|r| r.page),
            None => None,
        }
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

    /// Of the first three pages of the group headed by `head`, never a
    /// solo one: the first with room (`true`), else the first full one.
    fn pick(&self, head: u32) -> Option<(u32, bool)> {
        let mut full = None;
        for p in self.group(head).take(3) {
            let page = self.pages.get(p);
            if page.solo {
                continue;
            }
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
        let key = |b: &Bbox| [b.min, b.max].map(|c| c.map(|v| (v + 0.0).to_bits()));
        let mut heads: hashbrown::HashMap<[[u32; 2]; 2], u32> =
            hashbrown::HashMap::with_capacity(pages.len());
        let mut refs = Vec::with_capacity(pages.len());
        let all: Vec<(u32, Bbox)> = pages.iter().map(|(p, page)| (p, page.bbox)).collect();
        for (p, b) in all {
            match heads.entry(key(&b)) {
                hashbrown::hash_map::Entry::Vacant(v) => {
                    v.insert(p);
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
            pages,
        }
    }

    /// Checks the groups (tests): each tree entry heads a list of pages
    /// with the entry's box, linked both ways, and no two entries share a
    /// box; every page is in one group.
    pub fn check(&self) {
        let mut seen = 0;
        let mut boxes = Vec::new();
        for r in self.rtree.iter() {
            assert_eq!(self.pages.get(r.page).prev, NO_PAGE, "head {}", r.page);
            let mut prev = NO_PAGE;
            for p in self.group(r.page) {
                let page = self.pages.get(p);
                assert_eq!(page.prev, prev, "links of {p}");
                assert_eq!(page.bbox.aabb(), r.bbox, "box of {p}");
                prev = p;
                seen += 1;
            }
            boxes.push(Bbox::from_aabb(&r.bbox));
        }
        assert_eq!(seen, self.pages.len(), "pages in groups");
        let key = |b: &Bbox| [b.min, b.max].map(|c| c.map(f32::to_bits));
        boxes.sort_by_key(key);
        assert!(
            boxes.windows(2).all(|w| key(&w[0]) != key(&w[1])),
            "one entry per box"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::page::CAP;

    fn b(x0: f32, y0: f32, x1: f32, y1: f32) -> Bbox {
        Bbox {
            min: [x0, y0],
            max: [x1, y1],
        }
    }

    /// A linked page of `n` entries (slots from `first`) spanning `bx`.
    fn page(t: &mut PageTree, bx: Bbox, n: usize, first: u32) -> u32 {
        let low = b(bx.min[0], bx.min[1], bx.min[0], bx.min[1]);
        let mut entries = vec![(low, first)];
        entries.push((b(bx.max[0], bx.max[1], bx.max[0], bx.max[1]), first + 1));
        entries.extend((2..n as u32).map(|i| (low, first + i)));
        let p = t.pages.insert(Page::new(&entries));
        t.link(p);
        p
    }

    fn at(x: f32, y: f32) -> Bbox {
        b(x, y, x, y)
    }

    #[test]
    fn choose_takes_a_covering_page_with_room_else_the_nearest() {
        let mut t = PageTree::default();
        let left = page(&mut t, b(0.0, 0.0, 10.0, 10.0), 4, 0);
        let right = page(&mut t, b(20.0, 20.0, 30.0, 30.0), 4, 100);
        // Enough pages elsewhere for a tree of several levels.
        for i in 0..200u32 {
            let x = 100.0 + (i % 20) as f32 * 5.0;
            let y = (i / 20) as f32 * 5.0;
            page(&mut t, b(x, y, x + 4.0, y + 4.0), 8, 1000 + i * 10);
        }
        t.check();
        assert_eq!(t.choose(&at(5.0, 5.0)), Some(left));
        assert_eq!(t.choose(&at(25.0, 21.0)), Some(right));
        // Nested covering pages with room: the smaller.
        let inner = page(&mut t, b(2.0, 2.0, 6.0, 6.0), 4, 300);
        assert_eq!(t.choose(&at(5.0, 5.0)), Some(inner));
        assert_eq!(t.choose(&at(9.0, 9.0)), Some(left));
        // Covered by neither: the nearest.
        assert_eq!(t.choose(&at(12.0, 12.0)), Some(left));
        assert_eq!(t.choose(&at(19.0, 19.0)), Some(right));
    }

    /// Overlapping pages of random sizes, some full, some solo, some
    /// groups: whatever path the descent takes, `choose` gives a covering
    /// page with room when one exists (in the first three pages of its
    /// group), else a full covering page, else the nearest shared group.
    #[test]
    fn choose_finds_what_a_full_search_finds() {
        let mut seed = 38u64;
        let mut rnd = move |n: u32| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) % u64::from(n)) as f32
        };
        let mut t = PageTree::default();
        let mut all = Vec::new();
        for i in 0..600u32 {
            let (x, y) = (rnd(1000), rnd(1000));
            let (w, h) = (1.0 + rnd(60), 1.0 + rnd(60));
            let n = [2, 8, CAP][(i % 3) as usize];
            let p = page(&mut t, b(x, y, x + w, y + h), n, i * 100);
            t.pages.get_mut(p).solo = i % 17 == 0;
            all.push(p);
            if i % 29 == 0 {
                all.push(page(&mut t, b(x, y, x + w, y + h), 4, i * 100 + 50));
            }
        }
        t.check();
        let heads: Vec<u32> = t.rtree.iter().map(|r| r.page).collect();
        let pickable = |p: u32| heads.iter().any(|&h| t.group(h).take(3).any(|g| g == p));
        let d = |p: u32, q: &Bbox| t.pages.get(p).bbox.aabb().distance_2(&q.center());
        let (mut rooms, mut fulls, mut nearest) = (0, 0, 0);
        for _ in 0..3000 {
            let q = at(rnd(1100) - 50.0, rnd(1100) - 50.0);
            let covers = |p: u32| t.pages.get(p).bbox.aabb().contains_envelope(&q.aabb());
            let usable = |p: &&u32| pickable(**p) && !t.pages.get(**p).solo && covers(**p);
            let room = all
                .iter()
                .filter(usable)
                .any(|&p| !t.pages.get(p).is_full());
            let full = all.iter().any(|p| usable(&p));
            let got = t.choose(&q).expect("a page");
            let page = t.pages.get(got);
            assert!(!page.solo);
            if room {
                assert!(covers(got) && !page.is_full(), "{q:?}");
                rooms += 1;
            } else if full {
                assert!(covers(got) && page.is_full(), "{q:?}");
                fulls += 1;
            } else {
                let shared = heads.iter().filter(|&&h| !t.pages.get(h).solo);
                let best = shared.map(|&h| d(h, &q)).fold(f32::MAX, f32::min);
                assert_eq!(d(got, &q), best, "{q:?}");
                nearest += 1;
            }
        }
        // Each case met often enough to mean something.
        assert!(
            rooms > 300 && fulls > 300 && nearest > 300,
            "{rooms} {fulls} {nearest}"
        );
    }

    #[test]
    fn choose_prefers_room_and_never_a_solo_page() {
        let mut t = PageTree::default();
        let full = page(&mut t, b(0.0, 0.0, 10.0, 10.0), CAP, 0);
        let solo = page(&mut t, b(-50.0, -50.0, 50.0, 50.0), 2, 100);
        t.pages.get_mut(solo).solo = true;
        // Only a full page covers the point: it is the one to split.
        assert_eq!(t.choose(&at(5.0, 5.0)), Some(full));
        let roomy = page(&mut t, b(2.0, 2.0, 8.0, 8.0), 4, 200);
        assert_eq!(t.choose(&at(5.0, 5.0)), Some(roomy));
        // Outside every shared page, inside the solo one: the nearest
        // shared page.
        assert_eq!(t.choose(&at(40.0, 40.0)), Some(full));
    }
}
