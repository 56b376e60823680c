//! ROAM (spec §6.4) from `chan_roam_basic`, `chan_roam_two_nearby`,
//! `chan_roam_scan`, `chan_roam_match_points` and `chan_roam_del`.

mod common;

use common::*;
use tile38_geofence::{Command, FenceSpec, Output, Region, Roam, Target};

fn roam(id: &str, meters: f64, scan: Option<&str>) -> FenceSpec {
    FenceSpec::new(
        Target::Channel,
        b"ch",
        b"fleet",
        Region::Roam(Roam {
            key: b"fleet".to_vec(),
            id: id.as_bytes().to_vec(),
            meters,
            scan: scan.map(|s| s.as_bytes().to_vec()),
        }),
    )
}

/// `(kind, id, meters)` of each roam event.
fn near(events: &[String]) -> Vec<(String, String, String)> {
    events
        .iter()
        .map(|e| {
            let kind = if e.contains(",\"nearby\":") {
                "nearby"
            } else {
                "faraway"
            };
            let at = e.find(&format!("\"{kind}\":")).unwrap();
            let inner = &e[at..];
            let id = &inner[inner.find("\"id\":\"").unwrap() + 6..];
            let id = &id[..id.find('"').unwrap()];
            let m = &inner[inner.find("\"meters\":").unwrap() + 9..];
            let m = &m[..m.find([',', '}']).unwrap()];
            (kind.to_string(), id.to_string(), m.to_string())
        })
        .collect()
}

fn t(kind: &str, id: &str, m: &str) -> (String, String, String) {
    (kind.into(), id.into(), m.into())
}

#[test]
fn nearby_dwelling_and_faraway() {
    let mut w = World::new();
    w.set("fleet", "t2", point(33.001, -115.0));
    w.set("fleet", "t3", point(33.002, -115.0));
    w.set("fleet", "t4", point(40.0, -115.0));
    w.add(roam("*", 1000.0, None));
    let a = w.set("fleet", "t1", point(33.0, -115.0));
    assert_eq!(
        a[0],
        r#"{"command":"set","group":g1,"detect":"roam","hook":"ch","key":"fleet","time":T,"id":"t1","object":{"type":"Point","coordinates":[-115,33]},"nearby":{"key":"fleet","id":"t2","object":{"type":"Point","coordinates":[-115,33.001]},"meters":111.194}}"#
    );
    assert_eq!(
        near(&a),
        [t("nearby", "t2", "111.194"), t("nearby", "t3", "222.389")]
    );
    // Still near both: re-sent without NODWELL, by distance.
    let b = w.set("fleet", "t1", point(33.0035, -115.0));
    assert_eq!(
        near(&b),
        [t("nearby", "t3", "166.792"), t("nearby", "t2", "277.987")]
    );
    let c = w.set("fleet", "t1", point(40.001, -115.0));
    assert_eq!(
        near(&c),
        [
            t("nearby", "t4", "111.194"),
            t("faraway", "t3", "778253.291"),
            t("faraway", "t2", "778364.486")
        ]
    );
    // Leaving them all: only faraways; then, with none near, nothing.
    assert!(w
        .set("fleet", "t1", point(60.0, 0.0))
        .iter()
        .all(|e| e.contains("faraway")));
    assert!(w.set("fleet", "t1", point(70.0, 0.0)).is_empty());
    // fset: one roam message without nearby/faraway.
    let f = w.fset("fleet", "t1", "speed", "1");
    assert_eq!(f.len(), 1);
    assert!(
        f[0].starts_with(r#"{"command":"fset","group":g1,"detect":"roam""#)
            && !f[0].contains("nearby")
    );
    // del and drop reach ROAM channels (chan_roam_del).
    assert_eq!(w.del("fleet", "t1").len(), 1);
    assert_eq!(w.drop_key("fleet").len(), 1);
}

#[test]
fn scan_lists_the_target_and_its_children() {
    // chan_roam_scan: ROAM fleet t2 1000 SCAN :*.
    let mut w = World::new();
    w.set("fleet", "t2", point(33.001, -115.0));
    w.set("fleet", "t2:a", point(10.0, 10.0));
    w.set("fleet", "t2:b", point(11.0, 11.0));
    w.set("fleet", "t3", point(12.0, 12.0));
    w.add(roam("t2", 1000.0, Some(":*")));
    let a = w.set("fleet", "t1", point(33.0, -115.0));
    assert_eq!(a.len(), 1);
    let scan = r#""meters":111.194,"scan":[{"id":"t2","self":true,"object":{"type":"Point","coordinates":[-115,33.001]}},{"id":"t2:a","object":{"type":"Point","coordinates":[10,10]}},{"id":"t2:b","object":{"type":"Point","coordinates":[11,11]}}]}}"#;
    assert!(a[0].ends_with(scan), "{}", a[0]);
    let b = w.set("fleet", "t1", point(34.0, -115.0));
    assert_eq!(near(&b), [t("faraway", "t2", "111083.731")]);
}

#[test]
fn match_nodwell_points() {
    // chan_roam_match_points: MATCH carbon* NODWELL POINTS ROAM x * 1000.
    let mut w = World::new();
    w.set("fleet", "carbon2", point(33.001, -115.0));
    let mut spec = roam("*", 1000.0, None);
    spec.matches = vec![b"carbon*".to_vec()];
    spec.nodwell = true;
    spec.output = Output::Points;
    w.add(spec);
    let a = w.set("fleet", "carbon1", point(33.0, -115.0));
    assert!(
        a[0].contains(r#""id":"carbon1","point":{"lat":33,"lon":-115},"nearby":"#),
        "{}",
        a[0]
    );
    assert!(w.set("fleet", "other1", point(33.0, -115.0)).is_empty());
    assert!(w.set("fleet", "carbon1", point(33.0001, -115.0)).is_empty());
    let c = w.set("fleet", "carbon1", point(34.0, -115.0));
    assert_eq!(
        near(&c),
        [
            t("faraway", "carbon2", "111083.731"),
            t("faraway", "other1", "111194.926")
        ]
    );
}

#[test]
fn roam_with_a_detect_list_reports_only_del_and_drop() {
    // The DETECT fallback has no place for "roam": no set-like message.
    // With `outside` the fence is still a candidate (del, drop); without,
    // Tile38 never evaluates it.
    for (detect, dels) in [("outside", 1), ("enter", 0)] {
        let mut w = World::new();
        w.set("fleet", "t2", point(33.001, -115.0));
        let mut spec = roam("*", 1000.0, None);
        spec.detect = tile38_geofence::DetectSet::parse_list(detect.as_bytes());
        w.add(spec);
        assert!(w.set("fleet", "t1", point(33.0, -115.0)).is_empty());
        assert!(w.expire("fleet", "t1", Command::Expire).is_empty());
        assert_eq!(w.del("fleet", "t1").len(), dels, "{detect}");
        assert_eq!(w.drop_key("fleet").len(), dels, "{detect}");
    }
}
