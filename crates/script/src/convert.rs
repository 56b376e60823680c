//! Tile38's conversions between Lua values and replies (`scripts.go`:
//! `ConvertToRESP`, `ConvertToJSON`, `ConvertToLua`), and gopher-lua's
//! spelling of numbers (`LNumber.String`), which those conversions and
//! `tostring` show.
//!
//! A table with a non-zero length is a list of all its values (holes
//! skipped); any other table is a map, written as `[key, value]` pairs in
//! RESP and as an object in JSON, except that a map whose single entry is
//! `ok` or `err` is a status or an error reply in RESP.

use mlua::{Lua, Table, Value};
use tile38_engine::error::{Error, Result};
use tile38_engine::reply::Reply;
use tile38_proto::fmt::write_json_str;
use tile38_proto::resp;

/// Go's `int(f)` on amd64: out of range (and NaN) is the minimum int64.
fn go_int(f: f64) -> i64 {
    if f.is_nan() || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

/// gopher-lua's `LNumber.String()`: an integral value as an int64, others
/// as Go's `fmt.Sprint(float64)` (`%g`, shortest: `3.7`, `1e+21`,
/// `1.2345675e+06`, `NaN`, `+Inf`).
pub fn go_number(v: f64) -> String {
    if go_int(v) as f64 == v {
        return go_int(v).to_string();
    }
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let sci = format!("{v:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    // strconv's 'g' with the shortest precision: %e below 1e-4 and from 1e6.
    if (-4..6).contains(&exp) {
        return format!("{v}");
    }
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.abs())
}

/// A Lua type's name as Tile38's errors print it.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Function(_) => "function",
        Value::Thread(_) => "thread",
        Value::UserData(_) | Value::LightUserData(_) => "userdata",
        _ => "unknown",
    }
}

/// The entries of a table in `next` order, and whether it is a list.
fn entries(t: &Table) -> (bool, Vec<(Value, Value)>) {
    let list = t.raw_len() != 0;
    let all = t
        .clone()
        .pairs::<Value, Value>()
        .filter_map(|e| e.ok())
        .collect();
    (list, all)
}

/// The top-level EVAL result in RESP (`ConvertToRESP`); an error reply is
/// the command's error.
pub fn write_resp(v: &Value, out: &mut Vec<u8>) -> Result<()> {
    if let Value::Table(t) = v {
        if let Some((ok, text)) = special(t) {
            if !ok {
                return Err(Error::Message(text));
            }
        }
    }
    if let Value::Function(_) | Value::Thread(_) | Value::UserData(_) = v {
        return Err(Error::Message(format!(
            "Unsupported lua type: {}",
            type_name(v)
        )));
    }
    resp_value(v, out);
    Ok(())
}

/// `{ok = s}` → `(true, s)`, `{err = s}` → `(false, s)`: a map with one
/// entry, `ok` or `err`.
fn special(t: &Table) -> Option<(bool, String)> {
    let (list, all) = entries(t);
    if list || all.len() != 1 {
        return None;
    }
    let (Value::String(k), v) = &all[0] else {
        return None;
    };
    let text = lua_string(v);
    match k.as_bytes().as_ref() {
        b"ok" => Some((true, text)),
        b"err" => Some((false, text)),
        _ => None,
    }
}

/// gopher-lua's `LValue.String()` of a value (numbers Go-spelled).
pub fn lua_string(v: &Value) -> String {
    match v {
        Value::String(s) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
        Value::Number(n) => go_number(*n),
        Value::Integer(n) => n.to_string(),
        Value::Boolean(b) => b.to_string(),
        Value::Nil => "nil".into(),
        _ => type_name(v).into(),
    }
}

fn resp_value(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Nil | Value::Boolean(false) => resp::null(out),
        Value::Boolean(true) => resp::int(out, 1),
        Value::Integer(n) => resp::int(out, *n),
        Value::Number(f) if f.is_nan() || f.is_infinite() => {
            resp::bulk(out, go_number(*f).as_bytes())
        }
        Value::Number(f) => resp::int(out, go_int(f.floor())),
        Value::String(s) => resp::bulk(out, &s.as_bytes()),
        Value::Table(t) => {
            if let Some((ok, text)) = special(t) {
                if ok {
                    resp::simple(out, text.as_bytes());
                } else {
                    resp::error(out, text.as_bytes());
                }
                return;
            }
            let (list, all) = entries(t);
            resp::array(out, all.len());
            for (k, v) in &all {
                if list {
                    resp_value(v, out);
                } else {
                    resp::array(out, 2);
                    resp_value(k, out);
                    resp_value(v, out);
                }
            }
        }
        other => resp::error(
            out,
            format!("Unsupported lua type: {}", type_name(other)).as_bytes(),
        ),
    }
}

/// `ConvertToJSON`: the `result` member's raw text (an unsupported type is
/// written as its message, unquoted, as Tile38 does).
pub fn write_json(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Nil => out.extend_from_slice(b"null"),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Integer(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Value::Number(f) => out.extend_from_slice(go_number(*f).as_bytes()),
        Value::String(s) => write_json_str(out, &s.as_bytes()),
        Value::Table(t) => {
            let (list, all) = entries(t);
            out.push(if list { b'[' } else { b'{' });
            for (i, (k, v)) in all.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                if !list {
                    write_json(k, out);
                    out.push(b':');
                }
                write_json(v, out);
            }
            out.push(if list { b']' } else { b'}' });
        }
        other => {
            out.extend_from_slice(format!("Unsupported lua type: {}", type_name(other)).as_bytes())
        }
    }
}

/// Writes an EVAL result into `out` in its mode.
pub fn write_result(v: &Value, out: &mut Reply) -> Result<()> {
    if out.json {
        out.key("result");
        let mut buf = Vec::new();
        write_json(v, &mut buf);
        out.push(&buf);
        Ok(())
    } else {
        write_resp(v, &mut out.buf)
    }
}

/// `ConvertToLua` of a command's RESP reply: integers are numbers, bulk
/// strings strings, nulls `false`, a status `{ok = s}`, an error
/// `{err = s}`, arrays tables.
pub fn resp_to_lua(lua: &Lua, bytes: &[u8]) -> mlua::Result<Value> {
    let mut pos = 0;
    parse(lua, bytes, &mut pos)
}

fn line<'a>(bytes: &'a [u8], pos: &mut usize) -> mlua::Result<&'a [u8]> {
    let rest = &bytes[(*pos + 1).min(bytes.len())..];
    let end = rest
        .windows(2)
        .position(|w| w == b"\r\n")
        .ok_or_else(|| mlua::Error::runtime("ERR: unknown RESP type"))?;
    *pos += 1 + end + 2;
    Ok(&rest[..end])
}

fn number(text: &[u8]) -> i64 {
    std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn parse(lua: &Lua, bytes: &[u8], pos: &mut usize) -> mlua::Result<Value> {
    let Some(&kind) = bytes.get(*pos) else {
        return Ok(Value::Boolean(false));
    };
    let text = line(bytes, pos)?;
    let tagged = |key: &str, text: &[u8]| -> mlua::Result<Value> {
        let t = lua.create_table()?;
        t.raw_set(key, lua.create_string(text)?)?;
        Ok(Value::Table(t))
    };
    match kind {
        b':' => Ok(Value::Number(number(text) as f64)),
        b'+' => tagged("ok", text),
        b'-' => tagged("err", text),
        b'$' => {
            let n = number(text);
            if n < 0 {
                return Ok(Value::Boolean(false));
            }
            let start = *pos;
            let end = (start + n as usize).min(bytes.len());
            *pos = end + 2;
            Ok(Value::String(lua.create_string(&bytes[start..end])?))
        }
        b'*' => {
            let n = number(text);
            if n < 0 {
                return Ok(Value::Boolean(false));
            }
            let t = lua.create_table()?;
            for i in 1..=n {
                t.raw_set(i, parse(lua, bytes, pos)?)?;
            }
            Ok(Value::Table(t))
        }
        _ => Ok(Value::String(lua.create_string("ERR: unknown RESP type")?)),
    }
}

#[cfg(test)]
mod tests {
    use super::go_number;

    #[test]
    fn numbers_as_gopher_lua_prints_them() {
        for (v, s) in [
            (4.0, "4"),
            (3.7, "3.7"),
            (-3.5, "-3.5"),
            (1e21, "1e+21"),
            (1e15 + 0.5, "1.0000000000000005e+15"),
            (123456789012.0, "123456789012"),
            (961.0785999989594, "961.0785999989594"),
            (1234567.5, "1.2345675e+06"),
            (100000.5, "100000.5"),
            (0.0001, "0.0001"),
            (0.00001234, "1.234e-05"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (-0.0, "0"),
            (0.30000000000000004, "0.30000000000000004"),
        ] {
            assert_eq!(go_number(v), s, "{v}");
        }
    }
}
