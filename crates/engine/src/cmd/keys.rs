//! Key-level commands: `KEYS pattern`, `TYPE key`, `RENAME key newkey`,
//! `RENAMENX key newkey`, `BOUNDS key`, `STATS key [key …]`.

use tile38_geo::{Position, Rect, Value};
use tile38_proto::Args;

use super::within::LEAF_CAPACITY;
use super::{ReadCommand, ReadCx, WriteCommand, WriteCx};
use crate::cursor::Cursor;
use crate::error::{Error, Result};
use crate::journal::What;
use crate::reply::Reply;
use crate::search::knn::leaf_bounds;

pub struct Keys {
    pattern: Vec<u8>,
}

impl ReadCommand<'_> for Keys {
    fn parse(args: &Args) -> Result<Self> {
        let mut c = Cursor::new(args);
        c.exactly(1)?;
        Ok(Keys {
            pattern: c.next()?.to_vec(),
        })
    }

    fn apply(&self, cx: &ReadCx, out: &mut Reply) -> Result<()> {
        let keys: Vec<&[u8]> = cx.db.keys(&self.pattern).collect();
        if out.json {
            out.key("keys");
            out.push(b"[");
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(b",");
                }
                out.json_str(k);
            }
            out.push(b"]");
        } else {
            out.resp_array(keys.len());
            for k in keys {
                out.resp_bulk(k);
            }
        }
        Ok(())
    }
}

pub struct Type {
    key: Vec<u8>,
}

impl ReadCommand<'_> for Type {
    fn parse(args: &Args) -> Result<Self> {
        let mut c = Cursor::new(args);
        c.exactly(1)?;
        Ok(Type {
            key: c.next()?.to_vec(),
        })
    }

    fn apply(&self, cx: &ReadCx, out: &mut Reply) -> Result<()> {
        let exists = cx.db.get(&self.key).is_some();
        match (exists, out.json) {
            (true, true) => {
                out.key("type");
                out.json_str(b"hash");
            }
            (true, false) => out.resp_simple(b"hash"),
            (false, true) => return Err(Error::KeyNotFound),
            (false, false) => out.resp_simple(b"none"),
        }
        Ok(())
    }
}

/// `RENAME` and `RENAMENX` share parsing; `nx` refuses an existing target.
/// Both refuse a key that a hook or channel watches (`cmd::hooks`), and
/// a moving rename invalidates a running AOF rewrite (its change is not
/// idempotent: `crate::journal::Change::idempotent`).
pub struct Rename {
    key: Vec<u8>,
    new_key: Vec<u8>,
    nx: bool,
}

pub struct RenameNx(Rename);

fn parse_rename(args: &Args, nx: bool) -> Result<Rename> {
    let mut c = Cursor::new(args);
    c.exactly(2)?;
    Ok(Rename {
        key: c.next()?.to_vec(),
        new_key: c.next()?.to_vec(),
        nx,
    })
}

impl WriteCommand<'_> for Rename {
    fn parse(args: &Args) -> Result<Self> {
        parse_rename(args, false)
    }

    fn apply(self, cx: &mut WriteCx, out: &mut Reply) -> Result<()> {
        if cx.db.get(&self.key).is_none() {
            return Err(Error::KeyNotFound);
        }
        super::hooks::check_rename(cx.engine, cx.db, &self.key, &self.new_key)?;
        if self.nx && cx.db.get(&self.new_key).is_some() {
            out.int_or_ok(0);
            return Ok(());
        }
        // Renaming a key to itself moves nothing (and is still logged).
        let replaced = if self.key != self.new_key {
            let col = cx.db.remove(&self.key).expect("checked above");
            cx.db.insert(&self.new_key, col)
        } else {
            None
        };
        if self.nx {
            out.int_or_ok(1);
        } else {
            out.ok();
        }
        // Not idempotent when the key moved: a running AOF rewrite cannot
        // reproduce it (`WriteCx::changed`).
        let what = What::Renamed {
            to: &self.new_key,
            replaced: replaced.as_ref(),
        };
        cx.changed(&self.key, what);
        Ok(())
    }
}

impl WriteCommand<'_> for RenameNx {
    fn parse(args: &Args) -> Result<Self> {
        parse_rename(args, true).map(RenameNx)
    }

    fn apply(self, cx: &mut WriteCx, out: &mut Reply) -> Result<()> {
        self.0.apply(cx, out)
    }
}

pub struct Bounds {
    key: Vec<u8>,
}

impl ReadCommand<'_> for Bounds {
    fn parse(args: &Args) -> Result<Self> {
        let mut c = Cursor::new(args);
        c.exactly(1)?;
        Ok(Bounds {
            key: c.next()?.to_vec(),
        })
    }

    fn apply(&self, cx: &ReadCx, out: &mut Reply) -> Result<()> {
        let Some(col) = cx.db.get(&self.key) else {
            return out.null_or(Error::KeyNotFound);
        };
        // One R-tree leaf in Tile38: its extreme objects, replayed exactly.
        let r = if col.spatial_len() + col.unindexed_len() <= LEAF_CAPACITY {
            leaf_bounds(col)
        } else {
            col.bounds()
        }
        .unwrap_or_default();
        if out.json {
            out.key("bounds");
            let poly = Value::Rect(Rect::new(
                Position::new(r.min.x, r.min.y),
                Position::new(r.max.x, r.max.y),
            ));
            poly.write_json(&mut out.buf);
        } else {
            out.resp_array(2);
            out.resp_array(2);
            out.resp_bulk_f64(r.min.x);
            out.resp_bulk_f64(r.min.y);
            out.resp_array(2);
            out.resp_bulk_f64(r.max.x);
            out.resp_bulk_f64(r.max.y);
        }
        Ok(())
    }
}

pub struct Stats {
    keys: Vec<Vec<u8>>,
}

impl ReadCommand<'_> for Stats {
    fn parse(args: &Args) -> Result<Self> {
        let mut c = Cursor::new(args);
        c.at_least(1)?;
        Ok(Stats {
            keys: c.rest().map(<[u8]>::to_vec).collect(),
        })
    }

    fn apply(&self, cx: &ReadCx, out: &mut Reply) -> Result<()> {
        if out.json {
            out.key("stats");
            out.push(b"[");
        } else {
            out.resp_array(self.keys.len());
        }
        for (i, key) in self.keys.iter().enumerate() {
            if out.json && i > 0 {
                out.push(b",");
            }
            let Some(col) = cx.db.get(key) else {
                if out.json {
                    out.push(b"null");
                } else {
                    out.resp_null();
                }
                continue;
            };
            let figures = [
                ("in_memory_size", col.weight()),
                ("num_objects", col.len()),
                ("num_points", col.num_points()),
                ("num_strings", col.num_strings()),
            ];
            if out.json {
                out.push(b"{");
                for (j, (name, v)) in figures.iter().enumerate() {
                    if j > 0 {
                        out.push(b",");
                    }
                    out.json_str(name.as_bytes());
                    out.push(b":");
                    out.json_i64(*v as i64);
                }
                out.push(b"}");
            } else {
                out.resp_array(8);
                for (name, v) in figures {
                    out.resp_bulk(name.as_bytes());
                    out.resp_bulk(v.to_string().as_bytes());
                }
            }
        }
        if out.json {
            out.push(b"]");
        }
        Ok(())
    }
}
