//! The `Series` view of rings and lines (Go's `geometry.Series`): point
//! series with Go's lazily shared facts (bounding box, convexity, winding)
//! and rectangles used as rings.

use std::cell::Cell;

use super::geom::{rect_intersects_rect, Seg};
use super::index::RingIndex;
use crate::rect::{Position as P, Rect as R};

/// A ring or line as the ring algorithms see it (Go's `geometry.Series`).
pub(super) trait Series {
    fn rect(&self) -> R;
    fn empty(&self) -> bool;
    fn convex(&self) -> bool;
    fn clockwise(&self) -> bool;
    fn num_points(&self) -> usize;
    fn num_segments(&self) -> usize;
    fn point_at(&self, i: usize) -> P;
    fn segment_at(&self, i: usize) -> Seg;

    /// Calls `f(segment, index)` for every segment whose bounding box meets
    /// `target`, until `f` returns false. (Go indexes series of 64+ points
    /// with a quadtree; the set of segments visited is the same, and no
    /// caller depends on the order.)
    fn search(&self, target: &R, mut f: impl FnMut(Seg, usize) -> bool) {
        for i in 0..self.num_segments() {
            let seg = self.segment_at(i);
            if rect_intersects_rect(&seg.rect(), target) && !f(seg, i) {
                return;
            }
        }
    }

    /// [`Series::search`] with `seg`'s box, for callers to which a segment
    /// that does not touch `seg` is a no-op (`f` returns true and changes
    /// nothing): an indexed ring then skips whole groups of segments lying
    /// clear of `seg`'s line (see `segtree`).
    fn search_along(&self, seg: &Seg, f: impl FnMut(Seg, usize) -> bool) {
        self.search(&seg.rect(), f)
    }
}

/// Shape facts Go computes once per series (`processPoints`).
#[derive(Clone, Copy)]
pub(super) struct Shape {
    convex: bool,
    clockwise: bool,
}

/// A series of points: a ring (`closed`) or a line. The bounding box and
/// convexity are computed on first use, so a point-in-polygon test costs one
/// pass for the box and one for the ray cast, with no allocation. A ring of
/// a prepared area carries its [`RingIndex`] instead.
pub(super) struct PointSeries<'a> {
    points: &'a [P],
    closed: bool,
    rect: Cell<Option<R>>,
    shape: Cell<Option<Shape>>,
    index: Option<&'a RingIndex>,
}

impl<'a> PointSeries<'a> {
    pub fn ring(points: &'a [P]) -> Self {
        Self::new(points, true)
    }

    pub fn line(points: &'a [P]) -> Self {
        Self::new(points, false)
    }

    /// A ring with facts prepared by `index` (built from the same points).
    pub fn indexed(points: &'a [P], index: &'a RingIndex) -> Self {
        PointSeries {
            points,
            closed: true,
            rect: Cell::new(Some(index.rect)),
            shape: Cell::new(Some(index.shape)),
            index: Some(index),
        }
    }

    fn new(points: &'a [P], closed: bool) -> Self {
        PointSeries {
            points,
            closed,
            rect: Cell::new(None),
            shape: Cell::new(None),
            index: None,
        }
    }

    /// Too short to be processed: Go then leaves the box zero and the
    /// series non-convex and counter-clockwise.
    fn degenerate(&self) -> bool {
        (self.closed && self.points.len() < 3) || self.points.len() < 2
    }

    pub fn shape(&self) -> Shape {
        if let Some(s) = self.shape.get() {
            return s;
        }
        let s = process_points(self.points, self.degenerate());
        self.shape.set(Some(s));
        s
    }
}

/// Go's bounding box of a series: one `else if` per axis, so NaN
/// coordinates are skipped unless the first point has them.
fn series_rect(points: &[P]) -> R {
    let mut r = R::point(points[0]);
    for p in &points[1..] {
        if p.x < r.min.x {
            r.min.x = p.x;
        } else if p.x > r.max.x {
            r.max.x = p.x;
        }
        if p.y < r.min.y {
            r.min.y = p.y;
        } else if p.y > r.max.y {
            r.max.y = p.y;
        }
    }
    r
}

/// Convexity and winding, as Go's `processPoints` computes them.
fn process_points(points: &[P], degenerate: bool) -> Shape {
    if degenerate {
        return Shape {
            convex: false,
            clockwise: false,
        };
    }
    let n = points.len();
    let (mut concave, mut dir, mut cwc) = (false, 0i8, 0.0);
    for i in 0..n {
        let a = points[i];
        let (b, c) = if i == n - 1 {
            (points[0], points[1])
        } else if i == n - 2 {
            (points[i + 1], points[0])
        } else {
            (points[i + 1], points[i + 2])
        };
        cwc += (b.x - a.x) * (b.y + a.y);
        if concave {
            continue;
        }
        let z = (b.x - a.x) * (c.y - b.y) - (b.y - a.y) * (c.x - b.x);
        if dir == 0 {
            dir = if z < 0.0 {
                -1
            } else if z > 0.0 {
                1
            } else {
                0
            };
        } else if (z < 0.0 && dir == 1) || (z > 0.0 && dir == -1) {
            concave = true;
        }
    }
    Shape {
        convex: !concave,
        clockwise: cwc > 0.0,
    }
}

impl Series for PointSeries<'_> {
    fn rect(&self) -> R {
        if let Some(r) = self.rect.get() {
            return r;
        }
        let r = if self.degenerate() {
            R::default()
        } else {
            series_rect(self.points)
        };
        self.rect.set(Some(r));
        r
    }

    fn empty(&self) -> bool {
        self.degenerate()
    }

    fn convex(&self) -> bool {
        self.shape().convex
    }

    fn clockwise(&self) -> bool {
        self.shape().clockwise
    }

    fn num_points(&self) -> usize {
        self.points.len()
    }

    fn num_segments(&self) -> usize {
        let n = self.points.len();
        if self.closed {
            if n < 3 {
                0
            } else if self.points[n - 1] == self.points[0] {
                n - 1
            } else {
                n
            }
        } else {
            n.saturating_sub(1)
        }
    }

    fn point_at(&self, i: usize) -> P {
        self.points[i]
    }

    fn segment_at(&self, i: usize) -> Seg {
        let b = if i == self.points.len() - 1 {
            self.points[0]
        } else {
            self.points[i + 1]
        };
        Seg::new(self.points[i], b)
    }

    fn search(&self, target: &R, f: impl FnMut(Seg, usize) -> bool) {
        self.search_in(target, None, f)
    }

    fn search_along(&self, seg: &Seg, f: impl FnMut(Seg, usize) -> bool) {
        self.search_in(&seg.rect(), Some(seg), f)
    }
}

impl PointSeries<'_> {
    fn search_in(&self, target: &R, along: Option<&Seg>, mut f: impl FnMut(Seg, usize) -> bool) {
        let mut visit = |i: usize| {
            let seg = self.segment_at(i);
            !rect_intersects_rect(&seg.rect(), target) || f(seg, i)
        };
        match self.index {
            Some(ix) => ix.visit(target, along, &mut visit),
            None => {
                let _ = (0..self.num_segments()).all(visit);
            }
        }
    }
}

/// A rectangle used as a ring (Go's `geometry.Rect` implements `Series`):
/// counter-clockwise from the min corner, always convex, never empty.
#[derive(Clone, Copy, Debug)]
pub(super) struct RectRing(pub R);

impl RectRing {
    fn corner(&self, i: usize) -> P {
        let r = &self.0;
        match i % 4 {
            0 => P::new(r.min.x, r.min.y),
            1 => P::new(r.max.x, r.min.y),
            2 => P::new(r.max.x, r.max.y),
            _ => P::new(r.min.x, r.max.y),
        }
    }
}

impl Series for RectRing {
    fn rect(&self) -> R {
        self.0
    }

    fn empty(&self) -> bool {
        false
    }

    fn convex(&self) -> bool {
        true
    }

    fn clockwise(&self) -> bool {
        false
    }

    fn num_points(&self) -> usize {
        5
    }

    fn num_segments(&self) -> usize {
        4
    }

    fn point_at(&self, i: usize) -> P {
        self.corner(i)
    }

    fn segment_at(&self, i: usize) -> Seg {
        Seg::new(self.corner(i), self.corner(i + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(ax: f64, ay: f64, bx: f64, by: f64) -> Seg {
        Seg::new(P::new(ax, ay), P::new(bx, by))
    }

    #[test]
    fn series_facts() {
        let ccw = [
            P::new(0.0, 0.0),
            P::new(1.0, 0.0),
            P::new(1.0, 1.0),
            P::new(0.0, 1.0),
            P::new(0.0, 0.0),
        ];
        let s = PointSeries::ring(&ccw);
        assert!(s.convex() && !s.clockwise() && !s.empty());
        assert_eq!(s.num_segments(), 4);
        assert_eq!(s.rect(), R::new(P::new(0.0, 0.0), P::new(1.0, 1.0)));
        let cw: Vec<P> = ccw.iter().rev().copied().collect();
        assert!(PointSeries::ring(&cw).clockwise());
        assert!(PointSeries::ring(&ccw[..2]).empty());
        assert_eq!(PointSeries::line(&ccw[..1]).rect(), R::default());
        let r = RectRing(R::new(P::new(0.0, 0.0), P::new(1.0, 1.0)));
        assert_eq!(r.segment_at(3), seg(0.0, 1.0, 0.0, 0.0));
    }
}
