//! Collections and the keyed database.
//!
//! * [`collection`]: one key's objects: an id-ordered map (SCAN order), an
//!   R-tree over bounding boxes, and an expiry index.
//! * [`database`]: key → collection, in key order, created on first write and
//!   removed when emptied.
//! * [`glob`]: Tile38's `*`/`?` patterns for KEYS, PDEL and MATCH.

pub mod collection;
pub mod database;
pub mod glob;
pub mod id;
pub mod spatial;

pub use collection::{Collection, Item, SetCond};
pub use database::Database;
pub use id::Id;
