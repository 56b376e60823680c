//! Deep, long or odd input against the real binary (issue 13): JSON paths
//! of any length (RESP and HTTP, on JSON, POINT and STRING objects), deeply
//! nested GeoJSON, tens of thousands of FIELDs, and number arguments Go's
//! `ParseFloat` reads differently from Rust's. Every reply expected here
//! was recorded from Tile38 1.37, except where a documented limit answers
//! with an error instead (`path too complex`, `invalid data` past 256
//! nested GeoJSON objects).

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use tile38::TestServer;

fn chain(sep: &str, n: usize) -> String {
    vec!["a"; n].join(sep)
}

/// A raw HTTP GET; returns the response body (Tile38 closes the
/// connection after it).
fn http_body(srv: &TestServer, path: &str) -> String {
    let mut s = srv.raw();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes())
        .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("response");
    let text = String::from_utf8_lossy(&out).into_owned();
    let at = text.find("\r\n\r\n").expect("header end");
    text[at + 4..].trim_end().to_string()
}

/// The JSON body without its `elapsed` member.
fn without_elapsed(body: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(body).expect("JSON body");
    v.as_object_mut().expect("object").remove("elapsed");
    v.to_string()
}

fn assert_serving(srv: &TestServer) {
    assert_eq!(srv.resp().cmd_str(&["PING"]), "+PONG\r\n");
}

#[test]
fn jget_paths_of_any_length_answer_like_tile38() {
    let srv = TestServer::start(&[]);
    let mut c = srv.resp();
    assert_eq!(c.cmd_str(&["JSET", "j", "i", "a", "1"]), "+OK\r\n");
    assert_eq!(c.cmd_str(&["SET", "p", "pt", "POINT", "1", "2"]), "+OK\r\n");
    assert_eq!(c.cmd_str(&["SET", "p", "s", "STRING", "hello"]), "+OK\r\n");
    for (key, id) in [("j", "i"), ("p", "pt"), ("p", "s")] {
        for sep in [".", "|"] {
            for n in [5_000, 100_000] {
                let path = chain(sep, n);
                assert_eq!(
                    c.cmd_str(&["JGET", key, id, &path]),
                    "$-1\r\n",
                    "{key} {id} {sep} {n}"
                );
            }
        }
    }
    assert_eq!(c.cmd_str(&["JGET", "j", "i", "a"]), "$1\r\n1\r\n");
    // The same paths as WHERE fields, in GeoJSON properties and in a
    // JSON-valued field (Tile38 reads them as missing: 0 is in [0, 1]).
    let feature = r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"a":1}}"#;
    assert_eq!(c.cmd_str(&["SET", "w", "x", "OBJECT", feature]), "+OK\r\n");
    let set = [
        "SET",
        "w",
        "y",
        "FIELD",
        "f",
        r#"{"a":1}"#,
        "POINT",
        "1",
        "2",
    ];
    assert_eq!(c.cmd_str(&set), "+OK\r\n");
    for field in ["properties", "f"] {
        let path = format!("{field}.{}", chain(".", 5_000));
        let reply = c.cmd_str(&["SCAN", "w", "WHERE", &path, "0", "1", "COUNT"]);
        assert_eq!(reply, ":2\r\n", "{field}");
        assert_eq!(c.cmd_str(&["FGET", "w", "y", &path]), "$1\r\n0\r\n");
    }
    for sep in [".", "%7C"] {
        let body = http_body(&srv, &format!("/JGET+j+i+{}", chain(sep, 5_000)));
        assert_eq!(without_elapsed(&body), r#"{"ok":true}"#, "{sep}");
    }
    assert_serving(&srv);
}

#[test]
fn deep_documents_are_read_at_any_depth() {
    let srv = TestServer::start(&[]);
    let mut c = srv.resp();
    let n = 50_000;
    let dotted = chain(".", n);
    assert_eq!(c.cmd_str(&["JSET", "j", "deep", &dotted, "6"]), "+OK\r\n");
    // Editing and reading the deep document again: linear time (the edit
    // rescanned the rest of the document at each level: 5.5 s at 20,000).
    let t = Instant::now();
    assert_eq!(c.cmd_str(&["JSET", "j", "deep", &dotted, "7"]), "+OK\r\n");
    assert_eq!(c.cmd_str(&["JGET", "j", "deep", &dotted]), "$1\r\n7\r\n");
    let piped = chain("|", n);
    assert_eq!(c.cmd_str(&["JGET", "j", "deep", &piped]), "$1\r\n7\r\n");
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    let shallower = chain(".", n - 1);
    assert_eq!(
        c.cmd_str(&["JGET", "j", "deep", &shallower]),
        "$7\r\n{\"a\":7}\r\n"
    );
    // A modifier after the 50,000 plain components.
    let modified = format!("{dotted}|@this");
    assert_eq!(c.cmd_str(&["JGET", "j", "deep", &modified]), "$1\r\n7\r\n");
    // Limits: multipaths nested 300 deep, more than two `*` wildcards
    // (Tile38 answers `[[[…1…]]]` and nil).
    let multi = "[".repeat(300) + "a" + &"]".repeat(300);
    assert_eq!(c.cmd_str(&["JSET", "j", "i", "a", "1"]), "+OK\r\n");
    for path in [multi.as_str(), "a*b*c*"] {
        let reply = c.cmd_str(&["JGET", "j", "i", path]);
        assert_eq!(reply, "-ERR path too complex\r\n");
    }
    assert_serving(&srv);
}

/// `levels` nested GeometryCollections (`feature`: Features) around a
/// square.
fn nested(levels: usize, feature: bool) -> String {
    let leaf = r#"{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]]]}"#;
    let (open, close) = if feature {
        (r#"{"type":"Feature","geometry":"#, r#","properties":{}}"#)
    } else {
        (r#"{"type":"GeometryCollection","geometries":["#, "]}")
    };
    open.repeat(levels) + leaf + &close.repeat(levels)
}

#[test]
fn deeply_nested_geojson_is_answered_promptly() {
    let srv = TestServer::start(&[]);
    let mut c = srv.resp();
    for feature in [false, true] {
        let ok = nested(256, feature);
        assert_eq!(c.cmd_str(&["SET", "g", "ok", "OBJECT", &ok]), "+OK\r\n");
        assert_eq!(
            c.cmd_str(&["GET", "g", "ok"]),
            format!("${}\r\n{ok}\r\n", ok.len())
        );
        let t = Instant::now();
        for search in ["INTERSECTS", "WITHIN"] {
            let reply = c.cmd_str(&[search, "g", "COUNT", "GET", "g", "ok"]);
            assert_eq!(reply, ":1\r\n", "{search}");
        }
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
        // Deeper than the limit (Tile38 has none, and takes minutes over
        // 100,000 levels): `invalid data`, quickly, while others are served.
        for levels in [257, 100_000] {
            let deep = nested(levels, feature);
            let mut writer = srv.resp();
            let t = Instant::now();
            writer.send(&tile38::resp_cmd(&["SET", "g", "deep", "OBJECT", &deep]));
            assert_serving(&srv);
            assert_eq!(writer.read(), b"-ERR invalid data\r\n");
            assert!(
                t.elapsed() < Duration::from_secs(5),
                "{levels}: {:?}",
                t.elapsed()
            );
        }
    }
}

#[test]
fn tens_of_thousands_of_fields_take_linear_time() {
    let srv = TestServer::start(&[]);
    let mut c = srv.resp();
    let n = 50_000;
    let mut set = vec!["SET".to_string(), "k".into(), "id".into()];
    let mut fset = vec!["FSET".to_string(), "k".into(), "id".into()];
    for i in 0..n {
        set.extend(["FIELD".to_string(), format!("f{i}"), (i + 1).to_string()]);
        fset.extend([format!("g{i}"), (i + 1).to_string()]);
    }
    set.extend(["POINT".to_string(), "1".into(), "2".into()]);
    // Quadratic merging took 26.7 s for this SET.
    let t = Instant::now();
    assert_eq!(c.cmd_str(&refs(&set)), "+OK\r\n");
    assert_eq!(c.cmd_str(&refs(&fset)), format!(":{n}\r\n"));
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    assert_eq!(c.cmd_str(&["FGET", "k", "id", "f49999"]), "$5\r\n50000\r\n");
    assert_eq!(c.cmd_str(&["FGET", "k", "id", "g0"]), "$1\r\n1\r\n");
    let all = tile38::resp_strings(&c.cmd(&["GET", "k", "id", "WITHFIELDS"]));
    // The object, then name/value pairs in name order: f0, f1, f10, …
    assert_eq!(all.len(), 1 + 4 * n);
    assert_eq!(&all[1..7], ["f0", "1", "f1", "2", "f10", "11"]);
    assert_serving(&srv);
}

#[test]
fn point_coordinates_parse_like_tile38() {
    let srv = TestServer::start(&[]);
    let mut c = srv.resp();
    // `SET p x POINT <lat> 1`, then `GET p x` (Tile38 1.37).
    for (lat, get) in [
        ("nan", r#"{"type":"Point","coordinates":[1,null]}"#),
        ("-inf", r#"{"type":"Point","coordinates":[1,null]}"#),
        ("Infinity", r#"{"type":"Point","coordinates":[1,null]}"#),
        ("1e-999", r#"{"type":"Point","coordinates":[1,0]}"#),
        ("0x1p4", r#"{"type":"Point","coordinates":[1,16]}"#),
        ("0X1P-2", r#"{"type":"Point","coordinates":[1,0.25]}"#),
        ("0x_1p4", r#"{"type":"Point","coordinates":[1,16]}"#),
        ("1_000", r#"{"type":"Point","coordinates":[1,1000]}"#),
        ("017", r#"{"type":"Point","coordinates":[1,17]}"#),
        ("5.", r#"{"type":"Point","coordinates":[1,5]}"#),
        ("+.5e-1", r#"{"type":"Point","coordinates":[1,0.05]}"#),
    ] {
        assert_eq!(
            c.cmd_str(&["SET", "p", "x", "POINT", lat, "1"]),
            "+OK\r\n",
            "{lat}"
        );
        let reply = c.cmd_str(&["GET", "p", "x"]);
        assert_eq!(reply, format!("${}\r\n{get}\r\n", get.len()), "{lat}");
    }
    for bad in [
        "-nan",
        "+nan",
        "infin",
        "1e999",
        "-1e999",
        "0x10",
        "0b101",
        " 1",
        "1 ",
        ".",
        "1e",
        "1.5.5",
        "1.7976931348623159e308",
    ] {
        let want = format!("-ERR invalid argument '{bad}'\r\n");
        assert_eq!(c.cmd_str(&["SET", "p", "x", "POINT", bad, "1"]), want);
        assert_eq!(
            c.cmd_str(&["SET", "p", "x", "BOUNDS", "0", "0", bad, "1"]),
            want
        );
        assert_eq!(
            c.cmd_str(&["SET", "p", "y", "EX", bad, "POINT", "1", "2"]),
            want
        );
        assert_eq!(
            c.cmd_str(&["WITHIN", "p", "COUNT", "CIRCLE", "1", "2", bad]),
            want
        );
    }
    assert_eq!(
        c.cmd_str(&["SET", "p", "y", "EX", "1_000", "POINT", "1", "2"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd_str(&["EXPIRE", "p", "y", "0x1p4"]), ":1\r\n");
}

#[test]
fn field_values_are_typed_like_tile38() {
    let srv = TestServer::start(&[]);
    let mut c = srv.resp();
    let big = "1".to_string() + &"0".repeat(400);
    // `SET f x FIELD a <value> POINT 1 2`, then `FGET f x a` (Tile38 1.37).
    for (value, fget) in [
        ("1e999", "+Inf"),
        ("-1e999", "-Inf"),
        ("\"nan\"", "NaN"),
        ("\"-Infinity\"", "-Inf"),
        ("-nan", "-nan"),
        ("+INF", "+Inf"),
        ("\u{b}5", "5"),
        ("\u{a0}5", "5"),
        ("\"\\ud800\"", "\u{fffd}"),
        ("0x1p4", "0x1p4"),
        (&big, &big),
        (&format!("{big}.0"), "+Inf"),
    ] {
        c.cmd_str(&["DEL", "f", "x"]);
        let set = c.cmd_str(&["SET", "f", "x", "FIELD", "a", value, "POINT", "1", "2"]);
        assert_eq!(set, "+OK\r\n", "{value:?}");
        let want = format!("${}\r\n{fget}\r\n", fget.len());
        assert_eq!(c.cmd_str(&["FGET", "f", "x", "a"]), want, "{value:?}");
    }
    // Overflowing numbers are +Inf, so a range up to +inf finds them.
    c.cmd_str(&["SET", "f", "x", "FIELD", "a", "1e400", "POINT", "1", "2"]);
    assert_eq!(
        c.cmd_str(&["SCAN", "f", "WHERE", "a", "0", "+inf", "COUNT"]),
        ":1\r\n"
    );
    let deep = "[".repeat(500) + &"]".repeat(500);
    c.cmd_str(&["SET", "f", "x", "FIELD", "a", &deep, "POINT", "1", "2"]);
    let json = http_body(&srv, "/GET+f+x+WITHFIELDS");
    assert!(
        json.contains(&format!(r#""fields":{{"a":{deep}}}"#)),
        "{json}"
    );
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}
