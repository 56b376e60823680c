//! [`FieldList`]: an object's fields, sorted by name, in one allocation
//! behind a thin pointer (8 bytes in the object; nothing allocated without
//! fields). Field names are interned: a fleet's objects share a handful of
//! names (`speed`, `heading`), so each field stores an 8-byte pointer to
//! the shared name instead of its own copy. One-field lists (40 bytes) come
//! from [`super::pool`]. Interned names live for the
//! process; past [`MAX_NAMES`] distinct names (or for names longer than
//! [`MAX_NAME_LEN`]) a field owns its name instead, so clients inventing
//! names cannot grow the table without bound.

use std::alloc::{self, Layout};
use std::cell::Cell;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::ptr::NonNull;
use std::sync::{LazyLock, Mutex};

use super::{pool, FieldValue};

/// Most distinct interned names.
pub const MAX_NAMES: usize = 4096;
/// Longest interned name.
pub const MAX_NAME_LEN: usize = 64;

/// A name's bytes behind a thin pointer (`&NameBuf` is 8 bytes, `&[u8]` 16).
struct NameBuf(Box<[u8]>);

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
struct Name(NonNull<NameBuf>);

// SAFETY: the name is immutable; an owned one belongs to this field only.
unsafe impl Send for Name {}
unsafe impl Sync for Name {}

impl Name {
    fn new(bytes: &[u8]) -> Name {
        match intern(bytes) {
            Some(shared) => Name(NonNull::from(shared)),
            None => {
                let owned = NonNull::from(Box::leak(Box::new(NameBuf(bytes.into()))));
                Name(owned.map_addr(|a| a | 1))
            }
        }
    }

    fn is_owned(&self) -> bool {
        self.0.addr().get() & 1 == 1
    }

    fn ptr(&self) -> NonNull<NameBuf> {
        // Clearing the tag bit gives back the 8-aligned (non-null) address.
        self.0
            .map_addr(|a| NonZeroUsize::new(a.get() & !1).expect("aligned name"))
    }

    fn bytes(&self) -> &[u8] {
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

#[derive(Clone)]
struct Field {
    value: FieldValue,
    name: Name,
}

/// The header of a list's allocation; the fields follow it.
#[repr(C)]
struct Header {
    len: usize,
}

/// Where the fields start in the allocation.
const OFFSET: usize = std::mem::size_of::<Header>().next_multiple_of(std::mem::align_of::<Field>());

fn layout(len: usize) -> Layout {
    let (layout, offset) = Layout::new::<Header>()
        .extend(Layout::array::<Field>(len).expect("field list size"))
        .expect("field list size");
    debug_assert_eq!(offset, OFFSET);
    layout.pad_to_align()
}

/// An object's fields, sorted by name (byte order, case-sensitive).
#[derive(Default)]
pub struct FieldList {
    ptr: Option<NonNull<Header>>,
}

// SAFETY: the list owns its allocation exclusively, like a `Vec<Field>`.
unsafe impl Send for FieldList {}
unsafe impl Sync for FieldList {}

impl FieldList {
    pub fn new() -> Self {
        Self::default()
    }

    fn fields(&self) -> &[Field] {
        let Some(ptr) = self.ptr else {
            return &[];
        };
        // SAFETY: a non-null `ptr` is an allocation of `layout(len)` holding
        // `len` initialised fields after the header.
        unsafe {
            let len = ptr.as_ref().len;
            let first = ptr.as_ptr().cast::<u8>().add(OFFSET).cast::<Field>();
            std::slice::from_raw_parts(first, len)
        }
    }

    fn fields_mut(&mut self) -> &mut [Field] {
        let Some(ptr) = self.ptr else {
            return &mut [];
        };
        // SAFETY: as in `fields`, and `&mut self` makes the access unique.
        unsafe {
            let len = ptr.as_ref().len;
            let first = ptr.as_ptr().cast::<u8>().add(OFFSET).cast::<Field>();
            std::slice::from_raw_parts_mut(first, len)
        }
    }

    /// Moves the fields out (the list is left empty).
    fn take(&mut self) -> Vec<Field> {
        let Some(ptr) = self.ptr.take() else {
            return Vec::new();
        };
        // SAFETY: reads each initialised field once, then frees the
        // allocation without dropping them again.
        unsafe {
            let len = ptr.as_ref().len;
            let first = ptr.as_ptr().cast::<u8>().add(OFFSET).cast::<Field>();
            let out = (0..len).map(|i| first.add(i).read()).collect();
            pool::dealloc(ptr.as_ptr().cast(), layout(len));
            out
        }
    }

    /// A list of exactly `fields` (sorted, distinct names).
    fn from_vec(fields: Vec<Field>) -> FieldList {
        FieldList::from_exact(fields.len(), fields)
    }

    /// A list of the `len` fields `fields` yields (sorted, distinct names).
    fn from_exact(len: usize, fields: impl IntoIterator<Item = Field>) -> FieldList {
        if len == 0 {
            return FieldList::new();
        }
        let layout = layout(len);
        // SAFETY: `layout` is non-zero sized; the header and each field are
        // written once before the list is used.
        unsafe {
            let raw = pool::alloc(layout);
            let Some(ptr) = NonNull::new(raw.cast::<Header>()) else {
                alloc::handle_alloc_error(layout);
            };
            ptr.as_ptr().write(Header { len });
            let first = raw.add(OFFSET).cast::<Field>();
            let mut written = 0;
            for f in fields.into_iter().take(len) {
                first.add(written).write(f);
                written += 1;
            }
            assert_eq!(written, len, "field list length");
            FieldList { ptr: Some(ptr) }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.ptr.is_none()
    }

    pub fn len(&self) -> usize {
        self.fields().len()
    }

    fn find(&self, name: &[u8]) -> Result<usize, usize> {
        self.fields().binary_search_by(|f| f.name.bytes().cmp(name))
    }

    pub fn get(&self, name: &[u8]) -> Option<&FieldValue> {
        self.find(name).ok().map(|i| &self.fields()[i].value)
    }

    /// Sets `name`; the zero value removes it. Returns whether anything
    /// changed under Tile38's comparison (`abc` → `ABC` is no change).
    pub fn set(&mut self, name: &[u8], value: FieldValue) -> bool {
        match self.find(name) {
            Ok(i) => {
                if value.is_zero() {
                    let mut fields = self.take();
                    fields.remove(i);
                    *self = FieldList::from_vec(fields);
                    true
                } else if self.fields()[i].value.compare(&value) == Ordering::Equal {
                    false
                } else {
                    self.fields_mut()[i].value = value;
                    true
                }
            }
            Err(i) => {
                if value.is_zero() {
                    return false;
                }
                let field = Field {
                    value,
                    name: Name::new(name),
                };
                if self.is_empty() {
                    // The common first field: no list to copy.
                    *self = FieldList::from_exact(1, [field]);
                    return true;
                }
                let mut fields = self.take();
                fields.insert(i, field);
                *self = FieldList::from_vec(fields);
                true
            }
        }
    }

    /// Sets `fields` in order, with the result and the count of changes of
    /// calling [`set`](Self::set) for each (so `FSET … a 1 a 1` changes
    /// once), but in O(n + m log m): one `set` per new name copies the whole
    /// list, which made a SET with 50,000 FIELDs take tens of seconds.
    pub fn set_all(&mut self, fields: Vec<(Box<[u8]>, FieldValue)>) -> usize {
        self.merge(fields, Rule::Set)
    }

    /// [`set_all`](Self::set_all) under `rule`.
    pub fn merge(&mut self, mut fields: Vec<(Box<[u8]>, FieldValue)>, rule: Rule) -> usize {
        if let [(name, _)] = fields.as_slice() {
            let name = name.clone();
            let (_, value) = fields.pop().expect("one field");
            if rule.unchanged(self.get(&name), &value) {
                return 0;
            }
            return usize::from(self.set(&name, value));
        }
        // Stable: the values given for one name stay in order.
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        let mut old = self.take().into_iter().peekable();
        let mut merged: Vec<Field> = Vec::with_capacity(old.len() + fields.len());
        let mut new = fields.into_iter().peekable();
        let mut changed = 0;
        while let Some((name, _)) = new.peek() {
            let name = name.clone();
            while let Some(f) = old.next_if(|f| f.name.bytes() < &name[..]) {
                merged.push(f);
            }
            let mut current = old.next_if(|f| f.name.bytes() == &name[..]);
            while let Some((_, value)) = new.next_if(|(n, _)| *n == name) {
                if !rule.unchanged(current.as_ref().map(|f| &f.value), &value) {
                    changed += usize::from(apply(&mut current, &name, value));
                }
            }
            merged.extend(current);
        }
        merged.extend(old);
        *self = FieldList::from_vec(merged);
        changed
    }

    /// Fields in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &FieldValue)> {
        self.fields().iter().map(|f| (f.name.bytes(), &f.value))
    }

    /// Size of the list in Tile38's binary form (`field.List.Weight`):
    /// the entries behind their uvarint total, each entry the name's
    /// number in Tile38's shared name table (one byte: it takes 128
    /// distinct names in a process's life for two) and the value.
    pub fn weight(&self) -> usize {
        if self.is_empty() {
            return 0;
        }
        let total: usize = self.iter().map(|(_, v)| 1 + v.weight()).sum();
        super::uvarint_len(total) + total
    }

    /// `FGET key id a.b.c`: a field named exactly so, else path `b.c` inside
    /// the JSON-valued field `a`.
    pub fn lookup(&self, name: &[u8]) -> Option<FieldValue> {
        if let Some(v) = self.get(name) {
            return Some(v.clone());
        }
        let dot = name.iter().position(|&b| b == b'.')?;
        let FieldValue::Json(doc) = self.get(&name[..dot])? else {
            return None;
        };
        let path = std::str::from_utf8(&name[dot + 1..]).ok()?;
        let found = crate::jsonpath::get(doc, path).ok()?;
        found
            .exists()
            .then(|| FieldValue::parse(found.json().as_bytes()))
    }
}

/// How a write merges a field into a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// `SET … FIELD`: Tile38's `List.Set` (a zero value removes the field,
    /// an equal one changes nothing).
    Set,
    /// `FSET`: first Tile38's `if !prev.Equals(value)`, where an absent
    /// field is the number 0 and a NaN equals every number (`Equals` is
    /// "neither is less"): `FSET … f nan` stores nothing on a new field,
    /// keeps a number, and `FSET … f 0` on a NaN keeps the NaN.
    Fset,
}

impl Rule {
    /// Whether FSET's equality test leaves a field that is `current`
    /// (absent: `None`) alone.
    fn unchanged(self, current: Option<&FieldValue>, value: &FieldValue) -> bool {
        if self == Rule::Set {
            return false;
        }
        let zero = FieldValue::Number {
            value: 0.0,
            text: None,
        };
        current.unwrap_or(&zero).compare(value) == Ordering::Equal
    }
}

/// One [`FieldList::set`] on a field that is `current` (absent: `None`).
fn apply(current: &mut Option<Field>, name: &[u8], value: FieldValue) -> bool {
    match current {
        Some(_) if value.is_zero() => {
            *current = None;
            true
        }
        Some(f) if f.value.compare(&value) == Ordering::Equal => false,
        Some(f) => {
            f.value = value;
            true
        }
        None if value.is_zero() => false,
        None => {
            *current = Some(Field {
                value,
                name: Name::new(name),
            });
            true
        }
    }
}

impl Drop for FieldList {
    fn drop(&mut self) {
        drop(self.take());
    }
}

impl Clone for FieldList {
    fn clone(&self) -> Self {
        FieldList::from_vec(self.fields().to_vec())
    }
}

impl PartialEq for FieldList {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl std::fmt::Debug for FieldList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|(n, v)| (String::from_utf8_lossy(n), v)))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn set_all_is_set_one_by_one(
            start in proptest::collection::vec((0..6u8, 0..5usize), 0..8),
            ops in proptest::collection::vec((0..6u8, 0..5usize), 0..24),
        ) {
            const VALUES: [&[u8]; 5] = [b"0", b"1", b"abc", b"ABC", b"1.0"];
            let field = |(n, v): (u8, usize)| (vec![b'a' + n].into_boxed_slice(), FieldValue::parse(VALUES[v]));
            let mut one = FieldList::new();
            for f in start.iter().copied().map(field) {
                one.set(&f.0, f.1);
            }
            let mut all = one.clone();
            let expected = ops.iter().copied().map(field).filter(|(n, v)| one.set(n, v.clone())).count();
            let changed = all.set_all(ops.iter().copied().map(field).collect());
            prop_assert_eq!(changed, expected);
            prop_assert_eq!(all, one);
        }
    }

    #[test]
    fn thin_and_shared() {
        assert_eq!(std::mem::size_of::<FieldList>(), 8);
        assert_eq!(std::mem::size_of::<Field>(), 32);
        let mut a = FieldList::new();
        let mut b = FieldList::new();
        a.set(b"speed", FieldValue::parse(b"5"));
        b.set(b"speed", FieldValue::parse(b"6"));
        let (na, nb) = (&a.fields()[0].name, &b.fields()[0].name);
        assert!(!na.is_owned() && na.0 == nb.0);
        let long = vec![b'n'; MAX_NAME_LEN + 1];
        a.set(&long, FieldValue::parse(b"1"));
        let c = a.clone();
        assert_eq!(c, a);
        assert!(c.fields()[0].name.is_owned());
        assert_eq!(c.iter().map(|(n, _)| n.len()).collect::<Vec<_>>(), [65, 5]);
        a.set(&long, FieldValue::parse(b"0"));
        assert_eq!((a.len(), c.len()), (1, 2));
        a.set(b"speed", FieldValue::parse(b"0"));
        assert!(a.is_empty() && a.ptr.is_none());
    }
}
