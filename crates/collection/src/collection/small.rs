//! What a search of a small key reads of Tile38's one-leaf R-tree
//! ([`crate::leaf`]): its entries in order and its root box.

use super::Collection;
use crate::id::Id;
use crate::leaf::Leaf;
use crate::Item;

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
