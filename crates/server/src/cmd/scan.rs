//! `SCAN key [CURSOR start] [LIMIT count] [MATCH pattern] [ASC|DESC]
//! [NOFIELDS] [COUNT|IDS|OBJECTS|POINTS|BOUNDS|(HASHES precision)]`
//!
//! Iterates a collection in id order. The cursor counts every candidate
//! visited (matching or not) and is returned only when the page filled up.
//! The option parser and the result writer are shared with the other search
//! commands, and `SEARCH key …` (string objects in value order) lives here
//! too since it differs from SCAN only in its iteration order.

use tile38_collection::{glob, Item};
use tile38_geo::FieldList;
use tile38_proto::Args;

use super::filter::{check_supported, Where, WhereIn};
use super::output::{parse_precision, write_fields_resp, write_value, Form};
use super::{ReadCommand, ReadCx};
use crate::error::{Error, Result};
use crate::reply::Reply;

/// What a search returns per item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Count,
    Ids,
    Form(Form),
}

/// Options shared by SCAN, SEARCH, NEARBY, WITHIN and INTERSECTS.
#[derive(Debug)]
pub struct SearchOpts {
    pub key: Vec<u8>,
    pub cursor: u64,
    pub limit: Option<u64>,
    pub matches: Vec<Vec<u8>>,
    pub desc: Option<bool>,
    pub nofields: bool,
    pub output: Output,
    pub wheres: Vec<Where>,
    pub whereins: Vec<WhereIn>,
    /// `DISTANCE`: append each result's distance (NEARBY).
    pub distance: bool,
    /// `SPARSE n` / `FENCE` were given (spatial commands only).
    pub sparse: bool,
    pub fence: bool,
}

fn parse_u64(arg: &[u8]) -> Result<u64> {
    std::str::from_utf8(arg)
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(|| Error::invalid_arg(arg))
}

impl SearchOpts {
    /// Parses `key` and the options; returns the index of the first token
    /// after the output keyword.
    pub fn parse(args: &Args, cmd: &str) -> Result<(SearchOpts, usize)> {
        let spatial = !matches!(cmd, "SCAN" | "SEARCH");
        if args.len() < 2 {
            return Err(Error::Arity);
        }
        let mut o = SearchOpts {
            key: args.get(1).to_vec(),
            cursor: 0,
            limit: None,
            matches: Vec::new(),
            desc: None,
            nofields: false,
            output: Output::Form(Form::Object),
            wheres: Vec::new(),
            whereins: Vec::new(),
            distance: false,
            sparse: false,
            fence: false,
        };
        let need = |i: usize| {
            if i < args.len() {
                Ok(args.get(i))
            } else {
                Err(Error::Arity)
            }
        };
        let dup = |name: &str| Error::Duplicate(name.to_string());
        let mut have_cursor = false;
        let mut i = 2;
        while i < args.len() {
            let a = args.get(i);
            let kw = |k: &[u8]| a.eq_ignore_ascii_case(k);
            if kw(b"cursor") {
                if have_cursor {
                    return Err(dup("CURSOR"));
                }
                have_cursor = true;
                o.cursor = parse_u64(need(i + 1)?)?;
                i += 2;
            } else if kw(b"limit") {
                if o.limit.is_some() {
                    return Err(dup("LIMIT"));
                }
                let a = need(i + 1)?;
                o.limit = Some(
                    parse_u64(a)
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| Error::invalid_arg(a))?,
                );
                i += 2;
            } else if kw(b"where") {
                let (w, next) = Where::parse(args, i + 1)?;
                o.wheres.push(w);
                i = next;
            } else if kw(b"wherein") {
                let (w, next) = WhereIn::parse(args, i + 1)?;
                o.whereins.push(w);
                i = next;
            } else if kw(b"match") {
                o.matches.push(need(i + 1)?.to_vec());
                i += 2;
            } else if kw(b"asc") || kw(b"desc") {
                if spatial {
                    let word = String::from_utf8_lossy(a).to_ascii_uppercase();
                    return Err(Error::Message(format!("{word} is not allowed for {cmd}")));
                }
                if o.desc.is_some() {
                    return Err(dup(&String::from_utf8_lossy(a).to_ascii_uppercase()));
                }
                o.desc = Some(kw(b"desc"));
                i += 1;
            } else if kw(b"distance") {
                if o.distance {
                    return Err(dup("DISTANCE"));
                }
                o.distance = true;
                i += 1;
            } else if kw(b"nofields") {
                if o.nofields {
                    return Err(dup("NOFIELDS"));
                }
                o.nofields = true;
                i += 1;
            } else if kw(b"sparse") {
                let a = need(i + 1)?;
                parse_u64(a)
                    .ok()
                    .filter(|n| (1..=16).contains(n))
                    .ok_or_else(|| Error::invalid_arg(a))?;
                o.sparse = true;
                i += 2;
            } else if kw(b"fence") {
                if !spatial {
                    return Err(Error::Message(format!("FENCE is not allowed for {cmd}")));
                }
                o.fence = true;
                i += 1;
            } else {
                break;
            }
        }
        if o.sparse && !spatial {
            return Err(Error::Message(format!("SPARSE is not allowed for {cmd}")));
        }
        if i < args.len() {
            let a = args.get(i);
            let kw = |k: &[u8]| a.eq_ignore_ascii_case(k);
            o.output = if kw(b"count") {
                Output::Count
            } else if kw(b"ids") {
                Output::Ids
            } else if kw(b"objects") {
                Output::Form(Form::Object)
            } else if kw(b"points") {
                Output::Form(Form::Point)
            } else if kw(b"bounds") {
                Output::Form(Form::Bounds)
            } else if kw(b"hashes") {
                i += 1;
                Output::Form(Form::Hash(parse_precision(need(i)?)?))
            } else if spatial {
                // Not an output keyword: the area comes next.
                return Ok((o, i));
            } else {
                return Err(Error::invalid_arg(a));
            };
            i += 1;
        }
        Ok((o, i))
    }

    /// Parses a whole SCAN/SEARCH command: nothing may follow the output.
    pub fn parse_all(args: &Args, cmd: &str) -> Result<SearchOpts> {
        let (opts, next) = SearchOpts::parse(args, cmd)?;
        if next < args.len() {
            return Err(Error::Arity);
        }
        check_supported(&opts.wheres)?;
        Ok(opts)
    }

    /// MATCH on an id.
    pub fn matches_id(&self, id: &[u8]) -> bool {
        self.matches(id)
    }

    fn matches(&self, id: &[u8]) -> bool {
        self.matches.is_empty() || self.matches.iter().any(|p| glob::matches(p, id))
    }

    /// Whether the field filters (WHERE, WHEREIN) pass for object `id`.
    pub fn fields_pass(&self, id: &[u8], item: &Item) -> bool {
        self.wheres.iter().all(|w| w.matches(id, item))
            && self.whereins.iter().all(|w| w.matches(item))
    }

    fn has_field_filters(&self) -> bool {
        !self.wheres.is_empty() || !self.whereins.is_empty()
    }

    fn count_only(&self, out: &mut Reply, n: u64) {
        if out.json {
            out.key("count");
            out.json_i64(n as i64);
            out.key("cursor");
            out.push(b"0");
        } else {
            out.resp_int(n as i64);
        }
    }

    /// Runs the paging loop over `candidates` (already in order), applying
    /// `matches` (MATCH on the id or value) and the field filters.
    pub fn collect<'a>(
        &self,
        cx: &ReadCx,
        candidates: impl Iterator<Item = Hit<'a>>,
        matched: impl Fn(&'a [u8], &'a Item) -> bool,
    ) -> Result<Page<'a>> {
        let limit = match self.output {
            Output::Count => self.limit.unwrap_or(u64::MAX),
            _ => self.limit.unwrap_or(100),
        };
        let mut step = self.cursor;
        let mut found = Vec::new();
        let mut cursor = 0;
        for hit in candidates.skip(self.cursor as usize) {
            let (id, item) = (hit.id, hit.item);
            step += 1;
            cx.check_deadline()?;
            if !matched(id, item) || !self.fields_pass(id, item) {
                continue;
            }
            found.push(hit);
            if found.len() as u64 >= limit {
                cursor = step;
                break;
            }
        }
        if self.output == Output::Count {
            cursor = 0;
        }
        Ok((found, cursor))
    }
}

/// One search result: the object and, for NEARBY, its distance in meters.
#[derive(Clone, Copy)]
pub struct Hit<'a> {
    pub id: &'a [u8],
    pub item: &'a Item,
    pub dist: f64,
}

/// One page of search results and the cursor to return.
type Page<'a> = (Vec<Hit<'a>>, u64);

/// Writes `[cursor, [items]]` / `{"objects":[…],"count":n,"cursor":c}`.
pub fn write_results(out: &mut Reply, opts: &SearchOpts, items: &[Hit], cursor: u64) {
    let count = items.len();
    match opts.output {
        Output::Count => {
            opts.count_only(out, count as u64);
            return;
        }
        Output::Ids if !out.json => {
            out.resp_array(2);
            out.resp_int(cursor as i64);
            out.resp_array(count);
            for h in items {
                if opts.distance {
                    out.resp_array(2);
                    out.resp_bulk(h.id);
                    out.resp_bulk_f64(h.dist);
                } else {
                    out.resp_bulk(h.id);
                }
            }
            return;
        }
        Output::Ids => {
            out.key("ids");
            out.push(b"[");
            for (n, h) in items.iter().enumerate() {
                if n > 0 {
                    out.push(b",");
                }
                if opts.distance {
                    out.push(b"{\"id\":");
                    out.json_str(h.id);
                    out.key("distance");
                    out.json_f64(h.dist);
                    out.push(b"}");
                } else {
                    out.json_str(h.id);
                }
            }
            out.push(b"]");
        }
        Output::Form(form) if out.json => write_json_items(out, opts, items, form),
        Output::Form(form) => {
            out.resp_array(2);
            out.resp_int(cursor as i64);
            out.resp_array(count);
            for h in items {
                let with_fields = !opts.nofields && !h.item.fields.is_empty();
                out.resp_array(2 + usize::from(with_fields) + usize::from(opts.distance));
                out.resp_bulk(h.id);
                write_value(out, &h.item.value, form);
                if with_fields {
                    write_fields_resp(out, &h.item.fields);
                }
                if opts.distance {
                    out.resp_bulk_f64(h.dist);
                }
            }
            return;
        }
    }
    out.key("count");
    out.json_i64(count as i64);
    out.key("cursor");
    out.json_i64(cursor as i64);
}

fn write_json_items(out: &mut Reply, opts: &SearchOpts, items: &[Hit], form: Form) {
    let mut names: Vec<&[u8]> = Vec::new();
    if !opts.nofields {
        for h in items {
            names.extend(h.item.fields.iter().map(|(n, _)| n));
        }
        names.sort_unstable();
        names.dedup();
    }
    if !names.is_empty() {
        out.key("fields");
        out.push(b"[");
        for (n, name) in names.iter().enumerate() {
            if n > 0 {
                out.push(b",");
            }
            out.json_str(name);
        }
        out.push(b"]");
    }
    out.key(match form {
        Form::Object => "objects",
        Form::Point => "points",
        Form::Bounds => "bounds",
        Form::Hash(_) => "hashes",
    });
    out.push(b"[");
    for (n, h) in items.iter().enumerate() {
        if n > 0 {
            out.push(b",");
        }
        out.push(b"{\"id\":");
        out.json_str(h.id);
        out.key(super::output::form_key(form));
        write_value(out, &h.item.value, form);
        if !names.is_empty() {
            out.key("fields");
            write_aligned_fields(out, &names, &h.item.fields);
        }
        if opts.distance {
            out.key("distance");
            out.json_f64(h.dist);
        }
        out.push(b"}");
    }
    out.push(b"]");
}

/// `[v1,v2,…]` aligned with `names`; a missing field prints `0`.
fn write_aligned_fields(out: &mut Reply, names: &[&[u8]], fields: &FieldList) {
    out.push(b"[");
    for (n, name) in names.iter().enumerate() {
        if n > 0 {
            out.push(b",");
        }
        match fields.get(name) {
            Some(v) => v.write_json(&mut out.buf),
            None => out.push(b"0"),
        }
    }
    out.push(b"]");
}

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
