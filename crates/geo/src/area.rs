//! Search-area constructors and shape operations: SECTOR, TILE, QUADKEY,
//! CLIP/CLIPBY, BUFFER.
//!
//! INTERFACE STUB — replaced by the areas work.

use crate::rect::{Position, Rect};
use crate::Value;

/// `SECTOR lat lon meters b1 b2` as a polygon.
pub fn sector(_center: Position, _meters: f64, _b1: f64, _b2: f64) -> Value {
    unimplemented!("sector")
}

/// `TILE x y z` (XYZ slippy tile) rectangle.
pub fn tile(_x: u64, _y: u64, _z: u64) -> Rect {
    unimplemented!("tile")
}

/// `QUADKEY key` rectangle; `None` for an invalid key.
pub fn quadkey(_key: &[u8]) -> Option<Rect> {
    unimplemented!("quadkey")
}

/// `obj` clipped to `rect` (INTERSECTS … CLIP, CLIPBY).
pub fn clip(obj: &Value, _rect: Rect) -> Value {
    obj.clone()
}

/// `BUFFER meters` applied to an area; `Err` carries Tile38's message.
pub fn buffer(_obj: &Value, _meters: f64) -> Result<Value, String> {
    unimplemented!("buffer")
}
