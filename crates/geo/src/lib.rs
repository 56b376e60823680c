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
