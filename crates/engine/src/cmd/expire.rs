//! `EXPIRE key id seconds`, `PERSIST key id`, `TTL key id`. Deadlines are
//! enforced by the background sweep (see `crate::background`); seconds
//! that overflow Go's duration expire the object at the next sweep, as in
//! Tile38, and TTL reads Tile38's figure until then.

use tile38_collection::Prior;
use tile38_proto::Args;

use super::gate::go_duration;
use super::{ReadCommand, ReadCx, WriteCommand, WriteCx};
use crate::cursor::Cursor;
use crate::error::{Error, Result};
use crate::journal::{Edit, Op};
use crate::reply::Reply;

pub struct Expire {
    key: Vec<u8>,
    id: Vec<u8>,
    secs: f64,
}

impl WriteCommand<'_> for Expire {
    fn parse(args: &Args) -> Result<Self> {
        let mut c = Cursor::new(args);
        c.exactly(3)?;
        Ok(Expire {
            key: c.next()?.to_vec(),
            id: c.next()?.to_vec(),
            secs: c.next_f64()?,
        })
    }

    fn apply(self, cx: &mut WriteCx, out: &mut Reply) -> Result<()> {
        let at = deadline(cx.now(), self.secs);
        let Some(col) = cx.db.get_mut(&self.key) else {
            return out.zero_or(Error::KeyNotFound);
        };
        let Some(old) = col.set_expires(&self.id, Some(at)) else {
            return out.zero_or(Error::IdNotFound);
        };
        out.int_or_ok(1);
        cx.changed_one(&self.key, expiry_edit(&self.id, old));
        Ok(())
    }
}

/// The unix-nanosecond deadline `secs` from `now`, computed as Tile38 does
/// (`time.Now().UnixNano() + int64(float64(time.Second)*secs)`): a NaN,
/// infinite or out-of-range duration is Go's minimum int64, and the sum
/// wraps. Such a deadline lies in the past, so the object goes at the next
/// sweep, and until then TTL reads what Tile38's reads (9223372036 for an
/// overflowed duration: the wrapped difference, see [`Ttl`]).
pub(crate) fn deadline(now: i64, secs: f64) -> i64 {
    now.wrapping_add(go_duration(secs))
}

/// The edit of a deadline set or cleared: only the deadline changed.
fn expiry_edit(id: &[u8], old: Option<i64>) -> Edit<'_> {
    let prior = Prior {
        expires: Some(old),
        ..Prior::default()
    };
    Edit {
        id,
        op: Op::Updated(prior),
    }
}

pub struct Persist {
    key: Vec<u8>,
    id: Vec<u8>,
}

impl WriteCommand<'_> for Persist {
    fn parse(args: &Args) -> Result<Self> {
        let mut c = Cursor::new(args);
        c.exactly(2)?;
        Ok(Persist {
            key: c.next()?.to_vec(),
            id: c.next()?.to_vec(),
        })
    }

    fn apply(self, cx: &mut WriteCx, out: &mut Reply) -> Result<()> {
        let Some(col) = cx.db.get_mut(&self.key) else {
            return out.zero_or(Error::KeyNotFound);
        };
        match col.get(&self.id).map(|item| item.expires) {
            None => out.zero_or(Error::IdNotFound),
            Some(None) => {
                out.int_or_ok(0);
                Ok(())
            }
            Some(Some(_)) => {
                let old = col.set_expires(&self.id, None).expect("present");
                out.int_or_ok(1);
                cx.changed_one(&self.key, expiry_edit(&self.id, old));
                Ok(())
            }
        }
    }
}

pub struct Ttl {
    key: Vec<u8>,
    id: Vec<u8>,
}

impl ReadCommand<'_> for Ttl {
    fn parse(args: &Args) -> Result<Self> {
        let mut c = Cursor::new(args);
        c.exactly(2)?;
        Ok(Ttl {
            key: c.next()?.to_vec(),
            id: c.next()?.to_vec(),
        })
    }

    fn apply(&self, cx: &ReadCx, out: &mut Reply) -> Result<()> {
        let item = match cx.db.get(&self.key) {
            None if out.json => return Err(Error::KeyNotFound),
            None => None,
            Some(col) => match col.get(&self.id) {
                None if out.json => return Err(Error::IdNotFound),
                found => found,
            },
        };
        let ttl = match item {
            None => -2,
            Some(item) => match item.deadline() {
                None => -1,
                // Tile38 subtracts without an overflow check: a wrapped
                // deadline reads as a huge positive TTL until swept.
                Some(at) => (at.wrapping_sub(cx.now()) / 1_000_000_000).max(0),
            },
        };
        if out.json {
            out.key("ttl");
            out.json_i64(ttl);
        } else {
            out.resp_int(ttl);
        }
        Ok(())
    }
}
