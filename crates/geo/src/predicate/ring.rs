//! Ring algorithms of tidwall/geojson's `geometry` package (`ring.go`):
//! point in ring, segment in ring, ring in ring and their "intersects"
//! counterparts, each with Go's `allowOnEdge` switch (exteriors accept
//! boundary contact, holes do not).
//!
//! The functions are generic over [`Series`] so that the same code runs on
//! point rings, lines (a line is tested as an open ring) and rectangles.

use super::geom::{rect_area, rect_contains_point, rect_contains_rect, rect_intersects_rect, Seg};
use super::series::{RectRing, Series};
use crate::rect::{Position as P, Rect as R};

/// Rings with this many points are first tested through their bounding box.
const COMPLEX_RING_MIN_POINTS: usize = 16;

/// Outcome of [`contains_point`]: whether the point is in, and the index of
/// the ring segment it lies on, if any.
#[derive(Clone, Copy, Debug)]
pub(super) struct Hit {
    pub hit: bool,
    pub edge: Option<usize>,
}

/// `ringContainsPoint`: crossing-number test over the segments whose
/// y-range holds the point; a point on a segment is in iff `allow_on_edge`.
pub(super) fn contains_point<S: Series>(ring: &S, point: P, allow_on_edge: bool) -> Hit {
    let mut res = Hit {
        hit: false,
        edge: None,
    };
    if !rect_contains_point(&ring.rect(), point) {
        return res;
    }
    let band = R::new(
        P::new(f64::NEG_INFINITY, point.y),
        P::new(f64::INFINITY, point.y),
    );
    ring.search(&band, |seg, idx| {
        let ray = seg.raycast(point);
        if ray.on {
            res.hit = allow_on_edge;
            res.edge = Some(idx);
            return false;
        }
        if ray.inside {
            res.hit = !res.hit;
        }
        true
    });
    res
}

/// Whether `seg` crosses a ring segment other than where `skip` says it
/// may touch (the three edge cases of `ringContainsSegment`).
fn crosses_ring<S: Series>(ring: &S, seg: &Seg, skip: impl Fn(&Seg) -> bool) -> bool {
    let mut crosses = false;
    ring.search_along(seg, |seg2, _| {
        if seg.intersects_segment(&seg2) && !skip(&seg2) {
            crosses = true;
            return false;
        }
        true
    });
    crosses
}

/// `ringContainsSegment`.
pub(super) fn contains_segment<S: Series>(ring: &S, seg: &Seg, allow_on_edge: bool) -> bool {
    let rr = ring.rect();
    if !rect_contains_point(&rr, seg.a) || !rect_contains_point(&rr, seg.b) {
        return false;
    }
    let res_a = contains_point(ring, seg.a, allow_on_edge);
    if !res_a.hit {
        return false;
    }
    if seg.b == seg.a {
        return true;
    }
    let res_b = contains_point(ring, seg.b, allow_on_edge);
    if !res_b.hit {
        return false;
    }
    if ring.convex() {
        return true;
    }
    if !allow_on_edge {
        // Any contact with the boundary disqualifies.
        return !crosses_ring(ring, seg, |_| false);
    }
    match (res_a.edge, res_b.edge) {
        (Some(ia), Some(ib)) => {
            if ia == ib {
                // Both ends on the same ring segment: along the boundary.
                return true;
            }
            let (mut sa, mut sb) = (ring.segment_at(ia), ring.segment_at(ib));
            let (a, b) = (seg.a, seg.b);
            if sa.a == a || sa.b == a || sb.a == a || sb.b == a {
                return true;
            }
            if sa.a == b || sa.b == b || sb.a == b || sb.b == b {
                return true;
            }
            if ib < ia {
                std::mem::swap(&mut sa, &mut sb);
            }
            // Does the space between the two ring segments wind like the
            // ring (inside) or against it (outside)?
            let pts = [sa.a, sa.b, sb.a, sb.b, sa.a];
            let cwc = pts
                .windows(2)
                .fold(0.0, |acc, w| acc + (w[1].x - w[0].x) * (w[1].y + w[0].y));
            if (cwc > 0.0) != ring.clockwise() {
                return false;
            }
            !crosses_ring(ring, seg, |s2| s2.raycast(a).on || s2.raycast(b).on)
        }
        (Some(_), None) => !crosses_ring(ring, seg, |s2| s2.raycast(seg.a).on),
        (None, Some(_)) => !crosses_ring(ring, seg, |s2| s2.raycast(seg.b).on),
        (None, None) => !crosses_ring(ring, seg, |s2| seg.raycast(s2.a).on || seg.raycast(s2.b).on),
    }
}

/// `ringIntersectsSegment`: an end inside, or the segment passes over at
/// least two ring segments.
pub(super) fn intersects_segment<S: Series>(ring: &S, seg: &Seg, allow_on_edge: bool) -> bool {
    if !rect_intersects_rect(&seg.rect(), &ring.rect()) {
        return false;
    }
    if contains_point(ring, seg.a, allow_on_edge).hit
        || contains_point(ring, seg.b, allow_on_edge).hit
    {
        return true;
    }
    let (mut count, mut a_on, mut b_on) = (0, false, false);
    // A ring segment not touching `seg` changes nothing below.
    ring.search_along(seg, |seg2, _| {
        if seg.intersects_segment(&seg2) {
            if allow_on_edge {
                count += 1;
            } else if !(seg.collinear_point(seg2.a) && seg.collinear_point(seg2.b)) {
                // The first ring segment through each end is only a touch.
                if !a_on && (seg.a == seg2.a || seg.a == seg2.b) {
                    a_on = true;
                    return true;
                }
                if !b_on && (seg.b == seg2.a || seg.b == seg2.b) {
                    b_on = true;
                    return true;
                }
                count += 1;
            }
        }
        count < 2
    });
    count >= 2
}

/// `ringContainsRing` (also used for lines, as `ringContainsLine`).
pub(super) fn contains_ring<A: Series, B: Series>(
    ring: &A,
    other: &B,
    allow_on_edge: bool,
) -> bool {
    if ring.empty() || other.empty() {
        return false;
    }
    if other.num_points() >= COMPLEX_RING_MIN_POINTS
        && contains_ring(ring, &RectRing(other.rect()), allow_on_edge)
    {
        return true;
    }
    if !rect_contains_rect(&ring.rect(), &other.rect()) {
        return false;
    }
    if ring.convex() {
        (0..other.num_points()).all(|i| contains_point(ring, other.point_at(i), allow_on_edge).hit)
    } else {
        (0..other.num_segments())
            .all(|i| contains_segment(ring, &other.segment_at(i), allow_on_edge))
    }
}

/// `ringIntersectsRing`: the segments of the smaller ring (by bounding box
/// area) are tested against the larger ring.
pub(super) fn intersects_ring<A: Series, B: Series>(
    ring: &A,
    other: &B,
    allow_on_edge: bool,
) -> bool {
    if ring.empty() || other.empty() {
        return false;
    }
    let (rr, or) = (ring.rect(), other.rect());
    if !rect_intersects_rect(&rr, &or) {
        return false;
    }
    if rect_area(&or) > rect_area(&rr) {
        segments_intersect_ring(other, ring, allow_on_edge)
    } else {
        segments_intersect_ring(ring, other, allow_on_edge)
    }
}

fn segments_intersect_ring<A: Series, B: Series>(ring: &A, other: &B, allow_on_edge: bool) -> bool {
    (0..other.num_segments()).any(|i| intersects_segment(ring, &other.segment_at(i), allow_on_edge))
}

/// `ringIntersectsLine`: a line point inside, or a line segment crossing.
pub(super) fn intersects_line<A: Series, L: Series>(
    ring: &A,
    line: &L,
    allow_on_edge: bool,
) -> bool {
    if ring.empty() || line.empty() {
        return false;
    }
    if !rect_intersects_rect(&ring.rect(), &line.rect()) {
        return false;
    }
    (0..line.num_points()).any(|i| contains_point(ring, line.point_at(i), allow_on_edge).hit)
        || (0..line.num_segments())
            .any(|i| intersects_segment(ring, &line.segment_at(i), allow_on_edge))
}

#[cfg(test)]
mod tests {
    use super::super::series::PointSeries;
    use super::*;

    fn pts(c: &[(f64, f64)]) -> Vec<P> {
        c.iter().map(|&(x, y)| P::new(x, y)).collect()
    }

    #[test]
    fn point_in_ring_with_edges() {
        let sq = pts(&[(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0), (0.0, 0.0)]);
        let ring = PointSeries::ring(&sq);
        assert!(contains_point(&ring, P::new(2.0, 2.0), true).hit);
        assert!(contains_point(&ring, P::new(0.0, 2.0), true).hit);
        assert!(!contains_point(&ring, P::new(0.0, 2.0), false).hit);
        assert!(contains_point(&ring, P::new(4.0, 4.0), true).hit);
        assert!(!contains_point(&ring, P::new(5.0, 2.0), true).hit);
    }

    #[test]
    fn concave_ring_segments() {
        // A "U": the segment across the notch leaves the ring.
        let u = pts(&[
            (0.0, 0.0),
            (6.0, 0.0),
            (6.0, 6.0),
            (4.0, 6.0),
            (4.0, 2.0),
            (2.0, 2.0),
            (2.0, 6.0),
            (0.0, 6.0),
            (0.0, 0.0),
        ]);
        let ring = PointSeries::ring(&u);
        assert!(!ring.convex());
        let across = Seg::new(P::new(1.0, 5.0), P::new(5.0, 5.0));
        assert!(!contains_segment(&ring, &across, true));
        let inside = Seg::new(P::new(1.0, 1.0), P::new(5.0, 1.0));
        assert!(contains_segment(&ring, &inside, true));
        let r = RectRing(R::new(P::new(1.0, 0.5), P::new(5.0, 1.5)));
        assert!(contains_ring(&ring, &r, true));
        assert!(intersects_ring(&ring, &r, true));
    }
}
