//! Looking ahead at a batch's updates (`tile38_engine::ahead`): what
//! updating a run of ids will read, brought towards the cache before the
//! first of them is applied.

use super::Collection;
use crate::spatial::PageOf;

/// Most ids looked ahead at once: more than a batch of Tile38's benchmark
/// (pipeline 16) and few enough that their lines stay in the cache.
pub const AHEAD: usize = 32;

impl Collection {
    /// Looks `ids` up (the first [`AHEAD`]), then starts bringing the index
    /// pages of the objects found towards the cache. A hint: nothing
    /// changes. The lookups' own misses overlap (no lookup waits for
    /// another), and the pages' misses overlap each other and the updates
    /// applied meanwhile.
    pub fn prefetch_updates<'a>(&self, ids: impl Iterator<Item = &'a [u8]>) {
        let mut slots = [0u32; AHEAD];
        let mut n = 0;
        for id in ids.take(AHEAD) {
            if let Some(s) = self.store.find(id) {
                slots[n] = s;
                n += 1;
            }
        }
        if self.deferred {
            return;
        }
        for &s in &slots[..n] {
            if let Some(p) = self.store.page_of(s) {
                self.spatial.prefetch_page(p);
            }
        }
    }
}
