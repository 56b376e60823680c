//! The objects of a collection and the id → object map: entries `(id,
//! item)` in a chunked slab addressed by `u32` slot, and a hash table of
//! slots keyed by the hash of the entry's id (4 bytes a bucket instead of a
//! whole `(Id, Item)`; the id is read from the entry to confirm a match).

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

use crate::collection::Item;
use crate::id::Id;
use crate::slab::Slab;
use crate::spatial::PageOf;

/// One object: its id, what the server sees of it, and its page in the
/// spatial index (in the 4 bytes the 20-byte id leaves before the 8-aligned
/// item).
pub struct Entry {
    pub id: Id,
    page: u32,
    pub item: Item,
}

/// `Entry::page` of an object not in the spatial index.
const NO_PAGE: u32 = u32::MAX;

/// 1024 entries a chunk (88 KiB at 88 bytes an entry).
type Entries = Slab<Entry, 10>;

#[derive(Default)]
pub struct Store {
    entries: Entries,
    by_id: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

impl Store {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The hash of `id` in this store's table (to look it up and then
    /// insert it without hashing twice).
    #[inline]
    pub fn hash(&self, id: &[u8]) -> u64 {
        self.hasher.hash_one(id)
    }

    /// The slot of `id`.
    #[inline]
    pub fn find(&self, id: &[u8]) -> Option<u32> {
        self.find_hashed(self.hash(id), id)
    }

    /// The slot of `id`, whose [`Store::hash`] is `hash`.
    #[inline]
    pub fn find_hashed(&self, hash: u64, id: &[u8]) -> Option<u32> {
        let entries = &self.entries;
        self.by_id
            .find(hash, |&s| entries.get(s).id.as_bytes() == id)
            .copied()
    }

    /// Stores a new object (its id must not be present); returns its slot.
    pub fn insert(&mut self, id: Id, item: Item) -> u32 {
        self.insert_hashed(self.hash(&id), id, item)
    }

    /// [`Store::insert`] with the id's [`Store::hash`] known.
    pub fn insert_hashed(&mut self, hash: u64, id: Id, item: Item) -> u32 {
        if self.by_id.len() == self.by_id.capacity() {
            self.grow();
        }
        let page = NO_PAGE;
        let slot = self.entries.insert(Entry { id, page, item });
        let (entries, hasher) = (&self.entries, &self.hasher);
        // Growing (which `grow` makes rare) rehashes every id: read from
        // the entries.
        self.by_id.insert_unique(hash, slot, |&s| {
            hasher.hash_one(entries.get(s).id.as_bytes())
        });
        slot
    }

    /// Doubles the id table, hashing the ids again in slot order: the
    /// entries are read front to back, where the table's own growth reads
    /// them in table order, a cache miss each once the objects outgrow the
    /// cache (a tenth of loading a million objects).
    fn grow(&mut self) {
        let capacity = (self.by_id.capacity() * 2).max(16);
        let mut table = HashTable::with_capacity(capacity);
        let (entries, hasher) = (&self.entries, &self.hasher);
        for (slot, e) in entries.iter() {
            // Room reserved: the rehash closure does not run.
            table.insert_unique(hasher.hash_one(e.id.as_bytes()), slot, |&s| {
                hasher.hash_one(entries.get(s).id.as_bytes())
            });
        }
        self.by_id = table;
    }

    /// Removes the object at `slot`.
    pub fn remove(&mut self, slot: u32) -> Entry {
        let hash = self.hash(&self.entries.get(slot).id);
        if let Ok(found) = self.by_id.find_entry(hash, |&s| s == slot) {
            found.remove();
        }
        self.entries.remove(slot)
    }

    #[inline]
    pub fn get(&self, slot: u32) -> &Entry {
        self.entries.get(slot)
    }

    /// Brings `slot`'s entry towards the cache ([`Slab::prefetch`]).
    #[inline]
    pub fn prefetch(&self, slot: u32) {
        self.entries.prefetch(slot);
    }

    #[inline]
    pub fn get_mut(&mut self, slot: u32) -> &mut Entry {
        self.entries.get_mut(slot)
    }

    /// The id at `slot`.
    #[inline]
    pub fn id(&self, slot: u32) -> &[u8] {
        self.entries.get(slot).id.as_bytes()
    }

    /// Every object, in slot order (no meaning; for checks).
    pub fn iter(&self) -> impl Iterator<Item = (u32, &Entry)> {
        self.entries.iter()
    }
}

impl PageOf for Store {
    #[inline]
    fn page_of(&self, slot: u32) -> Option<u32> {
        Some(self.entries.get(slot).page).filter(|&p| p != NO_PAGE)
    }

    #[inline]
    fn set_page_of(&mut self, slot: u32, page: Option<u32>) {
        self.entries.get_mut(slot).page = page.unwrap_or(NO_PAGE);
    }
}
#[cfg(test)]
mod tests {
    /// The entry is most of an object's memory: keep it at 88 bytes (id
    /// 20, page 4, item 64), a free slot included.
    #[test]
    fn entry_is_88_bytes() {
        assert_eq!(std::mem::size_of::<Option<super::Entry>>(), 88);
    }
}
