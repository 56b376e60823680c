//! `SCAN key [CURSOR start] [LIMIT count] [MATCH pattern] [ASC|DESC]
//! [WHERE …] [WHEREIN …] [NOFIELDS] [COUNT|IDS|OBJECTS|POINTS|BOUNDS|(HASHES precision)]`
//! and `SEARCH key …` with the same options.
//!
//! SCAN iterates a collection in id order; SEARCH iterates string objects in
//! value order. The cursor counts every candidate visited (matching or not)
//! and is returned only when the page filled up.

use tile38_collection::{glob, Item};
use tile38_proto::Args;

use super::{ReadCommand, ReadCx};
use crate::error::Result;
use crate::reply::Reply;
use crate::search::opts::{Output, SearchOpts};
use crate::search::results::{write_results, Hit, Page};

pub struct Scan {
    opts: SearchOpts,
}

/// The text of a non-spatial object (SEARCH walks only those: strings and
/// top-level Circles).
fn string_value(item: &Item) -> std::borrow::Cow<'_, [u8]> {
    item.value.search_text().unwrap_or_default()
}

/// Whether a key, walked from a MATCH range's start, is still before its
/// `end` (above it when walking down).
fn in_range(key: &[u8], end: &[u8], desc: bool) -> bool {
    if desc {
        key > end
    } else {
        key < end
    }
}

impl ReadCommand<'_> for Scan {
    fn parse(args: &Args) -> Result<Self> {
        SearchOpts::parse_all(args, "SCAN").map(|opts| Scan { opts })
    }

    fn apply(&self, cx: &ReadCx, out: &mut Reply) -> Result<()> {
        let o = &self.opts;
        let Some(col) = cx.db.get(&o.key) else {
            write_results(out, o, &Page::default());
            return Ok(());
        };
        // Tile38's fast path: without filters COUNT ignores LIMIT.
        if o.output == Output::Count && o.match_everything() && !o.has_field_filters() {
            o.count_only(out, (col.len() as u64).saturating_sub(o.cursor));
            return Ok(());
        }
        let desc = o.desc.unwrap_or(false);
        // The MATCH patterns narrow the id range (Tile38's `multiGlobParse`).
        let iter: Box<dyn Iterator<Item = _>> = match glob::multi_limits(&o.matches, desc) {
            None => col.range(None, desc),
            Some((start, end)) => Box::new(
                col.range(Some(&start), desc)
                    .take_while(move |(id, _)| in_range(id, &end, desc)),
            ),
        };
        let page = o.collect(
            cx,
            iter.map(|(id, item)| Hit {
                id: id.as_ref(),
                item,
                dist: 0.0,
            }),
            |id, _| o.matches(id),
        )?;
        write_results(out, o, &page);
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
            write_results(out, o, &Page::default());
            return Ok(());
        };
        if o.output == Output::Count && o.match_everything() && o.wheres.is_empty() {
            // Tile38 counts every object of the key here, spatial ones too.
            o.count_only(out, (col.len() as u64).saturating_sub(o.cursor));
            return Ok(());
        }
        let desc = o.desc.unwrap_or(false);
        let values = col.by_value(desc);
        // The MATCH patterns narrow the value range (Tile38's
        // `SearchValuesRange`, from (start, "") to (end, "") in (value, id)
        // order).
        let values: Box<dyn Iterator<Item = _>> = match glob::multi_limits(&o.matches, desc) {
            None => values,
            Some((start, end)) => {
                let before = |id: &[u8], item: &Item, bound: &[u8]| {
                    (&*string_value(item), id) < (bound, &b""[..])
                };
                let after = |id: &[u8], item: &Item, bound: &[u8]| {
                    (&*string_value(item), id) > (bound, &b""[..])
                };
                if desc {
                    Box::new(
                        values
                            .skip_while(move |(id, item)| after(id, item, &start))
                            .take_while(move |(id, item)| after(id, item, &end)),
                    )
                } else {
                    Box::new(
                        values
                            .skip_while(move |(id, item)| before(id, item, &start))
                            .take_while(move |(id, item)| before(id, item, &end)),
                    )
                }
            }
        };
        let iter = values.map(|(id, item)| Hit {
            id: id.as_ref(),
            item,
            dist: 0.0,
        });
        let page = o.collect(cx, iter, |_, item| {
            item.value.search_text().is_some_and(|v| o.matches(&v))
        })?;
        write_results(out, o, &page);
        Ok(())
    }
}
