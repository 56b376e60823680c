//! The `json` table of the sandbox (Tile38 loads `layeh.com/gopher-json`):
//! `json.encode(value)` and `json.decode(text)`.
//!
//! Encoding: a table with a length is an array of its values `1..n`, any
//! other table an object with its string keys (sorted, as Go's encoder
//! writes maps); numbers as Go's JSON encoder spells them.

use mlua::{Function, Lua, Value};
use serde_json::Value as Json;

/// Nesting deeper than this is refused (a self-referencing table).
const MAX_DEPTH: usize = 200;

fn to_json(v: &Value, depth: usize) -> mlua::Result<Json> {
    if depth > MAX_DEPTH {
        return Err(mlua::Error::runtime(
            "cannot encode recursively nested tables",
        ));
    }
    Ok(match v {
        Value::Nil => Json::Null,
        Value::Boolean(b) => Json::Bool(*b),
        Value::Integer(n) => Json::from(*n),
        Value::Number(f) => serde_json::Number::from_f64(*f)
            .map(Json::Number)
            .ok_or_else(|| mlua::Error::runtime("json: unsupported value: NaN or Inf"))?,
        Value::String(s) => Json::String(s.to_string_lossy()),
        Value::Table(t) => {
            let n = t.raw_len();
            if n > 0 {
                let mut arr = Vec::with_capacity(n);
                for i in 1..=n {
                    arr.push(to_json(&t.raw_get::<Value>(i)?, depth + 1)?);
                }
                Json::Array(arr)
            } else {
                let mut pairs: Vec<(String, Json)> = Vec::new();
                for e in t.clone().pairs::<Value, Value>() {
                    let (k, v) = e?;
                    let Value::String(k) = k else {
                        return Err(mlua::Error::runtime(
                            "cannot encode mixed or invalid key types",
                        ));
                    };
                    pairs.push((k.to_string_lossy(), to_json(&v, depth + 1)?));
                }
                pairs.sort_by(|a, b| a.0.cmp(&b.0));
                Json::Object(pairs.into_iter().collect())
            }
        }
        other => {
            return Err(mlua::Error::runtime(format!(
                "cannot encode {} to JSON",
                other.type_name()
            )))
        }
    })
}

fn to_lua(lua: &Lua, j: &Json) -> mlua::Result<Value> {
    Ok(match j {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Boolean(*b),
        Json::Number(n) => Value::Number(n.as_f64().unwrap_or(0.0)),
        Json::String(s) => Value::String(lua.create_string(s)?),
        Json::Array(a) => {
            let t = lua.create_table()?;
            for (i, v) in a.iter().enumerate() {
                t.raw_set(i + 1, to_lua(lua, v)?)?;
            }
            Value::Table(t)
        }
        Json::Object(o) => {
            let t = lua.create_table()?;
            for (k, v) in o {
                t.raw_set(k.as_str(), to_lua(lua, v)?)?;
            }
            Value::Table(t)
        }
    })
}

/// `json.encode` and `json.decode`.
pub fn functions(lua: &Lua) -> mlua::Result<(Function, Function)> {
    let encode = lua.create_function(|_, v: Value| {
        let j = to_json(&v, 0)?;
        Ok(serde_json::to_string(&j).unwrap_or_default())
    })?;
    let decode = lua.create_function(|lua, s: mlua::String| {
        let j: Json = serde_json::from_slice(&s.as_bytes())
            .map_err(|e| mlua::Error::runtime(e.to_string()))?;
        to_lua(lua, &j)
    })?;
    Ok((encode, decode))
}
