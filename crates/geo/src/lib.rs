//! Geometry and objects: everything a Tile38 object is made of.
//!
//! * [`rect`]: positions and rectangles (lon = x, lat = y).
//! * [`geojson`]: parsing and re-serialising GeoJSON exactly as Tile38 does.
//! * [`geohash`]: geohash encode/decode with Tile38's (mmcloughlin) rounding.
//! * [`gomath`]: Go's sin/cos/asin and Tile38's haversine, bit for bit.
//! * [`jsonpath`]: SJSON-style set/delete on raw JSON text (JSET/JDEL).
//! * [`number`]: Go's `ParseFloat`/`ParseInt`/`ParseUint`, the one number
//!   parser for command arguments.
//! * [`field`]: field values with Tile38 1.30+ typing and zero semantics.
//! * [`object`]: the stored value of an object (point, rect, GeoJSON, string).

pub mod area;
pub mod field;
pub mod geohash;
pub mod geojson;
pub mod gomath;
pub mod jsonpath;
pub mod number;
pub mod object;
pub mod predicate;
pub mod rect;

pub use field::{FieldList, FieldValue};
pub use geojson::{GeoJsonError, Geometry};
pub use object::Value;
pub use rect::{Position, Rect};

/// Runs `f` on a thread with a quarter of a server worker's 2 MiB stack:
/// tests of recursion limits show they leave a wide margin.
#[cfg(test)]
pub(crate) fn on_quarter_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no stack overflow")
}

/// Uniform numbers in `[0, 1)` from a xorshift generator seeded with
/// `seed` (not zero): the random inputs of bit-exactness tests.
#[cfg(test)]
pub(crate) fn units(mut seed: u64) -> impl FnMut() -> f64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    }
}
