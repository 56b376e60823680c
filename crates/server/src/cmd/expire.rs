//! `EXPIRE key id seconds`, `PERSIST key id`, `TTL key id`. Deadlines are
//! enforced by the background sweep (see `crate::background`).

use tile38_proto::Args;

use super::set::parse_f64;
use super::{ReadCommand, ReadCx, WriteCommand, WriteCx};
use crate::error::{Error, Result};
use crate::reply::Reply;

pub struct Expire {
    key: Vec<u8>,
    id: Vec<u8>,
    secs: f64,
}

impl WriteCommand<'_> for Expire {
    fn parse(args: &Args) -> Result<Self> {
        if args.len() != 4 {
            return Err(Error::Arity);
        }
        Ok(Expire {
            key: args.get(1).to_vec(),
            id: args.get(2).to_vec(),
            secs: parse_f64(args.get(3))?,
        })
    }

    fn apply(self, cx: &mut WriteCx, out: &mut Reply) -> Result<bool> {
        let at = cx.now().saturating_add((self.secs * 1e9) as i64);
        let Some(col) = cx.db.get_mut(&self.key) else {
            return out.zero_or(Error::KeyNotFound).map(|_| false);
        };
        if col.set_expires(&self.id, Some(at)).is_none() {
            return out.zero_or(Error::IdNotFound).map(|_| false);
        }
        out.int_or_ok(1);
        Ok(true)
    }
}

pub struct Persist {
    key: Vec<u8>,
    id: Vec<u8>,
}

impl WriteCommand<'_> for Persist {
    fn parse(args: &Args) -> Result<Self> {
        if args.len() != 3 {
            return Err(Error::Arity);
        }
        Ok(Persist {
            key: args.get(1).to_vec(),
            id: args.get(2).to_vec(),
        })
    }

    fn apply(self, cx: &mut WriteCx, out: &mut Reply) -> Result<bool> {
        let Some(col) = cx.db.get_mut(&self.key) else {
            return out.zero_or(Error::KeyNotFound).map(|_| false);
        };
        match col.get(&self.id).map(|item| item.expires) {
            None => out.zero_or(Error::IdNotFound).map(|_| false),
            Some(None) => {
                out.int_or_ok(0);
                Ok(false)
            }
            Some(Some(_)) => {
                col.set_expires(&self.id, None);
                out.int_or_ok(1);
                Ok(true)
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
        if args.len() != 3 {
            return Err(Error::Arity);
        }
        Ok(Ttl {
            key: args.get(1).to_vec(),
            id: args.get(2).to_vec(),
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
                Some(at) => (at.saturating_sub(cx.now()) / 1_000_000_000).max(0),
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
