//! `SET key id [FIELD name value …] [EX seconds] [NX|XX]
//! [RETURN [WITHFIELDS] [OBJECT|POINT|BOUNDS|HASH precision]]
//! (OBJECT geojson)|(POINT lat lon [z])|(BOUNDS minlat minlon maxlat maxlon)|(HASH geohash)|(STRING value)`
//!
//! Keywords are case-insensitive and may come in any order; the last value
//! keyword wins. An existing object keeps its fields (new ones are merged)
//! but loses its TTL unless EX is given again.

use tile38_collection::{SetCond, SetOutcome};
use tile38_geo::field::is_reserved_name;
use tile38_geo::{geohash, number, FieldValue, Geometry, Position, Rect, Value};
use tile38_proto::Args;

use super::output::{parse_precision, write_get, Form, GetForm};
use super::{WriteCommand, WriteCx};
use crate::error::{Error, Result};
use crate::journal::{Edit, Op};
use crate::reply::Reply;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Cond {
    Always,
    /// `NX`: only if the id does not exist.
    Nx,
    /// `XX`: only if the id exists.
    Xx,
}

pub struct Set<'a> {
    pub key: &'a [u8],
    pub id: &'a [u8],
    pub value: Value,
    pub fields: Vec<(Box<[u8]>, FieldValue)>,
    /// Seconds from now.
    pub ex: Option<f64>,
    pub cond: Cond,
    pub ret: Option<GetForm>,
}

/// A float argument (coordinates, EX seconds, radii): Go's
/// `strconv.ParseFloat`, the parser every command shares
/// ([`tile38_geo::number`]); anything it rejects is `invalid argument`.
pub fn parse_f64(arg: &[u8]) -> Result<f64> {
    number::parse_float(arg).ok_or_else(|| Error::invalid_arg(arg))
}

/// Parses `FIELD name value` pairs' value half and checks the name.
pub fn parse_field(name: &[u8], value: &[u8]) -> Result<(Box<[u8]>, FieldValue)> {
    if is_reserved_name(name) {
        return Err(Error::invalid_arg(name));
    }
    Ok((name.into(), FieldValue::parse(value)))
}

/// Parses the options after `RETURN`: `[WITHFIELDS] [OBJECT|POINT|BOUNDS|HASH p]`
/// in any order; returns the form and the index of the first unused token.
pub fn parse_return(args: &Args, mut i: usize) -> Result<(GetForm, usize)> {
    let mut f = GetForm {
        form: Form::Object,
        with_fields: false,
    };
    while i < args.len() {
        let a = args.get(i);
        if a.eq_ignore_ascii_case(b"withfields") {
            f.with_fields = true;
        } else if a.eq_ignore_ascii_case(b"object") {
            f.form = Form::Object;
        } else if a.eq_ignore_ascii_case(b"point") {
            f.form = Form::Point;
        } else if a.eq_ignore_ascii_case(b"bounds") {
            f.form = Form::Bounds;
        } else if a.eq_ignore_ascii_case(b"hash") {
            let p = args
                .len()
                .gt(&(i + 1))
                .then(|| args.get(i + 1))
                .ok_or(Error::Arity)?;
            f.form = Form::Hash(parse_precision(p)?);
            i += 1;
        } else {
            break;
        }
        i += 1;
    }
    Ok((f, i))
}

impl<'a> WriteCommand<'a> for Set<'a> {
    fn parse(args: &'a Args) -> Result<Self> {
        if args.len() < 3 {
            return Err(Error::Arity);
        }
        let need = |i: usize| {
            if i < args.len() {
                Ok(args.get(i))
            } else {
                Err(Error::Arity)
            }
        };
        let mut cmd = Set {
            key: args.get(1),
            id: args.get(2),
            value: Value::String(Box::default()),
            fields: Vec::new(),
            ex: None,
            cond: Cond::Always,
            ret: None,
        };
        let mut have_value = false;
        let mut i = 3;
        while i < args.len() {
            let a = args.get(i);
            i += 1;
            if a.eq_ignore_ascii_case(b"field") {
                let (name, value) = (need(i)?, need(i + 1)?);
                cmd.fields.push(parse_field(name, value)?);
                i += 2;
            } else if a.eq_ignore_ascii_case(b"ex") {
                cmd.ex = Some(parse_f64(need(i)?)?);
                i += 1;
            } else if a.eq_ignore_ascii_case(b"nx") || a.eq_ignore_ascii_case(b"xx") {
                let c = if a.eq_ignore_ascii_case(b"nx") {
                    Cond::Nx
                } else {
                    Cond::Xx
                };
                if cmd.cond != Cond::Always && cmd.cond != c {
                    return Err(Error::invalid_arg(a));
                }
                cmd.cond = c;
            } else if a.eq_ignore_ascii_case(b"return") {
                let (form, next) = parse_return(args, i)?;
                cmd.ret = Some(form);
                i = next;
            } else if a.eq_ignore_ascii_case(b"point") {
                let (lat, lon) = (parse_f64(need(i)?)?, parse_f64(need(i + 1)?)?);
                i += 2;
                let mut z = 0.0;
                if i < args.len() {
                    if let Ok(v) = parse_f64(args.get(i)) {
                        z = v;
                        i += 1;
                    }
                }
                cmd.value = Value::Point { x: lon, y: lat, z };
                have_value = true;
            } else if a.eq_ignore_ascii_case(b"bounds") {
                let mut v = [0.0; 4];
                for (k, slot) in v.iter_mut().enumerate() {
                    *slot = parse_f64(need(i + k)?)?;
                }
                i += 4;
                cmd.value = Value::Rect(Rect::new(
                    Position::new(v[1], v[0]),
                    Position::new(v[3], v[2]),
                ));
                have_value = true;
            } else if a.eq_ignore_ascii_case(b"hash") {
                let h = need(i)?;
                i += 1;
                let p = geohash::decode(h).ok_or_else(|| Error::invalid_arg(h))?;
                cmd.value = Value::Point {
                    x: p.x,
                    y: p.y,
                    z: 0.0,
                };
                have_value = true;
            } else if a.eq_ignore_ascii_case(b"object") {
                let g = Geometry::parse(need(i)?)?;
                i += 1;
                cmd.value = Value::from_geometry(g);
                have_value = true;
            } else if a.eq_ignore_ascii_case(b"string") {
                cmd.value = Value::String(need(i)?.into());
                i += 1;
                have_value = true;
            } else {
                return Err(Error::invalid_arg(a));
            }
        }
        if !have_value {
            return Err(Error::Arity);
        }
        Ok(cmd)
    }

    fn apply(self, cx: &mut WriteCx, out: &mut Reply) -> Result<()> {
        if cx.engine.oom.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(Error::Oom);
        }
        let cond = match self.cond {
            Cond::Always => SetCond::Always,
            Cond::Nx => SetCond::IfAbsent,
            Cond::Xx => SetCond::IfExists,
        };
        if cond == SetCond::IfExists && cx.db.get(self.key).is_none() {
            return out.null_or(Error::IdNotFound);
        }
        let expires = self.ex.map(|s| cx.now().saturating_add((s * 1e9) as i64));
        let keep = cx.keeps_prior();
        let col = cx.db.get_or_create(self.key);
        let op = match col.set_keeping_fields(self.id, self.value, self.fields, expires, cond, keep)
        {
            SetOutcome::Inserted => Op::Inserted,
            SetOutcome::Replaced(prior) => Op::Updated(prior),
            SetOutcome::Refused => {
                let err = if cond == SetCond::IfAbsent {
                    Error::IdAlreadyExists
                } else {
                    Error::IdNotFound
                };
                return out.null_or(err);
            }
        };
        match self.ret {
            Some(form) => write_get(out, col.get(self.id).expect("just set"), form),
            None => out.ok(),
        }
        cx.changed_one(self.key, Edit { id: self.id, op });
        Ok(())
    }
}
