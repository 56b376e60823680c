//! `DEL key id [ERRON404]`, `PDEL key pattern`, `DROP key`, `FLUSHDB` (which
//! also removes every hook and channel).

use tile38_collection::glob;
use tile38_proto::Args;

use super::{WriteCommand, WriteCx};
use crate::cursor::Cursor;
use crate::error::{Error, Result};
use crate::reply::Reply;

pub struct Del {
    key: Vec<u8>,
    id: Vec<u8>,
    erron404: bool,
}

impl WriteCommand<'_> for Del {
    fn parse(args: &Args) -> Result<Self> {
        let mut c = Cursor::new(args);
        c.at_least(2)?;
        let (key, id) = (c.next()?, c.next()?);
        let mut erron404 = false;
        for a in c.rest() {
            if a.eq_ignore_ascii_case(b"erron404") && !erron404 {
                erron404 = true;
            } else {
                return Err(Error::invalid_arg(a));
            }
        }
        Ok(Del {
            key: key.to_vec(),
            id: id.to_vec(),
            erron404,
        })
    }

    fn apply(self, cx: &mut WriteCx, out: &mut Reply) -> Result<bool> {
        let deleted = match cx.db.get_mut(&self.key) {
            None if self.erron404 => return Err(Error::KeyNotFound),
            None => false,
            Some(col) => col.delete(&self.id).is_some(),
        };
        if !deleted && self.erron404 {
            return Err(Error::IdNotFound);
        }
        cx.db.drop_if_empty(&self.key);
        out.int_or_ok(deleted as i64);
        Ok(deleted)
    }
}

pub struct PDel {
    key: Vec<u8>,
    pattern: Vec<u8>,
}

impl WriteCommand<'_> for PDel {
    fn parse(args: &Args) -> Result<Self> {
        let mut c = Cursor::new(args);
        c.exactly(2)?;
        Ok(PDel {
            key: c.next()?.to_vec(),
            pattern: c.next()?.to_vec(),
        })
    }

    fn apply(self, cx: &mut WriteCx, out: &mut Reply) -> Result<bool> {
        let mut count = 0;
        if let Some(col) = cx.db.get_mut(&self.key) {
            let prefix = glob::literal_prefix(&self.pattern);
            let ids: Vec<_> = col
                .range(Some(prefix), false)
                .map(|(id, _)| id)
                .take_while(|id| id.starts_with(prefix))
                .filter(|id| glob::matches(&self.pattern, id))
                .cloned()
                .collect();
            for id in &ids {
                col.delete(id);
            }
            count = ids.len();
            cx.db.drop_if_empty(&self.key);
        }
        out.int_or_ok(count as i64);
        Ok(count > 0)
    }
}

pub struct Drop {
    key: Vec<u8>,
}

impl WriteCommand<'_> for Drop {
    fn parse(args: &Args) -> Result<Self> {
        let mut c = Cursor::new(args);
        c.exactly(1)?;
        Ok(Drop {
            key: c.next()?.to_vec(),
        })
    }

    fn apply(self, cx: &mut WriteCx, out: &mut Reply) -> Result<bool> {
        // Hooks and channels on the key stay defined, as in Tile38.
        let dropped = cx.db.remove(&self.key).is_some();
        out.int_or_ok(dropped as i64);
        Ok(dropped)
    }
}

pub struct FlushDb;

impl WriteCommand<'_> for FlushDb {
    fn parse(args: &Args) -> Result<Self> {
        Cursor::new(args).finish()?;
        Ok(FlushDb)
    }

    fn apply(self, cx: &mut WriteCx, out: &mut Reply) -> Result<bool> {
        cx.db.clear();
        super::hooks::clear(cx.engine);
        out.ok();
        Ok(true)
    }
}
