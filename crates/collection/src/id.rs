//! Object ids: byte strings in 20 bytes. Ids up to 19 bytes (`truck123456`,
//! `truck000000012345`; UUIDs are 36 and go to the heap) are stored inline,
//! so a lookup compares bytes already in the object's cache line; longer
//! ids own a heap copy. (20, not 16: ids of 16 to 19 bytes are common, and
//! a heap id costs a cache miss on every lookup; 20, not 24: the object's
//! entry then has 4 bytes left for its spatial page.) An id lives once per object, in its slab entry; the
//! hash table, the id order and the R-tree refer to the entry by slot.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::ptr::NonNull;

/// Longest id stored inline.
const INLINE: usize = 19;
/// Tag byte (`raw[0]`) of a heap id; inline ids keep their length there.
const HEAP: u8 = 0xFF;

/// An object id (20 bytes).
///
/// Layout: inline, `raw[0]` is the length and `raw[1..]` the bytes; on the
/// heap, `raw[0] == HEAP`, `raw[4..8]` the length (u32) and `raw[8..16]` the
/// pointer of a `Box<[u8]>` this id owns.
#[repr(C, align(4))]
pub struct Id {
    raw: [u8; 20],
}

// SAFETY: an `Id` owns its heap bytes exclusively (no sharing, no interior
// mutability), like a `Box<[u8]>`.
unsafe impl Send for Id {}
unsafe impl Sync for Id {}

impl Id {
    pub fn new(bytes: &[u8]) -> Id {
        let mut raw = [0u8; 20];
        if bytes.len() <= INLINE {
            raw[0] = bytes.len() as u8;
            raw[1..=bytes.len()].copy_from_slice(bytes);
        } else {
            let len = u32::try_from(bytes.len()).expect("id shorter than 4 GiB");
            let boxed: Box<[u8]> = bytes.into();
            let ptr = Box::into_raw(boxed) as *mut u8 as usize;
            raw[0] = HEAP;
            raw[4..8].copy_from_slice(&len.to_ne_bytes());
            raw[8..16].copy_from_slice(&ptr.to_ne_bytes());
        }
        Id { raw }
    }

    fn heap_parts(&self) -> (NonNull<u8>, usize) {
        let len = u32::from_ne_bytes(self.raw[4..8].try_into().expect("4 bytes")) as usize;
        let ptr = usize::from_ne_bytes(self.raw[8..16].try_into().expect("8 bytes"));
        (NonNull::new(ptr as *mut u8).expect("heap id pointer"), len)
    }

    /// Whether the bytes are stored in the id itself.
    pub fn is_inline(&self) -> bool {
        self.raw[0] != HEAP
    }

    pub fn as_bytes(&self) -> &[u8] {
        if self.is_inline() {
            &self.raw[1..=self.raw[0] as usize]
        } else {
            let (ptr, len) = self.heap_parts();
            // SAFETY: `ptr`/`len` come from the `Box<[u8]>` this id owns,
            // alive until `drop`.
            unsafe { std::slice::from_raw_parts(ptr.as_ptr(), len) }
        }
    }
}

impl Drop for Id {
    fn drop(&mut self) {
        if !self.is_inline() {
            let (ptr, len) = self.heap_parts();
            // SAFETY: rebuilds the box leaked in `Id::new`, exactly once.
            drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr.as_ptr(), len)) });
        }
    }
}

impl Clone for Id {
    fn clone(&self) -> Self {
        if self.is_inline() {
            Id { raw: self.raw }
        } else {
            Id::new(self.as_bytes())
        }
    }
}

impl From<&[u8]> for Id {
    fn from(b: &[u8]) -> Self {
        Id::new(b)
    }
}

impl Deref for Id {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for Id {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Borrow<[u8]> for Id {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl PartialEq for Id {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Id {}

impl PartialOrd for Id {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Id {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl Hash for Id {
    // Must hash exactly like `[u8]` so that `&[u8]` lookups find it.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl std::fmt::Debug for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_heap_behave_like_byte_strings() {
        let short = Id::new(b"truck1");
        let edge = Id::new(&[b'e'; 19]);
        let long = Id::new(&[b'x'; 40]);
        assert!(short.is_inline() && edge.is_inline());
        assert!(!long.is_inline());
        assert_eq!(&*short, b"truck1");
        assert_eq!(&*edge, &[b'e'; 19]);
        assert!(!Id::new(&[b'e'; 20]).is_inline());
        assert_eq!(long.len(), 40);
        assert_eq!(long.clone(), long);
        assert_eq!(&*Id::new(b""), b"");
        assert!(Id::new(b"a") < Id::new(b"ab"));
        assert!(Id::new(&[b'a'; 26]) < Id::new(b"b"));
        assert_eq!(std::mem::size_of::<Id>(), 20);
        let mut set = std::collections::HashSet::new();
        set.insert(short.clone());
        set.insert(long.clone());
        assert!(set.contains(&b"truck1"[..]));
        assert!(set.contains(&[b'x'; 40][..]));
    }
}
