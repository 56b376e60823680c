//! The keyed database: collection name → [`Collection`], in byte order.
//! A collection exists while it holds at least one object.

use std::collections::BTreeMap;

use crate::collection::Collection;
use crate::glob;

#[derive(Default)]
pub struct Database {
    cols: BTreeMap<Box<[u8]>, Collection>,
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
            self.cols.insert(key.into(), Collection::new());
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

    pub fn insert(&mut self, key: &[u8], col: Collection) {
        self.cols.insert(key.into(), col);
    }

    pub fn clear(&mut self) {
        self.cols.clear();
    }

    /// Keys matching a `KEYS` pattern, in byte order.
    pub fn keys<'a>(&'a self, pattern: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
        let prefix = glob::literal_prefix(pattern);
        self.cols
            .range::<[u8], _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))
            .map(|(k, _)| k.as_ref())
            .take_while(move |k| k.starts_with(prefix))
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
