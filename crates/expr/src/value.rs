//! Values of the expression language and what the operators do to them:
//! JavaScript-like conversions as tidwall/expr implements them, with
//! Tile38's choices (string comparisons ignore case; any operator other than
//! `=~` on an object gives `undefined`).

use std::borrow::Cow;
use std::cmp::Ordering;

use tile38_geo::field::cmp_ignore_case;
use tile38_proto::fmt::write_f64;

/// A runtime error: evaluation stops and the candidate does not match.
#[derive(Debug)]
pub struct Fail;

pub type Eval<T> = Result<T, Fail>;

/// The functions an expression can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    /// `value.match(pattern)`: a case-insensitive glob test.
    Match,
    /// The root `regex`, which Tile38 registers but never implements.
    Regex,
}

/// One value. Strings and JSON borrow from the expression or the object
/// whenever they can, so the common evaluations do not allocate.
#[derive(Clone, Debug)]
pub enum Val<'a> {
    Undefined,
    Null,
    Bool(bool),
    Num(f64),
    Str(Cow<'a, [u8]>),
    /// A JSON object or array (raw text): Tile38 wraps GJSON results of that
    /// type as expression objects.
    Json(Cow<'a, [u8]>),
    /// `this`, the candidate object.
    This,
    Func(Func),
}

/// A binary operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    StrictEq,
    StrictNe,
    And,
    Or,
    Coalesce,
}

/// Go's `strconv.ParseFloat`, as the expression engine converts strings
/// and number literals: the server-wide parser ([`tile38_geo::number`]);
/// out-of-range input is an error (`None`), not an infinity.
pub fn go_parse_float(s: &[u8]) -> Option<f64> {
    tile38_geo::number::parse_float(s)
}

/// A string as a number: Go's `ParseFloat`, except that of its words only
/// JavaScript's `Infinity` (signed, exact case) is read, all else is NaN:
/// Tile38 1.37 answers `'Infinity' * 1 > 5` true but `'inf' * 1 > 5` and
/// `'+Inf' * 1 > 5` false, while `'1_000' * 1 == 1000` and `'0x1p4' * 1 ==
/// 16` hold.
fn string_to_f64(s: &[u8]) -> f64 {
    let body = s.strip_prefix(b"+").or(s.strip_prefix(b"-")).unwrap_or(s);
    if matches!(body.first(), Some(b'i' | b'I' | b'n' | b'N')) && body != b"Infinity" {
        return f64::NAN;
    }
    go_parse_float(s).unwrap_or(f64::NAN)
}

impl<'a> Val<'a> {
    pub fn str(s: &'a [u8]) -> Val<'a> {
        Val::Str(Cow::Borrowed(s))
    }

    /// Objects go through Tile38's operator hook instead of the built-in
    /// rules.
    fn is_object(&self) -> bool {
        matches!(self, Val::Json(_) | Val::This)
    }

    /// Counts as a number for `+` (tidwall/expr's `isnum`).
    fn is_numeric(&self) -> bool {
        matches!(
            self,
            Val::Num(_) | Val::Bool(_) | Val::Null | Val::Undefined
        )
    }

    fn same_kind(&self, other: &Val) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }

    /// JavaScript `String(v)`; `this_text` renders the candidate object.
    pub fn to_bytes(&self, this_text: &dyn Fn() -> Vec<u8>) -> Cow<'_, [u8]> {
        let text: &'static str = match self {
            Val::Str(s) | Val::Json(s) => return Cow::Borrowed(s),
            Val::This => return Cow::Owned(this_text()),
            Val::Num(v) => return Cow::Owned(number_text(*v)),
            Val::Undefined => "undefined",
            Val::Null => "null",
            Val::Bool(true) => "true",
            Val::Bool(false) => "false",
            Val::Func(Func::Match) => "[Function match]",
            Val::Func(Func::Regex) => "[Function regex]",
        };
        Cow::Borrowed(text.as_bytes())
    }

    /// JavaScript `Number(v)` (objects via their text; anything unparsable
    /// is NaN).
    pub fn to_f64(&self, this_text: &dyn Fn() -> Vec<u8>) -> f64 {
        match self {
            Val::Null | Val::Bool(false) => 0.0,
            Val::Bool(true) => 1.0,
            Val::Num(v) => *v,
            Val::Str(s) | Val::Json(s) => string_to_f64(s),
            Val::This => string_to_f64(&this_text()),
            Val::Undefined | Val::Func(_) => f64::NAN,
        }
    }

    /// Truthiness. Quirks kept: NaN is true (Go's `NaN != 0`), JSON objects
    /// and arrays are false (GJSON's `Bool()` of a JSON result).
    pub fn truthy(&self, this_text: &dyn Fn() -> Vec<u8>) -> bool {
        match self {
            Val::Bool(b) => *b,
            Val::Str(s) => !s.is_empty(),
            Val::Json(_) | Val::Undefined | Val::Null => false,
            other => other.to_f64(this_text) != 0.0,
        }
    }
}

/// `String(number)`: Go's shortest `'f'` formatting, `Infinity` words.
fn number_text(v: f64) -> Vec<u8> {
    if v.is_infinite() {
        return if v > 0.0 {
            b"Infinity".to_vec()
        } else {
            b"-Infinity".to_vec()
        };
    }
    let mut out = Vec::with_capacity(24);
    write_f64(&mut out, v);
    out
}

/// Applies a binary operator (not `=~`, which needs the regex cache).
pub fn binary<'a>(op: Op, a: Val<'a>, b: Val<'a>, this_text: &dyn Fn() -> Vec<u8>) -> Val<'a> {
    if a.is_object() || b.is_object() {
        // Tile38's operator hook only knows `=~`: any other operator on an
        // object is undefined, and tidwall/expr takes `!=` and `!==` as the
        // negation of that (falsy) `==` and `===`: true.
        return match op {
            Op::Ne | Op::StrictNe => Val::Bool(true),
            _ => Val::Undefined,
        };
    }
    let num = |v: &Val| v.to_f64(this_text);
    match op {
        Op::Add => match (&a, &b) {
            (Val::Num(x), Val::Num(y)) => Val::Num(x + y),
            (Val::Str(x), Val::Str(y)) => Val::Str(Cow::Owned([&x[..], &y[..]].concat())),
            _ if a.is_numeric() && b.is_numeric() => Val::Num(num(&a) + num(&b)),
            _ => {
                let mut s = a.to_bytes(this_text).into_owned();
                s.extend_from_slice(&b.to_bytes(this_text));
                Val::Str(Cow::Owned(s))
            }
        },
        Op::Sub => Val::Num(num(&a) - num(&b)),
        Op::Mul => Val::Num(num(&a) * num(&b)),
        Op::Div => Val::Num(num(&a) / num(&b)),
        Op::Mod => Val::Num(num(&a) % num(&b)),
        Op::Lt | Op::Le | Op::Gt | Op::Ge | Op::Eq | Op::Ne => {
            Val::Bool(compare(op, &a, &b, this_text))
        }
        Op::StrictEq => Val::Bool(a.same_kind(&b) && compare(Op::Eq, &a, &b, this_text)),
        Op::StrictNe => Val::Bool(!(a.same_kind(&b) && compare(Op::Eq, &a, &b, this_text))),
        Op::And => Val::Bool(a.truthy(this_text) && b.truthy(this_text)),
        Op::Or => Val::Bool(a.truthy(this_text) || b.truthy(this_text)),
        Op::Coalesce => match a {
            Val::Undefined | Val::Null => b,
            _ => a,
        },
    }
}

/// Comparison: two strings compare as text ignoring ASCII case (Tile38
/// sets `NoCase`), everything else numerically (NaN compares false).
fn compare(op: Op, a: &Val, b: &Val, this_text: &dyn Fn() -> Vec<u8>) -> bool {
    let ord = match (a, b) {
        (Val::Str(x), Val::Str(y)) => Some(cmp_ignore_case(x, y)),
        _ => a.to_f64(this_text).partial_cmp(&b.to_f64(this_text)),
    };
    match op {
        Op::Lt => ord == Some(Ordering::Less),
        Op::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
        Op::Gt => ord == Some(Ordering::Greater),
        Op::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
        Op::Eq => ord == Some(Ordering::Equal),
        _ => ord != Some(Ordering::Equal),
    }
}

/// Unary minus: multiplication by -1, as tidwall/expr does it.
pub fn negate<'a>(v: Val<'a>, this_text: &dyn Fn() -> Vec<u8>) -> Val<'a> {
    binary(Op::Mul, v, Val::Num(-1.0), this_text)
}

#[cfg(test)]
mod tests {
    use super::string_to_f64;

    #[test]
    fn strings_become_numbers_as_in_tile38() {
        for (s, v) in [
            ("Infinity", f64::INFINITY),
            ("-Infinity", f64::NEG_INFINITY),
            ("+Infinity", f64::INFINITY),
            ("1_000", 1000.0),
            ("0x1p4", 16.0),
            ("+5", 5.0),
        ] {
            assert_eq!(string_to_f64(s.as_bytes()), v, "{s}");
        }
        for s in [
            "inf", "+Inf", "-inf", "infinity", "INFINITY", "nan", "NaN", " 5", "5 ", "", "1e999",
        ] {
            assert!(string_to_f64(s.as_bytes()).is_nan(), "{s}");
        }
    }
}
