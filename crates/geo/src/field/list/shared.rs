//! Shared one-field lists: a fleet's objects mostly carry one field with
//! one of a few values (`speed 0` … `speed 99`), and the same name and
//! value need not be stored once per object. A one-field list whose name
//! is interned and whose value is small points at one field kept here for
//! the process instead of owning a 32-byte block (at 200k such objects,
//! 6 MB).
//!
//! Shareable values: `null`, `true`, `false`, a number without a spelling
//! of its own (`NumText`), a string of at most [`STR`] bytes. Numbers are
//! told apart bit for bit (`-0` and `0`, each NaN), so a shared field
//! prints and compares exactly as the value it replaced. At most
//! [`MAX_SHARED`] fields are kept (about 1 MB); past that, one-field lists
//! own their field, so clients writing ever new values cannot grow the
//! table without bound.

use std::cell::Cell;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{LazyLock, Mutex};

use super::{Field, FieldValue};

/// Most shared fields.
pub const MAX_SHARED: usize = 8192;
/// Longest shared string value.
const STR: usize = 15;

/// A shareable field, bit for bit: the interned name's address and the
/// value.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    name: usize,
    value: Small,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Small {
    Null,
    False,
    True,
    Number(u64),
    Str(u8, [u8; STR]),
}

fn key(f: &Field) -> Option<Key> {
    if f.name.is_owned() {
        return None;
    }
    let value = match &f.value {
        FieldValue::Null => Small::Null,
        FieldValue::False => Small::False,
        FieldValue::True => Small::True,
        FieldValue::Number { value, text: None } => Small::Number(value.to_bits()),
        FieldValue::String(s) if s.len() <= STR => {
            let mut b = [0; STR];
            b[..s.len()].copy_from_slice(s);
            Small::Str(s.len() as u8, b)
        }
        _ => return None,
    };
    Some(Key {
        name: f.name.0.addr().get(),
        value,
    })
}

/// A shared field and its weight ([`super::FieldList::weight`]).
pub(super) struct SharedField {
    pub(super) field: Field,
    pub(super) weight: usize,
}

type Table = HashMap<Key, &'static SharedField>;

static SHARED: LazyLock<Mutex<Table>> = LazyLock::new(Mutex::default);

/// Slots of the per-thread cache of shared fields (direct mapped).
const CACHE: usize = 1 << 8;

thread_local! {
    /// Fields this thread shared lately, by key hash: most writes find
    /// theirs here, without the global lock.
    static CACHE_SLOTS: [Cell<Option<&'static SharedField>>; CACHE] =
        const { [const { Cell::new(None) }; CACHE] };
}

/// The cache slot of `k`: a multiplicative hash (a write pays for it, so
/// no SipHash).
fn slot(k: &Key) -> usize {
    let v = match k.value {
        Small::Null => 1,
        Small::False => 2,
        Small::True => 3,
        Small::Number(bits) => bits,
        Small::Str(n, b) => {
            let lo = u64::from_le_bytes(b[..8].try_into().expect("8 bytes"));
            let mut hi = [0; 8];
            hi[..7].copy_from_slice(&b[8..]);
            lo ^ u64::from_le_bytes(hi).rotate_left(29) ^ u64::from(n)
        }
    };
    let h = (k.name as u64 ^ v).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h >> 56) as usize
}

/// The shared field equal to `f`, if `f` can be shared (made shared on
/// first use while the table has room).
pub(super) fn share(f: &Field) -> Option<&'static SharedField> {
    let k = key(f)?;
    let i = slot(&k);
    let cached = CACHE_SLOTS.try_with(|c| c[i].get()).ok().flatten();
    if let Some(found) = cached.filter(|c| key(&c.field) == Some(k)) {
        return Some(found);
    }
    let found = share_global(k, f)?;
    let _ = CACHE_SLOTS.try_with(|c| c[i].set(Some(found)));
    Some(found)
}

fn share_global(k: Key, f: &Field) -> Option<&'static SharedField> {
    let mut table = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(&found) = table.get(&k) {
        return Some(found);
    }
    if table.len() >= MAX_SHARED {
        return None;
    }
    // The weight of a list of this one field.
    let total = 1 + f.value.weight();
    let weight = super::super::uvarint_len(total) + total;
    let leaked: &'static SharedField = Box::leak(Box::new(SharedField {
        field: f.clone(),
        weight,
    }));
    table.insert(k, leaked);
    Some(leaked)
}

/// Fields shared so far (tests).
#[cfg(test)]
pub(super) fn count() -> usize {
    SHARED.lock().unwrap_or_else(|e| e.into_inner()).len()
}
