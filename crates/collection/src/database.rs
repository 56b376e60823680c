//! The keyed database: collection name → [`Collection`], in byte order.
//! A collection exists while it holds at least one object.
//!
//! During an AOF load ([`Database::defer_indexes`] … [`Database::build_indexes`])
//! every collection defers its spatial index and builds it in bulk at the end.

use std::collections::BTreeMap;

use crate::collection::Collection;
use crate::glob;

#[derive(Default)]
pub struct Database {
    cols: BTreeMap<Box<[u8]>, Collection>,
    /// Collections defer their spatial index (an AOF load is running).
    deferred: bool,
}

impl Database {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.cols.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cols.is_empty()
    }

    pub fn get(&self, key: &[u8]) -> Option<&Collection> {
        self.cols.get(key)
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Collection> {
        self.cols.get_mut(key)
    }

    /// The collection for a write, created if missing.
    pub fn get_or_create(&mut self, key: &[u8]) -> &mut Collection {
        if !self.cols.contains_key(key) {
            let mut col = Collection::new();
            if self.deferred {
                col.defer_indexes();
            }
            self.cols.insert(key.into(), col);
        }
        self.cols.get_mut(key).expect("just inserted")
    }

    /// Drops the collection if it became empty (Tile38 deletes empty keys).
    pub fn drop_if_empty(&mut self, key: &[u8]) {
        if self.cols.get(key).is_some_and(Collection::is_empty) {
            self.cols.remove(key);
        }
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Collection> {
        self.cols.remove(key)
    }

    /// Stores `col` under `key`; returns the collection it replaced.
    pub fn insert(&mut self, key: &[u8], mut col: Collection) -> Option<Collection> {
        if self.deferred {
            col.defer_indexes();
        }
        self.cols.insert(key.into(), col)
    }

    /// Until [`Database::build_indexes`], collections (existing and new)
    /// leave their spatial index empty: writes get cheaper, searches find
    /// nothing. For loading an AOF, when no search runs.
    pub fn defer_indexes(&mut self) {
        self.deferred = true;
        for col in self.cols.values_mut() {
            col.defer_indexes();
        }
    }

    /// Builds every deferred spatial index, each in one go, and goes back to
    /// maintaining them on every write.
    pub fn build_indexes(&mut self) {
        self.deferred = false;
        for col in self.cols.values_mut() {
            col.build_indexes();
        }
    }

    pub fn clear(&mut self) {
        self.cols.clear();
    }

    /// Keys matching a `KEYS` pattern, in byte order, among those Tile38
    /// tests ([`glob::range`], upper limit inclusive).
    pub fn keys<'a>(&'a self, pattern: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
        let walk = glob::Walk::new(pattern);
        self.cols
            .range::<[u8], _>((
                std::ops::Bound::Included(walk.start()),
                std::ops::Bound::Unbounded,
            ))
            .map(|(k, _)| k.as_ref())
            .take_while(move |k| walk.holds(k))
            .filter(move |k| glob::matches(pattern, k))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Collection)> {
        self.cols.iter().map(|(k, c)| (k.as_ref(), c))
    }

    /// Keys of collections that have objects with a deadline.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&[u8], &mut Collection)> {
        self.cols.iter_mut().map(|(k, c)| (k.as_ref(), c))
    }
}
