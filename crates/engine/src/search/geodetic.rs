//! The distance NEARBY orders by and prints: from the query point to an
//! object's bounding box on the sphere, as Tile38 1.37's kNN computes it
//! (`geodeticDistAlgo` → `pointRectDistGeodeticRad`, the algorithm of
//! Schubert, Zimek & Kriegel 2013, "Geodetic Distance Queries on R-Trees
//! for Indexing Geographic Data"), with Go's math step for step, so every
//! printed digit agrees: a point east or west of a box is measured across
//! the track to the box's nearest meridian edge, not to the box's corner.

use std::f64::consts::PI;

use tile38_geo::gomath::{asin, cos, sin, EARTH_RADIUS};
use tile38_geo::Rect;

/// Meters from `(qlat, qlon)` to the box `r` (0 inside it).
pub fn point_rect_distance(r: &Rect, qlat: f64, qlon: f64) -> f64 {
    FromPoint::new(qlat, qlon).to_rect(r)
}

fn rad(deg: f64) -> f64 {
    deg * PI / 180.0
}

/// [`point_rect_distance`] from one query point to many boxes: what
/// depends only on the query (its radians, cosine and tangent) is computed
/// once, by the same Go functions on the same inputs, so every distance is
/// bit for bit what the one-off computation gives. A kNN measures hundreds
/// of objects per query, and Go's trigonometry (in software, for its last
/// bits) is most of a distance's cost.
#[derive(Clone, Copy)]
pub struct FromPoint {
    phi_q: f64,
    lam_q: f64,
    cos_q: f64,
    tan_q: f64,
}

impl FromPoint {
    pub fn new(qlat: f64, qlon: f64) -> FromPoint {
        let phi_q = rad(qlat);
        FromPoint {
            phi_q,
            lam_q: rad(qlon),
            cos_q: cos(phi_q),
            tan_q: tan(phi_q),
        }
    }

    /// Meters to the box `r` (0 inside it).
    pub fn to_rect(&self, r: &Rect) -> f64 {
        EARTH_RADIUS * self.rect_rad(rad(r.min.y), rad(r.min.x), rad(r.max.y), rad(r.max.x))
    }

    /// `pointRectDistGeodeticRad`: the box from `(φl, λl)` to `(φh, λh)`,
    /// in radians; the result is an angle.
    fn rect_rad(&self, phi_l: f64, lam_l: f64, phi_h: f64, lam_h: f64) -> f64 {
        let (phi_q, lam_q) = (self.phi_q, self.lam_q);
        // A point (or an inverted box): Go's `distRad(φl, λl, φq, λq)`.
        if phi_l >= phi_h && lam_l >= lam_h {
            return dist_rad(phi_l, lam_l, phi_q, lam_q, cos(phi_l), self.cos_q);
        }
        if lam_l <= lam_q && lam_q <= lam_h {
            // Between the box's meridians: inside, south or north of it.
            if phi_l <= phi_q && phi_q <= phi_h {
                return 0.0;
            }
            if phi_q < phi_l {
                return phi_l - phi_q;
            }
            return phi_q - phi_h;
        }
        // The nearer of the east and west edges.
        let mut d_east = lam_l - lam_q;
        let mut d_west = lam_q - lam_h;
        if d_east < 0.0 {
            d_east += 2.0 * PI;
        }
        if d_west < 0.0 {
            d_west += 2.0 * PI;
        }
        let (d_lam, lam_edge) = if d_east <= d_west {
            (d_east, lam_l)
        } else {
            (d_west, lam_h)
        };
        let (sin_d, cos_d) = (sin(d_lam), cos(d_lam));
        let tan_q = self.tan_q;
        // Go's `distRad(φq, λq, φ, λedge)`, the query first.
        let to = |phi: f64| dist_rad(phi_q, lam_q, phi, lam_edge, self.cos_q, cos(phi));
        if d_lam >= PI / 2.0 {
            // Beyond 90°: one of the corners, by the box's middle latitude.
            let mid = (phi_h + phi_l) / 2.0;
            if tan_q >= tan(mid) * cos_d {
                return to(phi_h);
            }
            return to(phi_l);
        }
        if tan_q >= tan(phi_h) * cos_d {
            return to(phi_h);
        }
        if tan_q <= tan(phi_l) * cos_d {
            return to(phi_l);
        }
        // Beside the box: the cross-track distance to the edge's meridian.
        asin(self.cos_q * sin_d)
    }
}

/// Haversine distance on the unit sphere, `a` first (Go's `distRad`), with
/// the cosines of both latitudes given.
fn dist_rad(lat_a: f64, lon_a: f64, lat_b: f64, lon_b: f64, cos_a: f64, cos_b: f64) -> f64 {
    if lat_a == lat_b && lon_a == lon_b {
        return 0.0;
    }
    let s_lat = sin((lat_a - lat_b) / 2.0);
    let s_lon = sin((lon_a - lon_b) / 2.0);
    2.0 * asin((s_lat * s_lat + s_lon * s_lon * cos_a * cos_b).sqrt())
}

/// Go's `math.Tan` (Cephes, pure Go on amd64), which the platform `tan`
/// can differ from in the last bit.
#[allow(clippy::excessive_precision)]
fn tan(x: f64) -> f64 {
    const P: [f64; 3] = [
        -1.30936939181383777646e4,
        1.15351664838587416140e6,
        -1.79565251976484877988e7,
    ];
    const Q: [f64; 4] = [
        1.36812963470692954678e4,
        -1.32089234440210967447e6,
        2.50083801823357915839e7,
        -5.38695755929454629881e7,
    ];
    const PI4A: f64 = 7.85398125648498535156e-1;
    const PI4B: f64 = 3.77489470793079817668e-8;
    const PI4C: f64 = 2.69515142907905952645e-15;
    if x == 0.0 || x.is_nan() {
        return x;
    }
    if x.is_infinite() {
        return f64::NAN;
    }
    let (sign, x) = if x < 0.0 { (true, -x) } else { (false, x) };
    if x >= (1u64 << 29) as f64 {
        // Go's Payne–Hanek range; no latitude in radians gets here.
        let y = x.tan();
        return if sign { -y } else { y };
    }
    let mut j = (x * (4.0 / PI)) as u64;
    let mut y = j as f64;
    if j & 1 == 1 {
        j += 1;
        y += 1.0;
    }
    let z = ((x - y * PI4A) - y * PI4B) - y * PI4C;
    let zz = z * z;
    let mut y = if zz > 1e-14 {
        z + z
            * (zz * ((P[0] * zz + P[1]) * zz + P[2])
                / ((((zz + Q[0]) * zz + Q[1]) * zz + Q[2]) * zz + Q[3]))
    } else {
        z
    };
    if j & 2 == 2 {
        y = -1.0 / y;
    }
    if sign {
        -y
    } else {
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tile38_geo::Position;

    fn rect(w: f64, s: f64, e: f64, n: f64) -> Rect {
        Rect::new(Position::new(w, s), Position::new(e, n))
    }

    #[test]
    fn distances_recorded_from_tile38() {
        // NEARBY … DISTANCE to a polygon's box west of the point.
        let b = rect(-112.01154, 33.00048, -111.98541, 33.03124);
        assert_eq!(
            point_rect_distance(&b, 33.00562, -112.05456),
            4011.613664070406
        );
        // A point object: the haversine distance.
        let p = rect(-112.0, 33.0, -112.0, 33.0);
        assert_eq!(point_rect_distance(&p, 33.0, -112.0), 0.0);
        // Inside the meridians: the latitude gap.
        let d = point_rect_distance(&b, 33.1, -112.0);
        assert!((d - (33.1 - 33.03124) * PI / 180.0 * EARTH_RADIUS).abs() < 1e-6);
    }

    #[test]
    fn tan_close_to_libm() {
        let mut x = -3.0;
        while x < 3.0 {
            let (a, b) = (tan(x), x.tan());
            assert!((a - b).abs() <= 1e-14 * b.abs().max(1.0), "tan {x}");
            x += 0.0017;
        }
    }
}
