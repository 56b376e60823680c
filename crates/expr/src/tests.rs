use proptest::prelude::*;
use tile38_collection::Item;
use tile38_geo::{FieldList, FieldValue, Geometry, Value};

use super::Expr;

fn item(object: &str, fields: &[(&str, &str)]) -> Item {
    let value = if object.starts_with('{') {
        Value::from_geometry(Geometry::parse(object.as_bytes()).expect("valid GeoJSON"))
    } else {
        Value::String(object.as_bytes().into())
    };
    let mut list = FieldList::new();
    for (name, v) in fields {
        list.set(name.as_bytes(), FieldValue::parse(v.as_bytes()));
    }
    Item {
        value,
        fields: list,
        expires: None,
        seq: 0,
    }
}

fn truck() -> Item {
    item(
        r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[-112,33]},"properties":{"speed":50,"name":"Truck01","tags":["a","b"],"nested":{"x":{"y":7}}},"asdf":"Adsf"}"#,
        &[
            ("speed", "10"),
            ("name", "Andy"),
            (
                "info",
                r#"{"age":21,"cars":[{"make":"Dodge"},{"make":"Ford"}]}"#,
            ),
            ("flag", "true"),
            ("pat", "^an"),
            ("empty", "\"\""),
        ],
    )
}

fn check(obj: &Item, expr: &str) -> bool {
    Expr::parse(expr.as_bytes()).matches(b"truck1", obj)
}

fn all_true(obj: &Item, exprs: &[&str]) {
    for e in exprs {
        assert!(check(obj, e), "expected a match: {e}");
    }
}

fn all_false(obj: &Item, exprs: &[&str]) {
    for e in exprs {
        assert!(!check(obj, e), "expected no match: {e}");
    }
}

#[test]
fn precedence_and_arithmetic() {
    let t = truck();
    all_true(
        &t,
        &[
            "1 + 2 * 3 == 7",
            "(1 + 2) * 3 == 9",
            "10 - 2 - 3 == 5",
            "2 * 3 % 4 == 2",
            "7 / 2 == 3.5",
            "1 < 2 == true",
            "speed > 5 && speed < 25",
            "speed < 0 || speed > 5",
            "!(speed > 15)",
            "!speed > 15", // `!` takes the whole comparison
            "!!speed",
            "- -1 == 1",
            "-+1 == -1",
            "1 + - 2 == -1",
            "1e+1 == 10",
            "0x10 == 16",
            ".5 * 2 == 1",
            "true + 1 == 2",
            "'a' + 1 == 'a1'",
            "'2' * '4' == 8",
            "null + 10 == 10",
            "0, 1",
            "true ? 1 : 0",
            "false ? 0 : 2 > 1",
            "undefined ?? 5",
            "properties.missing ?? 1",
        ],
    );
    all_false(
        &t,
        &[
            "1 - 1",
            "0, 0",
            "false ? 1 : 0",
            "NaN == NaN",
            "undefined + 1 == 1",
        ],
    );
}

#[test]
fn string_and_number_comparisons() {
    let t = truck();
    all_true(
        &t,
        &[
            "name == 'andy'", // Tile38 compares strings ignoring case
            "name == \"ANDY\"",
            "name != 'bob'",
            "name < 'B'",
            "'10' < '9'", // two strings compare as text
            "'10' > 9",   // otherwise as numbers
            "speed == '10'",
            "properties.name === 'truck01'",
            "speed !== '10'",
            "flag == true",
            "flag == 1",
        ],
    );
    all_false(&t, &["'x' == 0", "'x' != 0 && 'x' > 0", "speed === '10'"]);
}

#[test]
fn regex_operator() {
    let t = truck();
    all_true(
        &t,
        &[
            "properties.name =~ 'Truck.*'",
            "properties.name =~ 'Truck\\\\d+'",
            "name =~ '(?i)^an'",
            "missing.x =~ 'undef'", // undefined reads as "undefined"
            "speed =~ '^1'",
            "('A' + 'ndy') =~ name", // a computed pattern
        ],
    );
    all_false(
        &t,
        &[
            "name =~ pat",                  // case-sensitive: ^an vs Andy
            "properties.name =~ 'truck.*'", // regexes keep case
            "properties.name =~ '(*'",      // invalid regex: no match
            "true || name =~ '(*'",         // both sides are evaluated
            "name =~ ('(' + '*')",          // computed and invalid
            "name =~ '[^\\\\d]+' && name =~ '\\\\d'",
        ],
    );
}

#[test]
fn truthiness() {
    let t = truck();
    all_true(
        &t,
        &[
            "'a'",
            "1",
            "NaN",
            "this",
            "!properties",
            "!empty",
            "!null",
            "!undefined",
            "flag",
        ],
    );
    all_false(
        &t,
        &[
            "''",
            "0",
            "properties",
            "info",
            "null",
            "undefined",
            "empty",
        ],
    );
}

#[test]
fn names_resolve_like_tile38() {
    let t = truck();
    all_true(
        &t,
        &[
            "id == 'truck1'",
            "type == 'Feature'",
            "asdf == 'adsf'", // a GeoJSON foreign member
            "properties.speed == 50",
            "properties.nested.x.y == 7",
            "properties.tags['1'] == 'b'",
            "info.age == 21",
            "info['cars.#(make=Dodge)#|#'] == 1",
            "info?.age == 21",
            "this.speed == 10",
            "this['properties.speed'] == 50",
            "missing == 0", // unknown root names are 0
            "!properties.missing",
            "id.match('TRUCK*')",
            "name.match('a?d*')",
            "id.match", // a function is truthy (NaN != 0)
        ],
    );
    all_false(
        &t,
        &[
            "properties.missing == 0", // a missing member is undefined
            "missing",
            "Speed", // field names are case-sensitive
            "z",
            "properties == properties", // operators on objects are undefined
            "this && true",
            "regex('x')",
            "(id.match)('t*')",
        ],
    );
    let point = item(r#"{"type":"Point","coordinates":[1,2]}"#, &[]);
    all_true(&point, &["type == 'Point'", "!properties"]);
    let text = item("hello", &[("n", "5")]);
    all_true(&text, &["n < 10", "!type", "type + 1 != 1"]);
    all_false(&text, &["type", "this == this"]);
}

#[test]
fn missing_fields() {
    let with = item(
        r#"{"type":"Point","coordinates":[0,0]}"#,
        &[("optionalId", "999")],
    );
    let without = item(r#"{"type":"Point","coordinates":[0,0]}"#, &[]);
    for e in [
        "!optionalId || optionalId == 999",
        "!!!optionalId || optionalId == 999",
        "optionalId == 0 || optionalId == 999",
        "1 == 1 || optionalId == 999",
    ] {
        assert!(check(&with, e) && check(&without, e), "{e}");
    }
}

#[test]
fn malformed_never_match() {
    let t = truck();
    all_false(
        &t,
        &[
            "",
            "   ",
            "speed >",
            "((speed > 1",
            "speed ===== 1",
            "speed = 1",
            "speed == ",
            "== 1",
            "()",
            "1 | 2",
            "1 & 2",
            "--1",
            "1--1",
            "1 * -2",
            "true+1", // `e+` does not split
            "speede+1",
            "'abc",
            "'a' 'b'",
            "[1]",
            "{a:1}",
            "speed(1)", // not a function
            "1 ? 2",
            "a : b",
            "new",
            "speed.",
            "1e400 > 0",
            "\"a\nb\"",
            "`a` == 'a'", // backticks only parse alone
            "!",
            "1 <> 2",
            "'\\xZZ'",
        ],
    );
    all_true(
        &t,
        &[
            "`a`",
            "true ? 1 : (1 +",
            "'\\x41ndy' == name",
            "'\\u{41}' == 'a'",
        ],
    );
    assert!(!check(&t, "false ? 1 : (1 +"));
}

#[test]
fn deep_nesting_is_bounded() {
    let t = truck();
    let open = "(".repeat(100_000);
    assert!(!check(&t, &open));
    assert!(!check(&t, &format!("{}1{}", open, ")".repeat(100_000))));
    assert!(check(&t, &format!("{}1{}", "(".repeat(20), ")".repeat(20))));
    let ternaries = "true ? ".repeat(10_000) + "1" + &" : 0".repeat(10_000);
    assert!(!check(&t, &ternaries));
    let sum = vec!["1"; 100_000].join(" + ") + " == 100000";
    assert!(check(&t, &sum));
    let nots = "!".repeat(100_001) + "0";
    assert!(check(&t, &nots));
}

#[test]
fn deepest_accepted_nesting_fits_a_small_stack() {
    let depth = super::lex::MAX_DEPTH - 1;
    let parens = format!("{}speed + 1{} == 11", "(".repeat(depth), ")".repeat(depth));
    let ternary = "speed ? ".repeat(depth) + "1" + &" : 0".repeat(depth);
    let calls = "'true'.match(".repeat(depth / 2) + "'true'" + &")".repeat(depth / 2);
    let worker = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let t = truck();
            [parens, ternary, calls].map(|e| check(&t, &e))
        })
        .expect("spawn");
    assert_eq!(
        worker.join().expect("no stack overflow"),
        [true, true, true]
    );
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let t = truck();
        let _ = Expr::parse(&bytes).matches(b"id", &t);
    }

    #[test]
    fn random_expressions_never_panic(
        parts in proptest::collection::vec(
            prop::sample::select(vec![
                "speed", "name", "properties", ".", "name", "(", ")", "[", "]", "'a'", "\"b\"",
                "`c`", "1", "0x1f", "1e", "+", "-", "*", "/", "%", "<", "<=", "==", "=", "!",
                "!=", "=~", "&&", "||", "??", "?", ":", ",", " ", "match", "this", "\\", "{",
                "e", "'(*'", "info", "['a.b']", "?.", "===",
            ]),
            0..24,
        )
    ) {
        let t = truck();
        let text = parts.concat();
        let _ = Expr::parse(text.as_bytes()).matches(b"id", &t);
    }
}

/// The value as tidwall/expr's `String()` prints it, `ERR` for any error.
fn show(expr: &str) -> String {
    let t = truck();
    let cx = super::eval::Cx {
        id: b"truck1",
        item: &t,
    };
    let text = expr.trim_matches(|c| super::lex::is_space(c as u8));
    if text.is_empty() {
        return "undefined".into();
    }
    let Ok(node) = super::parse::parse(text.as_bytes()) else {
        return "ERR".into();
    };
    match super::eval::eval(&node, &cx) {
        Ok(v) => String::from_utf8_lossy(&v.to_bytes(&|| t.value.to_text())).into_owned(),
        Err(_) => "ERR".into(),
    }
}

/// From tidwall/expr's own test table (the parts without custom functions
/// and unknown names, which Tile38 resolves differently).
const TIDWALL_TABLE: &[(&str, &str)] = &[
    (".1", "0.1"),
    (".1e-1 + 5", "5.01"),
    ("", "undefined"),
    ("()", "ERR"),
    ("-1", "-1"),
    (" - -1", "1"),
    ("- - - -1 - 2", "-1"),
    (" + +-+ +- -1", "-1"),
    ("-+-+-+-1 - 2", "-1"),
    ("(1", "ERR"),
    ("( 1 )", "1"),
    ("--1", "ERR"),
    ("1--", "ERR"),
    ("1++", "ERR"),
    ("++1", "ERR"),
    ("\"hel\\nlo\"", "hel\nlo"),
    ("\"hi\"+1", "hi1"),
    ("\"hi\"-1", "NaN"),
    ("1+1-0.5", "1.5"),
    ("(2*4", "ERR"),
    ("3 > 2 || (2 > 3 && 1 < 2)", "true"),
    ("(1 < 2 && 3 > 2) + 10", "11"),
    ("999 + 777 * (888 + (0.5 + 1.5)) * (0.5 + true)", "1038294"),
    ("999 + 777 * (888 / 0.456) / true", "1514104.2631578946"),
    ("999 + 777 * (888 / 0.456) / 0", "Infinity"),
    ("1.0E+1", "10"),
    ("-1.0E-1", "-0.1"),
    ("\"he\\\"\\b\\fllo\"", "he\"\u{8}\u{c}llo"),
    ("(1 && 2}", "ERR"),
    ("1 ! 2", "ERR"),
    ("1 = 2", "ERR"),
    (" == 1", "ERR"),
    ("\"\\ud83d\\udd13 \\u{1f516} \\u2764\"", "🔓 🔖 ❤"),
    ("\"KO: \\xffsd\"", "KO: ÿsd"),
    ("\"KO: \\ud8\"", "ERR"),
    ("\"KO: \\zd8\"", "KO: zd8"),
    ("false - true", "-1"),
    ("0.24ab31 - 1", "ERR"),
    ("0 + {1}", "ERR"),
    ("0 + [1]", "ERR"),
    ("\"2\" >= \"10\" ", "true"),
    ("\"2\" * \"4\"", "8"),
    ("\"2\" + \"4\"", "24"),
    ("\"10\" % \"3\"", "1"),
    ("(1) + (jello", "ERR"),
    ("1 < (}2) < (1)", "ERR"),
    ("/1", "ERR"),
    ("(1 || (2 > 5)) && (4 < 5 || 5 < 4)", "true"),
    ("true == ! ! true == ! ( 1 == 2 ) ", "true"),
    ("0xZ", "ERR"),
    ("-Infinity", "-Infinity"),
    ("0xFFFFFFFFFFFFFFFF+1", "18446744073709552000"),
    ("false ? 1 : true ? 2 : 3", "2"),
    (
        "5*2-10 ? 1 : (3*3-9 < 1 || 6+6-12 ? 8 : false) ? 2 : 3",
        "2",
    ),
    ("(false ? 1 : 2", "ERR"),
    ("(false) ? (0xTT) : (0xTT)", "ERR"),
    ("(true) ? (0xTT) 123", "ERR"),
    ("(0xTT) ? (0xTT) : 123", "ERR"),
    ("true ? 1 : (0xTT)", "1"),
    ("1e+10 > 0 ? \"big\" : \"small\"", "big"),
    ("undefined + 10", "NaN"),
    ("null + null", "0"),
    ("!!undefined", "false"),
    ("null??0", "0"),
    ("undefined??1+1", "2"),
    ("false??1+1", "false"),
    ("(false??1)+1", "1"),
    ("`hello \"\" world`", "hello \"\" world"),
    ("'hello \\'\"\"\\a\\xFF\\p world'", "hello '\"\"aÿp world"),
    ("'\\xFG'", "ERR"),
    ("\"\\u{A}\"", "\n"),
    ("\"\\v\"", "\u{b}"),
    ("\"\\0\"", "\0"),
    ("\"\\u{FF", "ERR"),
    ("1,2,3,4", "4"),
    ("1(,2,3,4", "ERR"),
    ("1,2,3,(4+)", "ERR"),
    ("6<7 , 2>5 , 5", "5"),
    ("  >= 100", "ERR"),
    (" (1) != (\"\\'1", "ERR"),
    ("1 != 2 > 1 != 1", "true"),
    ("1 != 2 < 1 != 1", "false"),
    ("1 != 1 < 2 != 1", "true"),
];

#[test]
fn tidwall_expr_table() {
    for &(expr, want) in TIDWALL_TABLE {
        assert_eq!(show(expr), want, "{expr}");
    }
}

/// Rough timings: `cargo test --profile ci -p tile38-expr --lib bench_eval
/// -- --ignored --nocapture`.
#[test]
#[ignore]
fn bench_eval() {
    let p = item(
        r#"{"type":"Point","coordinates":[1,2]}"#,
        &[("speed", "10"), ("name", "truck")],
    );
    let f = truck();
    for (obj, e) in [
        (&p, "speed > 5 && speed < 25"),
        (&f, "speed > 5 && speed < 25"),
        (&f, "properties.speed > 5 && properties.speed < 25"),
        (&p, "name == 'TRUCK'"),
    ] {
        let x = Expr::parse(e.as_bytes());
        let t = std::time::Instant::now();
        let mut n = 0;
        for _ in 0..1_000_000 {
            n += usize::from(x.matches(b"id", obj));
        }
        eprintln!("{e}: {:?}/eval ({n})", t.elapsed() / 1_000_000);
    }
}
