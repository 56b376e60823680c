//! [`FieldList`]: an object's fields, sorted by name, behind a thin tagged
//! pointer (8 bytes in the object; nothing allocated without fields).
//! Names are interned ([`super::name`]). Three forms, by the pointer's low
//! bits:
//!
//! * a one-field list whose name is interned and whose value is small (a
//!   number as the client spelled it shortest, `true`, a short string: a
//!   fleet's `speed 42`) points at a field shared by every object with the
//!   same name and value ([`shared`]): nothing allocated per object;
//! * another one-field list owns a 32-byte field from [`super::pool`];
//! * longer lists own one allocation: a length, then the fields.

use std::alloc::{self, Layout};
use std::cmp::Ordering;
use std::num::NonZeroUsize;
use std::ptr::NonNull;

use super::name::Name;
use super::{pool, FieldValue};

mod shared;

#[derive(Clone)]
struct Field {
    value: FieldValue,
    name: Name,
}

/// The header of a longer list's allocation; the fields follow it.
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

/// Pointer tag: a shared field (`&'static Field`, never freed).
const SHARED: usize = 1;
/// Pointer tag: one owned field from the pool.
const SINGLE: usize = 2;
const TAGS: usize = SHARED | SINGLE;

/// What a list's pointer points at.
enum Repr {
    Empty,
    Many(NonNull<Header>),
    Single(NonNull<Field>),
    Shared(&'static shared::SharedField),
}

/// An object's fields, sorted by name (byte order, case-sensitive).
#[derive(Default)]
pub struct FieldList {
    /// Tagged (`SHARED`, `SINGLE`, or neither: a `Header`); fields are
    /// 8-aligned, so the low bits are free.
    ptr: Option<NonNull<u8>>,
}

// SAFETY: the list owns its allocation exclusively, like a `Vec<Field>`;
// a shared field is immutable and lives for the process.
unsafe impl Send for FieldList {}
unsafe impl Sync for FieldList {}

impl FieldList {
    pub fn new() -> Self {
        Self::default()
    }

    fn repr(&self) -> Repr {
        let Some(ptr) = self.ptr else {
            return Repr::Empty;
        };
        let tag = ptr.addr().get() & TAGS;
        // The tag bits cleared leave the 8-aligned, non-null address.
        let untagged = ptr.map_addr(|a| NonZeroUsize::new(a.get() & !TAGS).expect("aligned"));
        match tag {
            // SAFETY: a `SHARED` pointer is a leaked `&'static SharedField`.
            SHARED => Repr::Shared(unsafe { untagged.cast::<shared::SharedField>().as_ref() }),
            SINGLE => Repr::Single(untagged.cast()),
            _ => Repr::Many(untagged.cast()),
        }
    }

    fn fields(&self) -> &[Field] {
        match self.repr() {
            Repr::Empty => &[],
            Repr::Shared(s) => std::slice::from_ref(&s.field),
            // SAFETY: a `SINGLE` pointer is a live pool block holding one
            // initialised field, owned by `self`.
            Repr::Single(f) => std::slice::from_ref(unsafe { f.as_ref() }),
            // SAFETY: a `Header` pointer is an allocation of `layout(len)`
            // holding `len` initialised fields after the header.
            Repr::Many(ptr) => unsafe {
                let len = ptr.as_ref().len;
                let first = ptr.as_ptr().cast::<u8>().add(OFFSET).cast::<Field>();
                std::slice::from_raw_parts(first, len)
            },
        }
    }

    /// The fields of a list of two or more, to edit in place (a one-field
    /// list is rebuilt instead: its value decides whether it is shared).
    fn many_mut(&mut self) -> &mut [Field] {
        let Repr::Many(ptr) = self.repr() else {
            unreachable!("in-place edits are for longer lists");
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
        let repr = self.repr();
        self.ptr = None;
        match repr {
            Repr::Empty => Vec::new(),
            Repr::Shared(s) => vec![s.field.clone()],
            // SAFETY: reads the field once, then frees its block.
            Repr::Single(f) => unsafe {
                let field = f.as_ptr().read();
                pool::dealloc(f.as_ptr().cast(), Layout::new::<Field>());
                vec![field]
            },
            // SAFETY: reads each initialised field once, then frees the
            // allocation without dropping them again.
            Repr::Many(ptr) => unsafe {
                let len = ptr.as_ref().len;
                let first = ptr.as_ptr().cast::<u8>().add(OFFSET).cast::<Field>();
                let out = (0..len).map(|i| first.add(i).read()).collect();
                pool::dealloc(ptr.as_ptr().cast(), layout(len));
                out
            },
        }
    }

    /// A list of exactly `fields` (sorted, distinct names).
    fn from_vec(fields: Vec<Field>) -> FieldList {
        FieldList::from_exact(fields.len(), fields)
    }

    /// A one-field list: shared when it can be, else its own pool block.
    fn one(field: Field) -> FieldList {
        if let Some(shared) = shared::share(&field) {
            let ptr = NonNull::from(shared).cast::<u8>();
            drop(field);
            return FieldList {
                ptr: Some(ptr.map_addr(|a| a | SHARED)),
            };
        }
        let layout = Layout::new::<Field>();
        // SAFETY: non-zero layout; the block is written before use.
        unsafe {
            let raw = pool::alloc(layout);
            let Some(ptr) = NonNull::new(raw.cast::<Field>()) else {
                alloc::handle_alloc_error(layout);
            };
            ptr.as_ptr().write(field);
            FieldList {
                ptr: Some(ptr.cast::<u8>().map_addr(|a| a | SINGLE)),
            }
        }
    }

    /// A list of the `len` fields `fields` yields (sorted, distinct names).
    fn from_exact(len: usize, fields: impl IntoIterator<Item = Field>) -> FieldList {
        if len == 0 {
            return FieldList::new();
        }
        if len == 1 {
            let field = fields.into_iter().next().expect("one field");
            return FieldList::one(field);
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
            FieldList {
                ptr: Some(ptr.cast()),
            }
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
                } else if self.len() > 1 {
                    self.many_mut()[i].value = value;
                    true
                } else {
                    // A one-field list is made again: its new value decides
                    // whether it is shared.
                    let name = self.fields()[0].name.clone();
                    *self = FieldList::one(Field { value, name });
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
        if fields.len() == 1 {
            let (name, value) = fields.pop().expect("one field");
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
        match self.repr() {
            Repr::Empty => return 0,
            // Every write weighs the list it replaces and the new one;
            // a number's weight formats it, so a shared field keeps its own.
            Repr::Shared(s) => return s.weight,
            _ => {}
        }
        self.weight_of_fields()
    }

    fn weight_of_fields(&self) -> usize {
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
        match self.repr() {
            Repr::Empty | Repr::Shared(_) => {}
            // SAFETY: the block holds one initialised field owned by
            // `self`, dropped once, then the block is freed.
            Repr::Single(f) => unsafe {
                f.as_ptr().drop_in_place();
                pool::dealloc(f.as_ptr().cast(), Layout::new::<Field>());
            },
            Repr::Many(_) => drop(self.take()),
        }
    }
}

impl Clone for FieldList {
    fn clone(&self) -> Self {
        match self.repr() {
            Repr::Shared(_) => FieldList { ptr: self.ptr },
            _ => FieldList::from_vec(self.fields().to_vec()),
        }
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
mod tests;
