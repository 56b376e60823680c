//! `SCAN key [CURSOR start] [LIMIT count] [MATCH pattern] [ASC|DESC]
//! [WHERE …] [WHEREIN …] [NOFIELDS] [COUNT|IDS|OBJECTS|POINTS|BOUNDS|(HASHES precision)]`
//! and `SEARCH key …` with the same options.
//!
//! SCAN iterates a collection in id order; SEARCH iterates string objects in
//! value order. The cursor counts every candidate visited (matching or not)
//! and is returned only when the page filled up.

use tile38_collection::glob;
use tile38_proto::Args;

use super::{ReadCommand, ReadCx};
use crate::error::Result;
use crate::reply::Reply;
use crate::search::opts::{Output, SearchOpts};
use crate::search::results::{write_results, Hit};

pub struct Scan {
    opts: SearchOpts,
}

impl ReadCommand<'_> for Scan {
    fn parse(args: &Args) -> Result<Self> {
        SearchOpts::parse_all(args, "SCAN").map(|opts| Scan { opts })
    }

    fn apply(&self, cx: &ReadCx, out: &mut Reply) -> Result<()> {
        let o = &self.opts;
        let Some(col) = cx.db.get(&o.key) else {
            write_results(out, o, &[], 0);
            return Ok(());
        };
        // Tile38's fast path: without filters COUNT ignores LIMIT.
        if o.output == Output::Count && o.matches.is_empty() && !o.has_field_filters() {
            o.count_only(out, (col.len() as u64).saturating_sub(o.cursor));
            return Ok(());
        }
        let desc = o.desc.unwrap_or(false);
        // A single MATCH pattern with a literal prefix narrows the id range.
        let prefix: &[u8] = match o.matches.as_slice() {
            [p] => glob::literal_prefix(p),
            _ => b"",
        };
        let iter: Box<dyn Iterator<Item = _>> = if prefix.is_empty() {
            col.range(None, desc)
        } else if !desc {
            Box::new(
                col.range(Some(prefix), false)
                    .take_while(move |(id, _)| id.starts_with(prefix)),
            )
        } else {
            Box::new(
                col.range(None, true)
                    .skip_while(move |(id, _)| !id.starts_with(prefix) && id.as_ref() > prefix)
                    .take_while(move |(id, _)| id.starts_with(prefix)),
            )
        };
        let (found, cursor) = o.collect(
            cx,
            iter.map(|(id, item)| Hit {
                id: id.as_ref(),
                item,
                dist: 0.0,
            }),
            |id, _| o.matches(id),
        )?;
        write_results(out, o, &found, cursor);
        Ok(())
    }
}

/// `SEARCH key [CURSOR start] [LIMIT count] [MATCH pattern] [ASC|DESC]
/// [WHERE …] [WHEREIN …] [NOFIELDS] [COUNT|IDS|OBJECTS|POINTS|BOUNDS|(HASHES p)]`:
/// string objects ordered by value, then id; MATCH applies to the value.
pub struct Search {
    opts: SearchOpts,
}

impl ReadCommand<'_> for Search {
    fn parse(args: &Args) -> Result<Self> {
        SearchOpts::parse_all(args, "SEARCH").map(|opts| Search { opts })
    }

    fn apply(&self, cx: &ReadCx, out: &mut Reply) -> Result<()> {
        let o = &self.opts;
        let Some(col) = cx.db.get(&o.key) else {
            write_results(out, o, &[], 0);
            return Ok(());
        };
        let match_all = o.matches.is_empty() || o.matches.iter().all(|m| m == b"*");
        if o.output == Output::Count && match_all && o.wheres.is_empty() {
            // Tile38 counts every object of the key here, spatial ones too.
            o.count_only(out, (col.len() as u64).saturating_sub(o.cursor));
            return Ok(());
        }
        let iter = col.by_value(o.desc.unwrap_or(false)).map(|(id, item)| Hit {
            id: id.as_ref(),
            item,
            dist: 0.0,
        });
        let (found, cursor) = o.collect(cx, iter, |_, item| match &item.value {
            tile38_geo::Value::String(v) => o.matches(v),
            _ => false,
        })?;
        write_results(out, o, &found, cursor);
        Ok(())
    }
}
