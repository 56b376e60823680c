//! The four geometry-level shapes of tidwall/geojson (`geometry.Point`,
//! `Rect`, `Line`, `Poly`) and their `ContainsX` / `IntersectsX` tables
//! (point.go, rect.go, line.go, poly.go).
//!
//! [`contains`] and [`intersects`] keep Go's receiver/argument roles: the
//! algorithms are not symmetric on boundaries, so `a.IntersectsPoly(b)` and
//! `b.IntersectsPoly(a)` are different calls here too.

use super::geom::{rect_contains_point, rect_contains_rect, rect_intersects_rect, Seg};
use super::index::{PolyIndex, RingIndex};
use super::ring;
use super::series::{PointSeries, RectRing, Series};
use crate::rect::{Position as P, Rect as R};

/// A polygon exterior: a point ring, or a rectangle (BOUNDS objects and
/// zero-radius circles are polygons whose exterior is a `geometry.Rect`).
pub(super) enum Ring<'a> {
    Points(PointSeries<'a>),
    Rect(RectRing),
}

macro_rules! delegate {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            Ring::Points($s) => $e,
            Ring::Rect($s) => $e,
        }
    };
}

impl Series for Ring<'_> {
    fn rect(&self) -> R {
        delegate!(self, s => s.rect())
    }
    fn empty(&self) -> bool {
        delegate!(self, s => s.empty())
    }
    fn convex(&self) -> bool {
        delegate!(self, s => s.convex())
    }
    fn clockwise(&self) -> bool {
        delegate!(self, s => s.clockwise())
    }
    fn num_points(&self) -> usize {
        delegate!(self, s => s.num_points())
    }
    fn num_segments(&self) -> usize {
        delegate!(self, s => s.num_segments())
    }
    fn point_at(&self, i: usize) -> P {
        delegate!(self, s => s.point_at(i))
    }
    fn segment_at(&self, i: usize) -> Seg {
        delegate!(self, s => s.segment_at(i))
    }
    fn search(&self, target: &R, f: impl FnMut(Seg, usize) -> bool) {
        delegate!(self, s => s.search(target, f))
    }
    fn search_along(&self, seg: &Seg, f: impl FnMut(Seg, usize) -> bool) {
        delegate!(self, s => s.search_along(seg, f))
    }
}

/// A polygon: exterior plus holes (holes are always point rings, prepared
/// by `hole_index` when it is not empty).
pub(super) struct Poly<'a> {
    pub ext: Ring<'a>,
    pub holes: &'a [Vec<P>],
    pub hole_index: &'a [RingIndex],
}

impl<'a> Poly<'a> {
    /// GeoJSON rings: exterior first. No ring at all behaves like Go's nil
    /// exterior (empty, contains and intersects nothing).
    pub fn from_rings(rings: &'a [Vec<P>]) -> Self {
        let (ext, holes): (&[P], &[Vec<P>]) = match rings.split_first() {
            Some((ext, holes)) => (ext, holes),
            None => (&[], &[]),
        };
        Poly {
            ext: Ring::Points(PointSeries::ring(ext)),
            holes,
            hole_index: &[],
        }
    }

    /// The polygon of `rings` with the facts prepared in `index`.
    pub fn indexed(rings: &'a [Vec<P>], index: &'a PolyIndex) -> Self {
        match rings.split_first() {
            Some((ext, holes)) => Poly {
                ext: Ring::Points(PointSeries::indexed(ext, &index.ext)),
                holes,
                hole_index: &index.holes,
            },
            None => Poly::from_rings(rings),
        }
    }

    /// `&Poly{Exterior: rect}`.
    pub fn from_rect(r: R) -> Poly<'static> {
        Poly {
            ext: Ring::Rect(RectRing(r)),
            holes: &[],
            hole_index: &[],
        }
    }

    pub fn empty(&self) -> bool {
        self.ext.empty()
    }

    pub fn rect(&self) -> R {
        self.ext.rect()
    }

    fn holes(&self) -> impl Iterator<Item = PointSeries<'a>> + 'a {
        let index = self.hole_index;
        self.holes
            .iter()
            .enumerate()
            .map(move |(i, h)| match index.get(i) {
                Some(ix) => PointSeries::indexed(h, ix),
                None => PointSeries::ring(h),
            })
    }

    /// In the exterior (edges included) and not strictly inside a hole.
    pub fn contains_point(&self, p: P) -> bool {
        ring::contains_point(&self.ext, p, true).hit
            && !self.holes().any(|h| ring::contains_point(&h, p, false).hit)
    }

    pub fn contains_line(&self, line: &PointSeries) -> bool {
        ring::contains_ring(&self.ext, line, true)
            && !self.holes().any(|h| ring::intersects_line(&h, line, false))
    }

    /// Only the exterior counts (a line inside a hole still intersects).
    pub fn intersects_line(&self, line: &PointSeries) -> bool {
        ring::intersects_line(&self.ext, line, true)
    }

    /// The other exterior is inside ours and touches none of our holes,
    /// unless such a hole lies inside one of its holes.
    pub fn contains_poly(&self, other: &Poly) -> bool {
        if !ring::contains_ring(&self.ext, &other.ext, true) {
            return false;
        }
        self.holes().all(|hole| {
            !ring::intersects_ring(&hole, &other.ext, false)
                || other
                    .holes()
                    .any(|oh| ring::contains_ring(&oh, &hole, true))
        })
    }

    /// Exteriors meet and neither exterior lies inside a hole of the other.
    pub fn intersects_poly(&self, other: &Poly) -> bool {
        ring::intersects_ring(&other.ext, &self.ext, true)
            && !self
                .holes()
                .any(|h| ring::contains_ring(&h, &other.ext, false))
            && !other
                .holes()
                .any(|h| ring::contains_ring(&h, &self.ext, false))
    }
}

/// `Line.ContainsPoint`: on one of its segments.
pub(super) fn line_contains_point(line: &PointSeries, p: P) -> bool {
    let mut on = false;
    line.search(&R::point(p), |seg, _| {
        on = seg.raycast(p).on;
        !on
    });
    on
}

/// `Line.ContainsLine`: walks `other` along `line` from the first segment
/// of `line` holding other's first segment.
///
/// Go's walk can step back and forth between two segments forever (e.g. a
/// line that continues straight past a corner of `line`); Tile38 then never
/// answers. Here a walk that revisits segments gives `false`.
pub(super) fn line_contains_line(line: &PointSeries, other: &PointSeries) -> bool {
    if line.empty() || other.empty() {
        return false;
    }
    let n_line = line.num_segments();
    let first = other.segment_at(0);
    let Some(mut idx) = (0..n_line).find(|&j| line.segment_at(j).contains_segment(&first)) else {
        return false;
    };
    let (mut i, mut moves) = (1, 0);
    while i < other.num_segments() {
        let (ls, os) = (line.segment_at(idx), other.segment_at(i));
        if !ls.contains_segment(&os) {
            let step_back = os.a == ls.a;
            if step_back || os.a == ls.b {
                if (step_back && idx == 0) || (!step_back && idx == n_line - 1) {
                    return false;
                }
                idx = if step_back { idx - 1 } else { idx + 1 };
                moves += 1;
                if moves > n_line {
                    return false; // Go would loop forever
                }
                continue; // retry the same segment of `other`
            }
        }
        i += 1;
        moves = 0;
    }
    true
}

/// `Line.IntersectsLine`: the line with fewer points is walked.
pub(super) fn line_intersects_line(line: &PointSeries, other: &PointSeries) -> bool {
    if line.empty() || other.empty() || !rect_intersects_rect(&line.rect(), &other.rect()) {
        return false;
    }
    let (a, b) = if line.num_points() > other.num_points() {
        (other, line)
    } else {
        (line, other)
    };
    (0..a.num_segments()).any(|i| {
        let seg = a.segment_at(i);
        let mut hit = false;
        b.search(&seg.rect(), |s2, _| {
            hit = seg.intersects_segment(&s2);
            !hit
        });
        hit
    })
}

/// `Line.ContainsPoly`: only a polygon flat enough to be a horizontal or
/// vertical segment can be on a line.
pub(super) fn line_contains_poly(line: &PointSeries, poly: &Poly) -> bool {
    if line.empty() || poly.empty() {
        return false;
    }
    let r = poly.rect();
    if r.min.x != r.max.x && r.min.y != r.max.y {
        return false;
    }
    let pts = [r.min, r.max];
    line_contains_line(line, &PointSeries::line(&pts))
}

/// A geometry-level shape.
pub(super) enum Base<'a> {
    Point(P),
    Rect(R),
    Line(PointSeries<'a>),
    Poly(Poly<'a>),
}

impl Base<'_> {
    pub fn rect(&self) -> R {
        match self {
            Base::Point(p) => R::point(*p),
            Base::Rect(r) => *r,
            Base::Line(l) => l.rect(),
            Base::Poly(p) => p.rect(),
        }
    }

    pub fn empty(&self) -> bool {
        match self {
            Base::Point(_) | Base::Rect(_) => false,
            Base::Line(l) => l.empty(),
            Base::Poly(p) => p.empty(),
        }
    }
}

/// `recv.ContainsX(arg)` for the sixteen shape pairs.
pub(super) fn contains(recv: &Base, arg: &Base) -> bool {
    use Base::*;
    match (recv, arg) {
        (Point(q), Point(p)) => q == p,
        (Point(q), Rect(r)) => R::point(*q) == *r,
        (Point(q), Line(l)) => !l.empty() && l.rect() == R::point(*q),
        (Point(q), Poly(p)) => !p.empty() && p.rect() == R::point(*q),
        (Rect(r), Point(p)) => rect_contains_point(r, *p),
        (Rect(r), Rect(o)) => rect_contains_rect(r, o),
        (Rect(r), Line(l)) => !l.empty() && rect_contains_rect(r, &l.rect()),
        (Rect(r), Poly(p)) => !p.empty() && rect_contains_rect(r, &p.rect()),
        (Line(l), Point(p)) => line_contains_point(l, *p),
        (Line(l), Rect(r)) => line_contains_poly(l, &super::shapes::Poly::from_rect(*r)),
        (Line(l), Line(o)) => line_contains_line(l, o),
        (Line(l), Poly(p)) => line_contains_poly(l, p),
        (Poly(pl), Point(p)) => pl.contains_point(*p),
        (Poly(pl), Rect(r)) => pl.contains_poly(&super::shapes::Poly::from_rect(*r)),
        (Poly(pl), Line(l)) => pl.contains_line(l),
        (Poly(pl), Poly(o)) => pl.contains_poly(o),
    }
}

/// `recv.IntersectsX(arg)` for the sixteen shape pairs.
pub(super) fn intersects(recv: &Base, arg: &Base) -> bool {
    use Base::*;
    match (recv, arg) {
        (Point(q), Point(p)) => q == p,
        (Point(q), Rect(r)) | (Rect(r), Point(q)) => rect_contains_point(r, *q),
        (Point(q), Line(l)) | (Line(l), Point(q)) => line_contains_point(l, *q),
        (Point(q), Poly(p)) | (Poly(p), Point(q)) => p.contains_point(*q),
        (Rect(r), Rect(o)) => rect_intersects_rect(r, o),
        (Rect(r), Line(l)) | (Line(l), Rect(r)) => ring::intersects_line(&RectRing(*r), l, true),
        // Rect.IntersectsPoly(p) and Poly.IntersectsRect(r) are both
        // p.IntersectsPoly(&Poly{Exterior: r}).
        (Rect(r), Poly(p)) | (Poly(p), Rect(r)) => {
            p.intersects_poly(&super::shapes::Poly::from_rect(*r))
        }
        (Line(l), Line(o)) => line_intersects_line(l, o),
        (Line(l), Poly(p)) | (Poly(p), Line(l)) => p.intersects_line(l),
        (Poly(p), Poly(o)) => p.intersects_poly(o),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(c: &[(f64, f64)]) -> Vec<P> {
        c.iter().map(|&(x, y)| P::new(x, y)).collect()
    }

    #[test]
    fn line_in_line_walks_and_terminates() {
        let l = pts(&[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0)]);
        let line = PointSeries::line(&l);
        let o = pts(&[(5.0, 0.0), (10.0, 0.0), (10.0, 5.0)]);
        assert!(line_contains_line(&line, &PointSeries::line(&o)));
        // Continues straight past the corner: Go never returns.
        let o = pts(&[(5.0, 0.0), (10.0, 0.0), (20.0, 0.0)]);
        assert!(!line_contains_line(&line, &PointSeries::line(&o)));
    }

    #[test]
    fn polygon_with_hole() {
        let rings = vec![
            pts(&[
                (0.0, 0.0),
                (10.0, 0.0),
                (10.0, 10.0),
                (0.0, 10.0),
                (0.0, 0.0),
            ]),
            pts(&[(4.0, 4.0), (6.0, 4.0), (6.0, 6.0), (4.0, 6.0), (4.0, 4.0)]),
        ];
        let poly = Poly::from_rings(&rings);
        assert!(poly.contains_point(P::new(1.0, 1.0)));
        assert!(!poly.contains_point(P::new(5.0, 5.0)));
        assert!(poly.contains_point(P::new(4.0, 5.0)), "hole edge is inside");
        let inner = Poly::from_rect(R::new(P::new(4.5, 4.5), P::new(5.5, 5.5)));
        assert!(!poly.intersects_poly(&inner));
        assert!(!poly.contains_poly(&inner));
        assert!(Poly::from_rings(&[]).empty());
    }
}
