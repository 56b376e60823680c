//! Robustness of the parser: deep nesting neither overflows the stack nor
//! is accepted past `MAX_DEPTH`; what parses prints JSON that
//! parses back to the same geometry (seeds, mutations of them, random and
//! generated input); nothing panics.

use proptest::prelude::*;

use super::*;

#[test]
fn deep_nesting_does_not_overflow() {
    let n = 100_000;
    let deep_props = format!(
        r#"{{"type":"Point","coordinates":[1,2],"p":{}{}}}"#,
        "[".repeat(n),
        "]".repeat(n)
    );
    assert_eq!(parse(&deep_props).unwrap().num_points(), 1);
    assert_eq!(err(&"[".repeat(n)), "invalid data");
    assert_eq!(
        err(&format!("{{\"a\":{}", "{\"a\":".repeat(n))),
        "invalid data"
    );

    let nest = |levels: usize| {
        let mut s = String::new();
        for _ in 0..levels {
            s.push_str(r#"{"type":"Feature","geometry":"#);
        }
        s.push_str(r#"{"type":"Point","coordinates":[1,2]}"#);
        s.push_str(&"}".repeat(levels));
        s
    };
    let g = parse(&nest(parse::MAX_DEPTH)).unwrap();
    assert_eq!(g.num_points(), 1);
    assert_eq!(g.bbox(), rect(1.0, 2.0, 1.0, 2.0));
    assert_eq!(
        g.to_json().len(),
        nest(parse::MAX_DEPTH).len() + 16 * parse::MAX_DEPTH
    );
    assert_eq!(err(&nest(parse::MAX_DEPTH + 1)), "invalid data");
    assert_eq!(err(&nest(5_000)), "invalid data");

    let collections = |levels: usize| {
        let mut s = String::new();
        for _ in 0..levels {
            s.push_str(r#"{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]},"#);
        }
        s.push_str(r#"{"type":"FeatureCollection","features":[]}"#);
        s.push_str(&"]}".repeat(levels));
        s
    };
    let g = parse(&collections(parse::MAX_DEPTH)).unwrap();
    assert_eq!(g.num_points(), parse::MAX_DEPTH);
    assert_eq!(g.to_json(), collections(parse::MAX_DEPTH).as_bytes());
    assert_eq!(err(&collections(parse::MAX_DEPTH + 1)), "invalid data");
}

fn assert_round_trip(input: &[u8]) {
    if let Ok(g) = Geometry::parse(input) {
        let out = g.to_json();
        let again = Geometry::parse(&out).unwrap_or_else(|e| {
            panic!("re-parse of {} failed: {e}", String::from_utf8_lossy(&out))
        });
        assert_eq!(again.to_json(), out);
        assert_eq!(again.bbox(), g.bbox());
        assert_eq!(again.num_points(), g.num_points());
    }
}

const SEEDS: &[&str] = &[
    r#"{"type":"Feature","id":"feat-1","geometry":{"type":"LineString","coordinates":[[-112,33],[-111,34]]},"properties":{"a":1}}"#,
    r#"{"type":"Polygon","coordinates":[[[0,0,1],[10,0],[10,10],[0,10],[0,0]],[[1,1],[2,1],[2,2],[1,1]]],"id":"p"}"#,
    r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"MultiPoint","coordinates":[[1,2,3],[4,5]]}}],"x":[1,{"y":"z"}]}"#,
    r#"{"type":"GeometryCollection","geometries":[{"type":"MultiLineString","coordinates":[[[0,0],[1,1]]]},{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]]]}]}"#,
    r#"{ "type" : "Point" , "coordinates" : [ -115.5e0 , 33.25 , 1 , 2 ] , "properties" : { "a b" : "c\"d" } }"#,
];

#[test]
fn seeds_round_trip() {
    for s in SEEDS {
        assert!(parse(s).is_ok(), "{s}");
        assert_round_trip(s.as_bytes());
    }
}

#[test]
fn fuzz_mutations_never_panic() {
    // Deterministic xorshift mutations of the seeds: byte flips, deletions,
    // insertions of JSON punctuation and truncations.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    const BYTES: &[u8] = b"{}[],:\"\\ -+.0123456789eEtrufalsn\x00\xff";
    for _ in 0..20_000 {
        let seed = SEEDS[(rnd() % SEEDS.len() as u64) as usize];
        let mut b = seed.as_bytes().to_vec();
        for _ in 0..=(rnd() % 4) {
            if b.is_empty() {
                break;
            }
            let at = (rnd() % b.len() as u64) as usize;
            match rnd() % 4 {
                0 => b[at] = BYTES[(rnd() % BYTES.len() as u64) as usize],
                1 => {
                    b.remove(at);
                }
                2 => b.insert(at, BYTES[(rnd() % BYTES.len() as u64) as usize]),
                _ => b.truncate(at),
            }
        }
        assert_round_trip(&b);
    }
}

fn coord() -> impl Strategy<Value = String> {
    (
        -1e6f64..1e6,
        -1e6f64..1e6,
        proptest::option::of(-1e3f64..1e3),
    )
        .prop_map(|(x, y, z)| match z {
            Some(z) => format!("[{x},{y},{z}]"),
            None => format!("[{x},{y}]"),
        })
}

/// Positions of one dimension count (lines and polygons require that).
fn coords(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<String>> {
    (
        proptest::collection::vec((-1e6f64..1e6, -1e6f64..1e6, -1e3f64..1e3), len),
        0..3usize,
    )
        .prop_map(|(cs, dims)| {
            cs.into_iter()
                .map(|(x, y, z)| match dims {
                    0 => format!("[{x},{y}]"),
                    1 => format!("[{x},{y},{z}]"),
                    _ => format!("[{x}, {y}, {z}, {}]", z * 2.0),
                })
                .collect()
        })
}

fn geometry_json() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        coord().prop_map(|c| format!(r#"{{"type":"Point","coordinates":{c}}}"#)),
        proptest::collection::vec(coord(), 0..4).prop_map(|cs| format!(
            r#"{{"type":"MultiPoint","coordinates":[{}]}}"#,
            cs.join(",")
        )),
        coords(2..5).prop_map(|cs| format!(
            r#"{{"type":"LineString","coordinates":[{}]}}"#,
            cs.join(" , ")
        )),
        coords(3..6).prop_map(|cs| format!(
            r#"{{"type":"Polygon","coordinates":[[{},{}]],"id":1}}"#,
            cs.join(","),
            cs[0]
        )),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(|gs| format!(
                r#"{{"type":"GeometryCollection","geometries":[{}]}}"#,
                gs.join(",")
            )),
            inner.clone().prop_map(|g| format!(
                r#"{{"properties":{{"k":[1, "v"]}},"type":"Feature","geometry":{g}}}"#
            )),
            proptest::collection::vec(inner, 0..3).prop_map(|gs| format!(
                r#"{{"type":"FeatureCollection","features":[{}]}}"#,
                gs.join(", ")
            )),
        ]
    })
}

proptest! {
    #[test]
    fn prop_fast_decimal_is_correctly_rounded(v in -1e9f64..1e9, places in 0usize..12) {
        let text = format!("{v:.places$}");
        if let Some(fast) = crate::geojson::parse::coords::fast_decimal(text.as_bytes()) {
            prop_assert_eq!(fast.to_bits(), text.parse::<f64>().unwrap().to_bits(), "{}", text);
        }
    }

    #[test]
    fn prop_random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = Geometry::parse(&bytes);
    }

    #[test]
    fn prop_json_like_bytes_never_panic(s in r#"[\{\}\[\],:" 0-9a-z\-\.]{0,120}"#) {
        assert_round_trip(s.as_bytes());
    }

    #[test]
    fn prop_generated_geometries_round_trip(s in geometry_json()) {
        let g = Geometry::parse(s.as_bytes()).unwrap();
        assert_round_trip(s.as_bytes());
        let out = g.to_json();
        prop_assert!(!out.contains(&b' '));
    }
}
