//! The journal of changes: what one write did, as a [`Change`], and who
//! hears of it ([`ChangeSink`]).
//!
//! Every write that changes something reports one [`Change`] per record it
//! logs, through [`crate::cmd::WriteCx::changed`] or, for the server's own
//! writes (expiry), [`Engine::journal_internal`](crate::Engine::journal_internal). Both end in
//! [`Engine::journal`](crate::Engine::journal), the one seam, which runs under the database write
//! lock in execution order and feeds, in this order: the AOF (the record,
//! byte for byte as before), the AOF rewrite (a write it cannot account for
//! invalidates it), the engine's fences (`crate::fence`, evaluated in
//! place because they need the engine: pub/sub, replication role) and the
//! subscribers (scripting), each with the database as the write left it.
//!
//! A change says what it did to objects without copying them: the old
//! object, or the parts of it the write replaced, are moved out of the
//! collection into the change and dropped after the seam; the new object
//! is looked up in the database the subscriber gets ([`Change::after`]).
//! Nothing here allocates for a single-object write.
//!
//! Who sees what, by [`Origin`]:
//!
//! | origin        | AOF appended            | subscribers |
//! |---------------|-------------------------|-------------|
//! | `Client`      | yes                     | yes         |
//! | `Internal`    | unless following        | yes         |
//! | `Replicated`  | no (the follower mirrors the leader's bytes itself) | live fences (Tile38 alike; channel messages come in the leader's stream) |
//! | `Loaded`      | no                      | no (the startup AOF load rebuilds state; it happened before) |
//!
//! Tile38's geofence events map onto changes as its `commandDetails` do:
//! one event per [`Edit`] (a PDEL is one change whose edits are each a
//! `del`), one `drop` per [`What::Dropped`]; JSET and JDEL are `set`s of
//! the rewritten document there (here their [`Change::command`] says
//! `jset`/`jdel` and each edit is an [`Op::Inserted`] or [`Op::Updated`]).

use std::sync::Arc;

use tile38_collection::{Collection, Database};
pub use tile38_collection::{Item, Prior};
use tile38_geo::{FieldList, Value};
use tile38_proto::Args;

/// Where a write came from, which decides who hears of it (see the module
/// table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A client's command.
    Client,
    /// The server's own write: an object or a hook definition expiring.
    Internal,
    /// A write applied from the leader's stream (this server follows).
    Replicated,
    /// A record replayed from the AOF at startup.
    Loaded,
}

/// The record a write logs: a command's arguments, or the words the
/// server writes for itself (`del key id`).
#[derive(Clone, Copy)]
pub enum Record<'a> {
    Args(&'a Args),
    Words(&'a [&'a [u8]]),
}

impl<'a> Record<'a> {
    pub fn len(&self) -> usize {
        match self {
            Record::Args(args) => args.len(),
            Record::Words(words) => words.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Word `i` (the command name is word 0, as the client spelled it).
    pub fn get(&self, i: usize) -> &'a [u8] {
        match *self {
            Record::Args(args) => args.get(i),
            Record::Words(words) => words[i],
        }
    }

    /// The words, in order.
    pub fn words(&self) -> impl ExactSizeIterator<Item = &'a [u8]> + 'a {
        let record = *self;
        (0..record.len()).map(move |i| record.get(i))
    }
}

/// One write: the record the AOF logs for it and what it did.
pub struct Change<'a> {
    /// The record, verbatim: what the AOF appends and a leader streams.
    pub record: Record<'a>,
    /// The command, lower-case as in the command table (`set`, `pdel`,
    /// `del` for an expired object, `delhook` for an expired hook).
    pub command: &'static str,
    pub origin: Origin,
    /// The key written: the source key of a RENAME, empty for FLUSHDB and
    /// for hook and channel definitions.
    pub key: &'a [u8],
    pub what: What<'a>,
    /// Whether the record, applied again over a later state, ends in the
    /// same state: what an AOF rewrite that runs meanwhile relies on when
    /// it replays the records appended during its walk (the server's
    /// `shrink.rs`). Not so for a RENAME (the walk lists keys once) nor for
    /// a JSET that appends to an array (it would append twice): those
    /// invalidate a running rewrite.
    pub idempotent: bool,
}

/// What a write did.
pub enum What<'a> {
    /// Objects of the key, each written or removed, in order.
    Objects(&'a [Edit<'a>]),
    /// DROP: the key's collection, whole, removed (dropped after the seam).
    Dropped(&'a Collection),
    /// FLUSHDB: every collection, and every hook and channel definition.
    Flushed,
    /// RENAME/RENAMENX: the key's collection is now `to`'s; `replaced`:
    /// the collection `to` had (RENAME over an existing key drops it).
    Renamed {
        to: &'a [u8],
        replaced: Option<&'a Collection>,
    },
    /// Hook or channel definitions changed (SETHOOK, DELCHAN, PDELHOOK, …,
    /// an expiry): no object did; the record says which.
    Definitions,
}

/// What a write did to one object.
pub struct Edit<'a> {
    pub id: &'a [u8],
    pub op: Op,
}

/// How an object changed, holding what the write took out of the
/// collection.
pub enum Op {
    /// A new object: SET of a new id, JSET creating a document.
    Inserted,
    /// An object that is still there changed (SET, FSET, JSET, JDEL,
    /// EXPIRE, PERSIST): the parts the write replaced; the rest is as the
    /// object has it now.
    Updated(Prior),
    /// The object is gone (DEL, PDEL, expiry), whole.
    Deleted(Item),
}

/// An object as a subscriber sees it, before or after a write: borrowed
/// from the database or from the change, never copied.
#[derive(Clone, Copy)]
pub struct Object<'a> {
    pub value: &'a Value,
    pub fields: &'a FieldList,
    /// Deadline in unix nanoseconds.
    pub expires: Option<i64>,
}

impl<'a> Object<'a> {
    pub fn of(item: &'a Item) -> Object<'a> {
        Object {
            value: &item.value,
            fields: &item.fields,
            expires: item.deadline(),
        }
    }
}

impl Change<'_> {
    /// The objects this change edited (none for key-level changes).
    pub fn edits(&self) -> &[Edit<'_>] {
        match self.what {
            What::Objects(edits) => edits,
            _ => &[],
        }
    }

    /// The object `id` of this change's key as the write left it, in the
    /// database the seam hands subscribers.
    pub fn after<'d>(&self, db: &'d Database, id: &[u8]) -> Option<&'d Item> {
        db.get(self.key)?.get(id)
    }

    /// Whether an AOF rewrite running meanwhile must start over.
    pub fn invalidates_rewrite(&self) -> bool {
        !self.idempotent
    }
}

impl Edit<'_> {
    /// The object before the write; `after` is the object now
    /// ([`Change::after`]), which supplies the parts an update left alone.
    pub fn before<'s>(&'s self, after: Option<&'s Item>) -> Option<Object<'s>> {
        match &self.op {
            Op::Inserted => None,
            Op::Deleted(item) => Some(Object::of(item)),
            Op::Updated(prior) => {
                let now = after?;
                Some(Object {
                    value: prior.value.as_ref().unwrap_or(&now.value),
                    fields: prior.fields.as_ref().unwrap_or(&now.fields),
                    expires: prior.expires.unwrap_or_else(|| now.deadline()),
                })
            }
        }
    }

    /// Whether the object exists after the write.
    pub fn exists_after(&self) -> bool {
        !matches!(self.op, Op::Deleted(_))
    }
}

/// A subscriber to every change (scripting; geofencing is the engine's
/// own, `crate::fence`).
///
/// Called under the database write lock, in execution order, after the
/// AOF append; `db` is the database as the write left it. A sink must be
/// quick and must not take the database lock (it is held), run commands
/// or (un)subscribe; it may lock `Engine::hooks` (the seam never holds
/// it). Anything slow (posting to endpoints) belongs on a queue the sink
/// feeds.
pub trait ChangeSink: Send + Sync {
    fn on_change(&self, db: &Database, change: &Change);
}

/// The registered subscribers.
pub(crate) type Sinks = Vec<Arc<dyn ChangeSink>>;
