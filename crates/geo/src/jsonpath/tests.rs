//! JSET/JDEL editing cases, with the results sjson gives.

use super::*;

fn s(doc: &str, path: &str, v: &str) -> String {
    set_str(doc, path, v).unwrap()
}
fn r(doc: &str, path: &str, v: &str) -> String {
    set_raw(doc, path, v).unwrap()
}
fn d(doc: &str, path: &str) -> String {
    delete(doc, path).unwrap()
}

#[test]
fn set_string_members() {
    let doc = s("", "hello", "world");
    assert_eq!(doc, r#"{"hello":"world"}"#);
    let doc = s(&doc, "hello", "planet");
    assert_eq!(doc, r#"{"hello":"planet"}"#);
    let doc = s(&doc, "user.name.last", "tom");
    assert_eq!(doc, r#"{"hello":"planet","user":{"name":{"last":"tom"}}}"#);
    let doc = s(&doc, "user.name.first", "andrew");
    let want = r#"{"hello":"planet","user":{"name":{"last":"tom","first":"andrew"}}}"#;
    assert_eq!(doc, want);
    assert_eq!(
        d(&doc, "user.name.last"),
        r#"{"hello":"planet","user":{"name":{"first":"andrew"}}}"#
    );
}

#[test]
fn append_tags() {
    let doc =
        r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[-115,44]},"properties":{}}"#;
    let doc = s(doc, "properties.tags.-1", "southwest");
    assert_eq!(
        doc,
        r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[-115,44]},"properties":{"tags":["southwest"]}}"#
    );
    let doc = s(&doc, "properties.tags.-1", "united states");
    let doc = s(&doc, "properties.tags.-1", "hot");
    assert!(doc.ends_with(r#""properties":{"tags":["southwest","united states","hot"]}}"#));
}

#[test]
fn arrays() {
    let doc = r#"{"type":"Point","coordinates":[-115,33]}"#;
    assert_eq!(
        r(doc, "coordinates.1", "44"),
        r#"{"type":"Point","coordinates":[-115,44]}"#
    );
    assert_eq!(s(r#"["a","b"]"#, "4", "x"), r#"["a","b",null,null,"x"]"#);
    assert_eq!(
        s(r#"{"a":["a","b"]}"#, "a.2", "x"),
        r#"{"a":["a","b","x"]}"#
    );
    assert_eq!(s(r#"{"a":[]}"#, "a.2", "x"), r#"{"a":[null,null,"x"]}"#);
    assert_eq!(r(r#"{"a":[ ]}"#, "a.-1", "1"), r#"{"a":[ 1]}"#);
    assert_eq!(r("", "a.2.b", "1"), r#"{"a":[null,null,{"b":1}]}"#);
    assert_eq!(r("", "a.-1.-1", "1"), r#"{"a":[[1]]}"#);
    assert_eq!(r("", "0", "1"), "[1]");
    // A numeric component is a key in an object; `:` forces a key.
    assert_eq!(r(r#"{"a":{}}"#, "a.0", "1"), r#"{"a":{"0":1}}"#);
    assert_eq!(r("", "a.:0", "1"), r#"{"a":{"0":1}}"#);
    assert_eq!(r(r#"{"-1":2}"#, "-1", "1"), r#"{"-1":1}"#);
    // Elements with spaces are re-joined compactly when padding (sjson).
    assert_eq!(r("[1, 2]", "3", "9"), "[1,2,null,9]");
    assert_eq!(set_raw("[1]", "x", "2"), Err(PathError::InvalidPath));
}

#[test]
fn raw_values_verbatim() {
    assert_eq!(r("", "hello", ".5"), r#"{"hello":.5}"#);
    assert_eq!(r("{}", "hello", ".5"), r#"{"hello":.5}"#);
    assert_eq!(r("", "hello", "1.0e10"), r#"{"hello":1.0e10}"#);
    let doc = r("", "a.b.c", "1");
    assert_eq!(doc, r#"{"a":{"b":{"c":1}}}"#);
    assert_eq!(
        r(&doc, "a.list", "[1,2,3]"),
        r#"{"a":{"b":{"c":1},"list":[1,2,3]}}"#
    );
    assert_eq!(r("", "a.list", "[1,2,3]"), r#"{"a":{"list":[1,2,3]}}"#);
    assert_eq!(r("", "a\\.b", "1"), r#"{"a.b":1}"#);
    let doc = r(&r(&r("", "t", "true"), "f", "false"), "n", "null");
    assert_eq!(doc, r#"{"t":true,"f":false,"n":null}"#);
    // Untouched text keeps its spelling and whitespace.
    let doc = "{ \"x\" : 1.0e10 ,\n \"y\": [ .5, 2 ] }";
    assert_eq!(
        r(doc, "y.1", "3"),
        "{ \"x\" : 1.0e10 ,\n \"y\": [ .5, 3 ] }"
    );
    assert_eq!(
        r(doc, "z", "3"),
        "{ \"x\" : 1.0e10 ,\n \"y\": [ .5, 2 ] ,\"z\":3}"
    );
}

#[test]
fn string_escaping() {
    assert_eq!(s("", "a", "x\"y"), r#"{"a":"x\"y"}"#);
    assert_eq!(s("", "a", "<b>"), r#"{"a":"<b>"}"#);
    assert_eq!(s("", "a", "<\n"), r#"{"a":"\u003c\n"}"#);
    assert_eq!(s("", "a", "é"), r#"{"a":"é"}"#);
    assert_eq!(s("", "k\"", "1"), r#"{"k\"":"1"}"#);
}

#[test]
fn scalars_become_containers() {
    assert_eq!(r(r#"{"a":5}"#, "a.b", "1"), r#"{"a":{"b":1}}"#);
    assert_eq!(r(r#"{"a":"s"}"#, "a.1", "1"), r#"{"a":[null,1]}"#);
    assert_eq!(r("5", "a", "1"), r#"{"a":1}"#);
    assert_eq!(r("  \n", "a", "1"), r#"{"a":1}"#);
    assert_eq!(r("nonsense", "a", "1"), r#"{"a":1}"#);
}

#[test]
fn deletes() {
    let doc = r#"{"a":1,"b":2,"c":3}"#;
    assert_eq!(d(doc, "a"), r#"{"b":2,"c":3}"#);
    assert_eq!(d(doc, "b"), r#"{"a":1,"c":3}"#);
    assert_eq!(d(doc, "c"), r#"{"a":1,"b":2}"#);
    assert_eq!(d(r#"{"a":1}"#, "a"), "{}");
    assert_eq!(d(r#"{ "a" : 1 , "b":2}"#, "a"), r#"{ "b":2}"#);
    assert_eq!(d(r#"{"a\"x":1,"b":2}"#, "b"), r#"{"a\"x":1}"#);
    assert_eq!(d(r#"{"a\u002eb":1}"#, "a\\.b"), "{}");
    let arr = r#"{"a":[1,[2],{"x":3}]}"#;
    assert_eq!(d(arr, "a.0"), r#"{"a":[[2],{"x":3}]}"#);
    assert_eq!(d(arr, "a.1"), r#"{"a":[1,{"x":3}]}"#);
    assert_eq!(d(arr, "a.2"), r#"{"a":[1,[2]]}"#);
    assert_eq!(d(arr, "a.-1"), r#"{"a":[1,[2]]}"#);
    assert_eq!(d(arr, "a.2.x"), r#"{"a":[1,[2],{}]}"#);
    assert_eq!(d("[5]", "0"), "[]");
    for missing in ["z", "a.3", "a.0.q", "a.x", "a.-1.y", "a.1.0.0"] {
        assert_eq!(d(arr, missing), arr, "{missing}");
    }
    assert_eq!(d("", "a"), "");
    assert_eq!(d("[]", "-1"), "[]");
}

#[test]
fn odd_paths() {
    // An empty component is index 0 when building, key "" in objects.
    assert_eq!(r("", "a.", "1"), r#"{"a":[1]}"#);
    assert_eq!(r(r#"{"":2}"#, ".", "1"), r#"{"":[1]}"#);
    assert_eq!(r("", ".a", "1"), r#"[{"a":1}]"#);
    assert_eq!(r("{}", ".a", "1"), r#"{"":{"a":1}}"#);
    assert_eq!(r("", "a\\b", "1"), r#"{"ab":1}"#);
    assert_eq!(r("", "a\\\\b", "1"), r#"{"a\\b":1}"#);
    // Deep paths are handled without recursion.
    let path = vec!["k"; 2000].join(".");
    let doc = r("", &path, "1");
    assert_eq!(
        doc,
        format!("{}1{}", r#"{"k":"#.repeat(2000), "}".repeat(2000))
    );
    assert_eq!(r(&doc, &path, "2"), doc.replace('1', "2"));
    assert_eq!(
        d(&doc, &path),
        format!("{}{{}}{}", r#"{"k":"#.repeat(1999), "}".repeat(1999))
    );
}

#[test]
fn path_errors() {
    assert_eq!(set_raw("{}", "", "1"), Err(PathError::EmptyPath));
    assert_eq!(delete("{}", ""), Err(PathError::EmptyPath));
    for p in ["a.*", "a?", "#", "a.#.b", "@this", "a|b"] {
        assert_eq!(set_str("{}", p, "x"), Err(PathError::InvalidPath), "{p}");
        assert_eq!(delete("{}", p), Err(PathError::InvalidPath), "{p}");
    }
    assert_eq!(r("", "a\\*", "1"), r#"{"a*":1}"#);
    assert_eq!(
        set_raw("", "a.99999999999999999999999", "1"),
        Err(PathError::InvalidPath)
    );
    assert_eq!(set_raw("[]", "2000000", "1"), Err(PathError::InvalidPath));
    assert_eq!(PathError::EmptyPath.to_string(), "path cannot be empty");
}

#[test]
fn get_raw_wraps_gjson() {
    let doc = r#"{"a":{"b":[1, 2.50]}}"#;
    assert_eq!(get_raw(doc, "a.b.1").as_deref(), Some("2.50"));
    assert_eq!(get_raw(doc, "a.b"), Some("[1, 2.50]".to_string()));
    assert_eq!(get_raw(doc, "a.c"), None);
}

#[test]
fn json_numbers() {
    for yes in [
        "0", "3.14", "1.0e10", "-5", ".5", "-0", "1E+5", "2e-3", "-.5",
    ] {
        assert!(is_json_number(yes), "{yes}");
    }
    for no in [
        "0123", "5.", "1e", "abc", "", "-", "+5", "1.e5", "1e+", "5 ", "0x1",
    ] {
        assert!(!is_json_number(no), "{no}");
    }
}

mod props {
    use super::super::*;
    use proptest::prelude::*;

    fn json() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("1".to_string()),
            Just("-2.5e3".to_string()),
            Just("null".to_string()),
            Just("\"s\"".to_string()),
            Just("\"a\\\"\"".to_string()),
        ];
        leaf.prop_recursive(4, 24, 4, |inner| {
            let ws = prop_oneof![Just(""), Just(" "), Just("\n ")];
            prop_oneof![
                prop::collection::vec((inner.clone(), ws.clone()), 0..4).prop_map(|v| {
                    let items: Vec<String> =
                        v.into_iter().map(|(x, w)| format!("{w}{x}")).collect();
                    format!("[{}]", items.join(","))
                }),
                // Unique keys: with a duplicate key Go's gjson reads on into
                // the next member while sjson edits the first, so "found"
                // and "deleted" part ways there (in Tile38 too).
                prop::collection::btree_map("[abc0-2]", (inner, ws), 0..4).prop_map(|v| {
                    let items: Vec<String> = v
                        .into_iter()
                        .map(|(k, (x, w))| format!("{w}\"{k}\":{w}{x}"))
                        .collect();
                    format!("{{{}}}", items.join(","))
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn never_panics(doc in "[ {}\\[\\]\",:a-c0-9\\\\.-]{0,24}", path in "[a-c0-9.:\\\\*#-]{0,10}") {
            let _ = set_raw(&doc, &path, "1");
            let _ = set_str(&doc, &path, "x\"");
            let _ = delete(&doc, &path);
            let _ = is_json_number(&doc);
        }

        #[test]
        fn set_then_get(doc in json(), path in "[abc0-2]{1,2}(\\.[abc0-2]{1,2}){0,3}", v in "[a-z<]{0,5}") {
            // sjson refuses non-numeric keys for existing arrays.
            let Ok(out) = set_str(&doc, &path, &v) else {
                prop_assert!(set_raw(&doc, &path, "1").is_err());
                return Ok(());
            };
            prop_assert!(gjson::valid(&out), "{}", out);
            let got = gjson::get(&out, &path);
            prop_assert_eq!(got.str(), v.as_str());
            let out = set_raw(&doc, &path, "[1, 2.50]").unwrap();
            let got = get_raw(&out, &path);
            prop_assert_eq!(got.as_deref(), Some("[1, 2.50]"));
            let gone = delete(&out, &path).unwrap();
            prop_assert!(gjson::valid(&gone), "{}", gone);
            prop_assert_eq!(delete(&doc, "zz").unwrap(), doc);
        }

        #[test]
        fn delete_existing(doc in json(), path in "[abc0-2](\\.[abc0-2]){0,3}") {
            let out = delete(&doc, &path).unwrap();
            prop_assert!(gjson::valid(&out), "{}", out);
            prop_assert_eq!(out == doc, get_raw(&doc, &path).is_none());
        }
    }
}

#[test]
fn append_components() {
    assert!(appends("a.-1"));
    assert!(appends("-1"));
    assert!(appends("a.\\-1.b"));
    assert!(!appends("a.x-1y"));
    assert!(!appends("a.:-1"));
    assert!(!appends("a.1"));
    assert!(!appends(""));
}

mod bounded_get {
    use super::super::{get, set_raw, PathError, CHUNK};

    fn found(doc: &str, path: &str) -> Option<String> {
        get(doc, path)
            .expect("answered")
            .exists()
            .then(|| get(doc, path).unwrap().json().to_string())
    }

    #[test]
    fn long_plain_paths_answer_like_tile38() {
        crate::on_quarter_stack(|| {
            for sep in [".", "|"] {
                let path = vec!["a"; 100_000].join(sep);
                assert_eq!(found(r#"{"a":1}"#, &path), None, "{sep}");
                assert_eq!(found(r#"{"a":1}"#, "a"), Some("1".into()));
            }
        });
    }

    #[test]
    fn deep_documents_are_read_chunk_by_chunk() {
        crate::on_quarter_stack(|| {
            let n = 5 * CHUNK + 3;
            let path = vec!["a"; n].join(".");
            let doc = set_raw("", &path, "7").unwrap();
            assert_eq!(found(&doc, &path), Some("7".into()));
            let piped = vec!["a"; n].join("|");
            assert_eq!(found(&doc, &piped), Some("7".into()));
            let short = vec!["a"; n - 1].join(".");
            assert_eq!(found(&doc, &short), Some(r#"{"a":7}"#.into()));
            assert_eq!(found(&doc, &(path.clone() + ".a")), None);
        });
    }

    #[test]
    fn chunk_boundaries_keep_indices_escapes_and_wildcards() {
        // Exactly one component past a chunk, with an array, an escaped
        // dot and a wildcard around the boundary.
        let mut doc = String::from(r#"{"x.y":[10,{"last":"ok"}]}"#);
        for _ in 0..CHUNK - 1 {
            doc = format!(r#"{{"k":{doc}}}"#);
        }
        let path = "k.".repeat(CHUNK - 1) + r"x\.y|1.l*t";
        assert_eq!(found(&doc, &path), Some(r#""ok""#.into()));
        assert_eq!(gjson::get(&doc, &path).json(), r#""ok""#);
    }

    #[test]
    fn other_paths_are_bounded() {
        crate::on_quarter_stack(|| {
            let doc = r#"{"a":[1,2,3]}"#;
            assert_eq!(found(doc, "a.#"), Some("3".into()));
            assert_eq!(found(doc, "@this|a|@reverse"), Some("[3,2,1]".into()));
            let many = vec!["@this"; 10_000].join("|");
            assert_eq!(get(doc, &many).err(), Some(PathError::TooComplex));
            let nested = "[".repeat(10_000) + "a" + &"]".repeat(10_000);
            assert_eq!(get(doc, &nested).err(), Some(PathError::TooComplex));
            let deep = "[".repeat(100_000) + &"]".repeat(100_000);
            assert_eq!(get(&deep, "@valid").err(), Some(PathError::TooComplex));
            assert!(get("[[1]]", "@valid").unwrap().exists());
        });
    }

    #[test]
    fn wildcards_are_limited() {
        let doc = r#"{"alpha":1,"beta":{"gamma":2}}"#;
        assert_eq!(found(doc, "al*"), Some("1".into()));
        assert_eq!(found(doc, "b*.*mma"), Some("2".into()));
        assert_eq!(found(doc, "b**a.g?mma"), Some("2".into()));
        let key = "a".repeat(100_000);
        let doc = format!(r#"{{"{key}":1}}"#);
        let slow = "*a".repeat(40) + "b";
        assert_eq!(get(&doc, &slow).err(), Some(PathError::TooComplex));
    }
}

mod bounded_get_mixed {
    use super::super::{get, set_raw, CHUNK};

    #[test]
    fn a_long_plain_prefix_before_a_modifier_is_read_in_chunks() {
        let n = 3 * CHUNK;
        let path = vec!["a"; n].join(".");
        let doc = set_raw("", &path, "[1,2]").unwrap();
        let count = path.clone() + ".#";
        assert_eq!(get(&doc, &count).unwrap().json(), "2");
        let reversed = path.clone() + "|@reverse";
        assert_eq!(get(&doc, &reversed).unwrap().json(), "[2,1]");
        assert!(!get(&doc, &(path + ".b.#")).unwrap().exists());
        // A trailing escape is part of the last component.
        assert!(!get(&doc, "a\\").unwrap().exists());
    }
}

mod deep_edits {
    use super::super::{delete, set_raw, set_str, PathError, MAX_UNINDEXED_DEPTH};
    use std::time::{Duration, Instant};

    #[test]
    fn editing_a_deep_document_takes_linear_time() {
        let n = 100_000;
        let path = vec!["a"; n].join(".");
        let doc = set_raw("", &path, "1").unwrap();
        let t = Instant::now();
        let doc = set_raw(&doc, &path, "2").unwrap();
        assert!(doc.contains("{\"a\":2}"));
        let doc = set_str(&doc, &(path.clone() + ".b"), "x").unwrap();
        assert!(doc.contains(r#"{"a":2,"b":"x"}"#) || doc.contains(r#""b":"x""#));
        let short = vec!["a"; n - 1].join(".");
        let doc = delete(&doc, &short).unwrap();
        assert_eq!(doc.len(), "{\"a\":".len() * (n - 2) + 2 + (n - 2));
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    }

    #[test]
    fn invalid_documents_are_descended_a_bounded_depth() {
        // Not JSON (unclosed), so not indexed: each level would rescan the
        // rest of the text.
        let open = "{\"a\":".repeat(MAX_UNINDEXED_DEPTH + 10);
        let path = vec!["a"; MAX_UNINDEXED_DEPTH + 5].join(".");
        assert_eq!(set_raw(&open, &path, "1"), Err(PathError::TooComplex));
        let shallow = "a.a.a";
        assert!(set_raw(&open, shallow, "1").is_ok());
    }
}
