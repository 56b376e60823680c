//! Writing search results: `[cursor, [items]]` in RESP, `{"ids"|"objects"|…:
//! […],"count":n,"cursor":c}` in JSON, for every output form and with the
//! optional per-item distance.

use tile38_collection::Item;
use tile38_geo::FieldList;

use super::opts::{Output, SearchOpts};
use crate::cmd::output::{write_fields_resp, write_value, Form};
use crate::reply::Reply;

/// One search result: the object and, for NEARBY, its distance in meters.
#[derive(Clone, Copy)]
pub struct Hit<'a> {
    pub id: &'a [u8],
    pub item: &'a Item,
    pub dist: f64,
}

/// One page of search results and the cursor to return.
#[derive(Default)]
pub struct Page<'a> {
    /// The results; none are kept for COUNT output, which only counts.
    pub hits: Vec<Hit<'a>>,
    /// How many matched (`hits.len()` unless COUNT output).
    pub count: usize,
    pub cursor: u64,
}

/// Writes `[cursor, [items]]` / `{"objects":[…],"count":n,"cursor":c}`.
pub fn write_results(out: &mut Reply, opts: &SearchOpts, page: &Page) {
    let (items, count, cursor) = (&page.hits[..], page.count, page.cursor);
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
                    json_distance(out, h.dist);
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
        out.key(crate::cmd::output::form_key(form));
        write_value(out, &h.item.value, form);
        if !names.is_empty() {
            out.key("fields");
            write_aligned_fields(out, &names, &h.item.fields);
        }
        if opts.distance {
            out.key("distance");
            json_distance(out, h.dist);
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

/// A distance in JSON as Tile38 writes it (`strconv.FormatFloat`, 'f'):
/// `NaN`, `+Inf` and `-Inf` bare, as they are.
fn json_distance(out: &mut Reply, d: f64) {
    if d.is_nan() {
        out.push(b"NaN");
    } else if d.is_infinite() {
        out.push(if d > 0.0 { b"+Inf" } else { b"-Inf" });
    } else {
        out.json_f64(d);
    }
}
