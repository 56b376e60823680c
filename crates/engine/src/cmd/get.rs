//! `GET key id [WITHFIELDS] [OBJECT|POINT|BOUNDS|(HASH precision)]` and
//! `EXISTS key id`.

use tile38_proto::Args;

use super::output::{parse_get_form, write_get, GetForm};
use super::{ReadCommand, ReadCx};
use crate::cursor::Cursor;
use crate::error::{Error, Result};
use crate::reply::Reply;

pub struct Get {
    key: Vec<u8>,
    id: Vec<u8>,
    form: GetForm,
}

impl ReadCommand<'_> for Get {
    fn parse(args: &Args) -> Result<Self> {
        let mut c = Cursor::new(args);
        c.at_least(2)?;
        Ok(Get {
            key: c.next()?.to_vec(),
            id: c.next()?.to_vec(),
            form: parse_get_form(&mut c)?,
        })
    }

    fn apply(&self, cx: &ReadCx, out: &mut Reply) -> Result<()> {
        let Some(col) = cx.db.get(&self.key) else {
            return out.null_or(Error::KeyNotFound);
        };
        let Some(item) = col.get(&self.id) else {
            return out.null_or(Error::IdNotFound);
        };
        write_get(out, item, self.form);
        Ok(())
    }
}

pub struct Exists {
    key: Vec<u8>,
    id: Vec<u8>,
}

impl ReadCommand<'_> for Exists {
    fn parse(args: &Args) -> Result<Self> {
        let mut c = Cursor::new(args);
        c.exactly(2)?;
        Ok(Exists {
            key: c.next()?.to_vec(),
            id: c.next()?.to_vec(),
        })
    }

    fn apply(&self, cx: &ReadCx, out: &mut Reply) -> Result<()> {
        let col = cx.db.get(&self.key).ok_or(Error::KeyNotFound)?;
        let exists = col.contains(&self.id);
        if out.json {
            out.key("exists");
            out.push(if exists { b"true" } else { b"false" });
        } else {
            out.resp_int(exists as i64);
        }
        Ok(())
    }
}
