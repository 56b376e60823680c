//! `TILE x y z` and `QUADKEY key` rectangles: Tile38's `internal/bing`
//! (the Bing Maps tile system), including its integer quirks.
//!
//! Tile38 parses `x`/`y` as `int64` and `z` as `uint64` and checks no range,
//! so every shift and sum here follows Go's wrapping rules rather than
//! panicking: out-of-range tiles give clamped, infinite or NaN bounds
//! exactly where Go does.

use crate::rect::{Position, Rect};

/// Web-Mercator latitude limits used for the outermost tiles.
const MIN_LATITUDE: f64 = -85.05112878;
const MAX_LATITUDE: f64 = 85.05112878;
const MIN_LONGITUDE: f64 = -180.0;
const MAX_LONGITUDE: f64 = 180.0;

/// Go's `x << n` on `int64` with a variable count: bits shifted out are lost
/// and a count of 64 or more gives 0.
fn shl_i64(x: i64, n: u64) -> i64 {
    if n >= 64 {
        0
    } else {
        x.wrapping_shl(n as u32)
    }
}

/// `MapSize`: the world width in pixels (256 << z, 0 once it overflows,
/// i.e. from z = 56 on).
fn map_size(level: u64) -> f64 {
    if level >= 64 {
        0.0
    } else {
        256u64.wrapping_shl(level as u32) as f64
    }
}

/// Go's `clip(n, min, max)`: the `min` test comes first, which matters when
/// the map size is 0 and `max` is -1.
fn clamp_go(n: f64, min: f64, max: f64) -> f64 {
    if n < min {
        min
    } else if n > max {
        max
    } else {
        n
    }
}

/// `PixelXYToLatLong`: the `(lat, lon)` of a pixel corner.
///
/// `exp`/`atan` come from the platform libm; Go uses its own (amd64
/// assembly `Exp`, Cephes `Atan`), so a latitude can differ in the last bit.
fn pixel_to_lat_lon(px: i64, py: i64, level: u64) -> (f64, f64) {
    let size = map_size(level);
    let x = clamp_go(px as f64, 0.0, size - 1.0) / size - 0.5;
    let y = 0.5 - clamp_go(py as f64, 0.0, size - 1.0) / size;
    let pi = std::f64::consts::PI;
    let lat = 90.0 - 360.0 * (-y * 2.0 * pi).exp().atan() / pi;
    (lat, 360.0 * x)
}

/// `TileXYToBounds`: the tile's rectangle (`x` = lon, `y` = lat). The
/// outermost tiles are widened to ±180° and ±85.05112878°.
pub(super) fn tile_bounds(tile_x: i64, tile_y: i64, level: u64) -> Rect {
    let size = shl_i64(1, level);
    let (max_lat, mut min_lon) = pixel_to_lat_lon(shl_i64(tile_x, 8), shl_i64(tile_y, 8), level);
    let (mut min_lat, mut max_lon) = pixel_to_lat_lon(
        shl_i64(tile_x.wrapping_add(1), 8),
        shl_i64(tile_y.wrapping_add(1), 8),
        level,
    );
    // `size == 0` (z ≥ 64) guards Go's division by zero; the remainder takes
    // the sign of `tile_x`, as Go's `%` does.
    if size == 0 || tile_x.wrapping_rem(size) == 0 {
        min_lon = MIN_LONGITUDE;
    }
    if size == 0 || tile_x.wrapping_rem(size) == size.wrapping_sub(1) {
        max_lon = MAX_LONGITUDE;
    }
    let max_lat = if tile_y <= 0 { MAX_LATITUDE } else { max_lat };
    if tile_y >= size.wrapping_sub(1) {
        min_lat = MIN_LATITUDE;
    }
    Rect::new(
        Position::new(min_lon, min_lat),
        Position::new(max_lon, max_lat),
    )
}

/// `QuadKeyToBounds`: `None` unless every byte is `0`–`3`. The empty key is
/// the whole world (tile 0/0/0); keys longer than 63 digits lose their high
/// bits as Go's shifts do.
pub(super) fn quadkey_bounds(key: &[u8]) -> Option<Rect> {
    if !key.iter().all(|c| (b'0'..=b'3').contains(c)) {
        return None;
    }
    let level = key.len() as u64;
    let (mut x, mut y) = (0i64, 0i64);
    for (digit, bit) in key.iter().zip((0..level).rev()) {
        let mask = shl_i64(1, bit);
        if digit & 1 != 0 {
            x |= mask;
        }
        if digit & 2 != 0 {
            y |= mask;
        }
    }
    Some(tile_bounds(x, y, level))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds(r: Rect) -> [f64; 4] {
        [r.min.x, r.min.y, r.max.x, r.max.y]
    }

    #[test]
    fn world_and_quadrants() {
        let world = [-180.0, MIN_LATITUDE, 180.0, MAX_LATITUDE];
        assert_eq!(bounds(tile_bounds(0, 0, 0)), world);
        assert_eq!(bounds(quadkey_bounds(b"").unwrap()), world);
        assert_eq!(
            bounds(quadkey_bounds(b"1").unwrap()),
            [0.0, 0.0, 180.0, MAX_LATITUDE]
        );
        assert_eq!(
            bounds(quadkey_bounds(b"3").unwrap()),
            [0.0, MIN_LATITUDE, 180.0, 0.0]
        );
        // Tile (2,1) at z2: lon 0..90, lat 0..66.51°.
        let r = quadkey_bounds(b"12").unwrap();
        assert_eq!(bounds(r)[..3], [0.0, 0.0, 90.0]);
        assert!((r.max.y - 66.51326044311186).abs() < 1e-12, "{}", r.max.y);
        assert_eq!(quadkey_bounds(b"12"), Some(tile_bounds(2, 1, 2)));
    }

    #[test]
    fn tile_4_7_4() {
        let r = tile_bounds(4, 7, 4);
        assert_eq!([r.min.x, r.min.y, r.max.x], [-90.0, 0.0, -67.5]);
        assert!((r.max.y - 21.943045533438166).abs() < 1e-12, "{}", r.max.y);
    }

    #[test]
    fn invalid_quadkeys() {
        for key in [&b"4"[..], b"pqowie", b"12a", b" 1", b"-1"] {
            assert_eq!(quadkey_bounds(key), None, "{key:?}");
        }
    }

    #[test]
    fn huge_levels_do_not_panic() {
        for z in [55, 56, 62, 63, 64, 65, u64::MAX] {
            for (x, y) in [(0, 0), (1, 1), (-1, -1), (i64::MAX, i64::MIN)] {
                let _ = tile_bounds(x, y, z);
            }
        }
        // z ≥ 64: the size is 0, so both longitude edges are forced.
        let r = tile_bounds(5, 0, 64);
        assert_eq!((r.min.x, r.max.x, r.max.y), (-180.0, 180.0, MAX_LATITUDE));
        assert!(quadkey_bounds(&[b'3'; 100]).is_some());
    }
}
