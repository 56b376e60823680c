//! What a search of a small key reads of Tile38's one-leaf R-tree
//! ([`crate::leaf`]): its entries in order and its root box.

use tile38_geo::Value;

use super::Collection;
use crate::id::Id;
use crate::leaf::{in_rtree, GoRect, Leaf, LeafMirror};
use crate::store::Store;
use crate::Item;

/// Tile38's `Insert` of `value` for `slot` into the replica, waking it
/// first (from the other objects present, in write order) when `value`
/// is the first entry with a NaN side.
pub(super) fn leaf_insert(leaf: &mut LeafMirror, store: &Store, slot: u32, value: &Value) {
    if leaf.wakes_for(value) {
        let present = store
            .iter()
            .filter(|(s, e)| *s != slot && in_rtree(&e.item.value))
            .map(|(s, e)| (e.item.seq, s, GoRect::of(&e.item.value.bbox())))
            .collect();
        leaf.wake(present);
    }
    leaf.insert(slot, value);
}

impl Collection {
    /// Tile38's R-tree while it is one leaf, with a lookup from an entry's
    /// slot to its object; `None` once the tree has split.
    pub fn leaf<'a>(&'a self) -> Option<(&'a Leaf, impl Fn(u32) -> (&'a Id, &'a Item) + 'a)> {
        let store = &self.store;
        let leaf = self.leaf.leaf()?;
        Some((leaf, move |s: u32| {
            let e = store.get(s);
            (&e.id, &e.item)
        }))
    }
}
