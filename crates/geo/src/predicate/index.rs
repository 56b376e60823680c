//! Prepared rings for areas that are tested many times (see
//! `PreparedArea`): the bounding box and shape facts computed once, and for
//! long rings a y-bucket index, so that a point-in-ring test visits only the
//! segments crossing the point's latitude, and a box hierarchy
//! ([`SegTree`]) for the searches whose box spans more than one band.
//!
//! Go indexes series of 64+ points with a quadtree. Both indexes hand the
//! ring algorithms exactly the segments a full scan would (those whose box
//! meets the query box); only the visiting order differs, and no result
//! depends on it.

use super::geom::Seg;
use super::segtree::SegTree;
use super::series::{PointSeries, Series, Shape};
use crate::rect::{Position as P, Rect as R};

/// Rings with fewer segments are scanned.
const MIN_SEGMENTS: usize = 32;
/// Give up on buckets when segments would be listed this many times on
/// average (long segments spanning many buckets).
const MAX_FANOUT: usize = 8;

/// Facts of one ring, computed once.
pub(super) struct RingIndex {
    pub rect: R,
    pub shape: Shape,
    buckets: Option<Buckets>,
    /// For long rings of finite coordinates.
    tree: Option<SegTree>,
    segments: usize,
}

impl RingIndex {
    pub fn ring(points: &[P]) -> RingIndex {
        let s = PointSeries::ring(points);
        // Short rings are scanned; NaN or infinite coordinates are too
        // (the boxes would lose them, while Go's box test never rejects a
        // NaN). The hierarchy also serves where the bands give up.
        let finite = points.iter().all(|p| p.x.is_finite() && p.y.is_finite());
        let indexed = finite && s.num_segments() >= MIN_SEGMENTS;
        let buckets = indexed.then(|| Buckets::build(&s)).flatten();
        let tree = indexed.then(|| SegTree::build(&s));
        RingIndex {
            rect: s.rect(),
            shape: s.shape(),
            buckets,
            tree,
            segments: s.num_segments(),
        }
    }

    /// Calls `visit(i)`, in increasing order until it returns false, for a
    /// superset of the segments whose box meets `target` (`visit` does the
    /// exact test): one band's ids when the target's y-range falls in one
    /// band, else the groups of the [`SegTree`] meeting it (and not clear
    /// of `along`), else every segment.
    pub fn visit(&self, target: &R, along: Option<&Seg>, visit: &mut dyn FnMut(usize) -> bool) {
        if let Some(ids) = self.band(target) {
            for &i in ids {
                if !visit(i as usize) {
                    return;
                }
            }
        } else if let Some(tree) = &self.tree {
            tree.walk(target, along, visit);
        } else {
            let _ = (0..self.segments).all(visit);
        }
    }

    /// The ids of the segments that may meet `target`, in increasing order,
    /// when the target's y-range falls in one bucket.
    fn band(&self, target: &R) -> Option<&[u32]> {
        let b = self.buckets.as_ref()?;
        // A NaN bound makes every segment "intersect" in Go's test.
        if target.min.y.is_nan() || target.max.y.is_nan() {
            return None;
        }
        let k = b.bucket(target.min.y);
        if b.bucket(target.max.y) != k {
            return None;
        }
        Some(&b.ids[b.starts[k] as usize..b.starts[k + 1] as usize])
    }
}

/// Segment ids per horizontal band of the ring's box (compressed rows).
struct Buckets {
    min_y: f64,
    scale: f64,
    last: usize,
    starts: Vec<u32>,
    ids: Vec<u32>,
}

impl Buckets {
    /// Monotone in `y` (a segment is listed in every bucket from that of
    /// its lowest to that of its highest y, so any y between them maps to
    /// one of its buckets).
    fn bucket(&self, y: f64) -> usize {
        // `as` saturates: below the box → 0, above → clamped.
        (((y - self.min_y) * self.scale) as usize).min(self.last)
    }

    fn span(&self, seg: &Seg) -> std::ops::RangeInclusive<usize> {
        let r = seg.rect();
        self.bucket(r.min.y)..=self.bucket(r.max.y)
    }

    /// Bands for a long ring of finite coordinates (the caller checks);
    /// `None` for a flat ring or where segments would be listed too often.
    fn build(s: &PointSeries) -> Option<Buckets> {
        let n = s.num_segments();
        let r = s.rect();
        if r.max.y <= r.min.y || n > u32::MAX as usize {
            return None;
        }
        // As many buckets as segments, fewer when segments are tall: a
        // segment is listed in about 1 + height/bucket_height buckets, so
        // this keeps the listing near 4 entries per segment.
        let height = r.max.y - r.min.y;
        let tall: f64 = (0..n)
            .map(|i| s.segment_at(i).rect())
            .map(|sr| sr.max.y - sr.min.y)
            .sum();
        let count = if tall > 0.0 {
            (3.0 * n as f64 * height / tall).clamp(1.0, n as f64) as usize
        } else {
            n
        };
        let mut b = Buckets {
            min_y: r.min.y,
            scale: count as f64 / height,
            last: count - 1,
            starts: vec![0; count + 1],
            ids: Vec::new(),
        };
        if !b.scale.is_finite() {
            return None;
        }
        let mut total = 0;
        for i in 0..n {
            for k in b.span(&s.segment_at(i)) {
                b.starts[k + 1] += 1;
                total += 1;
            }
        }
        if total > MAX_FANOUT * n {
            return None;
        }
        for k in 0..count {
            b.starts[k + 1] += b.starts[k];
        }
        let mut fill: Vec<u32> = b.starts[..count].to_vec();
        b.ids = vec![0; total];
        for i in 0..n {
            for k in b.span(&s.segment_at(i)) {
                b.ids[fill[k] as usize] = i as u32;
                fill[k] += 1;
            }
        }
        Some(b)
    }
}

/// Prepared rings of one polygon (exterior, then holes).
pub(super) struct PolyIndex {
    pub ext: RingIndex,
    pub holes: Vec<RingIndex>,
}

impl PolyIndex {
    pub fn new(rings: &[Vec<P>]) -> PolyIndex {
        let (ext, holes): (&[P], &[Vec<P>]) = match rings.split_first() {
            Some((ext, holes)) => (ext, holes),
            None => (&[], &[]),
        };
        PolyIndex {
            ext: RingIndex::ring(ext),
            holes: holes.iter().map(|h| RingIndex::ring(h)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::ring;
    use super::*;

    /// A comb: every tooth's sides span the ring's whole height, so the
    /// bands are few and most search boxes span several of them: the
    /// segment hierarchy serves those searches, with a plain ring's answers.
    #[test]
    fn tall_segments_are_searched_through_the_hierarchy() {
        let mut pts: Vec<P> = (0..=80)
            .map(|i| P::new(i as f64 * 0.5, if i % 2 == 0 { 0.0 } else { 10.0 }))
            .collect();
        pts.extend([P::new(40.0, -2.0), P::new(0.0, -2.0), P::new(0.0, 0.0)]);
        let ix = RingIndex::ring(&pts);
        assert!(ix.tree.is_some());
        let plain = PointSeries::ring(&pts);
        let fast = PointSeries::indexed(&pts, &ix);
        for k in 0..2000 {
            let (i, j) = ((k % 50) as f64, (k / 50) as f64);
            let p = P::new(i * 0.83 - 1.0, j * 0.37 - 3.0);
            let hit = |s: &PointSeries| ring::contains_point(s, p, true);
            assert_eq!(hit(&plain).hit, hit(&fast).hit, "{p:?}");
            assert_eq!(hit(&plain).edge, hit(&fast).edge, "{p:?}");
            let seg = Seg::new(
                p,
                P::new(p.x + (k % 7) as f64 - 3.0, p.y + (k % 5) as f64 * 0.9),
            );
            for on_edge in [true, false] {
                assert_eq!(
                    ring::intersects_segment(&plain, &seg, on_edge),
                    ring::intersects_segment(&fast, &seg, on_edge),
                    "{seg:?}"
                );
                assert_eq!(
                    ring::contains_segment(&plain, &seg, on_edge),
                    ring::contains_segment(&fast, &seg, on_edge),
                    "{seg:?}"
                );
            }
        }
    }

    #[test]
    fn bucket_search_matches_a_full_scan() {
        let pts: Vec<P> = (0..=200)
            .map(|i| {
                let a = i as f64 / 200.0 * std::f64::consts::TAU;
                let r = if i % 2 == 0 { 10.0 } else { 6.0 };
                P::new(r * a.cos(), r * a.sin())
            })
            .collect();
        let ix = RingIndex::ring(&pts);
        assert!(ix.buckets.is_some());
        let plain = PointSeries::ring(&pts);
        let fast = PointSeries::indexed(&pts, &ix);
        for i in -60..=60 {
            for j in -60..=60 {
                let p = P::new(i as f64 / 5.0, j as f64 / 5.0);
                assert_eq!(
                    ring::contains_point(&plain, p, true).hit,
                    ring::contains_point(&fast, p, true).hit,
                    "{p:?}"
                );
            }
        }
    }
}
