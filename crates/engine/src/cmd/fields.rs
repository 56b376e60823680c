//! `FSET key id [XX] field value [field value …] [RETURN …]`,
//! `FGET key id field`, `FEXISTS key id field`.

use tile38_collection::Prior;
use tile38_geo::FieldValue;
use tile38_proto::Args;

use super::output::{write_get, GetForm};
use super::set::{parse_field, parse_return};
use super::{ReadCommand, ReadCx, WriteCommand, WriteCx};
use crate::cursor::Cursor;
use crate::error::{Error, Result};
use crate::journal::{Edit, Op};
use crate::reply::Reply;

pub struct FSet {
    key: Vec<u8>,
    id: Vec<u8>,
    xx: bool,
    fields: Vec<(Box<[u8]>, FieldValue)>,
    ret: Option<GetForm>,
}

impl WriteCommand<'_> for FSet {
    fn parse(args: &Args) -> Result<Self> {
        let mut c = Cursor::new(args);
        c.at_least(4)?;
        let mut cmd = FSet {
            key: c.next()?.to_vec(),
            id: c.next()?.to_vec(),
            xx: false,
            fields: Vec::new(),
            ret: None,
        };
        while !c.is_empty() {
            if c.keyword("xx") {
                cmd.xx = true;
            } else if !cmd.fields.is_empty() && c.keyword("return") {
                cmd.ret = Some(parse_return(&mut c)?);
            } else {
                let (name, value) = (c.next()?, c.next()?);
                cmd.fields.push(parse_field(name, value)?);
            }
        }
        if cmd.fields.is_empty() {
            return Err(Error::Arity);
        }
        Ok(cmd)
    }

    fn apply(self, cx: &mut WriteCx, out: &mut Reply) -> Result<()> {
        if cx.engine.oom.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(Error::Oom);
        }
        let keep = cx.keeps_prior();
        let col = cx.db.get_mut(&self.key).ok_or(Error::KeyNotFound)?;
        let Some((changed, old_fields)) = col.set_fields(&self.id, self.fields, keep) else {
            if self.xx {
                out.int_or_ok(0);
                return Ok(());
            }
            return Err(Error::IdNotFound);
        };
        match self.ret {
            Some(form) => write_get(out, col.get(&self.id).expect("present"), form),
            None => out.int_or_ok(changed as i64),
        }
        if changed > 0 {
            let prior = Prior {
                fields: old_fields,
                ..Prior::default()
            };
            let op = Op::Updated(prior);
            cx.changed_one(&self.key, Edit { id: &self.id, op });
        }
        Ok(())
    }
}

/// `key id field` lookups shared by FGET and FEXISTS.
struct FieldRef {
    key: Vec<u8>,
    id: Vec<u8>,
    field: Vec<u8>,
}

impl FieldRef {
    fn parse(args: &Args, exact: bool) -> Result<Self> {
        let mut c = Cursor::new(args);
        if exact {
            c.exactly(3)?;
        } else {
            c.at_least(3)?;
        }
        Ok(FieldRef {
            key: c.next()?.to_vec(),
            id: c.next()?.to_vec(),
            field: c.next()?.to_vec(),
        })
    }

    fn lookup(&self, cx: &ReadCx) -> Result<Option<FieldValue>> {
        let col = cx.db.get(&self.key).ok_or(Error::KeyNotFound)?;
        let item = col.get(&self.id).ok_or(Error::IdNotFound)?;
        Ok(item.fields.lookup(&self.field))
    }
}

pub struct FGet(FieldRef);

impl ReadCommand<'_> for FGet {
    fn parse(args: &Args) -> Result<Self> {
        FieldRef::parse(args, false).map(FGet)
    }

    fn apply(&self, cx: &ReadCx, out: &mut Reply) -> Result<()> {
        let value = self.0.lookup(cx)?.unwrap_or(FieldValue::Number {
            value: 0.0,
            text: None,
        });
        if out.json {
            out.key("value");
            value.write_json(&mut out.buf);
        } else {
            out.resp_bulk(&value.raw_bytes());
        }
        Ok(())
    }
}

pub struct FExists(FieldRef);

impl ReadCommand<'_> for FExists {
    fn parse(args: &Args) -> Result<Self> {
        FieldRef::parse(args, true).map(FExists)
    }

    fn apply(&self, cx: &ReadCx, out: &mut Reply) -> Result<()> {
        let exists = self.0.lookup(cx)?.is_some();
        if out.json {
            out.key("exists");
            out.push(if exists { b"true" } else { b"false" });
        } else {
            out.resp_int(exists as i64);
        }
        Ok(())
    }
}
