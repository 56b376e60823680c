//! The box query of the spatial index ([`super::SpatialIndex::search`]):
//! the pages whose box meets the query, walked group by group, and their
//! entries tested against the query in `f32`.
//!
//! Why its own iterator: the same walk as nested `flat_map`s (heads →
//! group → entries) spent a tenth of a WITHIN BOUNDS that finds a few
//! objects in the adapters' state machine, and tested every entry by
//! widening its four `f32` sides to `f64`. Here the query is rounded once
//! to the `f32` bounds that give the same answers ([`QueryF32`]).

use rstar::iterators::LocateInEnvelopeIntersecting;

use crate::page::{next_down, Bbox, Page, NO_PAGE};
use crate::tree::{PageRef, PageTree};

/// The groups meeting the query: the shared pages' tree, then the wide
/// pages' ([`PageTree::wide`]).
pub type Heads<'a> = std::iter::Chain<
    LocateInEnvelopeIntersecting<'a, PageRef>,
    LocateInEnvelopeIntersecting<'a, PageRef>,
>;

/// An `f64` query box as `f32` bounds: for an `f32` side `a` and an `f64`
/// bound `x`, `a as f64 <= x` exactly when `a <= down(x)` (the largest
/// `f32`, or −∞, not above `x`), and `a as f64 >= x` exactly when
/// `a >= up(x)`. Not clamped: a bound beyond the `f32` range rounds to an
/// infinity or to `±f32::MAX` on the side that keeps the answer.
#[derive(Clone, Copy, Debug)]
pub struct QueryF32 {
    /// `up` of the query's min x and min y.
    lo: [f32; 2],
    /// `down` of the query's max x and max y.
    hi: [f32; 2],
}

/// The largest `f32` (or −∞) not above `x` (not NaN): [`crate::page::f32_down`]
/// without its clamp.
fn down(x: f64) -> f32 {
    let f = x as f32;
    if f64::from(f) > x {
        next_down(f)
    } else {
        f
    }
}

fn up(x: f64) -> f32 {
    -down(-x)
}

impl QueryF32 {
    /// `q` is `[min x, min y, max x, max y]`, no side NaN.
    pub fn new(q: &[f64; 4]) -> QueryF32 {
        QueryF32 {
            lo: [up(q[0]), up(q[1])],
            hi: [down(q[2]), down(q[3])],
        }
    }

    /// [`Bbox::meets`] of the `f64` query.
    #[inline]
    pub fn meets(&self, e: &Bbox) -> bool {
        e.min[0] <= self.hi[0]
            && e.max[0] >= self.lo[0]
            && e.min[1] <= self.hi[1]
            && e.max[1] >= self.lo[1]
    }

    /// [`Bbox::inside`] the `f64` query.
    #[inline]
    pub fn inside(&self, e: &Bbox) -> bool {
        e.min[0] >= self.lo[0]
            && e.max[0] <= self.hi[0]
            && e.min[1] >= self.lo[1]
            && e.max[1] <= self.hi[1]
    }
}

/// Indexed slots whose box meets the query, with whether that is certain
/// (see [`super::SpatialIndex::search`]).
pub struct Search<'a> {
    tree: &'a PageTree,
    /// `None`: the query meets nothing.
    heads: Option<Heads<'a>>,
    page: Option<&'a Page>,
    /// The current page's next in its group ([`NO_PAGE`]: the next head).
    next: u32,
    /// The next entry of `page` to test.
    at: usize,
    /// `page`'s box lies inside the query: every entry is certain.
    all_inside: bool,
    q: QueryF32,
}

impl<'a> Search<'a> {
    pub(super) fn new(tree: &'a PageTree, heads: Option<Heads<'a>>, q: QueryF32) -> Search<'a> {
        Search {
            tree,
            heads,
            page: None,
            next: NO_PAGE,
            at: 0,
            all_inside: false,
            q,
        }
    }
}

impl Iterator for Search<'_> {
    type Item = (u32, bool);

    fn next(&mut self) -> Option<(u32, bool)> {
        loop {
            if let Some(page) = self.page {
                while self.at < page.len() {
                    let i = self.at;
                    self.at += 1;
                    if self.all_inside {
                        return Some((page.slot(i), true));
                    }
                    let e = page.entry(i);
                    if self.q.meets(&e) {
                        return Some((page.slot(i), self.q.inside(&e)));
                    }
                }
            }
            let p = match self.next {
                NO_PAGE => self.heads.as_mut()?.next()?.page,
                p => p,
            };
            let page = self.tree.pages.get(p);
            (self.page, self.next, self.at) = (Some(page), page.next, 0);
            self.all_inside = self.q.inside(&page.bbox);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `f32` bounds answer as the `f64` tests do, at ordinary
    /// coordinates, on `f32` steps, and beyond the `f32` range.
    #[test]
    fn f32_bounds_answer_as_f64_tests() {
        let mut s = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        let special = [
            0.0,
            -0.0,
            1e300,
            -1e300,
            f64::from(f32::MAX),
            -f64::from(f32::MAX),
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e-300,
            -1e-300,
        ];
        let value = |r: u64| match r % 4 {
            0 => special[(r >> 8) as usize % special.len()],
            1 => f64::from(((r >> 8) % 3600) as f32 / 10.0 - 180.0),
            _ => ((r >> 8) % 3_600_000_000) as f64 / 1e7 - 180.0,
        };
        let (mut met, mut inside) = (0, 0);
        for _ in 0..200_000 {
            let v: Vec<f64> = (0..6).map(|_| value(next())).collect();
            let q = [
                v[0].min(v[1]),
                v[2].min(v[3]),
                v[0].max(v[1]),
                v[2].max(v[3]),
            ];
            let e = Bbox::outward([v[4], v[5]], [v[4].max(v[5]), v[5]]);
            let f = QueryF32::new(&q);
            assert_eq!(f.meets(&e), e.meets(&q), "{q:?} {e:?}");
            assert_eq!(f.inside(&e), e.inside(&q), "{q:?} {e:?}");
            met += usize::from(e.meets(&q));
            inside += usize::from(e.inside(&q));
        }
        assert!(met > 1000 && inside > 1000, "{met} {inside}");
    }
}
