//! Numbers in settings as Tile38 reads them: memory sizes (`maxmemory
//! 1gb`), and the error of Go's `ParseUint` for a value it refuses.

use crate::error::Error;

/// `maxmemory` text: `""`, `N`, `Nkb`, `Nmb`, `Ngb` (×1024ⁿ, case-insensitive).
/// As in Tile38 (`int64(n * 1024 * …)` on a `uint64`), the product wraps
/// instead of being refused; a result that is not positive as an `i64` is
/// no limit ([`format_mem_size`] shows it as `""`), and SERVER shows it as
/// that `i64`.
pub fn parse_mem_size(s: &str) -> Option<u64> {
    if s.is_empty() {
        return Some(0);
    }
    let lower = s.to_ascii_lowercase();
    let (digits, mul) = if let Some(d) = lower.strip_suffix("gb") {
        (d, 1u64 << 30)
    } else if let Some(d) = lower.strip_suffix("mb") {
        (d, 1 << 20)
    } else if let Some(d) = lower.strip_suffix("kb") {
        (d, 1 << 10)
    } else {
        (lower.as_str(), 1)
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits.parse::<u64>().ok()?.wrapping_mul(mul))
}

/// The inverse of [`parse_mem_size`], truncating: `1024kb` → `1mb`; no
/// limit (0, or negative as Tile38's `int64`) is `""`.
pub fn format_mem_size(n: u64) -> String {
    match n {
        n if n as i64 <= 0 => String::new(),
        n if n < 1 << 10 => n.to_string(),
        n if n < 1 << 20 => format!("{}kb", n >> 10),
        n if n < 1 << 30 => format!("{}mb", n >> 20),
        n => format!("{}gb", n >> 30),
    }
}

/// The error Go's `strconv.ParseUint(value, 10, 64)` returns for a value
/// it refuses: an overflow before the first character that is not a digit
/// is out of range, anything else bad syntax.
pub(super) fn parse_uint_error(value: &str) -> Error {
    let digits = value.bytes().take_while(u8::is_ascii_digit).count();
    let why = match tile38_geo::number::parse_uint(&value.as_bytes()[..digits]) {
        None if digits > 0 => "value out of range",
        _ => "invalid syntax",
    };
    let mut quoted = Vec::new();
    tile38_proto::fmt::go_quote(value.as_bytes(), &mut quoted);
    let quoted = String::from_utf8_lossy(&quoted);
    Error::Message(format!("strconv.ParseUint: parsing {quoted}: {why}"))
}

/// Writes, as config-file members, the named settings whose value differs
/// from their default (the settings kept beside Tile38's: TLS, followers).
pub(super) fn put_changed(
    names: &[&str],
    get: impl Fn(&str) -> Option<String>,
    default: impl Fn(&str) -> Option<String>,
    put: &mut impl FnMut(&str, serde_json::Value),
) {
    for &name in names {
        let v = get(name);
        if v != default(name) {
            put(name, serde_json::json!(v.unwrap_or_default()));
        }
    }
}
