//! The fixture every input runs against: its keys (`fleet`, `props`,
//! `docs`, `strs`, `areas`) and hooks, as the commands that build them.
//! The commands always run in the same order, so every build of a key is
//! the same.

pub type Cmd = Vec<Vec<u8>>;

fn cmd(words: &[&str]) -> Cmd {
    words.iter().map(|w| w.as_bytes().to_vec()).collect()
}

fn cmd_s(words: &[String]) -> Cmd {
    words.iter().map(|w| w.as_bytes().to_vec()).collect()
}

/// The commands of a table.
fn cmds(table: &[&[&str]]) -> Vec<Cmd> {
    table.iter().map(|c| cmd(c)).collect()
}

/// A TTL far beyond any run (the fixture must not change while in use).
const LONG_TTL: &str = "100000000";

/// The fixture's keys, each with the commands that build it.
pub fn fixture_keys() -> Vec<(&'static str, Vec<Cmd>)> {
    vec![
        ("fleet", fleet()),
        ("props", cmds(PROPS)),
        ("docs", docs()),
        ("strs", strs()),
        ("areas", cmds(AREAS)),
    ]
}

/// `fleet`: the big key. A 16×16 grid of points (with fields), 40 points
/// at one position (a full page of equal boxes gets sibling pages), far
/// points (antimeridian, poles, null island), every value type.
fn fleet() -> Vec<Cmd> {
    let mut fleet = cmds(FLEET_FIRST);
    fleet.extend((0..256).map(grid_point));
    fleet.extend((0..40).map(crowd_point));
    for (id, lat, lon) in FLEET_FAR {
        fleet.push(cmd(&["SET", "fleet", id, "POINT", lat, lon]));
    }
    fleet.extend(cmds(FLEET_SHAPES));
    fleet
}

/// The first commands of `fleet`: one object of each value type.
#[rustfmt::skip]
const FLEET_FIRST: &[&[&str]] = &[
    &["SET", "fleet", "truck1", "POINT", "33", "-112"],
    &["SET", "fleet", "truck2", "FIELD", "speed", "90", "POINT", "33.5", "-112.5", "10"],
    &["SET", "fleet", "poly", "OBJECT", r#"{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,0]]]}"#],
    &["SET", "fleet", "str", "STRING", "hello"],
    &["SET", "fleet", "bnd", "BOUNDS", "1", "2", "3", "4"],
    &["SET", "fleet", "gh", "HASH", "9q8yy"],
    &["FSET", "fleet", "truck1", "speed", "10", "name", "\"joe\""],
    &["EXPIRE", "fleet", "truck1", LONG_TTL],
];

/// Point `t<i>` of the 16×16 grid, with fields depending on `i`.
fn grid_point(i: i32) -> Cmd {
    let (row, col) = (i / 16, i % 16);
    let lat = format!("{}", 33.0 + row as f64 * 0.01);
    let lon = format!("{}", -112.0 + col as f64 * 0.013);
    let mut c = vec![
        "SET".to_string(),
        "fleet".into(),
        format!("t{i}"),
        "FIELD".into(),
        "speed".into(),
        format!("{}", i % 90),
    ];
    if i % 2 == 0 {
        c.extend(["FIELD".into(), "age".into(), format!("{}", i % 7)]);
    }
    if i % 3 == 0 {
        c.extend(["FIELD".into(), "name".into(), format!("v{}", i % 11)]);
    }
    if i % 5 == 0 {
        c.extend([
            "FIELD".into(),
            "info".into(),
            format!(
                r#"{{"n":{i},"tags":["a","b{}"],"ok":{}}}"#,
                i % 4,
                i % 2 == 0
            ),
        ]);
    }
    c.extend(["POINT".into(), lat, lon]);
    if i % 17 == 0 {
        c.push(format!("{}", i));
    }
    cmd_s(&c)
}

/// Point `dup<i>`: all at one position.
fn crowd_point(i: i32) -> Cmd {
    cmd_s(&[
        "SET".into(),
        "fleet".into(),
        format!("dup{i}"),
        "FIELD".into(),
        "speed".into(),
        format!("{}", i),
        "POINT".into(),
        "33.05".into(),
        "-111.95".into(),
    ])
}

/// Far points: antimeridian, poles, null island (id, lat, lon).
const FLEET_FAR: [(&str, &str, &str); 5] = [
    ("east", "0", "179.99"),
    ("west", "0", "-179.99"),
    ("north", "89.99", "10"),
    ("south", "-89.99", "-10"),
    ("zero", "0", "0"),
];

/// The last commands of `fleet`: shapes of every GeoJSON type, a circle,
/// bounds, hashes, strings, a TTL.
#[rustfmt::skip]
const FLEET_SHAPES: &[&[&str]] = &[
    &["SET", "fleet", "line", "OBJECT", r#"{"type":"LineString","coordinates":[[-112,33],[-111.9,33.1],[-111.8,33]]}"#],
    &["SET", "fleet", "mpoly", "FIELD", "speed", "5", "OBJECT", r#"{"type":"MultiPolygon","coordinates":[[[[-112.1,33.1],[-112,33.1],[-112,33.2],[-112.1,33.2],[-112.1,33.1]]],[[[-111.9,33.1],[-111.8,33.1],[-111.8,33.2],[-111.9,33.1]]]]}"#],
    &["SET", "fleet", "holed", "OBJECT", r#"{"type":"Polygon","coordinates":[[[-112,33],[-111.8,33],[-111.8,33.2],[-112,33.2],[-112,33]],[[-111.95,33.05],[-111.85,33.05],[-111.85,33.15],[-111.95,33.15],[-111.95,33.05]]]}"#],
    &["SET", "fleet", "feat", "OBJECT", r#"{"type":"Feature","id":7,"geometry":{"type":"Point","coordinates":[-111.99,33.01,5]},"properties":{"name":"Ann","speed":12,"tags":["x","y"],"nested":{"a":{"b":[1,2,{"c":true}]}}}}"#],
    &["SET", "fleet", "fc", "OBJECT", r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[-112.01,33.02]},"properties":{"k":1}},{"type":"Feature","geometry":{"type":"LineString","coordinates":[[-112,33],[-112.02,33.03]]},"properties":null}]}"#],
    &["SET", "fleet", "gc", "OBJECT", r#"{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[-112.03,33.04]},{"type":"MultiPoint","coordinates":[[-112.04,33.05],[-112.05,33.06]]},{"type":"MultiLineString","coordinates":[[[-112,33],[-112.1,33.1]]]}]}"#],
    &["SET", "fleet", "circle", "OBJECT", r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[-112,33]},"properties":{"type":"Circle","radius":100}}"#],
    &["SET", "fleet", "bnd2", "FIELD", "speed", "30", "BOUNDS", "33.1", "-112.1", "33.2", "-112"],
    &["SET", "fleet", "gh2", "HASH", "9tbnt"],
    &["SET", "fleet", "s1", "FIELD", "speed", "1", "STRING", "a string"],
    &["SET", "fleet", "s2", "STRING", "{\"json\":\"in a string\"}"],
    &["SET", "fleet", "ttl2", "EX", LONG_TTL, "POINT", "33.02", "-112.02"],
];

/// `props`: GeoJSON with properties (WHERE expressions, JSET/JGET on
/// objects).
#[rustfmt::skip]
const PROPS: &[&[&str]] = &[
    &["SET", "props", "p1", "OBJECT", r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2,3]},"properties":{"a":1},"id":"x"}"#],
    &["SET", "props", "p2", "FIELD", "speed", "50", "OBJECT", r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[-112,33]},"properties":{"name":"Bob","age":30,"tags":["red","green"],"address":{"city":"Phoenix","zip":"85001"}}}"#],
    &["SET", "props", "p3", "OBJECT", r#"{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[-112,33],[-111,33],[-111,34],[-112,34],[-112,33]]]},"properties":{"name":"area","age":3.5,"empty":{},"list":[]}}"#],
];

/// A JSON document with nested objects and arrays.
const FRIENDS: &str = r#"{"name":{"first":"Tom","last":"Anderson"},"age":37,"children":["Sara","Alex","Jack"],"fav.movie":"Deer Hunter","friends":[{"first":"Dale","last":"Murphy","age":44,"nets":["ig","fb","tw"]},{"first":"Roger","last":"Craig","age":68,"nets":["fb","tw"]},{"first":"Jane","last":"Murphy","age":47,"nets":["ig","tw"]}]}"#;

/// `docs`: JSON documents (string objects) for JGET/JSET/JDEL paths.
fn docs() -> Vec<Cmd> {
    let deep = format!("{}1{}", r#"{"d":"#.repeat(24), "}".repeat(24));
    vec![
        cmd(&["JSET", "docs", "d1", "a.b", "1"]),
        cmd(&["JSET", "docs", "d1", "arr.2", "x", "STR"]),
        cmd(&["SET", "docs", "friends", "STRING", FRIENDS]),
        cmd(&["JSET", "docs", "deep", "x", &deep, "RAW"]),
        cmd(&[
            "JSET",
            "docs",
            "arr",
            "a",
            r#"[1,"two",3.5,null,true,{"k":[[]]}]"#,
            "RAW",
        ]),
        cmd(&["JSET", "docs", "esc", "a\\.b", "\u{e9}\\\"\t\u{1}", "STR"]),
    ]
}

/// The values of `strs`.
const STRS: &[&str] = &[
    "alpha",
    "beta",
    "Gamma",
    "delta",
    "",
    "1",
    "10",
    "2",
    "alpha",
    "z*",
    "\u{e9}t\u{e9}",
    "{\"a\":1}",
    "with space",
    "UPPER",
    "lower",
];

/// `strs`: string objects (SEARCH orders them by value).
fn strs() -> Vec<Cmd> {
    let mut strs = Vec::new();
    for (i, v) in STRS.iter().enumerate() {
        let mut c = vec!["SET".to_string(), "strs".into(), format!("s{i}")];
        if i % 2 == 0 {
            c.extend(["FIELD".into(), "n".into(), format!("{i}")]);
        }
        c.extend(["STRING".into(), v.to_string()]);
        strs.push(cmd_s(&c));
    }
    strs
}

/// `areas`: objects used as areas (`GET areas …`).
#[rustfmt::skip]
const AREAS: &[&[&str]] = &[
    &["SET", "areas", "poly1", "OBJECT", r#"{"type":"Polygon","coordinates":[[[-112.1,32.9],[-111.9,32.9],[-111.9,33.1],[-112.1,33.1],[-112.1,32.9]]]}"#],
    &["SET", "areas", "circ", "OBJECT", r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[-112,33.05]},"properties":{"type":"Circle","radius":2000}}"#],
    &["SET", "areas", "pt", "POINT", "33.05", "-111.95"],
    &["SET", "areas", "box", "BOUNDS", "33", "-112.1", "33.1", "-111.9"],
    &["SET", "areas", "name", "STRING", "not an area"],
];

/// Hooks and channels of the fixture, set on every fresh server.
pub fn fixture_hooks() -> Vec<Cmd> {
    cmds(HOOKS)
}

/// 4 hooks (HTTP, Redis, Kafka, MQTT endpoints; META, EX, DETECT and
/// COMMANDS) and 3 channels.
#[rustfmt::skip]
const HOOKS: &[&[&str]] = &[
    &["SETHOOK", "h1", "http://127.0.0.1:9999/hook", "NEARBY", "fleet", "FENCE", "POINT", "33", "-112", "5000"],
    &["SETHOOK", "h2", "redis://127.0.0.1:6379/chan", "META", "a", "1", "META", "b", "2", "WITHIN", "fleet", "FENCE", "DETECT", "enter,exit", "BOUNDS", "33", "-113", "34", "-111"],
    &["SETHOOK", "h3", "http://a/1,kafka://b:9092/topic", "EX", LONG_TTL, "INTERSECTS", "fleet", "FENCE", "GET", "areas", "poly1"],
    &["SETHOOK", "h4", "mqtt://m:1883/t/x?qos=1", "WITHIN", "props", "FENCE", "COMMANDS", "set,del", "HASH", "9tbnt"],
    &["SETCHAN", "c1", "WITHIN", "fleet", "FENCE", "CIRCLE", "33", "-112", "1000"],
    &["SETCHAN", "c2", "NEARBY", "fleet", "FENCE", "ROAM", "fleet", "truck*", "1000"],
    &["SETCHAN", "c3", "META", "m", "v", "INTERSECTS", "areas", "FENCE", "TILE", "1", "2", "3"],
];
