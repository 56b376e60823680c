//! Go's pure-Go `math.Sin`, `math.Cos` and `math.Asin` (Cephes ports), and
//! Tile38's haversine distance built on them. The platform libm differs in
//! the last bits, and Tile38 prints distances with all 17 digits: NEARBY …
//! DISTANCE from (20,20) to (19,19) must read `152808.67164037024`, which
//! glibc's `sin`/`asin` turn into `…037004`.

use std::f64::consts::PI;

// Literals transcribed from Go's math package; clippy would shorten them.
#[allow(clippy::excessive_precision)]
const SIN: [f64; 6] = [
    1.58962301576546568060e-10,
    -2.50507477628578072866e-8,
    2.75573136213857245213e-6,
    -1.98412698295895385996e-4,
    8.33333333332211858878e-3,
    -1.66666666666666307295e-1,
];
#[allow(clippy::excessive_precision)]
const COS: [f64; 6] = [
    -1.13585365213876817300e-11,
    2.08757008419747316778e-9,
    -2.75573141792967388112e-7,
    2.48015872888517045348e-5,
    -1.38888888888730564116e-3,
    4.16666666666665929218e-2,
];
#[allow(clippy::excessive_precision)]
const PI4A: f64 = 7.85398125648498535156e-1;
#[allow(clippy::excessive_precision)]
const PI4B: f64 = 3.77489470793079817668e-8;
#[allow(clippy::excessive_precision)]
const PI4C: f64 = 2.69515142907905952645e-15;
/// Above this Go switches to Payne–Hanek reduction; we use the libm then
/// (no coordinate in radians gets near it).
const REDUCE_THRESHOLD: f64 = (1u64 << 29) as f64;

/// Octant and reduced argument, as Go's Cody–Waite reduction computes them.
fn reduce(x: f64) -> (u64, f64) {
    let mut j = (x * (4.0 / PI)) as u64;
    let mut y = j as f64;
    if j & 1 == 1 {
        j += 1;
        y += 1.0;
    }
    j &= 7;
    (j, ((x - y * PI4A) - y * PI4B) - y * PI4C)
}

fn poly_sin(z: f64, zz: f64) -> f64 {
    z + z
        * zz
        * (((((SIN[0] * zz + SIN[1]) * zz + SIN[2]) * zz + SIN[3]) * zz + SIN[4]) * zz + SIN[5])
}

fn poly_cos(zz: f64) -> f64 {
    1.0 - 0.5 * zz
        + zz * zz
            * (((((COS[0] * zz + COS[1]) * zz + COS[2]) * zz + COS[3]) * zz + COS[4]) * zz + COS[5])
}

/// Go's `math.Sin`.
pub fn sin(x: f64) -> f64 {
    if x == 0.0 || x.is_nan() {
        return x;
    }
    if x.is_infinite() {
        return f64::NAN;
    }
    let (mut sign, x) = if x < 0.0 { (true, -x) } else { (false, x) };
    if x >= REDUCE_THRESHOLD {
        let y = x.sin();
        return if sign { -y } else { y };
    }
    let (mut j, z) = reduce(x);
    if j > 3 {
        sign = !sign;
        j -= 4;
    }
    let zz = z * z;
    let y = if j == 1 || j == 2 {
        poly_cos(zz)
    } else {
        poly_sin(z, zz)
    };
    if sign {
        -y
    } else {
        y
    }
}

/// Go's `math.Cos`.
pub fn cos(x: f64) -> f64 {
    if x.is_nan() || x.is_infinite() {
        return f64::NAN;
    }
    let x = x.abs();
    if x >= REDUCE_THRESHOLD {
        return x.cos();
    }
    let (mut j, z) = reduce(x);
    let mut sign = false;
    if j > 3 {
        j -= 4;
        sign = !sign;
    }
    if j > 1 {
        sign = !sign;
    }
    let zz = z * z;
    let y = if j == 1 || j == 2 {
        poly_sin(z, zz)
    } else {
        poly_cos(zz)
    };
    if sign {
        -y
    } else {
        y
    }
}

/// Cephes `xatan`: a series valid on [0, 0.66].
#[allow(clippy::excessive_precision)]
fn xatan(x: f64) -> f64 {
    const P: [f64; 5] = [
        -8.750608600031904122785e-01,
        -1.615753718733365076637e+01,
        -7.500855792314704667340e+01,
        -1.228866684490136173410e+02,
        -6.485021904942025371773e+01,
    ];
    const Q: [f64; 5] = [
        2.485846490142306297962e+01,
        1.650270098316988542046e+02,
        4.328810604912902668951e+02,
        4.853903996359136964868e+02,
        1.945506571482613964425e+02,
    ];
    let z = x * x;
    let z = z * ((((P[0] * z + P[1]) * z + P[2]) * z + P[3]) * z + P[4])
        / (((((z + Q[0]) * z + Q[1]) * z + Q[2]) * z + Q[3]) * z + Q[4]);
    x * z + x
}

/// Cephes `satan`: reduces a positive argument to [0, 0.66].
#[allow(clippy::excessive_precision)]
fn satan(x: f64) -> f64 {
    const MOREBITS: f64 = 6.123233995736765886130e-17;
    const TAN3PIO8: f64 = 2.41421356237309504880;
    if x <= 0.66 {
        return xatan(x);
    }
    if x > TAN3PIO8 {
        return PI / 2.0 - xatan(1.0 / x) + MOREBITS;
    }
    PI / 4.0 + xatan((x - 1.0) / (x + 1.0)) + 0.5 * MOREBITS
}

/// Go's `math.Asin`.
pub fn asin(x: f64) -> f64 {
    if x == 0.0 {
        return x;
    }
    let (sign, x) = if x < 0.0 { (true, -x) } else { (false, x) };
    if x > 1.0 {
        return f64::NAN;
    }
    let temp = (1.0 - x * x).sqrt();
    let temp = if x > 0.7 {
        PI / 2.0 - satan(temp / x)
    } else {
        satan(x / temp)
    };
    if sign {
        -temp
    } else {
        temp
    }
}

/// Go's `math.Atan2` (Cephes, pure Go on amd64): the platform `atan2` can
/// differ in the last bit, which moves circle outlines and distances.
pub fn atan2(y: f64, x: f64) -> f64 {
    use std::f64::consts::{FRAC_PI_2, FRAC_PI_4};
    if y.is_nan() || x.is_nan() {
        return f64::NAN;
    }
    if y == 0.0 {
        return if x >= 0.0 && !x.is_sign_negative() {
            0f64.copysign(y)
        } else {
            PI.copysign(y)
        };
    }
    if x == 0.0 {
        return FRAC_PI_2.copysign(y);
    }
    if x.is_infinite() {
        let v = match (x > 0.0, y.is_infinite()) {
            (true, true) => FRAC_PI_4,
            (true, false) => 0.0,
            (false, true) => 3.0 * FRAC_PI_4,
            (false, false) => PI,
        };
        return v.copysign(y);
    }
    if y.is_infinite() {
        return FRAC_PI_2.copysign(y);
    }
    let t = y / x;
    let q = if t == 0.0 {
        t
    } else if t > 0.0 {
        satan(t)
    } else {
        -satan(-t)
    };
    if x < 0.0 {
        if q <= 0.0 {
            q + PI
        } else {
            q - PI
        }
    } else {
        q
    }
}

/// Earth radius Tile38 uses, in meters.
pub const EARTH_RADIUS: f64 = 6371e3;

fn radians(deg: f64) -> f64 {
    deg * PI / 180.0
}

/// Tile38's haversine distance in meters between two positions (degrees).
pub fn haversine(lat_a: f64, lon_a: f64, lat_b: f64, lon_b: f64) -> f64 {
    distance_from_h(haversine_h(lat_a, lon_a, lat_b, lon_b))
}

/// The haversine term `h` of two positions: the distance is
/// [`distance_from_h`]`(h)`, which grows with `h`, so searches can order by
/// `h` and skip the arcsine until a distance is printed.
pub fn haversine_h(lat_a: f64, lon_a: f64, lat_b: f64, lon_b: f64) -> f64 {
    let (p1, l1, p2, l2) = (
        radians(lat_a),
        radians(lon_a),
        radians(lat_b),
        radians(lon_b),
    );
    let (s1, s2) = (sin((p2 - p1) / 2.0), sin((l2 - l1) / 2.0));
    s1 * s1 + s2 * s2 * cos(p1) * cos(p2)
}

/// tidwall/geojson's haversine term `geo.Haversine`, products grouped as
/// `cos φa · cos φb · s · s` (rounds differently in the last digit from
/// [`haversine_h`], which follows Tile38's own kNN distance).
pub fn geo_haversine(lat_a: f64, lon_a: f64, lat_b: f64, lon_b: f64) -> f64 {
    // `deg * radians` with the constant π/180, unlike Tile38's kNN formula
    // (`deg * π / 180`): for close points the difference of the two
    // latitudes magnifies that last-bit difference.
    const RADIANS: f64 = PI / 180.0;
    let (p1, l1, p2, l2) = (
        lat_a * RADIANS,
        lon_a * RADIANS,
        lat_b * RADIANS,
        lon_b * RADIANS,
    );
    let (s1, s2) = (sin((p2 - p1) / 2.0), sin((l2 - l1) / 2.0));
    s1 * s1 + cos(p1) * cos(p2) * s2 * s2
}

/// The distance Tile38 1.37 gives `Object.Distance` to a circle (NEARBY …
/// SPARSE … DISTANCE): `R·2·atan2(√a, √(1−a))` of [`geo_haversine`].
pub fn distance_to(lat_a: f64, lon_a: f64, lat_b: f64, lon_b: f64) -> f64 {
    let a = geo_haversine(lat_a, lon_a, lat_b, lon_b);
    EARTH_RADIUS * 2.0 * atan2(a.sqrt(), (1.0 - a).sqrt())
}

/// `geo.NormalizeDistance` of the tidwall/geojson Tile38 1.37 builds
/// (v1.4.6): the distance modulo the earth's circumference, not folded
/// into `[0, πR]` (later versions fold). The haversine of a radius is the
/// same either way (`sin` is symmetric about π/2); a circle's outline is
/// not: a radius of 3e7 m draws its destination points 3e7 m away.
pub fn normalize_distance(meters: f64) -> f64 {
    meters % (2.0 * PI * EARTH_RADIUS)
}

/// Meters from a haversine term (Tile38's `R·2·asin(√h)`).
pub fn distance_from_h(h: f64) -> f64 {
    EARTH_RADIUS * 2.0 * asin(h.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_match_tile38_to_the_last_digit() {
        // NEARBY mykey DISTANCE … POINT 20 20, recorded from Tile38 1.37.
        assert_eq!(haversine(19.0, 19.0, 20.0, 20.0), 152808.67164037024);
        assert_eq!(haversine(12.0, 19.0, 20.0, 20.0), 895945.1409106688);
        assert_eq!(haversine(33.0, 21.0, 20.0, 20.0), 1448929.5916252395);
        assert_eq!(haversine(45.0, 45.0, 10.0, 10.0), 5127729.0232113395);
        assert_eq!(haversine(52.0, 13.0, 52.0, 13.0), 0.0);
    }

    #[test]
    fn close_to_libm() {
        let mut x = -10.0;
        while x < 10.0 {
            assert!((sin(x) - x.sin()).abs() < 1e-15, "sin {x}");
            assert!((cos(x) - x.cos()).abs() < 1e-15, "cos {x}");
            x += 0.001_3;
        }
        let mut a: f64 = -1.0;
        while a <= 1.0 {
            // Go's sqrt(1-x²) form loses digits near ±1, as Go's own does.
            let tol = if a.abs() > 0.99 { 1e-7 } else { 1e-15 };
            assert!((asin(a) - a.asin()).abs() < tol, "asin {a}");
            a += 0.000_7;
        }
        assert!(sin(f64::INFINITY).is_nan() && asin(1.5).is_nan());
        assert_eq!(sin(-0.0).to_bits(), (-0.0f64).to_bits());
    }
}

mod destination;

pub use destination::{bearing_to, circle_half_axes, destination_point};

#[cfg(test)]
mod distance_tests {
    use super::*;

    #[test]
    fn sparse_distance_matches_tile38() {
        // NEARBY location SPARSE 1 DISTANCE POINT 38.342940855731506
        // -0.48126081948077476 25 → 386 at 11.63394861766148 (corpus).
        let d = distance_to(
            38.342940855731506,
            -0.48126081948077476,
            38.34300663218,
            -0.48136455958069,
        );
        assert_eq!(d, 11.63394861766148);
    }

    #[test]
    fn atan2_edges() {
        assert_eq!(atan2(0.0, -1.0), PI);
        assert_eq!(atan2(-0.0, 1.0).to_bits(), (-0.0f64).to_bits());
        assert!(atan2(f64::NAN, 1.0).is_nan());
        for (y, x) in [(1.0, 2.0), (-3.0, 0.5), (0.25, -4.0), (-1e-9, -1.0)] {
            assert!((atan2(y, x) - f64::atan2(y, x)).abs() < 1e-15, "{y} {x}");
        }
    }
}
