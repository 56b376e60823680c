//! Event payloads (spec §5): the output forms of `chan_output_*`, fields
//! (`chan_fields_in_events`), DISTANCE (`nearby_distance`), META
//! (`chan_meta`), live events without `hook`, and string escaping.

mod common;

use common::*;
use tile38_geofence::{FenceSpec, Output, Region, Target};

fn with_output(output: Output) -> World {
    let mut w = World::new();
    let mut spec = chan("ch", "fleet", Some("inside"));
    spec.output = output;
    w.add(spec);
    w
}

/// The part after `"id":`.
fn tail(events: &[String]) -> String {
    let e = &events[0];
    e[e.find("\"id\":").unwrap()..].to_string()
}

#[test]
fn points_bounds_hashes_ids() {
    let mut w = with_output(Output::Points);
    let t1 = w.set_with("fleet", "t1", point(5.0, 5.0), &[("speed", "10")]);
    assert_eq!(
        tail(&t1),
        r#""id":"t1","point":{"lat":5,"lon":5},"fields":{"speed":10}}"#
    );
    let b1 = w.set("fleet", "b1", bounds(2.0, 2.0, 4.0, 4.0));
    assert_eq!(tail(&b1), r#""id":"b1","point":{"lat":3,"lon":3}}"#);
    let z = Value3::z(5.0, 5.0, 100.0);
    assert_eq!(
        tail(&w.set("fleet", "z1", z)),
        r#""id":"z1","point":{"lat":5,"lon":5,"z":100}}"#
    );

    let mut w = with_output(Output::Bounds);
    let p1 = w.set(
        "fleet",
        "p1",
        geojson(r#"{"type":"Polygon","coordinates":[[[2,2],[3,2],[3,3],[2,3],[2,2]]]}"#),
    );
    assert_eq!(
        tail(&p1),
        r#""id":"p1","bounds":{"sw":{"lat":2,"lon":2},"ne":{"lat":3,"lon":3}}}"#
    );

    let mut w = with_output(Output::Hashes(6));
    let t1 = w.set_with("fleet", "t1", point(5.0, 5.0), &[("speed", "10")]);
    assert_eq!(
        tail(&t1),
        r#""id":"t1","hash":"s0gs3y","fields":{"speed":10}}"#
    );

    // IDS: never fields.
    let mut w = with_output(Output::Ids);
    let t1 = w.set_with("fleet", "t1", point(5.0, 5.0), &[("speed", "10")]);
    assert_eq!(tail(&t1), r#""id":"t1"}"#);
}

/// A point with a z.
struct Value3;

impl Value3 {
    fn z(lat: f64, lon: f64, z: f64) -> tile38_geo::Value {
        tile38_geo::Value::Point { x: lon, y: lat, z }
    }
}

#[test]
fn count_output_sends_only_del_and_drop() {
    let mut w = World::new();
    let mut spec = chan("ch", "fleet", None);
    spec.output = Output::Count;
    w.add(spec);
    assert!(w.set("fleet", "t1", point(5.0, 5.0)).is_empty());
    assert_eq!(w.geo.groups_mut().len(), 0, "no group for what is not sent");
    assert_eq!(w.del("fleet", "t1").len(), 1);
    w.set("fleet", "t1", point(5.0, 5.0));
    assert_eq!(
        w.drop_key("fleet"),
        [r#"{"command":"drop","hook":"ch","key":"fleet","time":T}"#]
    );
}

#[test]
fn fields_render_as_json_in_name_order() {
    let mut w = with_output(Output::Objects);
    let e = w.set_with(
        "fleet",
        "t2",
        point(6.0, 6.0),
        &[
            ("name", "truck"),
            ("info", r#"{"a": [1, 2]}"#),
            ("zero", "0"),
            ("n", "1.50"),
        ],
    );
    assert!(
        e[0].ends_with(r#""fields":{"info":{"a":[1,2]},"n":1.50,"name":"truck"}}"#),
        "{}",
        e[0]
    );
}

#[test]
fn distance_to_the_area_centre() {
    // nearby_distance: NEARBY fleet FENCE DISTANCE POINT 33 -115 5000.
    let mut w = World::new();
    let mut spec = FenceSpec::new(
        Target::Channel,
        b"ch",
        b"fleet",
        Region::Nearby(circle(33.0, -115.0, 5000.0)),
    );
    spec.distance = true;
    w.add(spec);
    let e = w.set_with("fleet", "t1", point(33.01, -115.0), &[("speed", "5")]);
    assert!(
        e[0].ends_with(r#""fields":{"speed":5},"distance":1111.949266445518}"#),
        "{}",
        e[0]
    );
    assert!(w.set("fleet", "t1", point(33.0, -115.0))[0].ends_with(r#""distance":0}"#));
    let exit = w.set("fleet", "t1", point(34.0, -115.0));
    assert!(
        exit[0].ends_with(r#""distance":111194.92664455889}"#),
        "{}",
        exit[0]
    );
    // IDS + DISTANCE: the id member holds an object (1.37 quirk).
    let mut w = World::new();
    let mut spec = FenceSpec::new(
        Target::Channel,
        b"ch",
        b"fleet",
        Region::Nearby(circle(33.0, -115.0, 5000.0)),
    );
    spec.distance = true;
    spec.output = Output::Ids;
    w.add(spec);
    let e = w.set("fleet", "t1", point(33.0, -115.0));
    assert!(
        e[0].ends_with(r#","id":{"id":"t1","distance":0}}"#),
        "{}",
        e[0]
    );
}

#[test]
fn meta_sorted_and_in_del_events() {
    // chan_meta.
    let mut w = World::new();
    let mut spec = chan("ch", "fleet", None);
    spec.metas = vec![
        (b"zeta".to_vec(), b"last".to_vec()),
        (b"alpha".to_vec(), b"first".to_vec()),
        (b"zeta".to_vec(), b"overwritten".to_vec()),
    ];
    w.add(spec);
    let e = w.set("fleet", "t1", point(5.0, 5.0));
    assert!(e[0].starts_with(
        r#"{"command":"set","group":g1,"detect":"enter","hook":"ch","meta":{"alpha":"first","zeta":"overwritten"},"key":"fleet","time":T,"#
    ), "{}", e[0]);
    assert_eq!(
        w.del("fleet", "t1"),
        [
            r#"{"command":"del","hook":"ch","meta":{"alpha":"first","zeta":"overwritten"},"key":"fleet","id":"t1","time":T}"#
        ]
    );
}

#[test]
fn live_events_have_no_hook_and_strings_escape_like_go() {
    let mut w = World::new();
    w.add(FenceSpec::new(
        Target::Live,
        b"",
        b"fleet",
        Region::Within(box_area(0.0, 0.0, 10.0, 10.0)),
    ));
    let e = w.set("fleet", "a<b", point(5.0, 5.0));
    assert_eq!(e[0], msg("set", "g1", "enter", "", "a<b", 5.0, 5.0));
    let e = w.set("fleet", "a<b\"é", point(5.0, 5.0));
    assert!(e[0].contains(r#""id":"a\u003cb\"é""#), "{}", e[0]);
}

#[test]
fn time_is_rfc3339_nano_utc() {
    let mut w = World::new();
    w.add(chan("ch", "fleet", None));
    let mut out = Vec::new();
    w.db.get_or_create(b"fleet").set(
        b"t1",
        point(5.0, 5.0),
        Vec::new(),
        None,
        tile38_collection::SetCond::Always,
    );
    let item = w.db.get(b"fleet").unwrap().get(b"t1").cloned();
    let change = tile38_geofence::Change {
        command: tile38_geofence::Command::Set,
        key: b"fleet",
        id: b"t1",
        old: None,
        new: item.as_ref(),
        time: 1_796_499_334_500_000_000,
    };
    w.geo.evaluate(&change, &w.db, |_, _| true, &mut out);
    assert!(
        out[0]
            .json
            .contains(r#""time":"2026-12-05T19:35:34.5Z","id""#),
        "{}",
        out[0].json
    );
}
