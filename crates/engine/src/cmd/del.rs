//! `DEL key id [ERRON404]`, `PDEL key pattern`, `DROP key`, `FLUSHDB` (which
//! also removes every hook and channel). Each journals the objects it
//! removed (moved out of the collection) or, for DROP and FLUSHDB, the
//! key-level change.

use tile38_collection::glob;
use tile38_proto::Args;

use super::{WriteCommand, WriteCx};
use crate::cursor::Cursor;
use crate::error::{Error, Result};
use crate::journal::{Edit, Op, What};
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

    fn apply(self, cx: &mut WriteCx, out: &mut Reply) -> Result<()> {
        let old = match cx.db.get_mut(&self.key) {
            None if self.erron404 => return Err(Error::KeyNotFound),
            None => None,
            Some(col) => col.delete(&self.id),
        };
        let Some(old) = old else {
            if self.erron404 {
                return Err(Error::IdNotFound);
            }
            out.int_or_ok(0);
            return Ok(());
        };
        cx.db.drop_if_empty(&self.key);
        out.int_or_ok(1);
        let op = Op::Deleted(old);
        cx.changed_one(&self.key, Edit { id: &self.id, op });
        Ok(())
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

    fn apply(self, cx: &mut WriteCx, out: &mut Reply) -> Result<()> {
        let Some(col) = cx.db.get_mut(&self.key) else {
            out.int_or_ok(0);
            return Ok(());
        };
        // Tile38 deletes in `ScanRange(limits)`, upper limit exclusive: a
        // pattern starting with `?` or `[` deletes nothing.
        if glob::range(&self.pattern) == glob::Range::Itself {
            out.int_or_ok(0);
            return Ok(());
        }
        let prefix = glob::literal_prefix(&self.pattern);
        let ids: Vec<_> = col
            .range(Some(prefix), false)
            .map(|(id, _)| id)
            .take_while(|id| id.starts_with(prefix))
            .filter(|id| glob::matches(&self.pattern, id))
            .cloned()
            .collect();
        // One edit per object, in id order: Tile38 sends a `del` for each.
        let edits: Vec<Edit> = ids
            .iter()
            .filter_map(|id| {
                let old = col.delete(id)?;
                Some(Edit {
                    id,
                    op: Op::Deleted(old),
                })
            })
            .collect();
        cx.db.drop_if_empty(&self.key);
        out.int_or_ok(edits.len() as i64);
        if !edits.is_empty() {
            cx.changed(&self.key, What::Objects(&edits));
        }
        Ok(())
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

    fn apply(self, cx: &mut WriteCx, out: &mut Reply) -> Result<()> {
        // Hooks and channels on the key stay defined, as in Tile38.
        let dropped = cx.db.remove(&self.key);
        out.int_or_ok(dropped.is_some() as i64);
        if let Some(col) = &dropped {
            cx.changed(&self.key, What::Dropped(col));
        }
        Ok(())
    }
}

pub struct FlushDb;

impl WriteCommand<'_> for FlushDb {
    fn parse(args: &Args) -> Result<Self> {
        Cursor::new(args).finish()?;
        Ok(FlushDb)
    }

    fn apply(self, cx: &mut WriteCx, out: &mut Reply) -> Result<()> {
        cx.db.clear();
        super::hooks::clear(cx.engine);
        out.ok();
        cx.changed(b"", What::Flushed);
        Ok(())
    }
}
