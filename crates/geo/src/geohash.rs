//! Geohash encoding and decoding, bit-for-bit compatible with the
//! `github.com/mmcloughlin/geohash` package that Tile38 uses.
//!
//! * [`encode`] reproduces the amd64 assembly `EncodeInt` that Tile38 runs on
//!   every x86-64 server (see the comment on [`encode_int`] for why that
//!   variant, and not the pure-Go fallback, is the reference).
//! * [`bounding_box`] is the standard cell decoding (longitude first).
//! * [`decode`] is mmcloughlin's `Decode`: the cell is *rounded* to the
//!   shortest decimal inside it (`9my5xp7` decodes to `32.999, -115`), not
//!   its centre.
//!
//! Positions use GeoJSON axis order: `x` = longitude, `y` = latitude.

use crate::rect::{Position, Rect};

/// The geohash base32 alphabet (no `a`, `i`, `l`, `o`).
const BASE32: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";

/// Maximum number of characters a 64-bit integer geohash can hold.
const MAX_CHARS: usize = 12;

/// Encodes `(lat, lon)` as a geohash of `precision` characters.
///
/// `precision` is clamped to `0..=12` (the callers validate `1..=12`; `0`
/// yields an empty string). Out-of-range and non-finite coordinates never
/// panic; they produce whatever the reference bit arithmetic yields (for
/// example `(100, 200)` → `00zh7`).
pub fn encode(lat: f64, lon: f64, precision: usize) -> String {
    let chars = precision.min(MAX_CHARS);
    if chars == 0 {
        return String::new();
    }
    let mut hash = encode_int(lat, lon) >> (64 - 5 * chars);
    let mut out = vec![0u8; chars];
    for slot in out.iter_mut().rev() {
        *slot = BASE32[(hash & 0x1f) as usize];
        hash >>= 5;
    }
    out.into_iter().map(char::from).collect()
}

/// The 64-bit integer geohash of `(lat, lng)`: longitude bits in the odd
/// (more significant) positions, latitude bits in the even ones.
///
/// Tile38 servers run on amd64 with BMI2, where mmcloughlin/geohash swaps the
/// pure-Go `encodeRange` (`uint32((x + r) / (2r) * 2^32)`) for an assembly
/// routine that computes `x * (1/2r) + 1.5`, a value in `[1, 2]` for in-range
/// input, and takes the top 32 mantissa bits (`bits >> 20`, truncated to 32
/// bits by `PDEP`). The two agree inside the valid range but not outside it:
/// for `(100, 200)` the assembly yields `00zh7` (recorded from a real Tile38)
/// while the Go version's wrapping float→uint32 conversion gives a hash
/// starting with `01`. At the poles/antimeridian (`90, 180`) the sum is
/// exactly 2.0 whose mantissa is zero, giving `000000000000` as recorded.
/// The multiplications use the assembly's rounded constants, not a division.
pub fn encode_int(lat: f64, lng: f64) -> u64 {
    let lat_int = ((lat * 0.005555555555555556 + 1.5).to_bits() >> 20) as u32;
    let lng_int = ((lng * 0.002777777777777778 + 1.5).to_bits() >> 20) as u32;
    spread(lat_int) | (spread(lng_int) << 1)
}

/// The cell of `hash` as a rectangle (`min`/`max` are the south-west and
/// north-east corners). `None` when `hash` is empty or holds a byte outside
/// the lowercase base32 alphabet (mmcloughlin's decoder is lowercase-only).
///
/// Hashes longer than 12 characters are accepted and decoded with the same
/// (overflowing) integer arithmetic as the Go package, so they never panic.
pub fn bounding_box(hash: &[u8]) -> Option<Rect> {
    if hash.is_empty() {
        return None;
    }
    let mut int_hash: u64 = 0;
    for &c in hash {
        let d = BASE32.iter().position(|&b| b == c)? as u64;
        int_hash = (int_hash << 5) | d;
    }
    Some(rect_of(int_hash, 5 * hash.len()))
}

/// mmcloughlin's `BoundingBoxIntWithPrecision`.
fn rect_of(int_hash: u64, bits: usize) -> Rect {
    // Go: `hash << (64 - bits)` with unsigned wrap-around; shifts of 64 or
    // more produce 0.
    let full = u32::try_from(64usize.wrapping_sub(bits))
        .ok()
        .and_then(|s| int_hash.checked_shl(s))
        .unwrap_or(0);
    let lat = decode_range(squash(full), 90.0);
    let lng = decode_range(squash(full >> 1), 180.0);
    let lat_bits = (bits / 2) as i32;
    let lng_bits = (bits - bits / 2) as i32;
    let lat_err = ldexp(180.0, -lat_bits);
    let lng_err = ldexp(360.0, -lng_bits);
    Rect::new(
        Position::new(lng, lat),
        Position::new(lng + lng_err, lat + lat_err),
    )
}

/// The cell of `hash` the way a HASH search area reads it: like
/// [`bounding_box`], but a byte outside the alphabet decodes as `0xff`, as in
/// mmcloughlin's decoder table, so any non-empty text is some rectangle.
pub fn bounding_box_lenient(hash: &[u8]) -> Rect {
    if let Some(r) = bounding_box(hash) {
        return r;
    }
    let mut int_hash: u64 = 0;
    for &c in hash {
        let d = BASE32
            .iter()
            .position(|&b| b == c)
            .map_or(0xff, |d| d as u64);
        int_hash = (int_hash << 5) | d;
    }
    rect_of(int_hash, 5 * hash.len())
}

/// mmcloughlin's `Decode`: a point inside the cell rounded to as few decimal
/// places as possible (`Box.Round`). `x` is the longitude, `y` the latitude.
///
/// Like Go's, it takes any text (Tile38's `SET … HASH` refuses nothing): the
/// cell is [`bounding_box_lenient`]'s, so `""` is the whole world (rounded
/// to `-100, -0`), a byte outside the alphabet decodes as `0xff`, and a
/// hash so long that its cell has no width gives NaN coordinates.
pub fn decode(hash: &[u8]) -> Position {
    let b = bounding_box_lenient(hash);
    let x = max_decimal_power(b.max.y - b.min.y);
    let lat = (b.min.y / x).ceil() * x;
    let x = max_decimal_power(b.max.x - b.min.x);
    let lng = (b.min.x / x).ceil() * x;
    Position::new(lng, lat)
}

/// `math.Pow10(floor(log10(r)))`. Cell sizes are `180·2⁻ᵏ` / `360·2⁻ᵏ`,
/// whose decimal logarithms are never within 1e-6 of an integer, so any
/// faithful `log10` gives the same floor as Go's (checked by a unit test).
fn max_decimal_power(r: f64) -> f64 {
    pow10(r.log10().floor() as i32)
}

/// Go's `math.Pow10`: exact powers for `n >= 0`, `1 / 10^-n` (correctly
/// rounded) for negative `n`.
fn pow10(n: i32) -> f64 {
    const TAB: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    match n {
        0..=22 => TAB[n as usize],
        -22..=-1 => 1.0 / TAB[n.unsigned_abs() as usize],
        // Not reachable for geohash cells; the nearest double is what Go's
        // table produces for the remaining range as well.
        _ => format!("1e{n}").parse().unwrap_or(0.0),
    }
}

/// `math.Ldexp(frac, exp)` for the small, exact cases used here.
fn ldexp(frac: f64, exp: i32) -> f64 {
    let mut v = frac;
    let mut e = exp;
    // Scale in steps so that huge exponents (over-long hashes) underflow to
    // zero gradually instead of overflowing the power-of-two computation.
    while e < -1000 {
        v *= 2f64.powi(-1000);
        e += 1000;
    }
    v * 2f64.powi(e)
}

/// Decodes a 32-bit range value back into `[-r, r]` (Go: `2*r*p - r`).
fn decode_range(x: u32, r: f64) -> f64 {
    let p = f64::from(x) / 4294967296.0;
    2.0 * r * p - r
}

/// Spreads the 32 bits of `x` into the even bit positions of a `u64`.
fn spread(x: u32) -> u64 {
    let mut x = u64::from(x);
    x = (x | (x << 16)) & 0x0000_ffff_0000_ffff;
    x = (x | (x << 8)) & 0x00ff_00ff_00ff_00ff;
    x = (x | (x << 4)) & 0x0f0f_0f0f_0f0f_0f0f;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    x = (x | (x << 1)) & 0x5555_5555_5555_5555;
    x
}

/// Collects the even bit positions of `x` into a `u32` (inverse of [`spread`]).
fn squash(x: u64) -> u32 {
    let mut x = x & 0x5555_5555_5555_5555;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0f0f_0f0f_0f0f_0f0f;
    x = (x | (x >> 4)) & 0x00ff_00ff_00ff_00ff;
    x = (x | (x >> 8)) & 0x0000_ffff_0000_ffff;
    x = (x | (x >> 16)) & 0x0000_0000_ffff_ffff;
    x as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_vectors_recorded_from_tile38() {
        let cases: &[(f64, f64, usize, &str)] = &[
            (33.0, -115.0, 7, "9my5xp7"),
            (33.0, -112.0, 1, "9"),
            (33.0, -112.0, 5, "9tb7e"),
            (33.0, -112.0, 6, "9tb7er"),
            (0.0, 0.0, 5, "s0000"),
            (0.0, 0.0, 3, "s00"),
            (1.0, 2.0, 3, "s01"),
            (10.0, 20.0, 4, "s3y0"),
            (90.0, 180.0, 12, "000000000000"),
            (-90.0, -180.0, 12, "000000000000"),
            (100.0, 200.0, 5, "00zh7"),
            (32.999, -115.0, 7, "9my5xp7"),
            (37.733556449999995, -122.4408378, 8, "9q8ytv1m"),
        ];
        for &(lat, lon, p, want) in cases {
            assert_eq!(encode(lat, lon, p), want, "encode({lat}, {lon}, {p})");
        }
    }

    /// The pure-Go `encodeRange` variant, kept to document that it does not
    /// reproduce the recorded out-of-range vector.
    fn encode_go_generic(lat: f64, lon: f64, chars: usize) -> String {
        fn range(x: f64, r: f64) -> u32 {
            (((x + r) / (2.0 * r)) * 4294967296.0) as i64 as u32
        }
        let mut h =
            (spread(range(lat, 90.0)) | (spread(range(lon, 180.0)) << 1)) >> (64 - 5 * chars);
        let mut out = vec![0u8; chars];
        for slot in out.iter_mut().rev() {
            *slot = BASE32[(h & 0x1f) as usize];
            h >>= 5;
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn generic_go_variant_differs_out_of_range() {
        assert_eq!(encode_go_generic(33.0, -115.0, 7), "9my5xp7");
        assert_ne!(encode_go_generic(100.0, 200.0, 5), "00zh7");
        assert_eq!(encode(100.0, 200.0, 5), "00zh7");
    }

    #[test]
    fn encode_precision_edges() {
        assert_eq!(encode(33.0, -115.0, 0), "");
        assert_eq!(encode(33.0, -115.0, 20).len(), 12);
        assert_eq!(encode(f64::NAN, f64::INFINITY, 12).len(), 12);
    }

    #[test]
    fn decode_vectors() {
        let p = decode(b"9my5xp7");
        assert_eq!((p.y, p.x), (32.999, -115.0));
        let p = decode(b"9");
        assert_eq!((p.y, p.x), (0.0, -130.0));
        let p = decode(b"9q8y");
        assert_eq!((p.y, p.x), (37.7, -122.60000000000001));
        let p = decode(b"9q8yyk8ytpxr");
        assert_eq!((p.y, p.x), (37.7748999, -122.4194));
        let p = decode(b"9my5xp8");
        assert_eq!(encode(p.y, p.x, 7), "9my5xp8");
    }

    #[test]
    fn decode_reencodes_to_same_hash() {
        for h in [
            "9my5xp7",
            "s0000",
            "s01",
            "s3y0",
            "9q8ytv1m",
            "zzzzzzzzzzzz",
            "000000000000",
            "u",
        ] {
            let p = decode(h.as_bytes());
            assert_eq!(encode(p.y, p.x, h.len()), h, "{h} -> {p:?}");
        }
    }

    #[test]
    fn bounding_box_cells() {
        let b = bounding_box(b"9").unwrap();
        assert_eq!(
            b,
            Rect::new(Position::new(-135.0, 0.0), Position::new(-90.0, 45.0))
        );
        let b = bounding_box(b"s").unwrap();
        assert_eq!(
            b,
            Rect::new(Position::new(0.0, 0.0), Position::new(45.0, 45.0))
        );
        let b = bounding_box(b"s0").unwrap();
        assert_eq!(
            b,
            Rect::new(Position::new(0.0, 0.0), Position::new(11.25, 5.625))
        );
        let b = bounding_box(b"9my5xp7").unwrap();
        assert!(b.min.y <= 33.0 && 33.0 <= b.max.y && b.min.x <= -115.0 && -115.0 <= b.max.x);
    }

    #[test]
    fn invalid_hashes() {
        assert_eq!(bounding_box(b""), None);
        for bad in [&b"9a"[..], b"i", b"l", b"o", b"9MY5", b"9 ", b"\xff"] {
            assert_eq!(bounding_box(bad), None, "{bad:?}");
        }
        // `decode` takes anything, as Go's does (values recorded from
        // Tile38's `SET k id HASH …` then `GET`).
        let at = |h: &[u8]| {
            let p = decode(h);
            (p.x, p.y)
        };
        assert_eq!(at(b"garbage"), (-0.006, 86.46000000000001));
        assert_eq!(at(b"!!"), (170.0, 85.0));
        assert_eq!(at(b"ilo"), (179.0, 89.0));
        let (x, y) = at(b"");
        assert_eq!((x, y.to_bits()), (-100.0, (-0.0f64).to_bits()));
        // A cell too small to have a width: NaN, as in Go.
        let (x, y) = at(b"9q9aaaaaaaaaaaaaaaaaaaaaaaa");
        assert!(x.is_nan() && y.is_nan());
    }

    #[test]
    fn log10_floor_is_unambiguous_for_all_cell_sizes() {
        for bits in 1..=64usize {
            for r in [
                ldexp(180.0, -((bits / 2) as i32)),
                ldexp(360.0, -((bits - bits / 2) as i32)),
            ] {
                let l = r.log10();
                let frac = l - l.floor();
                assert!(frac > 1e-6 && frac < 1.0 - 1e-6, "r={r} log10={l}");
            }
        }
    }

    #[test]
    fn pow10_matches_go() {
        assert_eq!(pow10(2), 100.0);
        assert_eq!(pow10(-1), 0.1);
        assert_eq!(pow10(-3), 0.001);
        assert_eq!(pow10(-8), 1e-8);
        assert_eq!(pow10(-30), 1e-30);
    }
}
