//! A static box hierarchy over a prepared ring's segments, for the searches
//! the y-buckets of [`super::index`] cannot narrow: a query box spanning
//! more than one band (a tall or diagonal segment of a line crossing a
//! state's outline, a rectangle's side). Without it such a search scanned
//! every segment of the ring: `tile38-benchmark`'s Arizona test ran at a
//! third of its speed whenever one of the benchmark's random lines had a
//! box meeting Arizona's (2,800 segments scanned per line segment).
//!
//! A ring's consecutive segments are neighbours in space, so groups of
//! [`FAN`] consecutive segments have tight boxes, and groups of groups
//! too: the hierarchy is built in one pass with no sorting, and a walk
//! visits the segments whose box meets the query box in increasing order
//! (the order of a full scan, on which [`super::ring::contains_point`]'s
//! reported edge depends).
//!
//! A search along a segment (`along`) also skips a group whose box lies
//! clearly on one side of that segment's line: no segment in it can touch
//! the query segment, which the callers of
//! [`super::series::Series::search_along`] treat as a no-op. "Clearly" is
//! by a margin far above the rounding of Go's segment test (see
//! [`clear_of`]), so no segment Go's arithmetic would call touching is
//! skipped.

use super::geom::{rect_intersects_rect, Seg};
use super::series::Series;
use crate::rect::Rect as R;

/// Children per node.
const FAN: usize = 8;

/// Boxes of groups of segments: `levels[0][j]` covers segments
/// `j*FAN .. (j+1)*FAN`, `levels[k][j]` covers nodes `j*FAN .. (j+1)*FAN`
/// of level `k - 1`; the last level has at most [`FAN`] nodes.
pub(super) struct SegTree {
    segments: usize,
    levels: Vec<Vec<R>>,
}

impl SegTree {
    /// The hierarchy of `s`'s segments; the caller checks that every
    /// coordinate is finite (a NaN would drop out of the boxes' unions,
    /// while Go's box test never rejects it).
    pub fn build<S: Series>(s: &S) -> SegTree {
        let segments = s.num_segments();
        let union = |boxes: &mut dyn Iterator<Item = R>| {
            let first = boxes.next().expect("a group is never empty");
            boxes.fold(first, |u, r| u.union(&r))
        };
        let leaves: Vec<R> = (0..segments.div_ceil(FAN))
            .map(|j| {
                let end = ((j + 1) * FAN).min(segments);
                union(&mut (j * FAN..end).map(|i| s.segment_at(i).rect()))
            })
            .collect();
        let mut levels = vec![leaves];
        while let Some(top) = levels.last().filter(|l| l.len() > FAN) {
            let up = top
                .chunks(FAN)
                .map(|c| union(&mut c.iter().copied()))
                .collect();
            levels.push(up);
        }
        SegTree { segments, levels }
    }

    /// Calls `visit(i)` for every segment in a group whose box meets
    /// `target` (and is not clear of `along`), in increasing order, until
    /// it returns false; returns false if it did. `visit` does the exact
    /// per-segment box test.
    pub fn walk(
        &self,
        target: &R,
        along: Option<&Seg>,
        visit: &mut dyn FnMut(usize) -> bool,
    ) -> bool {
        let top = self.levels.len() - 1;
        (0..self.levels[top].len()).all(|j| self.node(top, j, target, along, visit))
    }

    fn node(
        &self,
        level: usize,
        j: usize,
        target: &R,
        along: Option<&Seg>,
        visit: &mut dyn FnMut(usize) -> bool,
    ) -> bool {
        let r = &self.levels[level][j];
        if !rect_intersects_rect(r, target) || along.is_some_and(|s| clear_of(s, r)) {
            return true;
        }
        let lo = j * FAN;
        if level == 0 {
            return (lo..(lo + FAN).min(self.segments)).all(visit);
        }
        let hi = (lo + FAN).min(self.levels[level - 1].len());
        (lo..hi).all(|c| self.node(level - 1, c, target, along, visit))
    }
}

/// Whether every point of `r` lies on the same side of the line through
/// `seg`, each corner farther from it than `1e-12·m²` in cross-product
/// units (`m` the largest coordinate involved). The cross products Go's
/// `IntersectsSegment` compares are rounded by about `1e-15·m²`, so for a
/// segment with both ends in `r` it sees the same strict side and answers
/// "no intersection". NaN or infinite values never make a box clear.
pub(super) fn clear_of(seg: &Seg, r: &R) -> bool {
    let (a, b) = (seg.a, seg.b);
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let side = |x: f64, y: f64| dx * (y - a.y) - dy * (x - a.x);
    let m = [a.x, a.y, b.x, b.y, r.min.x, r.min.y, r.max.x, r.max.y]
        .iter()
        .fold(0f64, |m, v| m.max(v.abs()));
    let tol = m * m * 1e-12;
    let s = [
        side(r.min.x, r.min.y),
        side(r.max.x, r.min.y),
        side(r.min.x, r.max.y),
        side(r.max.x, r.max.y),
    ];
    s.iter().all(|&v| v > tol) || s.iter().all(|&v| v < -tol)
}

#[cfg(test)]
mod tests {
    use super::super::series::PointSeries;
    use super::*;
    use crate::rect::Position as P;

    /// A jagged ring of `n` points around the origin.
    fn star(n: usize) -> Vec<P> {
        let mut pts: Vec<P> = (0..n)
            .map(|i| {
                let a = i as f64 / n as f64 * std::f64::consts::TAU;
                let r = if i % 3 == 0 {
                    10.0
                } else {
                    7.0 + (i % 5) as f64 * 0.3
                };
                P::new(r * a.cos(), r * a.sin())
            })
            .collect();
        pts.push(pts[0]);
        pts
    }

    #[test]
    fn walk_visits_what_a_scan_meets_in_order() {
        let pts = star(1000);
        let s = PointSeries::ring(&pts);
        let tree = SegTree::build(&s);
        assert!(tree.levels.len() >= 3);
        for k in 0..400 {
            let (x, y) = ((k % 20) as f64 - 10.0, (k / 20) as f64 - 10.0);
            let target = R::new(P::new(x, y), P::new(x + 1.5 + (k % 7) as f64, y + 0.5));
            let meets = |i: usize| rect_intersects_rect(&s.segment_at(i).rect(), &target);
            let scan: Vec<usize> = (0..s.num_segments()).filter(|&i| meets(i)).collect();
            let mut seen = Vec::new();
            tree.walk(&target, None, &mut |i| {
                if meets(i) {
                    seen.push(i);
                }
                true
            });
            assert_eq!(seen, scan, "{target:?}");
        }
    }

    #[test]
    fn walk_along_keeps_every_touching_segment() {
        let pts = star(1000);
        let s = PointSeries::ring(&pts);
        let tree = SegTree::build(&s);
        for k in 0..300 {
            let t = k as f64 * 0.37;
            let q = Seg::new(
                P::new(12.0 * t.cos(), 12.0 * t.sin()),
                P::new(-11.0 * (t * 1.7).sin(), 9.5 * (t * 0.3).cos()),
            );
            let touching: Vec<usize> = (0..s.num_segments())
                .filter(|&i| q.intersects_segment(&s.segment_at(i)))
                .collect();
            let mut seen = Vec::new();
            let mut visited = 0;
            tree.walk(&q.rect(), Some(&q), &mut |i| {
                visited += 1;
                if q.intersects_segment(&s.segment_at(i)) {
                    seen.push(i);
                }
                true
            });
            assert_eq!(seen, touching, "{q:?}");
            assert!(
                visited < s.num_segments() / 2,
                "{visited} visited for {q:?}"
            );
        }
    }

    #[test]
    fn clear_of_is_strict_and_nan_safe() {
        let q = Seg::new(P::new(0.0, 0.0), P::new(10.0, 10.0));
        let above = R::new(P::new(0.0, 5.0), P::new(1.0, 6.0));
        assert!(clear_of(&q, &above));
        let touching = R::new(P::new(4.0, 5.0), P::new(5.0, 6.0));
        assert!(!clear_of(&q, &touching));
        let nan = R::new(P::new(f64::NAN, 5.0), P::new(1.0, 6.0));
        assert!(!clear_of(&q, &nan));
        let inf = R::new(P::new(0.0, 5.0), P::new(1.0, f64::INFINITY));
        assert!(!clear_of(&q, &inf));
    }
}
