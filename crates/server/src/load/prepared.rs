//! A SET parsed on the framing thread, as it crosses to the applying one.
//!
//! What crosses is kept small and self-contained: the common SET carries
//! its key, id and field names inline, so the applying thread reads one
//! run of memory per record (memory the other core wrote costs a transfer
//! per cache line, and the record's argument buffers would be two more),
//! and allocates the field list itself. (glibc's `free` of memory another
//! thread allocated takes that thread's arena lock: with every SET's field
//! list allocated on one thread and freed on the other, the contended lock
//! cost a fifth of the framing thread's time.)

use tile38_geo::{FieldValue, Value};
use tile38_proto::Args;

use tile38_engine::cmd::output::GetForm;
use tile38_engine::cmd::set::{Cond, Set};
use tile38_engine::cmd::{WriteCommand, WriteCx};
use tile38_engine::error::Result;
use tile38_engine::reply::Reply;

/// Bytes of key, id and field names a SET carries inline.
const TEXT: usize = 64;
/// Most fields a SET carries inline.
const FIELDS: usize = 2;

/// A parsed SET.
pub enum Prepared {
    /// The common SET: key, id and up to [`FIELDS`] fields inline.
    Inline(Inline),
    /// Any other, its key and id left empty (they are read from the
    /// record's arguments).
    Whole(Box<Set<'static>>),
}

pub struct Inline {
    value: Value,
    ex: Option<f64>,
    cond: Cond,
    ret: Option<GetForm>,
    fields: [Option<FieldValue>; FIELDS],
    /// The key, the id and the field names, back to back.
    text: [u8; TEXT],
    /// Lengths of the key, the id and the field names in `text`.
    lens: [u8; 2 + FIELDS],
}

impl Prepared {
    /// Parses a SET; `None` for other commands and for a SET that fails
    /// to parse, which then runs (and fails) as usual.
    pub fn parse(args: &Args) -> Option<Prepared> {
        if !args.get(0).eq_ignore_ascii_case(b"set") {
            return None;
        }
        let set = Set::parse(args).ok()?;
        let names = set.fields.iter().map(|(name, _)| name.len());
        let text = set.key.len() + set.id.len() + names.sum::<usize>();
        if set.fields.len() > FIELDS || text > TEXT {
            return Some(Prepared::Whole(Box::new(Set {
                key: b"",
                id: b"",
                ..set
            })));
        }
        let mut inline = Inline {
            value: set.value,
            ex: set.ex,
            cond: set.cond,
            ret: set.ret,
            fields: [None, None],
            text: [0; TEXT],
            lens: [0; 2 + FIELDS],
        };
        let mut at = 0;
        let mut put = |i: usize, bytes: &[u8]| {
            inline.text[at..at + bytes.len()].copy_from_slice(bytes);
            inline.lens[i] = bytes.len() as u8;
            at += bytes.len();
        };
        put(0, set.key);
        put(1, set.id);
        for (i, (name, value)) in set.fields.into_iter().enumerate() {
            put(2 + i, &name);
            inline.fields[i] = Some(value);
        }
        Some(Prepared::Inline(inline))
    }

    /// Runs the SET of the record `args` as a client's would run.
    pub fn apply(self, args: &Args, cx: &mut WriteCx, out: &mut Reply) -> Result<()> {
        let inline = match self {
            Prepared::Whole(set) => {
                let set = Set {
                    key: args.get(1),
                    id: args.get(2),
                    ..*set
                };
                return set.apply(cx, out);
            }
            Prepared::Inline(inline) => inline,
        };
        let mut texts = inline.lens.iter().scan(0, |at, &len| {
            let from = *at;
            *at += usize::from(len);
            Some(&inline.text[from..*at])
        });
        let (key, id) = (
            texts.next().unwrap_or_default(),
            texts.next().unwrap_or_default(),
        );
        let fields = inline
            .fields
            .into_iter()
            .zip(texts)
            .filter_map(|(value, name)| Some((name.into(), value?)))
            .collect();
        let set = Set {
            key,
            id,
            value: inline.value,
            fields,
            ex: inline.ex,
            cond: inline.cond,
            ret: inline.ret,
        };
        set.apply(cx, out)
    }
}
