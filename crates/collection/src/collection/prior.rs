//! What a write hands back of the object it changed ([`Prior`],
//! [`SetOutcome`]), moved out of the collection so that the journal can
//! show it to subscribers without copying it.

use std::mem;

use tile38_geo::field::Rule;
use tile38_geo::{FieldList, FieldValue, Value};

/// What [`Collection::set`](super::Collection::set) did.
#[derive(Debug)]
pub enum SetOutcome {
    /// `cond` refused (`NX` on an existing id, `XX` on a missing one):
    /// nothing changed.
    Refused,
    /// The id was new.
    Inserted,
    /// The object was replaced; what it was.
    Replaced(Prior),
}

impl SetOutcome {
    /// Whether the object was stored.
    pub fn written(&self) -> bool {
        !matches!(self, SetOutcome::Refused)
    }
}

/// What a write changed of an object that is still there, moved out of
/// the collection (never copied): each part the write replaced; a part
/// left `None` is as the object has it now.
#[derive(Debug, Default)]
pub struct Prior {
    pub value: Option<Value>,
    /// The fields before, when the write changed them and was asked to
    /// keep them (`Collection::set_keeping_fields`,
    /// `Collection::set_fields`): a list edited in place is not kept.
    pub fields: Option<FieldList>,
    /// The deadline before (`Some(None)`: there was none).
    pub expires: Option<Option<i64>>,
}

/// Merges `fields` into `list` as SET and FSET do; returns how many
/// changed and, with `keep` and any change, the list as it was: moved
/// out, the object getting a merged copy (one allocation, paid only when
/// someone watches the writes). Otherwise the list is edited in place,
/// which allocates nothing when a value changes.
pub(super) fn merge_fields(
    list: &mut FieldList,
    fields: Vec<(Box<[u8]>, FieldValue)>,
    keep: bool,
    rule: Rule,
) -> (usize, Option<FieldList>) {
    if fields.is_empty() {
        return (0, None);
    }
    if !keep {
        return (list.merge(fields, rule), None);
    }
    let mut merged = list.clone();
    let changed = merged.merge(fields, rule);
    if changed == 0 {
        return (0, None);
    }
    (changed, Some(mem::replace(list, merged)))
}
