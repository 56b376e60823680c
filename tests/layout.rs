//! The design rules `ARCHITECTURE.md` states, checked on the source tree:
//! which crates may use tokio, that crate dependencies point one way, and
//! the size limits (files about 500 lines, functions about 80).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Crates allowed to depend on tokio: the server runtime, webhook delivery
/// (network delivery code), the elector (lock store I/O) and the benchmark
/// client.
const TOKIO_ALLOWED: &[&str] = &["server", "webhook", "elect", "bench"];

/// The layers, lowest first: a crate may depend only on crates of a lower
/// layer.
const LAYERS: &[&[&str]] = &[
    &["proto"],
    &["geo"],
    &["collection"],
    &["expr", "aof", "repl", "endpoint", "tls"],
    &["geofence"],
    &["engine"],
    &["webhook", "script", "elect"],
    &["server"],
    &["cli", "bench"],
];

/// Lines a file may have ("about 500").
const FILE_LINES: usize = 530;
/// Lines a function may have ("about 80").
const FN_LINES: usize = 85;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `crate name → tile38 crates and tokio it depends on` (normal
/// dependencies only).
fn dependencies() -> BTreeMap<String, Vec<String>> {
    let mut deps = BTreeMap::new();
    for entry in std::fs::read_dir(root().join("crates")).unwrap() {
        let dir = entry.unwrap().path();
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let mut section = String::new();
        let mut list = Vec::new();
        for line in manifest.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                section = line.to_string();
            } else if section == "[dependencies]" {
                let dep = line.split(['.', ' ', '=']).next().unwrap_or("");
                if let Some(inner) = dep.strip_prefix("tile38-") {
                    list.push(inner.to_string());
                } else if dep == "tokio" {
                    list.push("tokio".to_string());
                }
            }
        }
        deps.insert(name, list);
    }
    deps
}

fn layer(name: &str) -> usize {
    LAYERS
        .iter()
        .position(|l| l.contains(&name))
        .unwrap_or_else(|| {
            panic!("crate {name} is in no layer: add it to LAYERS and ARCHITECTURE.md")
        })
}

#[test]
fn only_the_runtime_and_the_benchmark_use_tokio() {
    let deps = dependencies();
    assert!(deps.contains_key("engine") && deps.contains_key("server"));
    for (name, list) in &deps {
        let uses = list.iter().any(|d| d == "tokio");
        assert_eq!(
            uses,
            TOKIO_ALLOWED.contains(&name.as_str()),
            "crate {name}: tokio dependency"
        );
    }
}

#[test]
fn crate_dependencies_point_down() {
    for (name, list) in dependencies() {
        for dep in list.iter().filter(|d| *d != "tokio") {
            assert!(
                layer(dep) < layer(&name),
                "{name} depends on {dep}, which is not below it"
            );
        }
    }
}

/// Every `.rs` file of the project (not build output).
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy();
        if path.is_dir() {
            if !matches!(name.as_ref(), "target" | ".git" | "corpus" | "artifacts") {
                sources(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

fn all_sources() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["crates", "src", "tests", "benches", "examples", "fuzz"] {
        let dir = root().join(dir);
        if dir.exists() {
            sources(&dir, &mut files);
        }
    }
    assert!(files.len() > 100, "found only {} files", files.len());
    files
}

#[test]
fn files_stay_under_about_500_lines() {
    let mut long = Vec::new();
    for path in all_sources() {
        let n = std::fs::read_to_string(&path).unwrap().lines().count();
        if n > FILE_LINES {
            long.push(format!("{} ({n} lines)", path.display()));
        }
    }
    assert!(long.is_empty(), "files over {FILE_LINES} lines: {long:#?}");
}

/// The length of each function starting at a line `fn name…`, by brace
/// matching (strings and comments stripped crudely: enough for our code).
fn function_lengths(text: &str) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(name) = fn_name(line) else { continue };
        let mut depth = 0i64;
        let mut opened = false;
        for (j, l) in lines.iter().enumerate().skip(i) {
            let code = strip(l);
            for c in code.chars() {
                match c {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            if !opened && code.contains(';') {
                break;
            }
            if opened && depth <= 0 {
                found.push((name.clone(), i + 1, j - i + 1));
                break;
            }
        }
    }
    found
}

fn fn_name(line: &str) -> Option<String> {
    let mut words = line.split_whitespace().peekable();
    while let Some(w) = words.next() {
        match w {
            "pub" | "const" | "async" | "unsafe" | "extern" => continue,
            w if w.starts_with("pub(") => continue,
            "fn" => {
                let name = words.next()?;
                let end = name.find(['(', '<']).unwrap_or(name.len());
                return Some(name[..end].to_string());
            }
            _ => return None,
        }
    }
    None
}

/// A line without its `//` comment and with string and char literals
/// emptied.
fn strip(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                while let Some(d) = chars.next() {
                    match d {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '\'' => {
                // A char literal ('{', '\n'), not a lifetime ('a).
                let rest: String = chars.clone().take(3).collect();
                if rest.starts_with('\\') || rest.chars().nth(1) == Some('\'') {
                    while let Some(d) = chars.next() {
                        if d == '\\' {
                            chars.next();
                        } else if d == '\'' {
                            break;
                        }
                    }
                }
            }
            '/' if chars.peek() == Some(&'/') => break,
            _ => out.push(c),
        }
    }
    out
}

#[test]
fn functions_stay_under_about_80_lines() {
    let mut long = Vec::new();
    for path in all_sources() {
        let text = std::fs::read_to_string(&path).unwrap();
        for (name, line, n) in function_lengths(&text) {
            if n > FN_LINES {
                long.push(format!("{}:{line} {name} ({n} lines)", path.display()));
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions over {FN_LINES} lines: {long:#?}"
    );
}

#[test]
fn the_function_scanner_measures_what_it_should() {
    let text = "fn a() {\n    let s = \"}\";\n    let c = '{';\n}\npub(crate) fn b<T>(x: T)\nwhere T: Copy,\n{\n    // }\n}\nfn decl();\n";
    assert_eq!(
        function_lengths(text),
        vec![("a".into(), 1, 4), ("b".into(), 5, 5)]
    );
}
