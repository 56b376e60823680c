//! Field values (`SET … FIELD name value`, `FSET`, `FGET`) with Tile38 1.30+
//! semantics: a value is a number (its original text kept: `1.50` stays
//! `1.50`), a string, `true`/`false`/`null` or a JSON document; the number
//! `0` is the zero value, which a field can never hold (setting it deletes).

use std::cmp::Ordering;
use std::ops::Deref;

use tile38_proto::fmt::{write_f64, write_json_str};

use crate::geojson::json;
use crate::number::{self, FloatError};

mod list;
mod name;
mod pool;

pub use list::{FieldList, Rule};

/// One field value.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue {
    Null,
    False,
    True,
    /// A number; `text` is the client's spelling when it differs from the
    /// shortest formatting of `value` (`1.50`, `1e3`, `+Inf`-words are `None`).
    Number {
        value: f64,
        text: Option<NumText>,
    },
    String(Box<[u8]>),
    /// A JSON object or array, compacted.
    Json(Box<str>),
}

/// The client's spelling of a number (`1.50`): a thin pointer, so that a
/// field value is 24 bytes (most numbers have none).
#[derive(Clone, PartialEq)]
pub struct NumText(Box<Box<str>>);

impl NumText {
    pub fn new(text: &str) -> NumText {
        NumText(Box::new(text.into()))
    }
}

impl Deref for NumText {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NumText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

/// The reserved field names (`FIELD z 1` → `invalid argument 'z'`).
pub fn is_reserved_name(name: &[u8]) -> bool {
    matches!(name, b"z" | b"lat" | b"lon")
}

/// Go's `strings.TrimSpace`: Unicode white space (`\v`, U+00A0, U+3000 …)
/// off both ends; trimming stops at invalid UTF-8.
fn trim_space(s: &[u8]) -> &[u8] {
    let lead = s.utf8_chunks().next().map_or(0, |c| {
        let v = c.valid();
        v.len() - v.trim_start().len()
    });
    let s = &s[lead..];
    let trail = s.utf8_chunks().last().map_or(0, |c| {
        let v = c.valid();
        if c.invalid().is_empty() {
            v.len() - v.trim_end().len()
        } else {
            0
        }
    });
    &s[..s.len() - trail]
}

/// A plain integer (`0`, `-12`, at most 15 digits, no leading zero): the
/// common field value, which the general path would take through Go's
/// float parser, a JSON check and a shortest-spelling comparison to the
/// same end (its shortest spelling is itself, so no text is kept).
fn plain_integer(s: &[u8]) -> Option<f64> {
    let digits = s.strip_prefix(b"-").unwrap_or(s);
    let plain = matches!(digits, [b'1'..=b'9', ..] | [b'0'])
        && digits.len() <= 15
        && digits.iter().all(u8::is_ascii_digit)
        && !(digits == b"0" && digits.len() < s.len());
    if !plain {
        return None;
    }
    let n = digits
        .iter()
        .fold(0i64, |n, &d| n * 10 + i64::from(d - b'0'));
    Some(if digits.len() < s.len() { -n } else { n } as f64)
}

fn number(value: f64, text: &[u8]) -> FieldValue {
    let mut shortest = Vec::with_capacity(24);
    write_f64(&mut shortest, value);
    let text = (shortest != text).then(|| NumText::new(&String::from_utf8_lossy(text)));
    FieldValue::Number { value, text }
}

/// Removes insignificant whitespace from valid JSON text.
fn compact_json(s: &[u8]) -> String {
    let mut out = Vec::with_capacity(s.len());
    let mut in_str = false;
    let mut escaped = false;
    for &b in s {
        if in_str {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_str = false;
            }
        } else if b == b'"' {
            in_str = true;
            out.push(b);
        } else if !b.is_ascii_whitespace() {
            out.push(b);
        }
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Tile38's last chance for a number: `nan`, `inf`, `infinity` with an
/// optional sign (no sign before `nan`), any case.
fn special_word(text: &[u8]) -> Option<f64> {
    if !(3..=9).contains(&text.len()) {
        return None;
    }
    match text.to_ascii_lowercase().as_slice() {
        b"nan" => Some(f64::NAN),
        b"inf" | b"+inf" | b"infinity" | b"+infinity" => Some(f64::INFINITY),
        b"-inf" | b"-infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

impl FieldValue {
    /// Classifies a client-supplied value as Tile38's `field.ValueOf` does:
    /// after trimming white space, Go's `ParseFloat` decides (NaN and ±Inf
    /// are numbers whatever their spelling; other numbers only if they are
    /// JSON numbers too: `017`, `.5`, `0x1p4` stay text); then valid JSON
    /// (`gjson.Valid`, any depth) is `null`/`true`/`false`/a document, a JSON
    /// string its unescaped text, an overflowing JSON number ±Inf (or its
    /// digits as text when it has no `.`/exponent: gjson's `String()`);
    /// finally the words `nan`, `inf`, `infinity` (signed) are numbers.
    pub fn parse(raw: &[u8]) -> FieldValue {
        match plain_integer(raw) {
            Some(value) => FieldValue::Number { value, text: None },
            None => FieldValue::parse_any(raw),
        }
    }

    /// [`FieldValue::parse`] of any text, the plain integer included.
    fn parse_any(raw: &[u8]) -> FieldValue {
        let s = trim_space(raw);
        let valid = || json::valid(s);
        let text = match number::parse_float_go(s) {
            Ok(value) if !value.is_finite() => return FieldValue::Number { value, text: None },
            Ok(value) if valid() => return number(value, s),
            Err(FloatError::Range(value)) if valid() => {
                let digits = s.strip_prefix(b"-").unwrap_or(s);
                if digits.iter().all(u8::is_ascii_digit) {
                    return FieldValue::String(s.into());
                }
                return FieldValue::Number { value, text: None };
            }
            Err(_) if valid() => match s.first() {
                Some(b'n') => return FieldValue::Null,
                Some(b't') => return FieldValue::True,
                Some(b'f') => return FieldValue::False,
                Some(b'"') => {
                    let quoted = String::from_utf8_lossy(s);
                    json::string_text(&quoted).into_owned().into_bytes()
                }
                _ => return FieldValue::Json(compact_json(s).into()),
            },
            _ => s.to_vec(),
        };
        match special_word(&text) {
            Some(value) => FieldValue::Number { value, text: None },
            None => FieldValue::String(text.into()),
        }
    }

    /// The zero value: a number spelled exactly `0`. Fields never hold it.
    pub fn is_zero(&self) -> bool {
        matches!(self, FieldValue::Number { value, text: None } if *value == 0.0 && value.is_sign_positive())
    }

    /// The numeric value (WHERE ranges); non-numbers give `None`.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            FieldValue::Number { value, .. } => Some(*value),
            _ => None,
        }
    }

    /// The raw text, as RESP replies and FGET show it.
    pub fn write_raw(&self, out: &mut Vec<u8>) {
        match self {
            FieldValue::Null => out.extend_from_slice(b"null"),
            FieldValue::False => out.extend_from_slice(b"false"),
            FieldValue::True => out.extend_from_slice(b"true"),
            FieldValue::Number { text: Some(t), .. } => out.extend_from_slice(t.as_bytes()),
            FieldValue::Number { value, text: None } => write_f64(out, *value),
            FieldValue::String(s) => out.extend_from_slice(s),
            FieldValue::Json(j) => out.extend_from_slice(j.as_bytes()),
        }
    }

    pub fn raw_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_raw(&mut out);
        out
    }

    /// The JSON rendering: numbers as their text (non-finite ones quoted),
    /// strings quoted, JSON raw.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            FieldValue::Number { value, text: None } if !value.is_finite() => {
                out.push(b'"');
                write_f64(out, *value);
                out.push(b'"');
            }
            FieldValue::String(s) => write_json_str(out, s),
            other => other.write_raw(out),
        }
    }

    fn kind_rank(&self) -> u8 {
        match self {
            FieldValue::Null => 0,
            FieldValue::False => 1,
            FieldValue::Number { .. } => 2,
            FieldValue::String(_) => 3,
            FieldValue::True => 4,
            FieldValue::Json(_) => 5,
        }
    }

    /// Tile38's value order: null < false < number < string < true < JSON;
    /// numbers numerically, strings ASCII case-insensitively.
    pub fn compare(&self, other: &FieldValue) -> Ordering {
        let rank = self.kind_rank().cmp(&other.kind_rank());
        if rank != Ordering::Equal {
            return rank;
        }
        match (self, other) {
            (FieldValue::Number { value: a, .. }, FieldValue::Number { value: b, .. }) => {
                a.partial_cmp(b).unwrap_or(Ordering::Equal)
            }
            (FieldValue::String(a), FieldValue::String(b)) => cmp_ignore_case(a, b),
            (FieldValue::Json(a), FieldValue::Json(b)) => a.cmp(b),
            _ => Ordering::Equal,
        }
    }

    /// Size in Tile38's binary field list, for `in_memory_size`: the kind
    /// byte, then for numbers, strings and JSON the data (the text `FGET`
    /// shows) behind its uvarint length.
    fn weight(&self) -> usize {
        let data = match self {
            FieldValue::Null | FieldValue::False | FieldValue::True => return 1,
            FieldValue::Number { text: Some(t), .. } => t.len(),
            FieldValue::Number { value, text: None } => canonical_len(*value),
            FieldValue::String(s) => s.len(),
            FieldValue::Json(j) => j.len(),
        };
        1 + uvarint_len(data) + data
    }
}

/// Length of `v` in Go's shortest format, formatted into a per-thread
/// buffer: a SET's weight must not allocate.
fn canonical_len(v: f64) -> usize {
    thread_local! {
        static TEXT: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    TEXT.with_borrow_mut(|text| {
        text.clear();
        write_f64(text, v);
        text.len()
    })
}

/// Bytes of `n` as a Go `binary.PutUvarint`.
pub fn uvarint_len(n: usize) -> usize {
    (usize::BITS - (n | 1).leading_zeros()).div_ceil(7) as usize
}

pub fn cmp_ignore_case(a: &[u8], b: &[u8]) -> Ordering {
    a.iter()
        .map(u8::to_ascii_lowercase)
        .cmp(b.iter().map(u8::to_ascii_lowercase))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(v: &FieldValue) -> String {
        String::from_utf8(v.raw_bytes()).unwrap()
    }

    fn json(v: &FieldValue) -> String {
        let mut out = Vec::new();
        v.write_json(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn plain_integers_parse_as_the_general_path_does() {
        let mut inputs: Vec<String> = [
            "0",
            "-0",
            "7",
            "-12",
            "007",
            "-007",
            "10",
            "-",
            "",
            "1-",
            "+5",
            " 5",
            "5 ",
            "123456789012345",
            "-123456789012345",
            "1234567890123456",
            "999999999999999",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        inputs.extend((0..2000).map(|i: i64| (i * 7919 - 5000).to_string()));
        inputs.extend((1..=16).map(|n| "9".repeat(n)));
        for input in &inputs {
            let any = FieldValue::parse_any(input.as_bytes());
            assert_eq!(FieldValue::parse(input.as_bytes()), any, "{input:?}");
            assert_eq!(
                plain_integer(input.as_bytes()).is_some(),
                matches!(any, FieldValue::Number { text: None, .. })
                    && !input.starts_with("-0")
                    && !input.starts_with(' ')
                    && !input.ends_with(' ')
                    && input.len() <= 15 + usize::from(input.starts_with('-')),
                "{input:?}"
            );
        }
    }

    #[test]
    fn classification() {
        for (input, r, j) in [
            ("1.50", "1.50", "1.50"),
            ("1e3", "1e3", "1e3"),
            ("-0", "-0", "-0"),
            ("+5", "+5", "\"+5\""),
            ("0.0000001", "0.0000001", "0.0000001"),
            (
                "123456789012345678",
                "123456789012345678",
                "123456789012345678",
            ),
            ("0x10", "0x10", "\"0x10\""),
            ("inf", "+Inf", "\"+Inf\""),
            ("NaN", "NaN", "\"NaN\""),
            (" 5", "5", "5"),
            ("5.", "5.", "\"5.\""),
            (".5", ".5", "\".5\""),
            (
                "{\"world\": \"tom\"}",
                "{\"world\":\"tom\"}",
                "{\"world\":\"tom\"}",
            ),
            ("\"quoted\"", "quoted", "\"quoted\""),
            ("true", "true", "true"),
            ("null", "null", "null"),
            ("000123", "000123", "\"000123\""),
        ] {
            let v = FieldValue::parse(input.as_bytes());
            assert_eq!(
                (raw(&v), json(&v)),
                (r.to_string(), j.to_string()),
                "{input}"
            );
        }
        let big = "9".repeat(400);
        assert!(matches!(
            FieldValue::parse(big.as_bytes()),
            FieldValue::String(_)
        ));
    }

    #[test]
    fn go_value_of_quirks() {
        // Tile38 1.37: `SET k id FIELD a <input> POINT 1 2`, then FGET.
        let big = "1".to_string() + &"0".repeat(400);
        let deep = "[".repeat(200) + &"]".repeat(200);
        for (input, r) in [
            ("\"nan\"", "NaN"),
            ("\"inf\"", "+Inf"),
            ("\"-Infinity\"", "-Inf"),
            ("\" inf\"", " inf"),
            ("\"\\ud800\"", "\u{fffd}"),
            ("\u{b}5", "5"),
            ("\u{a0}5", "5"),
            ("\u{2003}5", "5"),
            ("1e999", "+Inf"),
            ("-1e999", "-Inf"),
            ("\"1e999\"", "1e999"),
            (&big, &big),
            (&(big.clone() + ".0"), "+Inf"),
            ("-nan", "-nan"),
            ("+INF", "+Inf"),
            ("0x1p4", "0x1p4"),
            (&deep, &deep),
        ] {
            assert_eq!(raw(&FieldValue::parse(input.as_bytes())), r, "{input:?}");
        }
        assert!(matches!(
            FieldValue::parse(big.as_bytes()),
            FieldValue::String(_)
        ));
        assert!(matches!(
            FieldValue::parse(deep.as_bytes()),
            FieldValue::Json(_)
        ));
    }

    #[test]
    fn zero_semantics() {
        assert!(FieldValue::parse(b"0").is_zero());
        assert!(!FieldValue::parse(b"0.0").is_zero());
        assert!(!FieldValue::parse(b"-0").is_zero());
        let mut f = FieldList::new();
        assert!(!f.set(b"a", FieldValue::parse(b"0")));
        assert!(f.set(b"a", FieldValue::parse(b"1")));
        assert!(!f.set(b"a", FieldValue::parse(b"1.0")));
        assert!(f.set(b"a", FieldValue::parse(b"0")));
        assert!(f.is_empty());
    }

    #[test]
    fn strings_compare_case_insensitively() {
        let mut f = FieldList::new();
        assert!(f.set(b"s", FieldValue::parse(b"abc")));
        assert!(!f.set(b"s", FieldValue::parse(b"ABC")));
        assert_eq!(raw(f.get(b"s").unwrap()), "abc");
        assert!(FieldValue::Null.compare(&FieldValue::parse(b"1")) == Ordering::Less);
        assert!(FieldValue::True.compare(&FieldValue::parse(b"zzz")) == Ordering::Greater);
    }

    #[test]
    fn sorted_names_and_paths() {
        let mut f = FieldList::new();
        for n in ["speed", "Speed", "speeD", "SpeeD"] {
            f.set(n.as_bytes(), FieldValue::parse(b"1"));
        }
        let names: Vec<_> = f
            .iter()
            .map(|(n, _)| String::from_utf8(n.to_vec()).unwrap())
            .collect();
        assert_eq!(names, ["SpeeD", "Speed", "speeD", "speed"]);
        f.set(b"props", FieldValue::parse(br#"{"a":{"b":7}}"#));
        assert_eq!(raw(&f.lookup(b"props.a.b").unwrap()), "7");
        assert!(f.lookup(b"props.x").is_none());
    }
}
