//! GeoJSON parsing and printing against Tile38 1.37: invalid data and the
//! JSON validator, type, coordinate and collection errors, recorded and
//! unchanged outputs, accessors, boxes and point counts, error texts.
//! Deep nesting, round trips and fuzzing are in `robustness`.

use super::*;

mod robustness;

fn parse(s: &str) -> Result<Geometry, GeoJsonError> {
    Geometry::parse(s.as_bytes())
}

fn json(s: &str) -> String {
    String::from_utf8(parse(s).unwrap_or_else(|e| panic!("{s}: {e}")).to_json()).unwrap()
}

fn err(s: &str) -> String {
    match parse(s) {
        Ok(g) => panic!("{s} parsed as {}", String::from_utf8_lossy(&g.to_json())),
        Err(e) => e.to_string(),
    }
}

/// Input that Tile38 prints back unchanged.
fn same(s: &str) {
    assert_eq!(json(s), s);
}

fn rect(min_x: f64, min_y: f64, max_x: f64, max_y: f64) -> Rect {
    Rect::new(Position::new(min_x, min_y), Position::new(max_x, max_y))
}

#[test]
fn invalid_data() {
    for s in [
        "",
        "   ",
        "asd",
        "[1,2]",
        "1",
        "null",
        "\"x\"",
        r#"{"type":"Point","coordinates":[1,2"#,
        r#"{"type":"Point","coordinates":[1,2]}x"#,
        r#"{"type":"Point",}"#,
        r#"{"type":"Point" "a":1}"#,
        r#"{'type':'Point'}"#,
        r#"{"type":"Point","coordinates":[01,2]}"#,
        r#"{"type":"Point","coordinates":[1.,2]}"#,
        r#"{"type":"Point","coordinates":[+1,2]}"#,
        r#"{"type":"Point","coordinates":[1,2],"x":"a\qb"}"#,
        r#"{"type":"Point","coordinates":[1,2],"x":"\u12"}"#,
        "{\"type\":\"Point\",\"coordinates\":[1,2],\"x\":\"a\tb\"}",
        r#"{"type":"Point","coordinates":[1,2],"x":tru}"#,
        r#"{"type":"Point","coordinates":[1,2],"x":[1,]}"#,
        r#"{"type":"Point","coordinates":[1,2],"x":NaN}"#,
        r#"{"type":"Point","coordinates":[1,2],"x":[}"#,
        r#"{"type":"Point","coordinates":[1,2],"x":{]}"#,
    ] {
        assert_eq!(err(s), "invalid data", "{s}");
    }
    assert_eq!(
        Geometry::parse(b"{\"type\":\"Point\",\"coordinates\":[1,2],\"a\":\"\xff\"}"),
        Err(GeoJsonError::InvalidData)
    );
    assert_eq!(Geometry::parse(b"\x00{}"), Err(GeoJsonError::InvalidData));
}

#[test]
fn json_validator() {
    use super::json::valid;
    for ok in [
        "{}",
        " [ ] ",
        "0",
        "-0",
        "-0.5e+10",
        "1E5",
        "\"\\u00e9\\n\\/\"",
        "[true,false,null]",
        "{\"a\":{\"b\":[1,{}]}}",
        "\t{ \"a\" :\r\n1 }\n",
    ] {
        assert!(valid(ok.as_bytes()), "{ok}");
    }
    for bad in [
        "",
        "{",
        "]",
        "[1 2]",
        "{\"a\" 1}",
        "{\"a\":}",
        "{,}",
        "[,1]",
        "01",
        "1.",
        ".5",
        "-",
        "1e",
        "1e+",
        "tru",
        "nul",
        "\"abc",
        "\"\\x\"",
        "{\"a\":1,}",
        "[1]]",
        "{}{}",
        "\"\u{1}\"",
        "{1:2}",
        "[1,]",
        "\u{b}{}",
    ] {
        assert!(!valid(bad.as_bytes()), "{bad}");
    }
}

#[test]
fn unescaping_like_gjson() {
    let unknown = |t: &str| err(&format!(r#"{{"type":"{t}"}}"#));
    assert_eq!(unknown(r"\ud83d\ude00"), "type '\u{1f600}' is unknown");
    assert_eq!(unknown(r"a\ud800"), "type 'a\u{fffd}' is unknown");
    assert_eq!(unknown(r"\ud800\u0041b"), "type '\u{fffd}b' is unknown");
    assert_eq!(
        unknown(r"\t\/\\\b\f\n\r\u00e9"),
        "type '\t/\\\u{8}\u{c}\n\ré' is unknown"
    );
    // Keys are matched unescaped but kept verbatim as foreign members.
    assert_eq!(
        json(r#"{"type":"Point","coordinat\u0065s":[1,2],"\u0069d":"\u00e9"}"#),
        r#"{"type":"Point","coordinates":[1,2],"\u0069d":"\u00e9"}"#
    );
    assert_eq!(
        json(
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"propertie\u0073":1}"#
        ),
        r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"propertie\u0073":1}"#
    );
}

#[test]
fn type_errors() {
    assert_eq!(err("{}"), "missing type");
    assert_eq!(err(r#"{"coordinates":[1,2]}"#), "missing type");
    assert_eq!(err(r#"{"type":1,"coordinates":[1,2]}"#), "invalid type");
    assert_eq!(err(r#"{"type":null}"#), "invalid type");
    assert_eq!(err(r#"{"type":["Point"]}"#), "invalid type");
    assert_eq!(
        err(r#"{"type":"point","coordinates":[1,2]}"#),
        "type 'point' is unknown"
    );
    assert_eq!(err(r#"{"type":"Circle"}"#), "type 'Circle' is unknown");
    assert_eq!(err(r#"{"type":""}"#), "type '' is unknown");
    assert_eq!(
        parse(r#"{"type":"x"}"#),
        Err(GeoJsonError::UnknownType("x".into()))
    );
    // Escapes are decoded before the type is matched; the last `type` wins.
    assert_eq!(
        json(r#"{"typ\u0065":"Poin\u0074","coordinates":[1,2]}"#),
        r#"{"type":"Point","coordinates":[1,2]}"#
    );
    assert_eq!(
        err(r#"{"type":"Point","coordinates":[1,2],"type":5}"#),
        "invalid type"
    );
    assert_eq!(err(r#"{"type":"a\"b"}"#), "type 'a\"b' is unknown");
}

#[test]
fn coordinate_errors() {
    for t in [
        "Point",
        "MultiPoint",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
    ] {
        assert_eq!(err(&format!(r#"{{"type":"{t}"}}"#)), "missing coordinates");
        assert_eq!(
            err(&format!(r#"{{"type":"{t}","coordinates":"1,2"}}"#)),
            "invalid coordinates"
        );
        assert_eq!(
            err(&format!(r#"{{"type":"{t}","coordinates":{{}}}}"#)),
            "invalid coordinates",
            "{t}"
        );
    }
    let invalid = [
        (r#"Point"#, r#"[]"#),
        ("Point", "[1]"),
        ("Point", r#"["1",2]"#),
        ("Point", "[[1,2]]"),
        ("Point", "null"),
        ("MultiPoint", "[[1]]"),
        ("MultiPoint", "[1,2]"),
        ("LineString", "[]"),
        ("LineString", "[[0,0]]"),
        ("LineString", "[[0,0],[1]]"),
        ("LineString", "[[0,0],{\"a\":1,\"b\":2}]"),
        ("LineString", "[[0,0],[1,1,5]]"),
        ("MultiLineString", "[[[0,0]]]"),
        ("MultiLineString", "[[0,0],[1,1]]"),
        ("Polygon", "[]"),
        ("Polygon", "[[]]"),
        ("Polygon", "[[[0,0],[1,1]]]"),
        ("Polygon", "[[[0,0],[1,0],[1,1]]]"),
        ("Polygon", "[[[0,0],[1,0],[1,1],[0,1]]]"),
        ("Polygon", "[[[0,0],[1,0],[1,1],[0,0]],[[0,0],[1,1]]]"),
        ("Polygon", "[[[0,0],[1,0],[1,1],[0,0,4]]]"),
        ("Polygon", "[{\"a\":[[0,0],[1,0],[1,1],[0,0]]}]"),
        ("MultiPolygon", "[[[[0,0],[1,1]]]]"),
        ("MultiPolygon", "[[]]"),
        ("MultiPolygon", "[{\"p\":[[[0,0],[1,0],[1,1],[0,0]]]}]"),
        ("MultiPolygon", "[[[[0,0],[1,0],[1,1],[0,0]]],[]]"),
    ];
    for (t, c) in invalid {
        let s = format!(r#"{{"type":"{t}","coordinates":{c}}}"#);
        assert_eq!(err(&s), "invalid coordinates", "{s}");
    }
}

#[test]
fn collection_errors() {
    assert_eq!(err(r#"{"type":"Feature"}"#), "missing geometry");
    assert_eq!(err(r#"{"type":"Feature","geometry":null}"#), "invalid data");
    assert_eq!(
        err(r#"{"type":"Feature","geometry":[1,2]}"#),
        "invalid data"
    );
    assert_eq!(
        err(r#"{"type":"Feature","geometry":{"type":"Point"}}"#),
        "missing coordinates"
    );
    assert_eq!(err(r#"{"type":"FeatureCollection"}"#), "missing features");
    assert_eq!(
        err(r#"{"type":"FeatureCollection","features":{}}"#),
        "invalid features"
    );
    assert_eq!(
        err(r#"{"type":"FeatureCollection","features":[1]}"#),
        "invalid data"
    );
    assert_eq!(
        err(r#"{"type":"FeatureCollection","features":[{"type":"Feature"}]}"#),
        "missing geometry"
    );
    assert_eq!(
        err(r#"{"type":"GeometryCollection"}"#),
        "missing geometries"
    );
    assert_eq!(
        err(r#"{"type":"GeometryCollection","geometries":"x"}"#),
        "invalid geometries"
    );
    assert_eq!(
        err(r#"{"type":"GeometryCollection","geometries":[{"type":"Nope"}]}"#),
        "type 'Nope' is unknown"
    );
    assert_eq!(
        err(
            r#"{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]},{"type":"Polygon","coordinates":[]}]}"#
        ),
        "invalid coordinates"
    );
}

#[test]
fn recorded_outputs() {
    let cases = [
        (
            r#"{"type":"Feature","id":"feat-1","geometry":{"type":"LineString","coordinates":[[-112,33],[-111,34]]},"properties":{"a":1}}"#,
            r#"{"type":"Feature","geometry":{"type":"LineString","coordinates":[[-112,33],[-111,34]]},"id":"feat-1","properties":{"a":1}}"#,
        ),
        (
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[-115,44]}}"#,
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[-115,44]},"properties":{}}"#,
        ),
        (r#"{ "coordinates" : [ -115 , 33 ] , "type" : "Point" }"#, r#"{"type":"Point","coordinates":[-115,33]}"#),
        (r#"{"type": "Point","coordinates": [-115.000, 33.10]}"#, r#"{"type":"Point","coordinates":[-115,33.1]}"#),
        (r#"{"type":"Point","coordinates":[33.5220,1e1]}"#, r#"{"type":"Point","coordinates":[33.522,10]}"#),
        (
            r#"{"type":"Point","coordinates":[123456789012345678901234567890, 0.1e1]}"#,
            r#"{"type":"Point","coordinates":[123456789012345680000000000000,1]}"#,
        ),
        (r#"{"type":"Point","coordinates":[1e999,-1e999]}"#, r#"{"type":"Point","coordinates":[null,null]}"#),
        (r#"{"type":"Point","coordinates":[-0.0,1e-7]}"#, r#"{"type":"Point","coordinates":[-0,0.0000001]}"#),
        (
            "{\"type\":\"Point\",\"coordinates\":[1,2],\r\n\t\"a\" : { \"b c\" : [ 1.0e10 , \"x  y\" , true ] } }",
            r#"{"type":"Point","coordinates":[1,2],"a":{"b c":[1.0e10,"x  y",true]}}"#,
        ),
        (
            r#"{"geometry":{"type":"Point","coordinates":[1,2]},"properties":{},"type":"Feature","id":7}"#,
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{},"id":7}"#,
        ),
        // Structural members are dropped whatever the type.
        (
            r#"{"type":"Point","coordinates":[1,2],"geometry":1,"features":2,"geometries":3,"x":4}"#,
            r#"{"type":"Point","coordinates":[1,2],"x":4}"#,
        ),
        (
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"coordinates":[3,4],"id":1}"#,
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"id":1,"properties":{}}"#,
        ),
        // Positions: at most four numbers are read, the rest is ignored.
        (r#"{"type":"Point","coordinates":[1,2,3,4,5,"x"]}"#, r#"{"type":"Point","coordinates":[1,2,3,4]}"#),
        // The first position fixes the dimensions of a line or polygon.
        (r#"{"type":"LineString","coordinates":[[1,1,10],[2,2]]}"#, r#"{"type":"LineString","coordinates":[[1,1,10],[2,2,0]]}"#),
        (
            r#"{"type":"LineString","coordinates":[[1,1,10],[2,2,20,30,40]]}"#,
            r#"{"type":"LineString","coordinates":[[1,1,10],[2,2,20]]}"#,
        ),
        (
            r#"{"type":"Polygon","coordinates":[[[0,0,1,2],[1,0],[1,1,5,6],[0,0,1,2]],[[0,0,9],[0,0,8],[0,0,7],[0,0,6]]]}"#,
            r#"{"type":"Polygon","coordinates":[[[0,0,1,2],[1,0,0,0],[1,1,5,6],[0,0,1,2]],[[0,0,9,0],[0,0,8,0],[0,0,7,0],[0,0,6,0]]]}"#,
        ),
        // Unchecked containers iterate an object's values like gjson does.
        (r#"{"type":"MultiPoint","coordinates":[{"a":1,"b":2}]}"#, r#"{"type":"MultiPoint","coordinates":[[1,2]]}"#),
        (
            r#"{"type":"MultiLineString","coordinates":[{"a":[0,0],"b":[1,1]}]}"#,
            r#"{"type":"MultiLineString","coordinates":[[[0,0],[1,1]]]}"#,
        ),
        (
            r#"{"type":"Polygon","coordinates":[[[0,0],{"x":1,"y":0},[1,1],[0,0]]]}"#,
            r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}"#,
        ),
        (
            r#"{"type":"MultiPolygon","coordinates":[{"ring":[[0,0],[1,0],[1,1],[0,0]]}]}"#,
            r#"{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]]]}"#,
        ),
    ];
    for (input, want) in cases {
        assert_eq!(json(input), want, "{input}");
    }
}

#[test]
fn unchanged_outputs() {
    for s in [
        r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":null}"#,
        r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[-112,33]},"properties":{"speed":50},"asdf":"Adsf"}"#,
        r#"{"type":"Point","coordinates":[1,2],"bbox":[1,2,1,2]}"#,
        r#"{"type":"Point","coordinates":[-115,33,12.5]}"#,
        r#"{"type":"Point","coordinates":[-115,33,12.5,7]}"#,
        r#"{"type":"LineString","coordinates":[[1,1,10],[2,2,20]]}"#,
        r#"{"type":"Point","coordinates":[-112,33],"properties":{"x":1}}"#,
        r#"{"type":"Point","coordinates":[200,100]}"#,
        r#"{"type":"FeatureCollection","features":[]}"#,
        r#"{"type":"GeometryCollection","geometries":[]}"#,
        r#"{"type":"MultiPoint","coordinates":[]}"#,
        r#"{"type":"MultiLineString","coordinates":[]}"#,
        r#"{"type":"MultiPolygon","coordinates":[]}"#,
        r#"{"type":"MultiPoint","coordinates":[[1,2],[3,4,5],[6,7,8,9],[10,11]],"id":1}"#,
        r#"{"type":"MultiLineString","coordinates":[[[0,0],[1,1]],[[2,2,2],[3,3,3]]]}"#,
        r#"{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[5,5,1],[6,5,1],[6,6,1],[5,5,1]]]]}"#,
        r#"{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[1,1],[2,1],[2,2],[1,1]]],"id":"p"}"#,
        r#"{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2],"a":1},{"type":"LineString","coordinates":[[1,2],[3,4]]}],"b":2}"#,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{}},{"type":"Feature","geometry":{"type":"GeometryCollection","geometries":[]},"properties":{"q":"\u003c\"x\""}}]}"#,
        r#"{"type":"Feature","geometry":{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{}},"properties":{}}"#,
    ] {
        same(s);
    }
}

#[test]
fn accessors() {
    let g = parse(r#"{"type":"Point","coordinates":[-115,33,12.5]}"#).unwrap();
    assert_eq!(g.z(), Some(12.5));
    assert!(!g.is_plain_point());
    assert_eq!(g.shape, Shape::Point(Coord::new(-115.0, 33.0)));
    let g = parse(r#"{"type":"Point","coordinates":[-115,33]}"#).unwrap();
    assert_eq!(g.z(), None);
    assert!(g.is_plain_point());
    assert_eq!(g, Geometry::new(Shape::Point(Coord::new(-115.0, 33.0))));
    assert!(!parse(r#"{"type":"Point","coordinates":[1,2],"id":1}"#)
        .unwrap()
        .is_plain_point());
    assert!(!parse(r#"{"type":"MultiPoint","coordinates":[[1,2]]}"#)
        .unwrap()
        .is_plain_point());
    assert_eq!(
        parse(r#"{"type":"LineString","coordinates":[[1,1,10],[2,2,20]]}"#)
            .unwrap()
            .z(),
        None
    );
    let g = parse(r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"id":1,"properties":null}"#).unwrap();
    assert_eq!(g.foreign_members(), br#""id":1,"properties":null"#);
    assert_eq!(
        parse(r#"{"type":"Point","coordinates":[1,2]}"#)
            .unwrap()
            .foreign_members(),
        b""
    );
}

#[test]
fn bbox_and_num_points() {
    let sf = r#"{"type":"MultiPolygon","coordinates":[
        [[[-122.44,37.73],[-122.40,37.73],[-122.40,37.76],[-122.44,37.76],[-122.44,37.73]]],
        [[[-122.50,37.70],[-122.47,37.70],[-122.47,37.72],[-122.50,37.72],[-122.50,37.70]]]]}"#;
    let g = parse(sf).unwrap();
    assert_eq!(g.bbox(), rect(-122.50, 37.70, -122.40, 37.76));
    assert_eq!(g.num_points(), 10);

    let g = parse(r#"{"type":"Point","coordinates":[1,2],"bbox":[0,0,5,5]}"#).unwrap();
    assert_eq!(g.bbox(), rect(1.0, 2.0, 1.0, 2.0));
    assert_eq!(g.num_points(), 1);

    let g = parse(r#"{"type":"Feature","geometry":{"type":"LineString","coordinates":[[-112,33],[-111,34],[-113,32.5]]}}"#).unwrap();
    assert_eq!(g.bbox(), rect(-113.0, 32.5, -111.0, 34.0));
    assert_eq!(g.num_points(), 3);

    let g = parse(
        r#"{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[10,20]},
        {"type":"GeometryCollection","geometries":[]},{"type":"LineString","coordinates":[[-5,1],[0,0]]}]}"#,
    )
    .unwrap();
    assert_eq!(g.bbox(), rect(-5.0, 0.0, 10.0, 20.0));
    assert_eq!(g.num_points(), 3);
    assert!(!g.is_empty());

    // Polygons are bounded by their exterior ring (like Tile38's Poly.Rect).
    let g = parse(r#"{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[0,0]],[[9,9],[10,9],[10,10],[9,9]]]}"#).unwrap();
    assert_eq!(g.bbox(), rect(0.0, 0.0, 4.0, 4.0));
    assert_eq!(g.num_points(), 8);

    for empty in [
        r#"{"type":"FeatureCollection","features":[]}"#,
        r#"{"type":"GeometryCollection","geometries":[{"type":"MultiPoint","coordinates":[]}]}"#,
        r#"{"type":"MultiLineString","coordinates":[]}"#,
    ] {
        let g = parse(empty).unwrap();
        assert_eq!(g.bbox(), Rect::default());
        assert_eq!(g.num_points(), 0);
        assert!(g.is_empty());
    }
    let g =
        parse(r#"{"type":"MultiLineString","coordinates":[[[1,2],[3,4]],[[0,5],[1,1]]]}"#).unwrap();
    assert_eq!(g.bbox(), rect(0.0, 1.0, 3.0, 5.0));
    assert_eq!(g.num_points(), 4);
}

#[test]
fn errors_display() {
    use GeoJsonError::*;
    let all = [
        (InvalidData, "invalid data"),
        (MissingType, "missing type"),
        (InvalidType, "invalid type"),
        (UnknownType("point".into()), "type 'point' is unknown"),
        (MissingCoordinates, "missing coordinates"),
        (InvalidCoordinates, "invalid coordinates"),
        (MissingGeometry, "missing geometry"),
        (MissingFeatures, "missing features"),
        (InvalidFeatures, "invalid features"),
        (MissingGeometries, "missing geometries"),
        (InvalidGeometries, "invalid geometries"),
    ];
    for (e, text) in all {
        assert_eq!(e.to_string(), text);
    }
}
