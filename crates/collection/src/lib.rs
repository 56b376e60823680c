//! Collections and the keyed database.
//!
//! * [`collection`]: one key's objects and their indexes, kept in step:
//!   * [`store`]: the objects in a slab of `u32` slots, and id → slot;
//!   * [`order`]: slots in id order (SCAN);
//!   * [`spatial`] (with [`page`], [`tree`] and [`nearest`]): leaf pages of
//!     compact `f32` boxes under an `rstar` R-tree;
//!   * [`id`]: 16-byte ids, inline up to 15 bytes; [`slab`]: chunked slabs.
//! * [`database`]: key → collection, in key order, created on first write and
//!   removed when emptied.
//! * [`glob`]: Tile38's glob patterns for KEYS, PDEL and MATCH.
//! * [`radix`]: the sort of bulk loads.

pub mod collection;
pub mod database;
pub mod glob;
pub mod id;
pub mod leaf;
pub mod nearest;
pub mod order;
pub mod page;
pub mod radix;
pub mod slab;
pub mod spatial;
pub mod store;
pub mod tree;

pub use collection::{Collection, Item, Prior, SetCond, SetOutcome, AHEAD};
pub use database::Database;
pub use id::Id;
pub use nearest::Walk;
