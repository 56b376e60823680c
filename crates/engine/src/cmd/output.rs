//! The ways an object is printed: `OBJECT`, `POINT`, `BOUNDS`, `HASH n`, with
//! or without fields. Shared by `GET`, `SET … RETURN`, `FSET … RETURN` and
//! the search commands.

use tile38_collection::Item;
use tile38_geo::{geohash, FieldList, Value};

use crate::cursor::{int, Cursor};
use crate::error::{Error, Result};
use crate::reply::Reply;

/// `OBJECT | POINT | BOUNDS | HASH precision`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    Object,
    Point,
    Bounds,
    Hash(usize),
}

/// A form plus `WITHFIELDS`, as GET takes them.
#[derive(Clone, Copy, Debug)]
pub struct GetForm {
    pub form: Form,
    pub with_fields: bool,
}

/// Parses a geohash precision (`1..=12`, Go's `ParseInt`: `+5` is 5).
pub fn parse_precision(arg: &[u8]) -> Result<usize> {
    match int(arg)? {
        p @ 1..=12 => Ok(p as usize),
        _ => Err(Error::invalid_arg(arg)),
    }
}

/// Parses `[WITHFIELDS] [OBJECT|POINT|BOUNDS|HASH precision]` in any order
/// up to the end; an unknown token or a missing precision is an arity
/// error, as in Tile38's GET.
pub fn parse_get_form(c: &mut Cursor<'_>) -> Result<GetForm> {
    let f = super::set::parse_return(c)?;
    if !c.is_empty() {
        return Err(Error::Arity);
    }
    Ok(f)
}

/// Writes the value in `form`, RESP or JSON member value (without key).
pub fn write_value(out: &mut Reply, value: &Value, form: Form) {
    match form {
        Form::Object => {
            if out.json {
                value.write_json(&mut out.buf);
            } else {
                out.resp_bulk_with(|t| value.write_raw(t));
            }
        }
        Form::Point => {
            let c = value.center();
            let z = value.z();
            if out.json {
                out.push(b"{\"lat\":");
                out.go_f64(c.y);
                out.push(b",\"lon\":");
                out.go_f64(c.x);
                if let Some(z) = z {
                    out.push(b",\"z\":");
                    out.go_f64(z);
                }
                out.push(b"}");
            } else {
                out.resp_array(if z.is_some() { 3 } else { 2 });
                out.resp_bulk_f64(c.y);
                out.resp_bulk_f64(c.x);
                if let Some(z) = z {
                    out.resp_bulk_f64(z);
                }
            }
        }
        Form::Bounds => {
            let r = value.bbox();
            if out.json {
                out.push(b"{\"sw\":{\"lat\":");
                out.go_f64(r.min.y);
                out.push(b",\"lon\":");
                out.go_f64(r.min.x);
                out.push(b"},\"ne\":{\"lat\":");
                out.go_f64(r.max.y);
                out.push(b",\"lon\":");
                out.go_f64(r.max.x);
                out.push(b"}}");
            } else {
                out.resp_array(2);
                out.resp_array(2);
                out.resp_bulk_f64(r.min.y);
                out.resp_bulk_f64(r.min.x);
                out.resp_array(2);
                out.resp_bulk_f64(r.max.y);
                out.resp_bulk_f64(r.max.x);
            }
        }
        Form::Hash(p) => {
            let c = value.center();
            let h = geohash::encode(c.y, c.x, p);
            if out.json {
                out.json_str(h.as_bytes());
            } else {
                out.resp_bulk(h.as_bytes());
            }
        }
    }
}

/// JSON member name of a form.
pub fn form_key(form: Form) -> &'static str {
    match form {
        Form::Object => "object",
        Form::Point => "point",
        Form::Bounds => "bounds",
        Form::Hash(_) => "hash",
    }
}

/// RESP `[name value …]` of the fields (names sorted, raw values).
pub fn write_fields_resp(out: &mut Reply, fields: &FieldList) {
    out.resp_array(fields.len() * 2);
    for (name, v) in fields.iter() {
        out.resp_bulk(name);
        out.resp_bulk_with(|t| v.write_raw(t));
    }
}

/// JSON `{"name":value,…}` of the fields.
pub fn write_fields_json(out: &mut Reply, fields: &FieldList) {
    out.push(b"{");
    for (i, (name, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b",");
        }
        out.json_str(name);
        out.push(b":");
        v.write_json(&mut out.buf);
    }
    out.push(b"}");
}

/// The reply of `GET key id [WITHFIELDS] [form]` for a found object.
pub fn write_get(out: &mut Reply, item: &Item, f: GetForm) {
    if out.json {
        out.key(form_key(f.form));
        write_value(out, &item.value, f.form);
        if f.with_fields && !item.fields.is_empty() {
            out.key("fields");
            write_fields_json(out, &item.fields);
        }
    } else if f.with_fields {
        let has = !item.fields.is_empty();
        out.resp_array(if has { 2 } else { 1 });
        write_value(out, &item.value, f.form);
        if has {
            write_fields_resp(out, &item.fields);
        }
    } else {
        write_value(out, &item.value, f.form);
    }
}
