//! Search-area constructors and shape operations of WITHIN/INTERSECTS/TEST:
//! `SECTOR`, `TILE`, `QUADKEY`, `CLIP`/`CLIPBY` and `BUFFER`, ported from
//! Tile38 1.37 (`internal/bing`, `internal/clip`, `internal/buffer` and
//! `github.com/iwpnd/sectr`).
//!
//! This module owns the geometry only; the command layer parses the tokens
//! and must apply these rules (all messages exact):
//!
//! * **Every token** of an area is required and must be non-empty, else
//!   `invalid number of arguments` (an empty RESP bulk string counts as
//!   missing). So `QUADKEY ""` is an arity error and never reaches
//!   [`quadkey`].
//! * **`SECTOR lat lon meters b1 b2`**: with `CLIP`, `invalid argument
//!   'cannot clip with sector'` (TEST: `invalid clip type 'SECTOR'`) before
//!   any token is read. Then the five tokens, then each parsed in order as a
//!   Go float (`inf`, `nan`, `1e3` accepted), the first failure giving
//!   `invalid argument '<token>'`. No range checks: any latitude, negative
//!   meters are accepted. If `b1 == b2` numerically (so `0` and `-0` too,
//!   but not `0` and `360`, nor NaN and NaN): `equal bearings (<b1 text> ==
//!   <b2 text>), use CIRCLE instead`, with the original texts. Then
//!   [`sector`]; its error text is the reply.
//! * **`TILE x y z`**: `x` and `y` are Go `int64` (`strconv.ParseInt(s, 10,
//!   64)`: optional sign, decimal digits, in range), `z` a `uint64` (no
//!   sign); otherwise `invalid argument '<token>'`, first failure in order.
//!   Tile38 checks no range at all (negative tiles, `x ≥ 2^z` and `z ≥ 64`
//!   are accepted; [`tile`] reproduces what Go computes for them).
//! * **`QUADKEY key`**: [`quadkey`] is `None` for any byte outside `0`–`3`:
//!   `invalid argument '<key>'`.
//! * **`CLIPBY`** (after the area, repeatable, applied left to right, each
//!   with [`clip`] to the clip rectangle): only `BOUNDS`, `HASH`, `TILE`,
//!   `QUADKEY` (parsed as for areas); any other word gives `invalid argument
//!   'cannot clipby <word in lower case>'`; any token after the area that
//!   is not `CLIPBY` is an arity error. A `CIRCLE` area passes CLIPBY
//!   unchanged (Go's clip has no Circle case), and BUFFER on a CIRCLE
//!   buffers the circle's polygon approximation (`Circle.Primative()`, 64
//!   steps), which the caller has to build and hand to [`buffer`].
//! * **`BUFFER meters`** (an option before the output keyword): a finite
//!   float ≥ 0 (the spec digest; the corpus shows `-5`), else `invalid
//!   argument '<token>'`; a repeated BUFFER overrides. [`buffer`] runs on
//!   the area *after* every CLIPBY, so `BUFFER 10 BOUNDS … CLIPBY BOUNDS …`
//!   works (the clipped area is a Polygon) while `BUFFER 10 BOUNDS …` fails
//!   with `cannot buffer Polygon type`.
//! * **`CLIP`** (an option; WITHIN accepts it too but only INTERSECTS clips
//!   its output; `TEST … WITHIN CLIP` is `invalid argument 'CLIP'`): with
//!   `CIRCLE`, `OBJECT`, `SECTOR`: `invalid argument 'cannot clip with
//!   <circle|object|sector>'`. With `GET`, Go records `cannot clip with
//!   get` but keeps parsing: a missing key/id still answers `key not
//!   found`/`id not found`, and a later successful CLIPBY or BUFFER step
//!   overwrites the error (the search then runs). TEST answers `invalid
//!   clip type '<WORD as typed>'` for CIRCLE/OBJECT/GET/SECTOR. Allowed
//!   areas: POINT (clips to the point's zero-size rectangle), BOUNDS, HASH,
//!   TILE, QUADKEY. Each object written is `clip(object, area.bbox())`,
//!   and OBJECTS, POINTS, BOUNDS and HASHES outputs all describe the
//!   *clipped* object (COUNT and IDS are not affected).

mod buffer;
mod clip;
mod sector;
mod tile;

#[cfg(test)]
mod tests;

use crate::rect::{Position, Rect};
use crate::Value;

/// `SECTOR lat lon meters b1 b2`: the circular sector from bearing `b1`
/// clockwise to bearing `b2` (degrees, any value, reduced modulo 360; when
/// the reduced `b1` is not below `b2` the sector goes the long way round
/// through north) as a closed Polygon `centre, arc…, centre`.
///
/// `center.x` is the longitude. The arc vertices are rounded to 1e-8°, on a
/// sphere of radius 6 371 008.8 m (see the `sector` submodule).
///
/// The caller must reject equal bearings first (the message needs the
/// original texts); called anyway they give the full circle.
///
/// `Err` carries the reply: `invalid data` when a coordinate comes out NaN
/// or infinite (NaN/Inf centre or radius; Go's JSON encoder then fails and
/// the empty text does not parse). Non-finite *bearings* also give
/// `invalid data`: Tile38 spins forever on them and never answers.
pub fn sector(center: Position, meters: f64, b1: f64, b2: f64) -> Result<Value, String> {
    sector::sector(center, meters, b1, b2)
}

/// `TILE x y z`: the XYZ (slippy map, Bing) tile as a rectangle, `x` =
/// longitude. Tiles in the outermost column/row reach ±180° and
/// ±85.05112878°. Arguments are the Go types Tile38 parses (`int64`,
/// `int64`, `uint64`); out-of-range values are not errors but give Go's
/// results (wrapped shifts; from z = 56 the pixel maths divides by zero and
/// yields infinite/NaN edges where the outer-tile rule does not override
/// them).
pub fn tile(x: i64, y: i64, z: u64) -> Rect {
    tile::tile_bounds(x, y, z)
}

/// `QUADKEY key`: the Bing quadkey's tile, `None` if a byte is not `0`–`3`.
/// The empty key is valid here (the whole world, as `TILE 0 0 0`), but the
/// command layer never gets that far (see the module docs).
pub fn quadkey(key: &[u8]) -> Option<Rect> {
    tile::quadkey_bounds(key)
}

/// `obj` clipped to `rect`, as Tile38 prints it for `INTERSECTS … CLIP` and
/// `TEST … INTERSECTS CLIP`, and as the area for `CLIPBY`:
///
/// * **Point**: itself (z and members kept) if inside the rectangle
///   (edges included), else an empty MultiPoint
///   (`{"type":"MultiPoint","coordinates":[]}`).
/// * **BOUNDS** rectangle: clipped as its 5-point Polygon.
/// * **LineString**: the inside parts; one part is a LineString, otherwise
///   a MultiLineString (also when nothing is left: `"coordinates":[]`).
/// * **Polygon**: every ring clipped (Sutherland–Hodgman, with its
///   repeated vertices); an empty result is an empty MultiPolygon. Holes
///   that vanish are dropped.
/// * **Feature**: its geometry clipped, its members (`id`, `properties`, …)
///   kept, even when the geometry is now empty.
/// * **Multi\*, GeometryCollection, FeatureCollection**: always a
///   FeatureCollection of the clipped members that are not empty, each
///   wrapped in a Feature (`"properties":{}`) unless it already is one; the
///   collection's own members are dropped. Entirely outside:
///   `{"type":"FeatureCollection","features":[]}`.
/// * **String**: unchanged.
///
/// Clipped vertices lose their z/m values; untouched points keep them. The
/// rectangle is used as given (an inverted one clips everything away or
/// oddly, as in Go).
pub fn clip(obj: &Value, rect: Rect) -> Value {
    clip::clip_value(obj, &rect)
}

/// `BUFFER meters` applied to a search area (see the `buffer` submodule
/// for the shapes it builds).
///
/// Accepted: points, MultiPoint, LineString, MultiLineString, Polygon,
/// MultiPolygon, Feature and FeatureCollection (recursively). `Err` carries
/// Tile38's message: `cannot buffer Polygon type` for a BOUNDS rectangle
/// (`geojson.Rect` prints as a Polygon), `cannot buffer GeometryCollection
/// type` (also inside a Feature), `cannot buffer  type` (two spaces) for a
/// string object reached through GET, `invalid meters` for NaN/±Inf.
/// `meters <= 0` returns the object unchanged, whatever its type.
pub fn buffer(obj: &Value, meters: f64) -> Result<Value, String> {
    buffer::buffer_value(obj, meters)
}
