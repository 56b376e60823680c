//! Candidates, ordering and fence lifecycle (spec §5.3, §8.1, §8.2) from
//! `chan_del_events`, `chan_drop_event`, `live_commands_del`,
//! `channel_message_order`, `within_tile_quadkey_hash`,
//! `chan_and_live_same_object`, `setchan_overwrite_while_subscribed`,
//! `chan_flushdb_removes_channel`, `live_flushdb`; and the index's cost.

mod common;

use common::*;
use tile38_geofence::{Fence, FenceSpec, Region, Target};

fn hooks_of(events: &[String]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            let detect = e
                .find("\"detect\":\"")
                .map(|at| &e[at + 10..at + 10 + e[at + 10..].find('"').unwrap()]);
            let hook = e
                .find("\"hook\":\"")
                .map_or("", |at| &e[at + 8..at + 8 + e[at + 8..].find('"').unwrap()]);
            let cmd = &e[12..12 + e[12..].find('"').unwrap()];
            format!("{hook}:{}", detect.unwrap_or(cmd))
        })
        .collect()
}

#[test]
fn del_and_drop_reach_outside_fences_only() {
    // chan_del_events / chan_drop_event.
    let mut w = World::new();
    w.add(chan("e", "fleet", Some("enter,exit")));
    w.add(chan("d", "fleet", None));
    w.set("fleet", "t1", point(5.0, 5.0));
    w.set("fleet", "t2", point(20.0, 20.0));
    assert_eq!(hooks_of(&w.del("fleet", "t1")), ["d:del", "e:del"]);
    assert_eq!(hooks_of(&w.del("fleet", "t2")), ["d:del"]);
    w.set("fleet", "t3", point(5.0, 5.0));
    assert_eq!(hooks_of(&w.drop_key("fleet")), ["d:drop"]);
    // Groups went with the key: the next enter is a new group.
    assert_eq!(w.geo.groups_mut().len(), 0);
}

#[test]
fn live_fences_see_every_del_and_drop() {
    // live_commands_del: live fences filter by key only.
    let mut w = World::new();
    let mut spec = FenceSpec::new(
        Target::Live,
        b"",
        b"fleet",
        Region::Within(box_area(0.0, 0.0, 10.0, 10.0)),
    );
    spec.detect = tile38_geofence::DetectSet::parse_list(b"enter");
    w.add(spec);
    w.set("fleet", "far", point(50.0, 50.0));
    assert_eq!(w.del("fleet", "far").len(), 1);
    w.set("fleet", "far", point(50.0, 50.0));
    assert_eq!(w.drop_key("fleet").len(), 1);
}

#[test]
fn channel_messages_sort_by_detect_then_name() {
    // channel_message_order: A, B exit; C, D enter.
    let mut w = World::new();
    let left = || Region::Within(box_area(0.0, 0.0, 10.0, 10.0));
    let right = || Region::Within(box_area(0.0, 20.0, 10.0, 30.0));
    for (name, region) in [("D", right()), ("B", left()), ("C", right()), ("A", left())] {
        w.add(FenceSpec::new(
            Target::Channel,
            name.as_bytes(),
            b"fleet",
            region,
        ));
    }
    w.set("fleet", "p", point(5.0, 5.0));
    let e = w.set("fleet", "p", point(5.0, 25.0));
    assert_eq!(
        hooks_of(&e),
        [
            "A:exit",
            "B:exit",
            "A:outside",
            "B:outside",
            "C:enter",
            "D:enter",
            "C:inside",
            "D:inside"
        ]
    );
}

#[test]
fn channels_hooks_and_live_keep_separate_groups() {
    // chan_and_live_same_object.
    let mut w = World::new();
    w.add(chan("ch", "fleet", None));
    let area = || Region::Within(box_area(0.0, 0.0, 10.0, 10.0));
    w.add(FenceSpec::new(Target::Hook, b"hk", b"fleet", area()));
    w.add(FenceSpec::new(Target::Live, b"", b"fleet", area()));
    let e = w.set("fleet", "t1", point(5.0, 5.0));
    let groups: Vec<&str> = e
        .iter()
        .map(|m| &m[m.find("\"group\":").unwrap() + 8..][..2])
        .collect();
    // Channels first, then hooks, then live (each with its own group).
    assert_eq!(groups, ["g1", "g1", "g2", "g2", "g3", "g3"]);
    assert_eq!(
        hooks_of(&e)[..4],
        ["ch:enter", "ch:inside", "hk:enter", "hk:inside"]
    );
    assert!(!e[4].contains("\"hook\""));
}

#[test]
fn replacing_or_flushing_drops_groups() {
    // setchan_overwrite_while_subscribed, chan_flushdb_removes_channel,
    // live_flushdb.
    let mut w = World::new();
    let ch = w.add(chan("ch", "fleet", None));
    w.add(FenceSpec::new(
        Target::Live,
        b"",
        b"fleet",
        Region::Within(box_area(0.0, 0.0, 10.0, 10.0)),
    ));
    w.set("fleet", "t1", point(5.0, 5.0));
    assert_eq!(w.geo.groups_mut().len(), 2);
    w.geo.remove(ch);
    assert_eq!(w.geo.groups_mut().len(), 1, "a live fence's groups stay");
    assert!(w.geo.get(ch).is_none() && w.geo.remove(ch).is_none());
    w.add(chan("ch", "fleet", None));
    // FLUSHDB: the data, the channel and every group go; the live fence
    // stays and starts over.
    assert_eq!(w.geo.flush().len(), 1);
    w.db.clear();
    assert_eq!((w.geo.len(), w.geo.groups_mut().len()), (1, 0));
    let e = w.set("fleet", "t1", point(6.0, 6.0));
    assert_eq!(hooks_of(&e), [":enter", ":inside"]);
    assert!(e[0].contains("\"group\":g3"), "{}", e[0]);
}

#[test]
fn a_write_evaluates_only_the_fences_it_touches() {
    // 10 000 enter/exit fences in a 100×100 grid of 1° boxes, one key.
    let mut w = World::new();
    for i in 0..10_000 {
        let (lat, lon) = ((i / 100) as f64 - 50.0, (i % 100) as f64 - 50.0);
        let mut spec = FenceSpec::new(
            Target::Channel,
            format!("f{i}").as_bytes(),
            b"fleet",
            Region::Within(box_area(lat + 0.1, lon + 0.1, lat + 0.9, lon + 0.9)),
        );
        spec.detect = tile38_geofence::DetectSet::parse_list(b"enter,exit");
        w.geo.insert(Fence::new(spec));
    }
    assert_eq!(
        hooks_of(&w.set("fleet", "t1", point(0.5, 0.5))),
        ["f5050:enter"]
    );
    assert_eq!(w.evaluated, 1);
    let e = w.set("fleet", "t1", point(1.5, 0.5));
    assert_eq!(hooks_of(&e), ["f5050:exit", "f5150:enter"]);
    assert_eq!(w.evaluated, 2);
    assert!(w.set("fleet", "t2", point(89.0, 170.0)).is_empty());
    assert_eq!(w.evaluated, 0);
    assert_eq!(w.del("fleet", "t1").len(), 1);
    assert_eq!(w.evaluated, 1);
}

#[test]
fn unlistened_fences_cost_nothing() {
    let mut w = World::new();
    w.add(chan("quiet", "fleet", None));
    let loud = w.add(chan("loud", "fleet", None));
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
        time: TIME,
    };
    let mut out = Vec::new();
    let n = w.geo.evaluate(&change, &w.db, |id, _| id == loud, &mut out);
    assert_eq!((n, out.len()), (1, 2));
    assert!(out.iter().all(|e| e.fence == loud));
    assert_eq!(w.geo.groups_mut().len(), 1);
}

#[test]
fn muted_fences_are_out_of_the_index_until_heard_again() {
    let mut w = World::new();
    let mut muted = Vec::new();
    for i in 0..1000 {
        let id = w.add(chan(&format!("c{i}"), "fleet", None));
        assert!(w.geo.set_heard(id, false));
        muted.push(id);
    }
    assert!(!w.geo.set_heard(muted[0], false), "already muted");
    assert!(w.geo.watches(b"fleet") && !w.geo.hears(b"fleet"));
    assert!(w.set("fleet", "t1", point(5.0, 5.0)).is_empty());
    assert_eq!(w.evaluated, 0);
    // Heard again: evaluated like any fence.
    assert!(w.geo.set_heard(muted[7], true));
    assert!(w.geo.hears(b"fleet"));
    assert_eq!(
        hooks_of(&w.set("fleet", "t1", point(6.0, 6.0))),
        ["c7:inside"]
    );
    assert_eq!(w.evaluated, 1);
    // Removing muted and heard fences alike leaves the key unwatched.
    for &id in &muted {
        assert!(w.geo.remove(id).is_some());
    }
    assert!(!w.geo.watches(b"fleet") && w.geo.is_empty());
    // A stale handle changes nothing, also once its slot is reused.
    w.add(chan("new", "fleet", None));
    assert!(!w.geo.set_heard(muted[0], false));
    assert!(w.geo.hears(b"fleet"));
}
