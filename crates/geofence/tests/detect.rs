//! Detection (spec §6.1, §6.2, §6.3, §6.5), from the corpus cases
//! `chan_detect_*`, `live_detect_*`, `within_*`, `cross_moving_bounds`,
//! `chan_where`, `chan_fset_inside_outside`, `chan_expire_persist_commands`,
//! `chan_nofields`, `chan_commands_del`.

mod common;

use common::*;
use tile38_geofence::{Command, CommandSet, FenceSpec, Region, Target};

/// The moves of `chan_detect_*`: outside, in, in, out (exit), across
/// the box (cross), then a second crossing.
fn moves(w: &mut World) -> Vec<Vec<String>> {
    let path = [
        (20.0, 20.0),
        (5.0, 5.0),
        (6.0, 6.0),
        (20.0, 5.0),
        (-10.0, 5.0),
    ];
    let mut out: Vec<Vec<String>> = path
        .iter()
        .map(|&(lat, lon)| w.set("fleet", "t1", point(lat, lon)))
        .collect();
    // Straight across the box, centre line through it: cross.
    w.set("fleet", "t1", point(5.0, -10.0));
    out.push(w.set("fleet", "t1", point(5.0, 20.0)));
    out
}

fn detects(events: &[String]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            let at = e.find("\"detect\":\"").expect("detect") + 10;
            let end = at + e[at..].find('"').unwrap();
            let group = &e[e.find("\"group\":").unwrap() + 8..e.find(",\"detect\"").unwrap()];
            format!("{}/{group}", &e[at..end])
        })
        .collect()
}

fn run(detect: Option<&str>) -> Vec<Vec<String>> {
    let mut w = World::new();
    w.add(chan("ch", "fleet", detect));
    moves(&mut w).iter().map(|m| detects(m)).collect()
}

#[test]
fn default_detect_has_companions_and_groups() {
    let got = run(None);
    assert_eq!(
        got,
        vec![
            vec!["outside/g1"],
            vec!["enter/g2", "inside/g2"],
            vec!["inside/g2"],
            vec!["exit/g2", "outside/g2"],
            vec!["cross/g3", "outside/g3"],
            vec!["cross/g4", "outside/g4"],
        ]
    );
}

#[test]
fn detect_lists_fall_back() {
    // chan_detect_outside: exit and cross become outside, one group
    // (the group follows the detect reported, not the raw one).
    let got = run(Some("outside"));
    assert_eq!(got.concat(), ["outside/g1"; 4]);
    // chan_detect_enter / chan_detect_cross / chan_detect_enter_exit.
    assert_eq!(run(Some("enter")).concat(), ["enter/g1"]);
    assert_eq!(run(Some("cross")).concat(), ["cross/g1", "cross/g2"]);
    assert_eq!(run(Some("enter,exit")).concat(), ["enter/g1", "exit/g1"]);
    // chan_detect_inside_outside: enter → inside, exit/cross → outside,
    // all in the first group.
    let io = run(Some("inside,outside")).concat();
    assert_eq!(
        io,
        [
            "outside/g1",
            "inside/g1",
            "inside/g1",
            "outside/g1",
            "outside/g1",
            "outside/g1"
        ]
    );
    // live_detect_inside: re-entry keeps the old group (get-or-new).
    let mut w = World::new();
    w.add(chan("ch", "fleet", Some("inside")));
    let a = detects(&w.set("fleet", "t1", point(5.0, 5.0)));
    w.set("fleet", "t1", point(20.0, 20.0));
    let b = detects(&w.set("fleet", "t1", point(6.0, 6.0)));
    assert_eq!(
        (a, b),
        (vec!["inside/g1".to_string()], vec!["inside/g1".to_string()])
    );
}

#[test]
fn message_bytes_are_exact() {
    let mut w = World::new();
    w.add(chan("ch", "fleet", None));
    assert_eq!(
        w.set("fleet", "t1", point(5.0, 5.0)),
        vec![
            msg("set", "g1", "enter", "ch", "t1", 5.0, 5.0),
            msg("set", "g1", "inside", "ch", "t1", 5.0, 5.0)
        ]
    );
    assert_eq!(
        w.del("fleet", "t1"),
        vec![r#"{"command":"del","hook":"ch","key":"fleet","id":"t1","time":T}"#]
    );
}

#[test]
fn polygon_hole_is_outside_and_reentry_starts_a_new_group() {
    // within_polygon_hole.
    let mut w = World::new();
    let hole = r#"{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[4,4],[6,4],[6,6],[4,6],[4,4]]]}"#;
    w.add(FenceSpec::new(
        Target::Channel,
        b"ch",
        b"fleet",
        Region::Within(tile38_geo::predicate::Area::Value(geojson(hole))),
    ));
    assert_eq!(
        detects(&w.set("fleet", "t1", point(2.0, 2.0))),
        ["enter/g1", "inside/g1"]
    );
    assert_eq!(
        detects(&w.set("fleet", "t1", point(5.0, 5.0))),
        ["exit/g1", "outside/g1"]
    );
    assert_eq!(
        detects(&w.set("fleet", "t1", point(8.0, 8.0))),
        ["enter/g2", "inside/g2"]
    );
}

#[test]
fn bounds_objects_cross_by_their_centres() {
    // within_bounds_objects / cross_moving_bounds: partly over the edge is
    // not within; a box jumping across the fence crosses.
    let mut w = World::new();
    w.add(chan("ch", "fleet", None));
    assert_eq!(
        detects(&w.set("fleet", "b", bounds(8.0, 8.0, 12.0, 12.0))),
        ["outside/g1"]
    );
    assert_eq!(
        detects(&w.set("fleet", "c", bounds(4.0, -22.0, 6.0, -18.0))),
        ["outside/g2"]
    );
    let across = detects(&w.set("fleet", "c", bounds(4.0, 18.0, 6.0, 22.0)));
    assert_eq!(across, ["cross/g3", "outside/g3"]);
}

#[test]
fn where_gate_and_fset_exemption() {
    // chan_where: WHERE speed 0 50.
    let mut w = World::new();
    let mut spec = chan("ch", "fleet", None);
    spec.filter = Some(Box::new(|_: &[u8], item: &tile38_collection::Item| {
        let v = item
            .fields
            .get(b"speed")
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0);
        (0.0..=50.0).contains(&v)
    }));
    w.add(spec);
    let p = point(5.0, 5.0);
    assert!(w
        .set_with("fleet", "t1", p.clone(), &[("speed", "70")])
        .is_empty());
    let t2 = w.set_with("fleet", "t2", p.clone(), &[("speed", "30")]);
    assert_eq!(detects(&t2), ["enter/g1", "inside/g1"]);
    assert!(t2[0].ends_with(r#""fields":{"speed":30}}"#), "{}", t2[0]);
    assert_eq!(
        detects(&w.fset("fleet", "t1", "speed", "40")),
        ["inside/g2"]
    );
    assert_eq!(
        detects(&w.fset("fleet", "t2", "speed", "60")),
        ["outside/g1"]
    );
    assert!(w.set_with("fleet", "t2", point(20.0, 20.0), &[]).is_empty());
    // A field change alone can exit: (5,5) speed 30 → (5,5) speed 60.
    w.set_with("fleet", "t3", p.clone(), &[("speed", "30")]);
    let exit = w.set_with("fleet", "t3", p, &[("speed", "60")]);
    assert_eq!(detects(&exit), ["exit/g3", "outside/g3"]);
    // EXPIRE of a failing object: nothing.
    assert!(w.expire("fleet", "t3", Command::Expire).is_empty());
}

#[test]
fn fset_expire_persist_have_no_previous_object() {
    // chan_fset_inside_outside, chan_expire_persist_commands.
    let mut w = World::new();
    w.add(chan("ch", "fleet", None));
    w.set("fleet", "t1", point(5.0, 5.0));
    let f = w.fset("fleet", "t1", "speed", "10");
    assert_eq!(detects(&f), ["inside/g1"]);
    assert!(f[0].starts_with(r#"{"command":"fset""#));
    assert!(w.fset("fleet", "t1", "speed", "10").is_empty());
    assert_eq!(
        detects(&w.expire("fleet", "t1", Command::Expire)),
        ["enter/g2", "inside/g2"]
    );
    let p = w.expire("fleet", "t1", Command::Persist);
    assert_eq!(detects(&p), ["enter/g3", "inside/g3"]);
    assert!(p[0].starts_with(r#"{"command":"persist""#));
    w.set("fleet", "t2", point(20.0, 20.0));
    assert_eq!(
        detects(&w.expire("fleet", "t2", Command::Expire)),
        ["outside/g4"]
    );
}

#[test]
fn nofields_drops_fset_and_fields() {
    // chan_nofields.
    let mut w = World::new();
    let mut spec = chan("ch", "fleet", None);
    spec.nofields = true;
    w.add(spec);
    let e = w.set_with("fleet", "t1", point(5.0, 5.0), &[("speed", "10")]);
    assert_eq!(e[0], msg("set", "g1", "enter", "ch", "t1", 5.0, 5.0));
    assert!(w.fset("fleet", "t1", "speed", "20").is_empty());
}

#[test]
fn commands_filter_keeps_group_moving() {
    // chan_commands_del: COMMANDS del gives del only (not even drop); the
    // group table still follows the filtered set events.
    let mut w = World::new();
    let mut spec = chan("ch", "fleet", None);
    spec.commands = Some(CommandSet::parse_list(b"del, whatever"));
    w.add(spec);
    assert!(w.set("fleet", "t1", point(5.0, 5.0)).is_empty());
    assert_eq!(w.geo.groups_mut().len(), 1);
    assert_eq!(w.del("fleet", "t1").len(), 1);
    w.set("fleet", "t2", point(5.0, 5.0));
    assert!(w.drop_key("fleet").is_empty());
}

#[test]
fn match_filters_del_and_strings_give_nothing() {
    // chan_other_key_and_strings, §6.3 MATCH on del.
    let mut w = World::new();
    let mut spec = chan("ch", "fleet", None);
    spec.matches = vec![b"truck*".to_vec()];
    w.add(spec);
    assert!(w.set("fleet", "car1", point(5.0, 5.0)).is_empty());
    assert!(w.del("fleet", "car1").is_empty());
    assert_eq!(w.set("fleet", "truck1", point(5.0, 5.0)).len(), 2);
    assert!(w.set("other", "truck2", point(5.0, 5.0)).is_empty());
    assert!(w
        .set("fleet", "s", tile38_geo::Value::String(b"x"[..].into()))
        .is_empty());
    assert!(w.del("fleet", "s").is_empty());
}

#[test]
fn match_fence_alone_is_fence_match() {
    // One fence, no registry: the caller owns the group table.
    use tile38_geofence::{match_fence, Change, Fence, FenceId, Groups};
    let fence = Fence::new(chan("ch", "fleet", None));
    let mut w = World::new();
    let mut groups = Groups::new(1);
    w.db.get_or_create(b"fleet").set(
        b"t1",
        point(5.0, 5.0),
        Vec::new(),
        None,
        tile38_collection::SetCond::Always,
    );
    let item = w.db.get(b"fleet").unwrap().get(b"t1").cloned();
    let change = Change {
        command: Command::Set,
        key: b"fleet",
        id: b"t1",
        old: None,
        new: item.as_ref(),
        time: TIME,
    };
    let mut out = Vec::new();
    match_fence(&fence, &change, &w.db, &mut groups, &mut out);
    let detects: Vec<_> = out.iter().map(|e| (e.fence, e.detect)).collect();
    use tile38_geofence::Detect::{Enter, Inside};
    assert_eq!(
        detects,
        [
            (FenceId::DETACHED, Some(Enter)),
            (FenceId::DETACHED, Some(Inside))
        ]
    );
    assert_eq!(groups.len(), 1);
    assert!(out[0].json.starts_with(r#"{"command":"set","group":""#));
}
