//! The replies whose values vary from run to run (SERVER, SERVER EXT,
//! INFO and each of its sections, CLIENT LIST, ROLE, STATS) have the
//! member names, order and value types of Tile38 1.37's, in RESP and in
//! JSON output.
//!
//! The oracle's shapes are recorded in `tests/data/members/tile38.json`
//! by `tools/record_members.py` (which documents the shape rules; this
//! file implements the same ones), so this test needs no Tile38 to run.

use serde_json::Value;
use tile38::TestServer;

/// One RESP value, parsed far enough to tell its shape.
enum Resp {
    /// A one-line value: its type byte (`+`, `-`, `:`).
    Line(u8),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Resp>>),
}

fn parse(raw: &[u8]) -> (Resp, &[u8]) {
    let end = raw.windows(2).position(|w| w == b"\r\n").expect("a line");
    let (head, rest) = (&raw[..end], &raw[end + 2..]);
    let text = String::from_utf8_lossy(&head[1..]).into_owned();
    let n: i64 = text.parse().unwrap_or(-1);
    match head[0] {
        b'$' if n < 0 => (Resp::Bulk(None), rest),
        b'$' => {
            let n = n as usize;
            (Resp::Bulk(Some(rest[..n].to_vec())), &rest[n + 2..])
        }
        b'*' if n < 0 => (Resp::Array(None), rest),
        b'*' => {
            let (mut items, mut rest) = (Vec::new(), rest);
            for _ in 0..n {
                let (item, r) = parse(rest);
                items.push(item);
                rest = r;
            }
            (Resp::Array(Some(items)), rest)
        }
        t => (Resp::Line(t), rest),
    }
}

fn kind(v: &Resp) -> String {
    match v {
        Resp::Line(t) => (*t as char).to_string(),
        Resp::Bulk(None) | Resp::Array(None) => "nil".into(),
        Resp::Bulk(Some(_)) => "$".into(),
        Resp::Array(Some(_)) => "*".into(),
    }
}

fn push(out: &mut Vec<String>, line: String) {
    if !out.contains(&line) {
        out.push(line);
    }
}

fn tree(v: &Resp, path: &str, out: &mut Vec<String>) {
    push(out, format!("{path}:{}", kind(v)));
    if let Resp::Array(Some(items)) = v {
        for item in items {
            tree(item, &format!("{path}[]"), out);
        }
    }
}

fn text(v: &Resp) -> String {
    match v {
        Resp::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
        _ => panic!("expected a bulk string"),
    }
}

/// `int`, `float` or `text`, by the spelling of an INFO value.
fn number_kind(v: &str) -> &'static str {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let v = v.strip_prefix('-').unwrap_or(v);
    match v.split_once('.') {
        None if digits(v) => "int",
        Some((int, frac)) if (int.is_empty() || digits(int)) && digits(frac) => "float",
        _ => "text",
    }
}

fn resp_shape(raw: &[u8], form: &str) -> Vec<String> {
    let (v, _) = parse(raw);
    let mut out = Vec::new();
    match form {
        "map" => {
            let Resp::Array(Some(items)) = &v else {
                panic!("expected an array")
            };
            for pair in items.chunks(2) {
                out.push(format!("{}:{}", text(&pair[0]), kind(&pair[1])));
            }
        }
        "info" => {
            for line in text(&v).split("\r\n").filter(|l| !l.is_empty()) {
                match line.split_once(':') {
                    Some((name, value)) if !line.starts_with('#') => {
                        out.push(format!("{name}:{}", number_kind(value)))
                    }
                    _ => out.push(line.to_string()),
                }
            }
        }
        "clients" => {
            let list = text(&v);
            let first = list.split('\n').next().unwrap_or_default();
            out = first
                .split(' ')
                .map(|f| f.split('=').next().unwrap_or_default().to_string())
                .collect();
        }
        _ => tree(&v, "", &mut out),
    }
    out
}

fn json_shape(v: &Value, path: &str, out: &mut Vec<String>) {
    let kind = match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    push(out, format!("{path}:{kind}"));
    match v {
        Value::Object(m) => m
            .iter()
            .for_each(|(k, x)| json_shape(x, &format!("{path}.{k}"), out)),
        Value::Array(a) => a
            .iter()
            .for_each(|x| json_shape(x, &format!("{path}[]"), out)),
        _ => {}
    }
}

fn strs(v: &Value) -> Vec<String> {
    let list = v.as_array().expect("a list");
    list.iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// Runs `probe` on a fresh connection of `srv` in `mode`, after FLUSHDB
/// and its setup: the reply's shape.
fn shape(srv: &TestServer, probe: &Value, mode: &str) -> Vec<String> {
    let mut c = srv.resp();
    c.cmd(&["FLUSHDB"]);
    for cmd in probe["setup"].as_array().into_iter().flatten() {
        let cmd = strs(cmd);
        c.cmd(&cmd.iter().map(String::as_str).collect::<Vec<_>>());
    }
    if mode == "json" {
        c.cmd(&["OUTPUT", "json"]);
    }
    let cmd = strs(&probe["cmd"]);
    let raw = c.cmd(&cmd.iter().map(String::as_str).collect::<Vec<_>>());
    if mode == "resp" {
        return resp_shape(&raw, probe["form"].as_str().unwrap());
    }
    let (v, _) = parse(&raw);
    let mut value: Value = serde_json::from_str(&text(&v)).expect("JSON reply");
    value.as_object_mut().unwrap().remove("elapsed");
    let mut out = Vec::new();
    json_shape(&value, "", &mut out);
    out
}

#[test]
fn member_names_and_types_match_tile38() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/members/tile38.json"
    );
    let data: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let srv = TestServer::start(&[]);
    let mut failures = Vec::new();
    for probe in data["probes"].as_array().unwrap() {
        for mode in ["resp", "json"] {
            let want = strs(&probe[mode]);
            let got = shape(&srv, probe, mode);
            if got != want {
                let missing: Vec<_> = want.iter().filter(|l| !got.contains(l)).collect();
                let extra: Vec<_> = got.iter().filter(|l| !want.contains(l)).collect();
                failures.push(format!(
                    "{} ({mode}): missing {missing:?}, extra {extra:?}\n  want {want:?}\n  got  {got:?}",
                    probe["name"]
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn number_kinds_follow_the_spelling() {
    assert_eq!(number_kind("12"), "int");
    assert_eq!(number_kind("-3"), "int");
    assert_eq!(number_kind("1.00"), "float");
    assert_eq!(number_kind("1.37.0"), "text");
    assert_eq!(number_kind("master"), "text");
}
