//! `SET key id [FIELD name value …] [EX seconds] [NX|XX]
//! [RETURN [WITHFIELDS] [OBJECT|POINT|BOUNDS|HASH precision]]
//! (OBJECT geojson)|(POINT lat lon [z])|(BOUNDS minlat minlon maxlat maxlon)|(HASH geohash)|(STRING value)`
//!
//! Keywords are case-insensitive and may come in any order; the last value
//! keyword wins. An existing object keeps its fields (new ones are merged)
//! but loses its TTL unless EX is given again.

use tile38_collection::{SetCond, SetOutcome};
use tile38_geo::field::is_reserved_name;
use tile38_geo::{geohash, FieldValue, Geometry, Position, Rect, Value};
use tile38_proto::Args;

use super::output::{parse_precision, write_get, Form, GetForm};
use super::{WriteCommand, WriteCx};
use crate::cursor::{float, Cursor};
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

/// Parses `FIELD name value` pairs' value half and checks the name.
pub fn parse_field(name: &[u8], value: &[u8]) -> Result<(Box<[u8]>, FieldValue)> {
    if is_reserved_name(name) {
        return Err(Error::invalid_arg(name));
    }
    Ok((name.into(), FieldValue::parse(value)))
}

/// Parses the options after `RETURN`: `[WITHFIELDS] [OBJECT|POINT|BOUNDS|HASH p]`
/// in any order, up to the first other word (left unread).
pub fn parse_return(c: &mut Cursor<'_>) -> Result<GetForm> {
    let mut f = GetForm {
        form: Form::Object,
        with_fields: false,
    };
    read_forms(c, &mut f)?;
    Ok(f)
}

/// Reads the run of form words at the cursor into `f`.
fn read_forms(c: &mut Cursor<'_>, f: &mut GetForm) -> Result<()> {
    loop {
        if c.keyword("withfields") {
            f.with_fields = true;
        } else if c.keyword("object") {
            f.form = Form::Object;
        } else if c.keyword("point") {
            f.form = Form::Point;
        } else if c.keyword("bounds") {
            f.form = Form::Bounds;
        } else if c.keyword("hash") {
            f.form = Form::Hash(parse_precision(c.next()?)?);
        } else {
            return Ok(());
        }
    }
}

fn is_form_word(w: &[u8]) -> bool {
    ["withfields", "object", "point", "bounds", "hash"]
        .iter()
        .any(|k| w.eq_ignore_ascii_case(k.as_bytes()))
}

/// SET's `RETURN` as Tile38 1.37 reads it (undocumented; derived from
/// probes of the real server, regression group `set_return`): the run of
/// form words after it; a word that is none is left to SET, unless a form
/// word follows it: then that word is skipped, the run after it read, and
/// the run's last word read again by SET, as a value keyword or as an
/// unknown word. So `RETURN DESC POINT 5 6` stores 5,6 and answers in
/// POINT form, `RETURN -1 POINT` is an arity error, and `RETURN DESC HASH
/// 3` is `invalid argument '3'`.
fn parse_set_return(c: &mut Cursor<'_>) -> Result<GetForm> {
    let mut f = parse_return(c)?;
    let mut ahead = *c;
    if ahead.next().is_err() || !ahead.peek().is_some_and(is_form_word) {
        return Ok(f);
    }
    c.next()?;
    read_forms(c, &mut f)?;
    c.back();
    Ok(f)
}

impl<'a> Set<'a> {
    /// The options that are not the value (`FIELD`, `EX`, `NX`/`XX`,
    /// `RETURN`), `word` already read; `false` when `word` is none of them.
    fn option(&mut self, word: &[u8], c: &mut Cursor<'a>) -> Result<bool> {
        if word.eq_ignore_ascii_case(b"field") {
            let (name, value) = (c.next()?, c.next()?);
            self.fields.push(parse_field(name, value)?);
        } else if word.eq_ignore_ascii_case(b"ex") {
            self.ex = Some(c.next_f64()?);
        } else if word.eq_ignore_ascii_case(b"nx") || word.eq_ignore_ascii_case(b"xx") {
            let cond = if word.eq_ignore_ascii_case(b"nx") {
                Cond::Nx
            } else {
                Cond::Xx
            };
            if self.cond != Cond::Always && self.cond != cond {
                return Err(Error::invalid_arg(word));
            }
            self.cond = cond;
        } else if word.eq_ignore_ascii_case(b"return") {
            // A second RETURN reaching SET is an unknown word to Tile38.
            if self.ret.is_some() {
                return Err(Error::invalid_arg(word));
            }
            self.ret = Some(parse_set_return(c)?);
        } else {
            return Ok(false);
        }
        Ok(true)
    }
}

/// The value after its keyword `word` (already read): `POINT lat lon [z]`,
/// `BOUNDS`, `HASH`, `OBJECT` or `STRING`; another word is refused. As in
/// Tile38, a value with too few arguments is an arity error before any of
/// them is read as a number (`POINT (` is arity, `POINT ( 2` a bad `(`).
fn parse_value(word: &[u8], c: &mut Cursor<'_>) -> Result<Value> {
    let value = if word.eq_ignore_ascii_case(b"point") {
        c.at_least(2)?;
        let (lat, lon) = (c.next_f64()?, c.next_f64()?);
        // An optional z: only a word that reads as a number is one.
        let z = match c.peek().map(float) {
            Some(Ok(z)) => {
                c.next()?;
                Some(z)
            }
            _ => None,
        };
        Value::point(lon, lat, z)
    } else if word.eq_ignore_ascii_case(b"bounds") {
        c.at_least(4)?;
        let mut v = [0.0; 4];
        for slot in &mut v {
            *slot = c.next_f64()?;
        }
        Value::Rect(Rect::new(
            Position::new(v[1], v[0]),
            Position::new(v[3], v[2]),
        ))
    } else if word.eq_ignore_ascii_case(b"hash") {
        let p = geohash::decode(c.next()?);
        Value::Point {
            x: p.x,
            y: p.y,
            z: 0.0,
        }
    } else if word.eq_ignore_ascii_case(b"object") {
        Value::from_geometry(Geometry::parse(c.next()?)?)
    } else if word.eq_ignore_ascii_case(b"string") {
        Value::String(c.next()?.into())
    } else {
        return Err(Error::invalid_arg(word));
    };
    Ok(value)
}

impl<'a> WriteCommand<'a> for Set<'a> {
    fn parse(args: &'a Args) -> Result<Self> {
        let mut c = Cursor::new(args);
        c.at_least(2)?;
        let mut cmd = Set {
            key: c.next()?,
            id: c.next()?,
            value: Value::String(Box::default()),
            fields: Vec::new(),
            ex: None,
            cond: Cond::Always,
            ret: None,
        };
        let mut have_value = false;
        while !c.is_empty() {
            let word = c.next()?;
            if !cmd.option(word, &mut c)? {
                cmd.value = parse_value(word, &mut c)?;
                have_value = true;
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
        let expires = self.ex.map(|s| super::expire::deadline(cx.now(), s));
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
