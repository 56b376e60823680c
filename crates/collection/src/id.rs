//! Object ids: byte strings stored inline up to 22 bytes (no allocation, no
//! pointer to chase on lookup), shared on the heap beyond that. The same id
//! lives in the id map, the ordered id set, the R-tree and the expiry index.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

const INLINE: usize = 22;

/// An object id (24 bytes).
#[derive(Clone)]
pub enum Id {
    Inline { len: u8, data: [u8; INLINE] },
    Heap(Arc<[u8]>),
}

impl Id {
    pub fn new(bytes: &[u8]) -> Id {
        if bytes.len() <= INLINE {
            let mut data = [0u8; INLINE];
            data[..bytes.len()].copy_from_slice(bytes);
            Id::Inline {
                len: bytes.len() as u8,
                data,
            }
        } else {
            Id::Heap(Arc::from(bytes))
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Id::Inline { len, data } => &data[..*len as usize],
            Id::Heap(b) => b,
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
        let long = Id::new(&[b'x'; 40]);
        assert!(matches!(short, Id::Inline { .. }));
        assert!(matches!(long, Id::Heap(_)));
        assert_eq!(&*short, b"truck1");
        assert_eq!(long.len(), 40);
        assert!(Id::new(b"a") < Id::new(b"ab"));
        assert_eq!(std::mem::size_of::<Id>(), 24);
        let mut set = std::collections::HashSet::new();
        set.insert(short.clone());
        assert!(set.contains(&b"truck1"[..]));
    }
}
