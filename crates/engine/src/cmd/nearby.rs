//! `NEARBY key [CURSOR start] [LIMIT count] [MATCH pattern] [DISTANCE]
//! [WHERE …] [WHEREIN …] [NOFIELDS] [COUNT|IDS|OBJECTS|POINTS|BOUNDS|(HASHES p)]
//! POINT lat lon [meters]`
//!
//! k-nearest objects in ascending distance from the point to each object's
//! bounding box (0 inside it), Tile38's kNN distance
//! ([`crate::search::geodetic`]). A radius of 0 or none means unlimited;
//! with a radius the walk stops at the first object farther away. SPARSE
//! needs a radius (0 will do), which Tile38 checks only when the key
//! exists.

use tile38_collection::{Collection, Item};
use tile38_geo::gomath::{distance_from_h, distance_to, haversine_h};
use tile38_geo::predicate::Area;
use tile38_geo::{Position, Rect, Value};
use tile38_proto::Args;

use super::within::{sparse, LEAF_CAPACITY};
use super::{ReadCommand, ReadCx};
use crate::cursor::{float, Cursor};
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::search::geodetic::FromPoint;
use crate::search::knn::{small_tree, AsGiven, Hits, NewestFirstTies};
use crate::search::opts::SearchOpts;
use crate::search::results::{write_results, Hit, Page};

pub struct Nearby {
    opts: SearchOpts,
    lat: f64,
    lon: f64,
    meters: f64,
}

impl ReadCommand<'_> for Nearby {
    fn parse(args: &Args) -> Result<Self> {
        let mut c = Cursor::new(args);
        let opts = SearchOpts::parse(&mut c, "NEARBY")?;
        // Empty tokens are missing ones (Tile38's `tokenval` checks).
        let area = c.token()?;
        if !area.eq_ignore_ascii_case(b"point") {
            return Err(Error::invalid_arg(area));
        }
        let (lat, lon) = (c.token()?, c.token()?);
        let (lat, lon) = (float(lat)?, float(lon)?);
        // No radius (or an empty one): Tile38's -1 (a radius of 0 does not
        // limit either).
        let meters = match c.next() {
            Err(_) | Ok(b"") => -1.0,
            Ok(arg) => crate::cursor::not_negative(arg)?,
        };
        c.finish()?;
        Ok(Nearby {
            opts,
            lat,
            lon,
            meters,
        })
    }

    fn apply(&self, cx: &ReadCx, out: &mut Reply) -> Result<()> {
        let o = &self.opts;
        let Some(col) = cx.db.get(&o.key) else {
            write_results(out, o, &Page::default());
            return Ok(());
        };
        let (qlat, qlon, meters) = (self.lat, self.lon, self.meters);
        if let Some(depth) = o.sparse {
            // Checked only once the key is found, as Tile38 does.
            if meters < 0.0 {
                return Err(Error::Message(
                    "cannot use SPARSE without a point distance".into(),
                ));
            }
            // Tile38 runs SPARSE as INTERSECTS with the circle: no distance
            // order, one object per cell.
            let circle = Area::Circle {
                center: Position::new(qlon, qlat),
                meters,
            };
            let prepared = circle.prepare();
            let picked = sparse(cx, col, circle.bbox(), depth, &|item: &Item| {
                prepared.intersects(&item.value)
            })?;
            let hits = picked.into_iter().map(|(id, item)| Hit {
                id: id.as_bytes(),
                item,
                dist: if o.distance {
                    sparse_distance(&item.value, qlat, qlon)
                } else {
                    0.0
                },
            });
            let page = o.collect(cx, hits, |id, _| o.matches_id(id))?;
            write_results(out, o, &page);
            return Ok(());
        }
        // With a radius (and no CURSOR, whose skipped objects pass before
        // the radius test) the walk ends at the radius.
        let cutoff = if meters > 0.0 && o.cursor == 0 {
            meters
        } else {
            f64::INFINITY
        };
        let walked = std::cell::Cell::new(0usize);
        let candidates = candidates(col, qlat, qlon, cutoff, &walked);
        // Tile38 stops at the first object beyond the radius, but the
        // objects a CURSOR skips are passed over before that test.
        let skip = o.cursor;
        let candidates = candidates
            .enumerate()
            .take_while(move |(i, h)| (*i as u64) < skip || !(meters > 0.0 && h.dist > meters))
            .map(|(_, h)| h);
        let page = o.collect(cx, candidates, |id, _| o.matches_id(id))?;
        write_results(out, o, &page);
        Ok(())
    }
}

/// The objects in NEARBY's order: the one-leaf replay up to 64 objects,
/// else the index's best-first walk (ended at `cutoff`) with Tile38's
/// distance and tie rules, then the objects with a NaN side. Those come
/// after every measured one, so they are reached only if the walk met
/// every indexed object (`walked` counts them).
fn candidates<'a>(
    col: &'a Collection,
    qlat: f64,
    qlon: f64,
    cutoff: f64,
    walked: &'a std::cell::Cell<usize>,
) -> Box<dyn Iterator<Item = Hit<'a>> + 'a> {
    if col.spatial_len() + col.unindexed_len() <= LEAF_CAPACITY {
        return Box::new(small_tree(col, qlat, qlon));
    }
    // Index boxes are ordered by a lower bound of the distance (shaved so
    // its last bits never lift it above an object's own distance), objects
    // by Tile38's distance to their box.
    let bound = BoxBound::new(qlat, qlon);
    let from = FromPoint::new(qlat, qlon);
    let walk = Hits::new(
        col.nearest_bounded(
            move |r: &Rect| chord_bound(bound.of(r).min(1.0)) * (1.0 - 1e-12),
            move |r: &Rect| from.to_rect(r),
            cutoff,
        ),
        walked,
    );
    let spatial = col.spatial_len();
    let nan = col
        .unindexed()
        .take_while(move |_| walked.get() == spatial)
        .map(|(id, item)| Hit {
            id: id.as_bytes(),
            item,
            dist: f64::NAN,
        });
    Box::new(NewestFirstTies::new(AsGiven::new(walk, qlat, qlon)).chain(nan))
}

/// Tile38's `Object.Distance(circle)`: from the centre to a point object
/// (`geo.DistanceTo`, centre first); other objects are measured to their
/// bounding box.
fn sparse_distance(v: &Value, qlat: f64, qlon: f64) -> f64 {
    match v {
        Value::Point { x, y, .. } => distance_to(qlat, qlon, *y, *x),
        _ => distance_from_h(bbox_h(&v.bbox(), qlat, qlon)),
    }
}

/// The haversine term from the query point to the nearest point of a box
/// (Tile38 measures from the object's box, the box's point first).
fn bbox_h(r: &Rect, qlat: f64, qlon: f64) -> f64 {
    let (lat, lon) = clamp(r, qlat, qlon);
    haversine_h(lat, lon, qlat, qlon)
}

/// The bound for one query point, in a test's terms.
#[cfg(test)]
fn bbox_h_bound(r: &Rect, qlat: f64, qlon: f64) -> f64 {
    BoxBound::new(qlat, qlon).of(r)
}

/// A lower bound of [`bbox_h`] for everything inside a box (an index
/// node, page or entry), which orders the best-first walk. Each factor of
/// the haversine term `sin²(Δφ/2) + cos φ·cos φq·sin²(Δλ/2)` is bounded on
/// its own: the latitude gap to the box, the box's smallest `cos φ` (its
/// edge nearest a pole), and the longitude gap to the box measured the
/// short way round the globe. (The clamped point alone is not a bound: a
/// point of the box nearer a pole can be nearer, and Tile38's results must
/// come in distance order whatever the shape of the index.) Tall boxes off
/// the query's meridian get the least term over their latitudes instead
/// ([`BoxBound::tall`]).
///
/// What depends only on the query point is computed once per search: the
/// bound runs for every index box the walk meets.
#[derive(Clone, Copy)]
struct BoxBound {
    qlat: f64,
    qlon: f64,
    rad_qlat: f64,
    cos_qlat: f64,
    sin_qlat: f64,
}

/// Boxes taller than this (degrees of latitude) and off the query's
/// meridian are bounded by [`BoxBound::tall`]: the separable bound takes
/// the cosine of their edge nearest a pole, which for the index's upper
/// nodes is far below what their nearest point has, so the walk opened
/// nodes it did not need.
const TALL: f64 = 20.0;

fn rad(deg: f64) -> f64 {
    deg * std::f64::consts::PI / 180.0
}

impl BoxBound {
    fn new(qlat: f64, qlon: f64) -> BoxBound {
        BoxBound {
            qlat,
            qlon,
            rad_qlat: rad(qlat),
            // A bound need not be Go-exact: the hardware sine and cosine
            // are cheaper, and the shave below covers their last-bit
            // differences.
            cos_qlat: rad(qlat).cos(),
            sin_qlat: rad(qlat).sin(),
        }
    }

    fn of(&self, r: &Rect) -> f64 {
        let (qlat, qlon) = (self.qlat, self.qlon);
        let (lat, _) = clamp(r, qlat, qlon);
        let (south, north) = (r.min.y.min(r.max.y), r.min.y.max(r.max.y));
        let (west, east) = (r.min.x.min(r.max.x), r.min.x.max(r.max.x));
        let on_earth = |l: f64| (-90.0..=90.0).contains(&l);
        if !(on_earth(south) && on_earth(north) && on_earth(qlat)) {
            return haversine_h(lat, qlon, qlat, qlon);
        }
        let around = |d: f64| {
            let d = d.abs();
            let d = if d < 360.0 { d } else { d % 360.0 };
            d.min(360.0 - d)
        };
        let dlon = if west <= qlon && qlon <= east {
            0.0
        } else {
            around(qlon - west).min(around(qlon - east))
        };
        if dlon > 0.0 && north - south > TALL {
            return self.tall(south, north, dlon);
        }
        let polar = south.abs().max(north.abs());
        // No trigonometry: this runs for every box the walk meets. Both
        // half-angles are in [0, π/2], where [`sin_below`] holds, and cos
        // falls from the equator to the poles, so the cosine of the
        // table's next step towards the pole bounds the box's smallest.
        let s1 = sin_below(((self.rad_qlat - rad(lat)) / 2.0).abs());
        // By one multiplication, not a division: the relative last bit
        // this moves is far inside the shave. (The latitude gap keeps
        // Go's form: it is a difference, whose relative error would not.)
        const HALF_RAD: f64 = std::f64::consts::PI / 360.0;
        let s2 = sin_below(dlon * HALF_RAD);
        // Shaved so rounding (the term is computed in another order than
        // `haversine_h`) never lifts it above a point's exact term.
        (s1 * s1 + s2 * s2 * cos_below(polar) * self.cos_qlat) * (1.0 - 1e-9)
    }
}

impl BoxBound {
    /// The least haversine term over the latitudes `south..=north` at a
    /// longitude gap `dlon` (degrees, in [0, 180]), shaved for rounding.
    /// With `sin²(x/2) = (1 − cos x)/2` the term is `½ − ½(A cos φ + B sin
    /// φ)` for `A = cos φq cos Δλ`, `B = sin φq`, i.e. `½ − ½R cos(φ − θ)`
    /// with `θ = atan2(B, A)`: least at `θ` if the box's latitudes hold it,
    /// else at one of their ends (no latitude range holds `θ ± 2π`). The
    /// term itself is evaluated in the haversine form, which keeps its
    /// relative precision near zero; an error in `θ` only raises it, to
    /// second order.
    fn tall(&self, south: f64, north: f64, dlon: f64) -> f64 {
        let d = rad(dlon);
        let s2 = (d / 2.0).sin();
        let h = |phi: f64| {
            let s1 = ((phi - self.rad_qlat) / 2.0).sin();
            s1 * s1 + s2 * s2 * phi.cos() * self.cos_qlat
        };
        let (lo, hi) = (rad(south), rad(north));
        // cos Δλ = 1 − 2 sin²(Δλ/2): one trigonometric call fewer (its
        // rounding moves θ, which only raises the term).
        let a = self.cos_qlat * (1.0 - 2.0 * s2 * s2);
        let least = if a >= 0.0 {
            // θ, and the box's latitudes, within π/2 of the equator: the
            // term grows with |φ − θ|, least at θ or the nearer end.
            h(self.sin_qlat.atan2(a).clamp(lo, hi))
        } else {
            h(lo).min(h(hi))
        };
        (least * (1.0 - 1e-9) - 1e-30).max(0.0)
    }
}

/// A lower bound of `sin x` for `x` in [0, π/2]: its Taylor series cut
/// after a negative term (off by at most x⁹/9!, 2·10⁻⁴ at π/2).
fn sin_below(x: f64) -> f64 {
    let x2 = x * x;
    x * (1.0 - x2 / 6.0 * (1.0 - x2 / 20.0 * (1.0 - x2 / 42.0)))
}

/// Steps of the cosine table, per degree.
const COS_STEPS: f64 = 8.0;

/// A lower bound of `cos φ` for a latitude `φ` in [0, 90] degrees: the
/// cosine at the table's step at or above it.
fn cos_below(deg: f64) -> f64 {
    static TABLE: std::sync::LazyLock<Vec<f64>> = std::sync::LazyLock::new(|| {
        (0..=(90.0 * COS_STEPS) as usize)
            .map(|i| rad(i as f64 / COS_STEPS).cos().max(0.0))
            .collect()
    });
    // `ceil` without the libm call (the table's step at or above).
    let x = deg * COS_STEPS;
    let i = x as usize;
    let i = i + usize::from(x > i as f64);
    TABLE.get(i).copied().unwrap_or(0.0)
}

/// The point of a box nearest the query in each coordinate.
fn clamp(r: &Rect, qlat: f64, qlon: f64) -> (f64, f64) {
    let (lo, hi) = (r.min, r.max);
    (
        qlat.clamp(lo.y.min(hi.y), lo.y.max(hi.y)),
        qlon.clamp(lo.x.min(hi.x), lo.x.max(hi.x)),
    )
}

/// A lower bound of Tile38's distance `R·2·asin(√h)` for a haversine term
/// `h`: `R·2·√h`.
fn chord_bound(h: f64) -> f64 {
    tile38_geo::gomath::EARTH_RADIUS * 2.0 * h.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(w: f64, s: f64, e: f64, n: f64) -> Rect {
        Rect::new(Position::new(w, s), Position::new(e, n))
    }

    /// The bound of the box `[w, s, e, n]` is below the term of every
    /// point of a grid of `(columns, rows)` steps over it.
    fn assert_below_grid([w, s, e, n]: [f64; 4], qlat: f64, qlon: f64, (ci, cj): (u32, u32)) {
        let bound = bbox_h_bound(&rect(w, s, e, n), qlat, qlon);
        for i in 0..=ci {
            for j in 0..=cj {
                let lon = w + (e - w) * f64::from(i) / f64::from(ci);
                let lat = s + (n - s) * f64::from(j) / f64::from(cj);
                let p = rect(lon, lat, lon, lat);
                let h = bbox_h(&p, qlat, qlon);
                assert!(bound <= h, "{w} {s} {e} {n} / {qlat} {qlon}");
            }
        }
    }

    #[test]
    fn box_bound_is_below_everything_inside() {
        // The clamped point of this box, (70, 30), is farther from (70, 0)
        // than the box's point (72.5, 30) nearer the pole: 1 129 km vs
        // 1 095 km.
        let (qlat, qlon) = (70.0, 0.0);
        let b = rect(30.0, 60.0, 40.0, 85.0);
        let inner = rect(30.0, 72.5, 30.0, 72.5);
        assert!(bbox_h(&b, qlat, qlon) > bbox_h(&inner, qlat, qlon));
        assert!(bbox_h_bound(&b, qlat, qlon) <= bbox_h(&inner, qlat, qlon));
        // Every point of many boxes, against many query points.
        let mut x = 12345u64;
        let mut unit = || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            (x >> 11) as f64 / (1u64 << 53) as f64
        };
        for _ in 0..2000 {
            let (w, s) = (unit() * 360.0 - 180.0, unit() * 180.0 - 90.0);
            let (e, n) = (w + unit() * (180.0 - w), s + unit() * (90.0 - s));
            let (qlat, qlon) = (unit() * 180.0 - 90.0, unit() * 360.0 - 180.0);
            assert_below_grid([w, s, e, n], qlat, qlon, (4, 4));
        }
        // A point's box bounds itself closely.
        let p = rect(-112.1, 33.5, -112.1, 33.5);
        let (bound, exact) = (bbox_h_bound(&p, 10.0, 20.0), bbox_h(&p, 10.0, 20.0));
        assert!(bound <= exact && bound > exact * 0.999, "{bound} {exact}");
        let near = rect(-112.1, 33.5, -112.1, 33.5);
        let (bound, exact) = (
            bbox_h_bound(&near, 33.51, -112.09),
            bbox_h(&near, 33.51, -112.09),
        );
        assert!(bound <= exact && bound > exact * 0.999, "{bound} {exact}");
    }

    #[test]
    fn tall_box_bound_is_below_everything_inside() {
        let mut x = 54321u64;
        let mut unit = || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            (x >> 11) as f64 / (1u64 << 53) as f64
        };
        // Tall boxes (the bound's own minimisation over latitude), with the
        // query on the equator (θ = ±π once Δλ passes 90°), at a pole, and
        // boxes crossing the equator; every point of a fine grid.
        for _ in 0..2000 {
            let (w, s) = (unit() * 360.0 - 180.0, unit() * (180.0 - TALL) - 90.0);
            let (e, n) = (
                w + unit() * (180.0 - w),
                s + TALL + unit() * (90.0 - s - TALL),
            );
            let qlat = match (unit() * 4.0) as u32 {
                0 => 0.0,
                1 => -0.0,
                2 => 90.0,
                _ => unit() * 180.0 - 90.0,
            };
            let qlon = unit() * 360.0 - 180.0;
            assert_below_grid([w, s, e, n], qlat, qlon, (6, 40));
        }
        // Tighter than the separable bound for an upper node reaching the
        // poles: the term at its nearest point, within rounding.
        let (qlat, qlon) = (10.0, 0.0);
        let tall = rect(60.0, -80.0, 70.0, 80.0);
        let nearest = (0..=1600)
            .map(|j| -80.0 + j as f64 / 10.0)
            .map(|lat| bbox_h(&rect(60.0, lat, 60.0, lat), qlat, qlon))
            .fold(f64::INFINITY, f64::min);
        let bound = bbox_h_bound(&tall, qlat, qlon);
        assert!(
            bound <= nearest && bound > nearest * 0.999,
            "{bound} {nearest}"
        );
    }
}
