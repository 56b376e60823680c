//! The spatial index of a collection: objects (by slot) in leaf [`Page`]s
//! of up to [`CAP`] entries, and an `rstar` R-tree over the pages' boxes
//! ([`PageTree`]).
//!
//! Why pages: an R-tree entry per object costs about 90 bytes in `rstar`
//! (its node enum is sized for a parent node, and leaves run half full); a
//! page entry costs 12. The tree only sees a page again when its box changes.
//!
//! * Insert: a page whose box already covers the object and has room, else
//!   a full covering page (split at the median of its wider axis; a full
//!   page of objects all at the new object's position gets a sibling page
//!   instead), else the nearest page (its box grows). One descent of the
//!   tree through covering nodes, as an R-tree insert chooses its subtree,
//!   finds a covering page with room for most moves; only when it does not
//!   are all covering pages looked at ([`PageTree::choose`]). A covering
//!   search for every insert was a sixth of a moving SET (in process,
//!   `cargo bench --bench command -- set_moving`: SET point 2.4–2.7 →
//!   1.7–1.8 µs). Taking the page that grows least instead of the nearest
//!   made long, overlapping pages: a 10° box search over 1M points read
//!   1.7× as much (`cargo bench --bench index`).
//! * Remove: by slot ([`PageOf`] says where); a page left with fewer than
//!   [`MIN`] entries is dissolved and its entries inserted again, so pages
//!   stay at least a quarter full. The page box shrinks to its entries only
//!   when that takes at least an eighth off its margin ([`SHRINK_BY`]):
//!   else it stays as it was, larger than its entries (`Page::loose`). A
//!   reboxed page costs two tree updates, and a random move out of a page of
//!   32 takes about 3 % off its margin: it is half of a moving SET's index
//!   work, for a box that a page of random points would soon fill again
//!   (searches only need a page box to hold its entries).
//! * A wide object (more than [`WIDE`] degrees across either way: a
//!   LineString across the antimeridian spans 360) gets a page of its own
//!   that takes no other entry (`Page::solo`). In a shared page it would
//!   make the page's box, and the tree nodes above it, as wide as itself,
//!   and every search at its latitudes would test the page's 32 entries:
//!   in `pair.py`'s `key:bench` (30k points, 30k 20 km squares, 30k 20 km
//!   lines, some across the antimeridian) a 1 km box met 2.5 pages, 1.3 of
//!   them wide (4.4 and 2.5 after every object moved once). These pages
//!   are in a tree of their own ([`PageTree::wide`]), so that the shared
//!   pages' tree keeps nodes the size of the data under them.
//! * Moving within the page's box updates the entry in place.
//! * Search: the pages meeting the query box, their entries tested in
//!   `f32` against the query rounded once ([`query`]).
//! * Bulk ([`SpatialIndex::pack`], AOF load): all entries packed into full
//!   pages in one go, the tree built with `RTree::bulk_load`.
//!
//! `rstar` does not rebalance on removal, so the tree could drift under
//! moving objects. Measured (1M moves over 200k points, 5M over 1M): search
//! times stay those of a fresh index and a bulk rebuild gains nothing (it
//! would stall a write for about 20 ms at 1M points), so there is none: the
//! tree sees few removals, the pages absorb most moves.
//!
//! Searches: the tree yields the pages meeting a box, then page entries are
//! filtered. Entry boxes are `f32` rounded outward, so a filtered entry that
//! is not inside the query box must be confirmed on its exact box by the
//! caller ([`SpatialIndex::search`] says which). Nearest-neighbour search is
//! in [`crate::nearest`].

use crate::page::{step_up, Bbox, Page, CAP, NO_PAGE};
use crate::radix;
use crate::tree::PageTree;

pub mod query;

/// A page with fewer entries than this (after a removal) is dissolved.
pub const MIN: usize = CAP / 4;

/// Objects wider or taller than this (degrees) get a page of their own.
pub const WIDE: f32 = 20.0;

/// Whether `b` is a wide object's box (an infinite side is wide).
fn is_wide(b: &Bbox) -> bool {
    !(b.max[0] - b.min[0] <= WIDE && b.max[1] - b.min[1] <= WIDE)
}

/// A page box is brought down to its entries when their union's margin
/// (width + height) is at most this share of the box's.
const SHRINK_BY: f32 = 7.0 / 8.0;

/// An index made by [`SpatialIndex::pack`], and each slot's page
/// ([`NO_PAGE`]: none).
pub struct Packed {
    index: SpatialIndex,
    page_of: Vec<u32>,
}

impl Packed {
    /// Records each object's page in `at` (in slot order: one pass over the
    /// objects) and returns the index.
    pub fn record(self, at: &mut impl PageOf) -> SpatialIndex {
        for (s, &p) in (0u32..).zip(&self.page_of) {
            if p != NO_PAGE {
                at.set_page_of(s, Some(p));
            }
        }
        self.index
    }
}

/// Sort-tile-recursive packing of `entries` (not empty) into full pages
/// of `tree` (not linked), each slot's page recorded in `page_of`.
fn pack_str(entries: &mut [(Bbox, u32)], tree: &mut PageTree, page_of: &mut [u32]) {
    let pages = entries.len().div_ceil(CAP);
    let slices = (pages as f64).sqrt().ceil() as usize;
    let per_slice = pages.div_ceil(slices) * CAP;
    let centre = |e: &(Bbox, u32), axis: usize| ordered(e.0.center()[axis]);
    let mut scratch = Vec::new();
    radix::sort_by_key(entries, &mut scratch, |e| centre(e, 0));
    for slice in entries.chunks_mut(per_slice) {
        radix::sort_by_key(slice, &mut scratch, |e| centre(e, 1));
        for page in slice.chunks(CAP) {
            let p = tree.pages.insert(Page::new(page));
            for &(_, s) in page {
                page_of[s as usize] = p;
            }
        }
    }
}

/// `f` as an integer in the same order (negative floats below positive).
fn ordered(f: f32) -> u32 {
    let b = f.to_bits();
    if b >> 31 == 1 {
        !b
    } else {
        b | 1 << 31
    }
}

/// Where the index records each slot's page. The objects' entries hold
/// it (in bytes the entry's alignment leaves free) rather than a table of
/// the index's own: 4 bytes an object saved.
pub trait PageOf {
    fn page_of(&self, slot: u32) -> Option<u32>;
    fn set_page_of(&mut self, slot: u32, page: Option<u32>);
}

#[derive(Default)]
pub struct SpatialIndex {
    pub(crate) tree: PageTree,
    len: usize,
}

impl SpatialIndex {
    /// Number of indexed objects.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of pages (tests, statistics).
    pub fn num_pages(&self) -> usize {
        self.tree.pages.len()
    }

    /// A new page of `entries`, in the tree.
    fn add_page(&mut self, at: &mut impl PageOf, entries: &[(Bbox, u32)]) -> u32 {
        self.add_page_as(at, entries, false)
    }

    /// [`SpatialIndex::add_page`], a wide object's own (`solo`) or not.
    fn add_page_as(&mut self, at: &mut impl PageOf, entries: &[(Bbox, u32)], solo: bool) -> u32 {
        let mut page = Page::new(entries);
        // Before linking: it says which tree the page goes in.
        page.solo = solo;
        let p = self.tree.pages.insert(page);
        for &(_, s) in entries {
            at.set_page_of(s, Some(p));
        }
        self.tree.link(p);
        p
    }

    /// An index of `entries` (slots not indexed anywhere) built in one go,
    /// for an AOF load: sort-tile-recursive packing (entries sorted by x
    /// centre, cut into √pages vertical slices, each sorted by y centre and
    /// cut into full pages), then [`PageTree::bulk`]. Pages come out full:
    /// as compact as the data allows, and a later insert splits one like
    /// any full page. The objects learn their pages in [`Packed::record`]
    /// (so that packing needs no access to them).
    pub fn pack(entries: Vec<(Bbox, u32)>) -> Packed {
        let len = entries.len();
        if len == 0 {
            return Packed {
                index: SpatialIndex::default(),
                page_of: Vec::new(),
            };
        }
        // Pages by slot, handed to the objects in slot order by
        // [`Packed::record`]: in box order the slots are scattered.
        let slots = entries
            .iter()
            .map(|&(_, s)| s as usize + 1)
            .max()
            .unwrap_or(0);
        let mut page_of = vec![NO_PAGE; slots];
        let mut tree = PageTree::default();
        let (wide, mut entries): (Vec<_>, Vec<_>) =
            entries.into_iter().partition(|e| is_wide(&e.0));
        for e in wide {
            let mut page = Page::new(&[e]);
            page.solo = true;
            page_of[e.1 as usize] = tree.pages.insert(page);
        }
        if !entries.is_empty() {
            pack_str(&mut entries, &mut tree, &mut page_of);
        }
        Packed {
            index: SpatialIndex {
                tree: PageTree::bulk(tree.pages),
                len,
            },
            page_of,
        }
    }

    /// Indexes `slot` under the box `b` (the slot must not be indexed).
    pub fn insert(&mut self, at: &mut impl PageOf, slot: u32, b: Bbox) {
        self.len += 1;
        if is_wide(&b) {
            self.add_page_as(at, &[(b, slot)], true);
            return;
        }
        let Some(p) = self.tree.choose(&b) else {
            self.add_page(at, &[(b, slot)]);
            return;
        };
        let page = self.tree.pages.get_mut(p);
        if page.is_full() {
            if page.all_at(&b) {
                // A crowd at one position: a sibling page in its group.
                self.add_page(at, &[(b, slot)]);
            } else {
                self.split(at, p, slot, b);
            }
            return;
        }
        let old = page.bbox;
        page.push(slot, b);
        let grown = page.bbox;
        at.set_page_of(slot, Some(p));
        if grown != old {
            page.bbox = old;
            self.tree.rebox(p, grown);
        }
    }

    /// Splits the full page `p` plus the new entry `(b, slot)` in two at the
    /// median of the axis along which the entries spread more.
    fn split(&mut self, at: &mut impl PageOf, p: u32, slot: u32, b: Bbox) {
        let mut all: Vec<(Bbox, u32)> = Vec::with_capacity(CAP + 1);
        all.extend(self.tree.pages.get(p).entries());
        all.push((b, slot));
        let spread = |axis: usize| {
            let (lo, hi) = all.iter().fold((f32::MAX, f32::MIN), |(lo, hi), (e, _)| {
                let c = e.center()[axis];
                (lo.min(c), hi.max(c))
            });
            hi - lo
        };
        let axis = usize::from(spread(1) > spread(0));
        all.sort_unstable_by(|(a, _), (b, _)| a.center()[axis].total_cmp(&b.center()[axis]));
        let (left, right) = all.split_at(all.len() / 2);
        self.tree.unlink(p);
        *self.tree.pages.get_mut(p) = Page::new(left);
        for &(_, s) in left {
            at.set_page_of(s, Some(p));
        }
        self.tree.link(p);
        self.add_page(at, right);
    }

    /// Unindexes `slot`; returns whether it was indexed.
    pub fn remove(&mut self, at: &mut impl PageOf, slot: u32) -> bool {
        let Some(p) = at.page_of(slot) else {
            return false;
        };
        at.set_page_of(slot, None);
        self.len -= 1;
        let page = self.tree.pages.get_mut(p);
        let i = page.position(slot).expect("slot in its page");
        page.swap_remove(i);
        let len = page.len();
        if len == 0 {
            self.tree.unlink(p);
            self.tree.pages.remove(p);
        } else if len < MIN && self.tree.pages.len() > 1 {
            self.dissolve(at, p);
        } else if !self.shrink(p) && len == CAP - 1 {
            self.tree.promote(p);
        }
        true
    }

    /// After a removal from page `p`: brings its box down to its entries
    /// if that takes at least `1 - SHRINK_BY` off its margin, else marks it
    /// loose if it is larger than they are. Returns whether it was reboxed.
    fn shrink(&mut self, p: u32) -> bool {
        let page = self.tree.pages.get_mut(p);
        let tight = page.tight_bbox().expect("page not empty");
        if tight == page.bbox {
            return false;
        }
        let margin = |b: &Bbox| (b.max[0] - b.min[0]) + (b.max[1] - b.min[1]);
        // Boxes are never NaN; a margin reaching `f32::MAX` is infinite,
        // and such a box is brought down whatever its union.
        if margin(&tight) > SHRINK_BY * margin(&page.bbox) {
            page.loose = true;
            return false;
        }
        self.tree.rebox_tight(p, tight);
        true
    }

    /// Removes page `p` and inserts its entries again.
    fn dissolve(&mut self, at: &mut impl PageOf, p: u32) {
        self.tree.unlink(p);
        let page = self.tree.pages.remove(p);
        for (b, s) in page.entries() {
            at.set_page_of(s, None);
            self.len -= 1;
            self.insert(at, s, b);
        }
    }

    /// Moves `slot` (indexed) to the box `b`: in place when its page covers
    /// `b` (the page box may shrink), else removed and inserted again.
    pub fn update(&mut self, at: &mut impl PageOf, slot: u32, b: Bbox) {
        let p = at.page_of(slot).expect("slot indexed");
        let page = self.tree.pages.get_mut(p);
        let i = page.position(slot).expect("slot in its page");
        if page.entry(i) == b {
            return;
        }
        // A wide object that is no longer wide leaves its page of its own.
        if (!page.solo || is_wide(&b)) && page.bbox.contains(&b) {
            page.set(i, b);
            self.shrink(p);
            return;
        }
        self.remove(at, slot);
        self.insert(at, slot, b);
    }

    /// Brings page `p` towards the cache, all of it: a removal reads its
    /// header and slots, and its boxes for the page's new union. An update
    /// that will look its object up there soon overlaps that miss with
    /// other work.
    pub fn prefetch_page(&self, p: u32) {
        self.tree.pages.prefetch_lines(p, usize::MAX);
    }

    /// Indexed slots whose box meets the `f64` box `q` (`[min x, min y,
    /// max x, max y]`), with whether that is certain (`false`: the `f32` box
    /// meets `q` but lies across its border, so the exact box may not).
    pub fn search(&self, q: [f64; 4]) -> query::Search<'_> {
        let qb = Bbox::outward([q[0], q[1]], [q[2], q[3]]);
        // A NaN query meets nothing (and would upset `AABB`).
        let valid = q.iter().all(|v| !v.is_nan()) && q[0] <= q[2] && q[1] <= q[3];
        let heads = valid.then(|| {
            let [shared, wide] = self.tree.trees();
            let q = qb.aabb();
            (shared.locate_in_envelope_intersecting(q))
                .chain(wide.locate_in_envelope_intersecting(q))
        });
        query::Search::new(&self.tree, heads, query::QueryF32::new(&q))
    }

    /// How many pages have a box meeting `q` (`[min x, min y, max x, max
    /// y]`), and how many entries they hold: what a search there reads
    /// (tests, statistics).
    pub fn pages_meeting(&self, q: [f64; 4]) -> (usize, usize) {
        let qb = Bbox::outward([q[0], q[1]], [q[2], q[3]]);
        let heads = (self.tree.trees().into_iter())
            .flat_map(|t| t.locate_in_envelope_intersecting(qb.aabb()));
        let pages = heads.flat_map(|r| self.tree.group(r.page));
        pages.fold((0, 0), |(n, e), p| {
            (n + 1, e + self.tree.pages.get(p).len())
        })
    }

    /// The exact bounding box of everything indexed, `[min x, min y, max x,
    /// max y]`; `exact(slot)` gives an object's. Only objects whose `f32` box
    /// reaches the `f32` bounds can hold an exact bound (rounding is
    /// monotonic), so only those are read.
    pub fn bounds(&self, exact: impl Fn(u32) -> [f64; 4]) -> Option<[f64; 4]> {
        // A loose page's entries may not reach its box: their union counts.
        let tight = |p: &Page| match p.loose {
            true => p.tight_bbox().expect("pages are not empty"),
            false => p.bbox,
        };
        let outer = self
            .tree
            .pages
            .iter()
            .map(|(_, p)| tight(p))
            .reduce(|a, b| a.union(&b))?;
        // An object's stored side is within one step of its exact side,
        // so the object holding an exact bound stores that side within one
        // step of the outer box.
        let near = |b: &Bbox| {
            b.min[0] <= step_up(outer.min[0])
                || b.min[1] <= step_up(outer.min[1])
                || step_up(b.max[0]) >= outer.max[0]
                || step_up(b.max[1]) >= outer.max[1]
        };
        let mut out = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for (_, page) in self.tree.pages.iter().filter(|(_, p)| near(&tight(p))) {
            for (_, slot) in page.entries().filter(|(b, _)| near(b)) {
                let e = exact(slot);
                out = [
                    out[0].min(e[0]),
                    out[1].min(e[1]),
                    out[2].max(e[2]),
                    out[3].max(e[3]),
                ];
            }
        }
        Some(out)
    }

    /// Checks the invariants (tests): every indexed slot is in the page
    /// `page_of` names, page boxes are the unions of their entries, no page
    /// is empty, the tree's groups hold exactly the pages. (Pages below
    /// [`MIN`] exist: a crowd's newest page starts with one entry.)
    pub fn check(&self, at: &impl PageOf) {
        self.tree.check();
        let mut count = 0;
        let pages = &self.tree.pages;
        for (p, page) in pages.iter() {
            assert!(!page.is_empty(), "page {p} empty");
            assert!(!page.solo || page.len() == 1, "solo page {p}");
            let tight = page.tight_bbox().expect("not empty");
            if page.loose {
                assert!(page.bbox.contains(&tight), "page {p} box");
            } else {
                assert_eq!(page.bbox, tight, "page {p} box");
            }
            for &s in page.slots() {
                assert_eq!(at.page_of(s), Some(p), "slot {s}");
            }
            count += page.len();
        }
        assert_eq!(count, self.len);
    }
}
