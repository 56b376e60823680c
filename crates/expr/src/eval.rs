//! Evaluation against one candidate, and how names resolve (Tile38's
//! expression extender, `internal/server/expr.go`).
//!
//! A root name is, in order: `this` (the object), `regex` (a function that
//! does nothing), a top-level GeoJSON member of the object (`properties`,
//! a Feature's `id`), `id` (the object id), `type` (the geometry type;
//! undefined for string objects), a field (exact name), else the number
//! `0`. A member of a JSON value is looked up in it (missing: undefined);
//! a member of `this` resolves like a root name; `x.match(glob)` on any
//! other value is a case-insensitive glob test; anything else is undefined.
//! Comma operands and both sides of `&&`/`||` are all evaluated, so an
//! error anywhere (invalid regex, calling a non-function) fails the whole
//! expression, as in tidwall/expr; only the untaken `?:` branch and the
//! arguments of functions that ignore them are skipped.

use std::borrow::Cow;
use std::sync::PoisonError;

use regex::bytes::{Regex, RegexBuilder};
use tile38_collection::{glob, Item};
use tile38_geo::geojson::Shape;
use tile38_geo::{FieldValue, Value};

use super::json;
use super::parse::{Base, BinOp, Chain, Link, Lit, Node, RegexOp};
use super::value::{binary, negate, Eval, Fail, Func, Val};

/// The candidate: its id and stored object.
pub struct Cx<'a> {
    pub id: &'a [u8],
    pub item: &'a Item,
}

impl Cx<'_> {
    /// The text of `this` in string contexts: the object as Tile38 prints it.
    fn text(&self) -> Vec<u8> {
        self.item.value.to_text()
    }

    fn truthy(&self, v: &Val) -> bool {
        v.truthy(&|| self.text())
    }
}

pub fn eval<'a>(node: &'a Node, cx: &Cx<'a>) -> Eval<Val<'a>> {
    let text = || cx.text();
    match node {
        Node::Lit(lit) => Ok(literal(lit)),
        Node::Chain(chain) => eval_chain(chain, cx),
        Node::Neg(inner) => Ok(negate(eval(inner, cx)?, &text)),
        Node::Not(inner, flip) => Ok(Val::Bool(cx.truthy(&eval(inner, cx)?) != *flip)),
        Node::Seq(first, rest) => {
            let mut acc = eval(first, cx)?;
            for (op, right) in rest {
                let right = eval(right, cx)?;
                acc = match op {
                    BinOp::Op(op) => binary(*op, acc, right, &text),
                    BinOp::Regex(op) => regex_match(&acc, &right, op, cx)?,
                };
            }
            Ok(acc)
        }
        Node::Ternary(parts) => {
            let [cond, then, other] = &**parts;
            let cond = eval(cond, cx)?;
            eval(if cx.truthy(&cond) { then } else { other }, cx)
        }
        Node::Comma(parts) => {
            let mut last = Val::Undefined;
            for part in parts {
                last = eval(part, cx)?;
            }
            Ok(last)
        }
        Node::Fail => Err(Fail),
    }
}

/// Whether the final value is true; any error is false.
pub fn matches(node: &Node, cx: &Cx) -> bool {
    eval(node, cx).is_ok_and(|v| cx.truthy(&v))
}

fn literal(lit: &Lit) -> Val<'_> {
    match lit {
        Lit::Undefined => Val::Undefined,
        Lit::Null => Val::Null,
        Lit::Bool(b) => Val::Bool(*b),
        Lit::Num(v) => Val::Num(*v),
        Lit::Str(s) => Val::str(s),
    }
}

fn eval_chain<'a>(chain: &'a Chain, cx: &Cx<'a>) -> Eval<Val<'a>> {
    let mut left = match &chain.base {
        Base::Lit(lit) => literal(lit),
        Base::Group(node) => eval(node, cx)?,
        Base::This => Val::This,
        Base::Func(f) => Val::Func(*f),
        Base::Ident(name) => object_member(name, false, cx),
    };
    // The value the last link was applied to (`x` in `x.match(…)`).
    let mut holder: Option<Val<'a>> = None;
    for link in &chain.links {
        let next = match link {
            Link::Member(name) => member(&left, name, false, cx),
            Link::Index(node) => {
                let key = eval(node, cx)?;
                let key = key.to_bytes(&|| cx.text()).into_owned();
                member(&left, &key, true, cx)
            }
            Link::Call(args) => {
                let Val::Func(f) = left else {
                    return Err(Fail); // TypeError: not a function
                };
                call(f, holder.as_ref(), args.as_deref(), cx)?
            }
        };
        holder = Some(std::mem::replace(&mut left, next));
    }
    Ok(left)
}

/// `left.name` / `left[name]` (`computed`: `name` is a GJSON path).
fn member<'a>(left: &Val<'a>, name: &[u8], computed: bool, cx: &Cx<'a>) -> Val<'a> {
    match left {
        Val::This => object_member(name, computed, cx),
        Val::Json(Cow::Borrowed(doc)) => json_get(doc, name, true),
        Val::Json(Cow::Owned(doc)) => own(json_get(doc, name, true)),
        _ if name == b"match" => Val::Func(Func::Match),
        _ => Val::Undefined,
    }
}

/// A root name, or a member of `this`.
fn object_member<'a>(name: &[u8], computed: bool, cx: &Cx<'a>) -> Val<'a> {
    let item = cx.item;
    let members = match &item.value {
        Value::Geo(g) => g.foreign_members(),
        _ => &[],
    };
    if !members.is_empty() {
        let found = if computed && !is_plain_key(name) {
            let doc = [&b"{"[..], members, b"}"].concat();
            own(json_get(&doc, name, true))
        } else {
            json_get(members, name, false)
        };
        if !matches!(found, Val::Undefined) {
            return found;
        }
    }
    match name {
        b"id" => Val::str(cx.id),
        b"type" => type_name(&item.value).map_or(Val::Undefined, |t| Val::str(t.as_bytes())),
        _ => item.fields.get(name).map_or(Val::Num(0.0), field_value),
    }
}

fn type_name(value: &Value) -> Option<&'static str> {
    Some(match value {
        Value::Point { .. } => "Point",
        Value::Rect(_) => "Polygon",
        Value::String(_) => return None,
        Value::Geo(g) => match g.shape {
            Shape::Point(_) => "Point",
            Shape::MultiPoint(_) => "MultiPoint",
            Shape::LineString(_) => "LineString",
            Shape::MultiLineString(_) => "MultiLineString",
            Shape::Polygon(_) => "Polygon",
            Shape::MultiPolygon(_) => "MultiPolygon",
            Shape::GeometryCollection(_) => "GeometryCollection",
            Shape::Feature(_) | Shape::Circle { .. } => "Feature",
            Shape::FeatureCollection(_) => "FeatureCollection",
        },
    })
}

/// A field as Tile38 sees it in expressions: its JSON text parsed by GJSON.
fn field_value(f: &FieldValue) -> Val<'_> {
    match f {
        FieldValue::Null => Val::Null,
        FieldValue::False => Val::Bool(false),
        FieldValue::True => Val::Bool(true),
        FieldValue::Number { value, .. } if value.is_finite() => Val::Num(*value),
        // Non-finite numbers are JSON strings (`"NaN"`, `"+Inf"`).
        FieldValue::Number { value, .. } => {
            let mut text = Vec::new();
            tile38_proto::fmt::write_f64(&mut text, *value);
            Val::Str(Cow::Owned(text))
        }
        FieldValue::String(s) => Val::str(s),
        FieldValue::Json(j) => Val::Json(Cow::Borrowed(j.as_bytes())),
    }
}

/// A name that GJSON takes as a plain object key.
fn is_plain_key(name: &[u8]) -> bool {
    !name.is_empty()
        && name
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'$' | b'-' | b' '))
}

/// GJSON's `Get(doc, path)` as an expression value (missing: undefined).
/// `braced` says whether `doc` has its braces (foreign members do not).
fn json_get<'b>(doc: &'b [u8], path: &[u8], braced: bool) -> Val<'b> {
    let is_object = doc.iter().find(|c| !c.is_ascii_whitespace()) == Some(&b'{');
    if is_plain_key(path) && (is_object || !braced) {
        return json::member(doc, path, braced).map_or(Val::Undefined, raw_value);
    }
    let (Ok(doc), Ok(path)) = (std::str::from_utf8(doc), std::str::from_utf8(path)) else {
        return Val::Undefined;
    };
    // A path gjson cannot afford (see `jsonpath::get`) reads as undefined.
    let Ok(found) = tile38_geo::jsonpath::get(doc, path) else {
        return Val::Undefined;
    };
    own(match found.kind() {
        _ if !found.exists() => Val::Undefined,
        gjson::Kind::Null => Val::Null,
        gjson::Kind::False => Val::Bool(false),
        gjson::Kind::True => Val::Bool(true),
        gjson::Kind::Number => Val::Num(found.f64()),
        gjson::Kind::String => Val::Str(Cow::Borrowed(found.str().as_bytes())),
        _ => Val::Json(Cow::Borrowed(found.json().as_bytes())),
    })
}

/// A raw JSON value (GJSON's `resultToValue`).
fn raw_value(raw: &[u8]) -> Val<'_> {
    match raw.first() {
        Some(b'"') => Val::Str(json::string(raw)),
        Some(b'{' | b'[') => Val::Json(Cow::Borrowed(raw)),
        Some(b't') => Val::Bool(true),
        Some(b'f') => Val::Bool(false),
        Some(b'n') | None => Val::Null,
        Some(_) => Val::Num(
            std::str::from_utf8(raw)
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0.0),
        ),
    }
}

/// Detaches a value from the buffer it borrows.
fn own(v: Val<'_>) -> Val<'static> {
    match v {
        Val::Undefined => Val::Undefined,
        Val::Null => Val::Null,
        Val::Bool(b) => Val::Bool(b),
        Val::Num(n) => Val::Num(n),
        Val::Str(s) => Val::Str(Cow::Owned(s.into_owned())),
        Val::Json(s) => Val::Json(Cow::Owned(s.into_owned())),
        Val::This => Val::This,
        Val::Func(f) => Val::Func(f),
    }
}

/// Tile38's call hook: only `value.match(pattern)` does something.
fn call<'a>(
    f: Func,
    holder: Option<&Val<'a>>,
    args: Option<&'a [Node]>,
    cx: &Cx<'a>,
) -> Eval<Val<'a>> {
    let (Func::Match, Some(subject)) = (f, holder) else {
        return Ok(Val::Undefined);
    };
    let mut pattern = Val::Undefined;
    for (k, arg) in args.ok_or(Fail)?.iter().enumerate() {
        let v = eval(arg, cx)?;
        if k == 0 {
            pattern = v;
        }
    }
    let text = || cx.text();
    let subject = lower(&subject.to_bytes(&text));
    let pattern = lower(&pattern.to_bytes(&text));
    Ok(Val::Bool(glob::simple_matches(&pattern, &subject)))
}

fn lower(s: &[u8]) -> Vec<u8> {
    match std::str::from_utf8(s) {
        Ok(text) => text.to_lowercase().into_bytes(),
        Err(_) => s.to_ascii_lowercase(),
    }
}

/// `left =~ right`: Tile38 matches `String(left)` against the pattern
/// `String(right)` (Go RE2 syntax, unanchored); a bad pattern is an error.
fn regex_match<'a>(left: &Val<'a>, right: &Val<'a>, op: &RegexOp, cx: &Cx<'a>) -> Eval<Val<'a>> {
    let text = || cx.text();
    let subject = left.to_bytes(&text);
    if let Some(re) = &op.literal {
        return Ok(Val::Bool(re.as_ref().ok_or(Fail)?.is_match(&subject)));
    }
    let pattern = right.to_bytes(&text);
    let mut cache = op.cache.lock().unwrap_or_else(PoisonError::into_inner);
    if !cache.contains_key(&*pattern) {
        if cache.len() >= REGEX_CACHE {
            cache.clear();
        }
        cache.insert(pattern.to_vec(), compile_regex(&pattern));
    }
    let re = cache.get(&*pattern).and_then(Option::as_ref).ok_or(Fail)?;
    Ok(Val::Bool(re.is_match(&subject)))
}

/// Distinct computed patterns kept compiled per expression.
const REGEX_CACHE: usize = 64;

/// Compiles a Go regexp pattern (see [`super::goregex`]).
pub fn compile_regex(pattern: &[u8]) -> Option<Regex> {
    let pattern = std::str::from_utf8(pattern).ok()?;
    RegexBuilder::new(&super::goregex::translate(pattern))
        .build()
        .ok()
}
