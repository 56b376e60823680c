//! Search filters on field values:
//! `WHERE field min max` (inclusive; `(` makes a bound exclusive; `-inf`,
//! `+inf`), `WHERE field <op> value` (`<` `<=` `>` `>=` `==` `!=`),
//! `WHERE <expression>` (see [`super::expr`]) and
//! `WHEREIN field count v1 … vn` (a Go unsigned count, at most the
//! arguments left). Values compare with Tile38's field order
//! (kinds first, strings case-insensitively); a missing field is `0`.

use std::borrow::Cow;
use std::cmp::Ordering;

use tile38_collection::Item;
use tile38_geo::geojson::Shape;
use tile38_geo::{FieldValue, Value};

use crate::cursor::Cursor;
use crate::error::Result;
use tile38_expr::Expr;

#[derive(Debug)]
pub enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

#[derive(Debug)]
pub enum Bound {
    Inclusive(FieldValue),
    Exclusive(FieldValue),
}

/// One WHERE clause.
#[derive(Debug)]
pub enum Where {
    Range {
        field: Vec<u8>,
        min: Bound,
        max: Bound,
    },
    Op {
        field: Vec<u8>,
        cmp: Cmp,
        value: FieldValue,
    },
    /// A `WHERE <expression>` (one token), parsed once.
    Expr(Expr),
}

/// One WHEREIN clause.
#[derive(Debug)]
pub struct WhereIn {
    field: Vec<u8>,
    values: Vec<FieldValue>,
}

fn bound(arg: &[u8]) -> Bound {
    let lower = arg.to_ascii_lowercase();
    match lower.strip_prefix(b"(") {
        Some(rest) => Bound::Exclusive(FieldValue::parse(rest)),
        None => Bound::Inclusive(FieldValue::parse(&lower)),
    }
}

/// Tile38's `detectExprToken`: the token after WHERE's first token decides
/// whether the first token is an expression (none follows, or it starts
/// with a letter other than `inf`) or a field name.
fn is_expression(next: Option<&[u8]>) -> bool {
    match next {
        None => true,
        Some(t) => {
            t.first().is_some_and(u8::is_ascii_alphabetic) && !t.eq_ignore_ascii_case(b"inf")
        }
    }
}

impl Where {
    /// Parses the tokens after `WHERE`.
    pub fn parse(c: &mut Cursor<'_>) -> Result<Where> {
        let first = c.next()?;
        if is_expression(c.peek()) {
            return Ok(Where::Expr(Expr::parse(first)));
        }
        let field = first.to_vec();
        let (a, b) = (c.next()?, c.next()?);
        let cmp = match a {
            b"<" => Some(Cmp::Lt),
            b"<=" => Some(Cmp::Le),
            b">" => Some(Cmp::Gt),
            b">=" => Some(Cmp::Ge),
            b"==" => Some(Cmp::Eq),
            b"!=" => Some(Cmp::Ne),
            _ => None,
        };
        let clause = match cmp {
            Some(cmp) => Where::Op {
                field,
                cmp,
                value: FieldValue::parse(&b.to_ascii_lowercase()),
            },
            None => Where::Range {
                field,
                min: bound(a),
                max: bound(b),
            },
        };
        Ok(clause)
    }

    /// Whether the object `id` passes this clause.
    pub fn matches(&self, id: &[u8], item: &Item) -> bool {
        match self {
            Where::Range { field, min, max } => {
                let v = field_value(item, field);
                let above = match min {
                    Bound::Inclusive(m) => v.compare(m) != Ordering::Less,
                    Bound::Exclusive(m) => v.compare(m) == Ordering::Greater,
                };
                let below = match max {
                    Bound::Inclusive(m) => v.compare(m) != Ordering::Greater,
                    Bound::Exclusive(m) => v.compare(m) == Ordering::Less,
                };
                above && below
            }
            Where::Expr(e) => e.matches(id, item),
            Where::Op { field, cmp, value } => {
                let o = field_value(item, field).compare(value);
                match cmp {
                    Cmp::Lt => o == Ordering::Less,
                    Cmp::Le => o != Ordering::Greater,
                    Cmp::Gt => o == Ordering::Greater,
                    Cmp::Ge => o != Ordering::Less,
                    Cmp::Eq => o == Ordering::Equal,
                    Cmp::Ne => o != Ordering::Equal,
                }
            }
        }
    }
}

impl WhereIn {
    /// Parses `field count v1 … vn`.
    pub fn parse(c: &mut Cursor<'_>) -> Result<WhereIn> {
        let field = c.next()?.to_vec();
        let count = c.count()?;
        let values = (0..count)
            .map(|_| c.next().map(FieldValue::parse))
            .collect::<Result<_>>()?;
        Ok(WhereIn { field, values })
    }

    pub fn matches(&self, item: &Item) -> bool {
        let v = field_value(item, &self.field);
        self.values.iter().any(|w| v.compare(w) == Ordering::Equal)
    }
}

/// The value a filter sees: `z`, `properties[.path]` of GeoJSON objects, or
/// the field (with `name.path` into JSON fields); missing is `0`. Read in
/// place: a stored field is borrowed, `properties` is found among the
/// object's foreign members without printing the object.
fn field_value<'a>(item: &'a Item, name: &[u8]) -> Cow<'a, FieldValue> {
    let zero = || {
        Cow::Owned(FieldValue::Number {
            value: 0.0,
            text: None,
        })
    };
    if name == b"z" {
        return item.value.z().map_or_else(zero, |z| {
            Cow::Owned(FieldValue::Number {
                value: z,
                text: None,
            })
        });
    }
    if let Some(v) = item.fields.get(name) {
        return Cow::Borrowed(v);
    }
    if let Some(v) = item.fields.lookup(name) {
        return Cow::Owned(v);
    }
    let path = match name.strip_prefix(b"properties") {
        Some(b"") => None,
        Some(rest) => match rest.strip_prefix(b".") {
            Some(path) => Some(path),
            None => return zero(),
        },
        None => return zero(),
    };
    properties_value(&item.value, path).map_or_else(zero, Cow::Owned)
}

/// `properties` (or a GJSON path inside it) of a GeoJSON object, as the
/// printed object has it: a Feature without the member has `{}`.
fn properties_value(value: &Value, path: Option<&[u8]>) -> Option<FieldValue> {
    let Value::Geo(g) = value else {
        return None;
    };
    let props = match tile38_expr::json_member(g.foreign_members(), b"properties") {
        Some(p) => p,
        None if matches!(g.shape, Shape::Feature(_)) => b"{}",
        None => return None,
    };
    let Some(path) = path else {
        return Some(FieldValue::parse(props));
    };
    let (props, path) = (
        std::str::from_utf8(props).ok()?,
        std::str::from_utf8(path).ok()?,
    );
    // Bounded reads: a 5,000-component path overflowed gjson's recursion.
    let found = tile38_geo::jsonpath::get(props, path).ok()?;
    if !found.exists() {
        return None;
    }
    let value = found.f64();
    Some(match found.kind() {
        // Numbers need no text (filters compare values): skip re-parsing.
        gjson::Kind::Number if value.is_finite() => FieldValue::Number { value, text: None },
        _ => FieldValue::parse(found.json().as_bytes()),
    })
}
