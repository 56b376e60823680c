//! Leaf pages of the spatial index and their `f32` boxes.
//!
//! A page holds up to [`CAP`] objects as `(box, slot)` entries. Boxes are
//! `f32`, rounded outward from the objects' exact `f64` boxes, so a page
//! test never misses an object; searches confirm borderline objects on the
//! exact box. A box is never thinner than one `f32` step, so a point (the
//! common object) is `[lo, lo + 1 step]` on both axes and keeps only `lo`:
//! the upper corners are allocated for a page the first time it holds a
//! wider box. That makes an entry 12 bytes instead of 20.

use rstar::AABB;
use tile38_geo::{Position, Rect};

/// Most entries in a page.
pub const CAP: usize = 32;

/// No page (list ends).
pub const NO_PAGE: u32 = u32::MAX;

/// The largest `f32` not above `x` (`x` beyond the `f32` range clamps to
/// it: such boxes are approximate, and only such).
pub fn f32_down(x: f64) -> f32 {
    let f = x as f32;
    let f = if f64::from(f) > x { next_down(f) } else { f };
    f.clamp(-f32::MAX, f32::MAX)
}

/// The smallest `f32` not below `x` (clamped like [`f32_down`]).
pub fn f32_up(x: f64) -> f32 {
    -f32_down(-x)
}

/// One `f32` step up, at most `f32::MAX`: the upper side of a point's box.
#[inline]
pub fn step_up(f: f32) -> f32 {
    (-next_down(-f)).min(f32::MAX)
}

/// One `f32` step down (NaN and −∞ stay; +∞ gives `f32::MAX`).
pub(crate) fn next_down(f: f32) -> f32 {
    if f.is_nan() || f == f32::NEG_INFINITY {
        f
    } else if f == 0.0 {
        -f32::from_bits(1)
    } else if f > 0.0 {
        f32::from_bits(f.to_bits() - 1)
    } else {
        f32::from_bits(f.to_bits() + 1)
    }
}

/// An `f32` bounding box (x = longitude, y = latitude), `min < max` on both
/// axes except at `f32::MAX`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bbox {
    pub min: [f32; 2],
    pub max: [f32; 2],
}

impl Bbox {
    /// The smallest `f32` box holding the `f64` box `min..max` that is at
    /// least one step wide on each axis.
    pub fn outward(min: [f64; 2], max: [f64; 2]) -> Bbox {
        if min == max {
            // A point (most objects; every one of them at an AOF load's
            // index build): its upper side rounded up is at most one step
            // above its lower side rounded down, so the box is that step.
            return Bbox::of_point([f32_down(min[0]), f32_down(min[1])]);
        }
        let (lo, hi) = (
            [f32_down(min[0]), f32_down(min[1])],
            [f32_up(max[0]), f32_up(max[1])],
        );
        Bbox {
            min: lo,
            max: [hi[0].max(step_up(lo[0])), hi[1].max(step_up(lo[1]))],
        }
    }

    /// The box of a point at `lo` (one step wide).
    #[inline]
    pub fn of_point(lo: [f32; 2]) -> Bbox {
        Bbox {
            min: lo,
            max: [step_up(lo[0]), step_up(lo[1])],
        }
    }

    /// Whether the box is one step wide on both axes (stored as `min` only).
    pub fn is_point(&self) -> bool {
        *self == Bbox::of_point(self.min)
    }

    pub fn contains(&self, o: &Bbox) -> bool {
        self.min[0] <= o.min[0]
            && self.min[1] <= o.min[1]
            && self.max[0] >= o.max[0]
            && self.max[1] >= o.max[1]
    }

    pub fn union(&self, o: &Bbox) -> Bbox {
        Bbox {
            min: [self.min[0].min(o.min[0]), self.min[1].min(o.min[1])],
            max: [self.max[0].max(o.max[0]), self.max[1].max(o.max[1])],
        }
    }

    /// Whether the box meets the `f64` box `q` (`[min x, min y, max x,
    /// max y]`); borders count.
    #[inline]
    pub fn meets(&self, q: &[f64; 4]) -> bool {
        f64::from(self.min[0]) <= q[2]
            && f64::from(self.max[0]) >= q[0]
            && f64::from(self.min[1]) <= q[3]
            && f64::from(self.max[1]) >= q[1]
    }

    /// Whether the box lies inside the `f64` box `q`.
    #[inline]
    pub fn inside(&self, q: &[f64; 4]) -> bool {
        f64::from(self.min[0]) >= q[0]
            && f64::from(self.max[0]) <= q[2]
            && f64::from(self.min[1]) >= q[1]
            && f64::from(self.max[1]) <= q[3]
    }

    pub fn center(&self) -> [f32; 2] {
        [
            self.min[0] / 2.0 + self.max[0] / 2.0,
            self.min[1] / 2.0 + self.max[1] / 2.0,
        ]
    }

    pub fn aabb(&self) -> AABB<[f32; 2]> {
        AABB::from_corners(self.min, self.max)
    }

    pub fn from_aabb(e: &AABB<[f32; 2]>) -> Bbox {
        Bbox {
            min: e.lower(),
            max: e.upper(),
        }
    }

    /// The same box in `f64` (exact).
    pub fn rect(&self) -> Rect {
        Rect::new(
            Position::new(f64::from(self.min[0]), f64::from(self.min[1])),
            Position::new(f64::from(self.max[0]), f64::from(self.max[1])),
        )
    }
}

/// A leaf page. `bbox` is the union of the entries' boxes, kept exact by
/// every change (the R-tree holds it too). Pages with the same box form a
/// list (`prev`/`next`, [`NO_PAGE`] at the ends) of which only the first
/// is in the R-tree: see [`crate::tree`].
///
/// Laid out by hand, header first and aligned to a cache line: the slab
/// holds `Option<Page>`, whose `None` lives in a niche of one of the
/// `bool`s, so every access reads them. Left to the compiler they came
/// after the arrays, and a page's use read one line more than its header
/// and slots (the last of seven), a miss of its own at every moving SET
/// (`perf annotate`, `benches/README.md`, sixteenth session). Here the
/// header and the slots take the first three lines, the boxes the next
/// four.
#[repr(C, align(64))]
pub struct Page {
    /// `bbox` may be larger than the entries' union (left so by a removal
    /// that took little off it, `SpatialIndex::shrink`).
    pub loose: bool,
    /// The page of one wide object (`SpatialIndex::insert`): it takes no
    /// other entry.
    pub solo: bool,
    len: u32,
    pub prev: u32,
    pub next: u32,
    /// Holds every entry's box: their union, or larger after removals.
    pub bbox: Bbox,
    /// Upper corners; `None` while every entry is a point.
    hi: Option<Box<[[f32; 2]; CAP]>>,
    slots: [u32; CAP],
    lo: [[f32; 2]; CAP],
}

impl Page {
    /// A page of the given entries (at most [`CAP`], at least one).
    pub fn new(entries: &[(Bbox, u32)]) -> Page {
        let mut page = Page {
            bbox: entries[0].0,
            loose: false,
            solo: false,
            prev: NO_PAGE,
            next: NO_PAGE,
            len: 0,
            slots: [0; CAP],
            lo: [[0.0; 2]; CAP],
            hi: None,
        };
        for &(b, slot) in entries {
            page.push(slot, b);
        }
        page
    }

    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn is_full(&self) -> bool {
        self.len() == CAP
    }

    #[inline]
    pub fn slot(&self, i: usize) -> u32 {
        self.slots[i]
    }

    pub fn slots(&self) -> &[u32] {
        &self.slots[..self.len()]
    }

    #[inline]
    pub fn entry(&self, i: usize) -> Bbox {
        match &self.hi {
            None => Bbox::of_point(self.lo[i]),
            Some(hi) => Bbox {
                min: self.lo[i],
                max: hi[i],
            },
        }
    }

    /// Every entry, `(box, slot)`.
    pub fn entries(&self) -> impl Iterator<Item = (Bbox, u32)> + '_ {
        (0..self.len()).map(|i| (self.entry(i), self.slots[i]))
    }

    /// Index of `slot`'s entry.
    pub fn position(&self, slot: u32) -> Option<usize> {
        self.slots().iter().position(|&s| s == slot)
    }

    /// Sets entry `i`'s box (the page box is the caller's).
    pub fn set(&mut self, i: usize, b: Bbox) {
        self.lo[i] = b.min;
        if let Some(hi) = &mut self.hi {
            hi[i] = b.max;
        } else if !b.is_point() {
            let mut hi = Box::new(self.lo.map(|lo| Bbox::of_point(lo).max));
            hi[i] = b.max;
            self.hi = Some(hi);
        }
    }

    /// Adds an entry (the page must have room); grows `bbox` to hold it.
    pub fn push(&mut self, slot: u32, b: Bbox) {
        let i = self.len();
        self.slots[i] = slot;
        self.len += 1;
        self.set(i, b);
        self.bbox = if i == 0 { b } else { self.bbox.union(&b) };
    }

    /// Removes entry `i` (the last entry takes its place); `bbox` is left
    /// as it was (see [`Page::tight_bbox`]).
    pub fn swap_remove(&mut self, i: usize) {
        let last = self.len() - 1;
        self.slots[i] = self.slots[last];
        self.lo[i] = self.lo[last];
        if let Some(hi) = &mut self.hi {
            hi[i] = hi[last];
        }
        self.len -= 1;
    }

    /// Whether every entry's box is `b`.
    pub fn all_at(&self, b: &Bbox) -> bool {
        self.entries().all(|(e, _)| e == *b)
    }

    /// The union of the entries' boxes (`None` when empty).
    pub fn tight_bbox(&self) -> Option<Bbox> {
        let mut it = self.entries().map(|(b, _)| b);
        let first = it.next()?;
        Some(it.fold(first, |acc, b| acc.union(&b)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header, its niches (the `bool`s, the only fields with one) and
    /// the slots in the first three cache lines; seven lines a page.
    #[test]
    fn page_layout_keeps_the_header_together() {
        use std::mem::{align_of, offset_of, size_of};
        assert_eq!((offset_of!(Page, loose), offset_of!(Page, solo)), (0, 1));
        const { assert!(offset_of!(Page, lo) <= 3 * 64) };
        assert_eq!((size_of::<Option<Page>>(), align_of::<Page>()), (448, 64));
    }

    #[test]
    fn rounding_is_outward() {
        for x in [-112.1, 33.5, 0.1, -0.1, 1e-50, -1e-50, 0.0, 179.999_999_9] {
            let (d, u) = (f32_down(x), f32_up(x));
            assert!(f64::from(d) <= x && f64::from(u) >= x, "{x}");
            assert!(u == d || u == next_up(d), "{x}");
        }
        assert_eq!(f32_down(1e300), f32::MAX);
        assert_eq!(f32_up(-1e300), -f32::MAX);
        fn next_up(f: f32) -> f32 {
            -next_down(-f)
        }
    }

    /// The point fast path of `outward` gives the general path's box.
    #[test]
    fn point_boxes_match_the_general_rounding() {
        let general = |x: f64, y: f64| {
            let lo = [f32_down(x), f32_down(y)];
            let hi = [f32_up(x), f32_up(y)];
            Bbox {
                min: lo,
                max: [hi[0].max(step_up(lo[0])), hi[1].max(step_up(lo[1]))],
            }
        };
        let mut s = 0x9E37_79B9_7F4A_7C15u64;
        let mut xs = vec![0.0, -0.0, 1.0, -1.0, 0.1, 1e-300, -1e-300, 1e300, -1e300];
        xs.extend([
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::from(f32::MAX),
            180.0,
            -85.0,
        ]);
        for _ in 0..10_000 {
            s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            xs.push(f64::from_bits(s >> 1) % 400.0 - 200.0);
        }
        for w in xs.windows(2) {
            let (x, y) = (w[0], w[1]);
            if x.is_nan() || y.is_nan() {
                continue;
            }
            let bits = |b: Bbox| [b.min, b.max].map(|c| c.map(f32::to_bits));
            let b = Bbox::outward([x, y], [x, y]);
            assert_eq!(bits(b), bits(general(x, y)), "{x} {y}");
        }
    }

    #[test]
    fn points_need_no_upper_corners() {
        let p = |x: f32, y: f32| Bbox::outward([x.into(), y.into()], [x.into(), y.into()]);
        let mut page = Page::new(&[(p(1.0, 1.0), 7), (p(2.0, 0.0), 8)]);
        assert!(page.hi.is_none());
        assert_eq!(
            page.bbox,
            Bbox {
                min: [1.0, 0.0],
                max: [step_up(2.0), step_up(1.0)]
            }
        );
        let q = Bbox::outward([0.1, -112.1], [0.1, -112.1]);
        assert!(q.is_point() && q.min[0] < q.max[0]);
        assert_eq!(Bbox::of_point([f32::MAX, 0.0]).max[0], f32::MAX);
        let r = Bbox {
            min: [0.0, 0.0],
            max: [5.0, 5.0],
        };
        page.push(9, r);
        assert!(page.hi.is_some());
        assert_eq!((page.entry(0), page.entry(2)), (p(1.0, 1.0), r));
        page.swap_remove(0);
        assert_eq!(page.slots(), &[9, 8]);
        assert_eq!(page.position(8), Some(1));
        assert_eq!(page.tight_bbox(), Some(r));
        assert!(r.meets(&[5.0, 5.0, 6.0, 6.0]) && !r.meets(&[5.5, 0.0, 6.0, 6.0]));
        assert!(r.inside(&[0.0, 0.0, 5.0, 5.0]) && !r.inside(&[0.0, 0.1, 5.0, 5.0]));
    }
}
