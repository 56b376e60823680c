//! JSON documents: `JSET key id path value [RAW|STR]`, `JGET key id [path
//! [RAW]]`, `JDEL key id path` (GJSON/SJSON paths). A document on a GeoJSON
//! object is re-validated and stored as GeoJSON; anything else is stored as
//! a string object. Unlike Tile38, JDEL is journaled (Tile38 loses JDEL
//! changes on restart: a plain bug).
//!
//! Reads go through [`jsonpath::get`]: plain paths of any length are
//! answered as Tile38 answers them; only paths with modifiers, queries or
//! multipaths nested too deeply for the stack, or with more than two `*`
//! wildcards, are refused (`path too complex`).

use tile38_collection::{Collection, SetCond, SetOutcome};
use tile38_geo::jsonpath::{self, is_json_number};
use tile38_geo::{Geometry, Value};
use tile38_proto::Args;

use super::{ReadCommand, ReadCx, WriteCommand, WriteCx};
use crate::cursor::Cursor;
use crate::error::{Error, Result};
use crate::journal::{Edit, Op, What};
use crate::reply::Reply;

/// The document text of an object (GeoJSON or the string itself).
fn document(col: Option<&Collection>, id: &[u8]) -> Option<(String, bool)> {
    let item = col?.get(id)?;
    Some((
        String::from_utf8_lossy(&item.value.to_text()).into_owned(),
        item.value.is_spatial(),
    ))
}

/// Stores an edited document the way JSET/JDEL do (fields kept, TTL
/// cleared); returns what that did to the object, for the journal.
fn store(cx: &mut WriteCx, key: &[u8], id: &[u8], doc: String, spatial: bool) -> Result<Op> {
    let value = if spatial {
        Value::from_geometry(Geometry::parse(doc.as_bytes())?)
    } else {
        Value::String(doc.into_bytes().into())
    };
    let outcome = cx
        .db
        .get_or_create(key)
        .set(id, value, Vec::new(), None, SetCond::Always);
    Ok(match outcome {
        SetOutcome::Replaced(prior) => Op::Updated(prior),
        // `Always` never refuses.
        SetOutcome::Inserted | SetOutcome::Refused => Op::Inserted,
    })
}

fn path_error(e: jsonpath::PathError) -> Error {
    Error::Message(e.to_string())
}

pub struct JSet {
    key: Vec<u8>,
    id: Vec<u8>,
    path: String,
    value: String,
    raw: Option<bool>,
}

impl WriteCommand<'_> for JSet {
    fn parse(args: &Args) -> Result<Self> {
        let mut c = Cursor::new(args);
        if !(4..=5).contains(&c.remaining()) {
            return Err(Error::Arity);
        }
        let text = |a: &[u8]| String::from_utf8_lossy(a).into_owned();
        let (key, id, path, value) = (c.next()?, c.next()?, c.next()?, c.next()?);
        let raw = match c.peek() {
            Some(a) if a.eq_ignore_ascii_case(b"raw") => Some(true),
            Some(a) if a.eq_ignore_ascii_case(b"str") => Some(false),
            Some(a) => return Err(Error::invalid_arg(a)),
            None => None,
        };
        Ok(JSet {
            key: key.to_vec(),
            id: id.to_vec(),
            path: text(path),
            value: text(value),
            raw,
        })
    }

    fn apply(self, cx: &mut WriteCx, out: &mut Reply) -> Result<()> {
        let (doc, spatial) = document(cx.db.get(&self.key), &self.id).unwrap_or_default();
        let as_raw = self.raw.unwrap_or_else(|| {
            is_json_number(&self.value) || matches!(self.value.as_str(), "true" | "false" | "null")
        });
        let edited = if as_raw {
            jsonpath::set_raw(&doc, &self.path, &self.value)
        } else {
            jsonpath::set_str(&doc, &self.path, &self.value)
        }
        .map_err(path_error)?;
        let op = store(cx, &self.key, &self.id, edited, spatial)?;
        out.ok();
        let edit = [Edit { id: &self.id, op }];
        // An append replayed over an AOF rewrite's walk that already saw it
        // would append twice (the server's `shrink.rs`).
        if jsonpath::appends(&self.path) {
            cx.changed_not_idempotent(&self.key, What::Objects(&edit));
        } else {
            cx.changed(&self.key, What::Objects(&edit));
        }
        Ok(())
    }
}

pub struct JGet {
    key: Vec<u8>,
    id: Vec<u8>,
    path: Option<String>,
    raw: bool,
}

impl ReadCommand<'_> for JGet {
    fn parse(args: &Args) -> Result<Self> {
        let mut c = Cursor::new(args);
        if !(2..=4).contains(&c.remaining()) {
            return Err(Error::Arity);
        }
        let (key, id) = (c.next()?, c.next()?);
        let path = c
            .next()
            .ok()
            .map(|p| String::from_utf8_lossy(p).into_owned());
        let raw = match c.peek() {
            Some(a) if a.eq_ignore_ascii_case(b"raw") => true,
            Some(a) => return Err(Error::invalid_arg(a)),
            None => false,
        };
        Ok(JGet {
            key: key.to_vec(),
            id: id.to_vec(),
            path,
            raw,
        })
    }

    fn apply(&self, cx: &ReadCx, out: &mut Reply) -> Result<()> {
        let Some(col) = cx.db.get(&self.key) else {
            return out.null_or(Error::KeyNotFound);
        };
        let Some((doc, _)) = document(Some(col), &self.id) else {
            return out.null_or(Error::IdNotFound);
        };
        // Without a path Tile38 answers `gjson.Parse(doc)`: a string
        // object that is not JSON is nil, a JSON string is unquoted.
        let value = match &self.path {
            None => jsonpath::parse_top(&doc).map(|(_, text)| text),
            Some(path) => {
                // Bounded: a path of any length must not overflow the stack.
                let found = jsonpath::get(&doc, path).map_err(path_error)?;
                found.exists().then(|| {
                    if self.raw {
                        found.json().to_string()
                    } else if found.kind() == gjson::Kind::Number {
                        go_number_string(found.json(), found.f64())
                    } else {
                        found.str().to_string()
                    }
                })
            }
        };
        match (value, out.json) {
            (Some(v), true) => {
                out.key("value");
                out.json_str(v.as_bytes());
            }
            (Some(v), false) => out.resp_bulk(v.as_bytes()),
            (None, true) => {}
            (None, false) => out.resp_null(),
        }
        Ok(())
    }
}

pub struct JDel {
    key: Vec<u8>,
    id: Vec<u8>,
    path: String,
}

impl WriteCommand<'_> for JDel {
    fn parse(args: &Args) -> Result<Self> {
        let mut c = Cursor::new(args);
        c.exactly(3)?;
        Ok(JDel {
            key: c.next()?.to_vec(),
            id: c.next()?.to_vec(),
            path: String::from_utf8_lossy(c.next()?).into(),
        })
    }

    fn apply(self, cx: &mut WriteCx, out: &mut Reply) -> Result<()> {
        let Some(col) = cx.db.get(&self.key) else {
            return out.zero_or(Error::KeyNotFound);
        };
        let Some((doc, spatial)) = document(Some(col), &self.id) else {
            return out.zero_or(Error::PathNotFound);
        };
        let edited = jsonpath::delete(&doc, &self.path).map_err(path_error)?;
        if edited == doc {
            return out.zero_or(Error::PathNotFound);
        }
        let op = store(cx, &self.key, &self.id, edited, spatial)?;
        if spatial {
            out.ok();
        } else {
            out.int_or_ok(1);
        }
        cx.changed_one(&self.key, Edit { id: &self.id, op });
        Ok(())
    }
}

/// Go's gjson `Result.String()` of a number: an integer as written, any
/// other number reformatted (`2.50` reads `2.5`, `1e3` reads `1000`).
fn go_number_string(raw: &str, value: f64) -> String {
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return raw.to_string();
    }
    let mut out = Vec::new();
    tile38_proto::fmt::write_f64(&mut out, value);
    String::from_utf8(out).unwrap_or_default()
}
