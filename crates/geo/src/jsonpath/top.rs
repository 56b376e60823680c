//! gjson's `Parse(json)` for the top-level value of a document, which is
//! what Tile38's `JGET key id` (no path) answers with: the first non-space
//! byte picks the kind and the value is read leniently (`5x` is a number
//! whose text is `0`, an unterminated string runs to the end, `nul` is a
//! null); anything else is no value (nil). gjson's Rust port differs on
//! those inputs, so this follows the Go code (`Parse`, `tonum`, `tolit`,
//! `tostr`, `Result.String`).

use crate::geojson::json::string_text;
use crate::number::{parse_float_go, FloatError};

/// The top-level value of `doc` as `(raw, text)`: gjson's `Result.Raw`
/// and `Result.String()`; `None` where gjson finds no value.
pub fn parse_top(doc: &str) -> Option<(&str, String)> {
    let start = doc.bytes().position(|b| b > b' ')?;
    let json = &doc[start..];
    let b = json.as_bytes();
    Some(match b[0] {
        b'{' | b'[' => (json, json.to_string()),
        b'n' if b.get(1) == Some(&b'u') => (tolit(json), String::new()),
        b'+' | b'-' | b'0'..=b'9' | b'i' | b'I' | b'N' | b'n' => {
            let raw = tonum(json);
            (raw, number_text(raw))
        }
        b't' | b'f' => {
            let raw = tolit(json);
            let text = if b[0] == b't' { "true" } else { "false" };
            (raw, text.to_string())
        }
        b'"' => {
            let raw = tostr(json);
            // An unterminated string is unescaped to the end too.
            let text = if raw.len() > 1 && raw.ends_with('"') && string_closed(raw) {
                string_text(raw).into_owned()
            } else {
                string_text(&format!("{raw}\"")).into_owned()
            };
            (raw, text)
        }
        _ => return None,
    })
}

/// `tonum`: up to whitespace, a comma, `]` or `}`.
fn tonum(json: &str) -> &str {
    let end = json
        .bytes()
        .skip(1)
        .position(|c| c <= b' ' || c == b',' || c == b']' || c == b'}')
        .map_or(json.len(), |i| i + 1);
    &json[..end]
}

/// `tolit`: the leading lower-case letters.
fn tolit(json: &str) -> &str {
    let end = json
        .bytes()
        .skip(1)
        .position(|c| !c.is_ascii_lowercase())
        .map_or(json.len(), |i| i + 1);
    &json[..end]
}

/// `tostr`: through the closing quote (escapes skipped), else everything.
fn tostr(json: &str) -> &str {
    let b = json.as_bytes();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return &json[..=i],
            _ => i += 1,
        }
    }
    json
}

/// Whether the final quote of `raw` closes the string (is not escaped).
fn string_closed(raw: &str) -> bool {
    tostr(raw).len() == raw.len()
}

/// `Result.String()` of a number: its text when it is plain digits (after
/// a minus), else Go's `FormatFloat(num, 'f', -1, 64)` of what
/// `ParseFloat` made of it (0 on a syntax error, ±Inf out of range).
fn number_text(raw: &str) -> String {
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    if digits.bytes().all(|c| c.is_ascii_digit()) {
        return raw.to_string();
    }
    let num = match parse_float_go(raw.as_bytes()) {
        Ok(v) | Err(FloatError::Range(v)) => v,
        Err(_) => 0.0,
    };
    if num.is_nan() {
        "NaN".to_string()
    } else if num.is_infinite() {
        if num > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else {
        tile38_proto::fmt::f64_string(num)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_top;

    fn text(doc: &str) -> Option<String> {
        parse_top(doc).map(|(_, t)| t)
    }

    #[test]
    fn follows_gjson_parse_as_tile38_jget_shows_it() {
        // Replies of Tile38 1.37's `JGET key id` on STRING objects.
        assert_eq!(text("a b"), None);
        assert_eq!(text(""), None);
        assert_eq!(text("  {\"x\":1}").as_deref(), Some("{\"x\":1}"));
        assert_eq!(text(" 5x").as_deref(), Some("0"));
        assert_eq!(text("\"q").as_deref(), Some("q"));
        assert_eq!(text("nan").as_deref(), Some("NaN"));
        assert_eq!(text("nul").as_deref(), Some(""));
        assert_eq!(text("trux").as_deref(), Some("true"));
        assert_eq!(text(r#""a\"b\u00e9c"#).as_deref(), Some("a\"b\u{e9}c"));
        assert_eq!(text("-12.50]").as_deref(), Some("-12.5"));
        assert_eq!(text("Inf").as_deref(), Some("+Inf"));
        assert_eq!(text("-0012").as_deref(), Some("-0012"));
    }
}
