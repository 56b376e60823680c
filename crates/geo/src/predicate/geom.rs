//! Geometry primitives with tidwall/geojson's `geometry` package semantics:
//! rectangle tests and segments (ray casting, segment intersection).
//!
//! Every comparison is written the way Go writes it, in the same order, so
//! that boundary cases, inverted rectangles and NaN coordinates come out as
//! they do in Tile38 (a NaN comparison is false in both languages).

use crate::rect::{Position as P, Rect as R};

/// `Rect.ContainsPoint`: closed on every side.
#[inline]
pub(super) fn rect_contains_point(r: &R, p: P) -> bool {
    p.x >= r.min.x && p.x <= r.max.x && p.y >= r.min.y && p.y <= r.max.y
}

/// `Rect.ContainsRect`. Written as "no side sticks out" like Go, which
/// matters for NaN: a NaN side never sticks out.
#[inline]
pub(super) fn rect_contains_rect(r: &R, o: &R) -> bool {
    !(o.min.x < r.min.x || o.max.x > r.max.x || o.min.y < r.min.y || o.max.y > r.max.y)
}

/// `Rect.IntersectsRect`: touching rectangles intersect.
#[inline]
pub(super) fn rect_intersects_rect(r: &R, o: &R) -> bool {
    !(r.min.y > o.max.y || r.max.y < o.min.y || r.min.x > o.max.x || r.max.x < o.min.x)
}

/// `Rect.Area` (negative for an inverted rectangle, as in Go).
#[inline]
pub(super) fn rect_area(r: &R) -> f64 {
    (r.max.x - r.min.x) * (r.max.y - r.min.y)
}

/// `Rect.Center`.
#[inline]
pub(super) fn rect_center(r: &R) -> P {
    P::new((r.max.x + r.min.x) / 2.0, (r.max.y + r.min.y) / 2.0)
}

/// tidwall/geojson v1.4.6's `eqZero` (segment.go): `!(x < 0 || x > 0)`.
/// The same as `x == 0.0` except that NaN counts as zero, so a cross
/// product made NaN by a NaN or infinite coordinate takes the "collinear"
/// branch of `IntersectsSegment` and makes `CollinearPoint` true.
#[inline]
fn eq_zero(x: f64) -> bool {
    // Not Go's spelling: clippy would turn `!(x < 0.0 || x > 0.0)` into
    // `x == 0.0`, which is false for NaN.
    x == 0.0 || x.is_nan()
}

/// Go's `math.Nextafter(x, +Inf)`.
fn next_up(x: f64) -> f64 {
    if x.is_nan() || x == f64::INFINITY {
        return x;
    }
    if x == 0.0 {
        return f64::from_bits(1);
    }
    let bits = x.to_bits();
    f64::from_bits(if x > 0.0 { bits + 1 } else { bits - 1 })
}

/// Result of [`Seg::raycast`]: `inside` means a horizontal ray from the
/// point towards +x crosses the segment; `on` means the point is on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Ray {
    pub inside: bool,
    pub on: bool,
}

const MISS: Ray = Ray {
    inside: false,
    on: false,
};
const ON: Ray = Ray {
    inside: false,
    on: true,
};
const IN: Ray = Ray {
    inside: true,
    on: false,
};

/// A two-point segment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Seg {
    pub a: P,
    pub b: P,
}

impl Seg {
    pub fn new(a: P, b: P) -> Seg {
        Seg { a, b }
    }

    /// The segment's bounding rectangle (min/max swapped into order).
    pub fn rect(&self) -> R {
        let mut r = R::new(self.a, self.b);
        if r.min.x > r.max.x {
            std::mem::swap(&mut r.min.x, &mut r.max.x);
        }
        if r.min.y > r.max.y {
            std::mem::swap(&mut r.min.y, &mut r.max.y);
        }
        r
    }

    /// `Segment.Raycast`: the crossing-number step of point-in-ring, plus the
    /// "point is on the segment" test. Vertices on the ray are handled by
    /// nudging the point up by one ulp, as Go does.
    pub fn raycast(&self, point: P) -> Ray {
        let (mut p, a, b) = (point, self.a, self.b);
        if (a.y < b.y && (p.y < a.y || p.y > b.y)) || (a.y > b.y && (p.y < b.y || p.y > a.y)) {
            return MISS;
        }
        if a.y == b.y {
            if a.x == b.x {
                return if p == a { ON } else { MISS };
            }
            if p.y == b.y {
                // Horizontal segment: on it when within its x range.
                let (lo, hi) = if a.x < b.x { (a.x, b.x) } else { (b.x, a.x) };
                if p.x >= lo && p.x <= hi {
                    return ON;
                }
            }
        }
        if a.x == b.x && p.x == b.x {
            // Vertical segment.
            let (lo, hi) = if a.y < b.y { (a.y, b.y) } else { (b.y, a.y) };
            if p.y >= lo && p.y <= hi {
                return ON;
            }
        }
        if (p.x - a.x) / (b.x - a.x) == (p.y - a.y) / (b.y - a.y) {
            return ON;
        }
        // Go loops forever on an infinite y here; stop instead.
        while (p.y == a.y || p.y == b.y) && p.y != f64::INFINITY {
            p.y = next_up(p.y);
        }
        if a.y < b.y {
            if p.y < a.y || p.y > b.y {
                return MISS;
            }
        } else if p.y < b.y || p.y > a.y {
            return MISS;
        }
        if a.x > b.x {
            if p.x >= a.x {
                return MISS;
            }
            if p.x <= b.x {
                return IN;
            }
        } else {
            if p.x >= b.x {
                return MISS;
            }
            if p.x <= a.x {
                return IN;
            }
        }
        let crosses = if a.y < b.y {
            (p.y - a.y) / (p.x - a.x) >= (b.y - a.y) / (b.x - a.x)
        } else {
            (p.y - b.y) / (p.x - b.x) >= (a.y - b.y) / (a.x - b.x)
        };
        if crosses {
            IN
        } else {
            MISS
        }
    }

    /// `Segment.CollinearPoint`: exact zero cross product.
    pub fn collinear_point(&self, p: P) -> bool {
        let (cmpx, cmpy) = (p.x - self.a.x, p.y - self.a.y);
        let (rx, ry) = (self.b.x - self.a.x, self.b.y - self.a.y);
        eq_zero(cmpx * ry - cmpy * rx)
    }

    /// `Segment.ContainsSegment`: both ends of `other` are on this segment.
    pub fn contains_segment(&self, other: &Seg) -> bool {
        self.raycast(other.a).on && self.raycast(other.b).on
    }

    /// `Segment.IntersectsSegment`: closed segments, shared endpoints and
    /// collinear overlaps count.
    pub fn intersects_segment(&self, other: &Seg) -> bool {
        let (a, b, c, d) = (self.a, self.b, other.a, other.b);
        // Bounding boxes, compared exactly as Go does (NaN never rejects).
        let (s_lo_y, s_hi_y) = if a.y > b.y { (b.y, a.y) } else { (a.y, b.y) };
        let (o_lo_y, o_hi_y) = if c.y > d.y { (d.y, c.y) } else { (c.y, d.y) };
        if s_lo_y > o_hi_y || s_hi_y < o_lo_y {
            return false;
        }
        let (s_lo_x, s_hi_x) = if a.x > b.x { (b.x, a.x) } else { (a.x, b.x) };
        let (o_lo_x, o_hi_x) = if c.x > d.x { (d.x, c.x) } else { (c.x, d.x) };
        if s_lo_x > o_hi_x || s_hi_x < o_lo_x {
            return false;
        }
        if a == c || a == d || b == c || b == d {
            return true;
        }
        let (cmpx, cmpy) = (c.x - a.x, c.y - a.y);
        let (rx, ry) = (b.x - a.x, b.y - a.y);
        let cmpxr = cmpx * ry - cmpy * rx;
        if eq_zero(cmpxr) {
            // Collinear (or NaN): c lies between a and b on neither axis → only an
            // end of `other` on this segment can make them touch.
            if (c.x - a.x <= 0.0) == (c.x - b.x <= 0.0) && (c.y - a.y <= 0.0) == (c.y - b.y <= 0.0)
            {
                return self.raycast(c).on || self.raycast(d).on;
            }
            return true;
        }
        let (sx, sy) = (d.x - c.x, d.y - c.y);
        let cmpxs = cmpx * sy - cmpy * sx;
        let rxs = rx * sy - ry * sx;
        if eq_zero(rxs) {
            return false; // parallel (or NaN)
        }
        let rxsr = 1.0 / rxs;
        let t = cmpxs * rxsr;
        let u = cmpxr * rxsr;
        (0.0..=1.0).contains(&t) && (0.0..=1.0).contains(&u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(ax: f64, ay: f64, bx: f64, by: f64) -> Seg {
        Seg::new(P::new(ax, ay), P::new(bx, by))
    }

    #[test]
    fn raycast_on_and_in() {
        let s = seg(0.0, 0.0, 2.0, 2.0);
        assert_eq!(s.raycast(P::new(1.0, 1.0)), ON);
        assert_eq!(s.raycast(P::new(0.0, 1.0)), IN);
        assert_eq!(s.raycast(P::new(3.0, 1.0)), MISS);
        assert_eq!(s.raycast(P::new(1.0, 3.0)), MISS);
        // A vertex at the ray's height counts once (point nudged upwards).
        assert_eq!(s.raycast(P::new(-1.0, 0.0)), IN);
        assert_eq!(s.raycast(P::new(-1.0, 2.0)), MISS);
        assert_eq!(seg(0.0, 0.0, 2.0, 0.0).raycast(P::new(1.0, 0.0)), ON);
        assert_eq!(seg(1.0, 1.0, 1.0, 1.0).raycast(P::new(1.0, 1.0)), ON);
        assert_eq!(s.raycast(P::new(f64::NAN, 1.0)), MISS);
        // Go loops forever on this one; it must merely return.
        let _ = seg(0.0, f64::INFINITY, 1.0, 0.0).raycast(P::new(0.0, f64::INFINITY));
    }

    #[test]
    fn segment_intersections() {
        let s = seg(0.0, 0.0, 2.0, 2.0);
        assert!(s.intersects_segment(&seg(0.0, 2.0, 2.0, 0.0)));
        assert!(s.intersects_segment(&seg(2.0, 2.0, 3.0, 0.0)));
        assert!(s.intersects_segment(&seg(1.0, 1.0, 3.0, 3.0)));
        assert!(!s.intersects_segment(&seg(3.0, 3.0, 4.0, 4.0)));
        assert!(!s.intersects_segment(&seg(1.0, 0.0, 2.0, 1.0)));
        assert!(seg(0.0, 0.0, 4.0, 0.0).intersects_segment(&seg(1.0, 0.0, 2.0, 0.0)));
    }
}
