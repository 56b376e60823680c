//! Field names, interned: a fleet's objects share a handful of names
//! (`speed`, `heading`), so each field stores an 8-byte pointer to the
//! shared name instead of its own copy. Interned names live for the
//! process; past [`MAX_NAMES`] distinct names (or for names longer than
//! [`MAX_NAME_LEN`]) a field owns its name instead, so clients inventing
//! names cannot grow the table without bound.

use std::cell::Cell;
use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::ptr::NonNull;
use std::sync::{LazyLock, Mutex};

/// Most distinct interned names.
pub const MAX_NAMES: usize = 4096;
/// Longest interned name.
pub const MAX_NAME_LEN: usize = 64;

/// A name's bytes behind a thin pointer (`&NameBuf` is 8 bytes, `&[u8]` 16).
pub(super) struct NameBuf(Box<[u8]>);

type Interner = HashMap<&'static [u8], &'static NameBuf>;

static NAMES: LazyLock<Mutex<Interner>> = LazyLock::new(Mutex::default);

/// Names each thread interned last, newest first: most writes set the same
/// few names, found here without the global lock.
const RECENT: usize = 4;

thread_local! {
    static RECENT_NAMES: Cell<[Option<&'static NameBuf>; RECENT]> = const { Cell::new([None; RECENT]) };
}

/// The shared copy of `name`, if it is (or can be) interned.
fn intern(name: &[u8]) -> Option<&'static NameBuf> {
    if name.len() > MAX_NAME_LEN {
        return None;
    }
    let mut recent = RECENT_NAMES.get();
    if let Some(found) = recent.iter().flatten().find(|n| *n.0 == *name) {
        return Some(found);
    }
    let found = intern_shared(name)?;
    recent.rotate_right(1);
    recent[0] = Some(found);
    RECENT_NAMES.set(recent);
    Some(found)
}

/// [`intern`] through the process-wide table.
fn intern_shared(name: &[u8]) -> Option<&'static NameBuf> {
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(&found) = names.get(name) {
        return Some(found);
    }
    if names.len() >= MAX_NAMES {
        return None;
    }
    let leaked: &'static NameBuf = Box::leak(Box::new(NameBuf(name.into())));
    names.insert(&leaked.0, leaked);
    Some(leaked)
}

/// A field name: a thin pointer to a [`NameBuf`], interned (shared, never
/// freed) or, with the low bit set, owned by this field.
pub(super) struct Name(pub(super) NonNull<NameBuf>);

// SAFETY: the name is immutable; an owned one belongs to this field only.
unsafe impl Send for Name {}
unsafe impl Sync for Name {}

impl Name {
    pub(super) fn new(bytes: &[u8]) -> Name {
        match intern(bytes) {
            Some(shared) => Name(NonNull::from(shared)),
            None => {
                let owned = NonNull::from(Box::leak(Box::new(NameBuf(bytes.into()))));
                Name(owned.map_addr(|a| a | 1))
            }
        }
    }

    pub(super) fn is_owned(&self) -> bool {
        self.0.addr().get() & 1 == 1
    }

    fn ptr(&self) -> NonNull<NameBuf> {
        // Clearing the tag bit gives back the 8-aligned (non-null) address.
        self.0
            .map_addr(|a| NonZeroUsize::new(a.get() & !1).expect("aligned name"))
    }

    pub(super) fn bytes(&self) -> &[u8] {
        // SAFETY: points to a live `NameBuf`: leaked for interned names,
        // owned by `self` otherwise.
        unsafe { &self.ptr().as_ref().0 }
    }
}

impl Drop for Name {
    fn drop(&mut self) {
        if self.is_owned() {
            // SAFETY: an owned name was leaked from a `Box` in `Name::new`.
            drop(unsafe { Box::from_raw(self.ptr().as_ptr()) });
        }
    }
}

impl Clone for Name {
    fn clone(&self) -> Self {
        if self.is_owned() {
            Name::new(self.bytes())
        } else {
            Name(self.0)
        }
    }
}
