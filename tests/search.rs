//! Search commands against the real server, checked against brute force:
//! NEARBY returns every object within the radius, in ascending Tile38
//! haversine distance; SEARCH orders string values.

use tile38::{Lcg, TestServer};
use tile38_geo::gomath::haversine;

#[test]
fn nearby_matches_brute_force_order_and_radius() {
    let srv = TestServer::start(&[]);
    let mut c = srv.redis();
    let mut rng = Lcg(42);
    let mut points = Vec::new();
    for i in 0..500 {
        let (lat, lon) = (rng.unit() * 20.0 + 30.0, rng.unit() * 20.0 - 120.0);
        let _: () = redis::cmd("SET")
            .arg("fleet")
            .arg(format!("p{i}"))
            .arg("POINT")
            .arg(lat)
            .arg(lon)
            .query(&mut c)
            .unwrap();
        points.push((format!("p{i}"), lat, lon));
    }
    for (qlat, qlon, radius) in [
        (40.0, -110.0, 300_000.0),
        (31.5, -119.0, 1_000_000.0),
        (60.0, -100.0, 0.0),
    ] {
        let mut want: Vec<(f64, String)> = points
            .iter()
            .map(|(id, lat, lon)| (haversine(*lat, *lon, qlat, qlon), id.clone()))
            .collect();
        want.retain(|(d, _)| radius == 0.0 || *d <= radius);
        want.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut cmd = redis::cmd("NEARBY");
        cmd.arg("fleet")
            .arg("LIMIT")
            .arg(1000)
            .arg("DISTANCE")
            .arg("IDS")
            .arg("POINT")
            .arg(qlat)
            .arg(qlon);
        if radius > 0.0 {
            cmd.arg(radius);
        }
        let (cursor, items): (i64, Vec<(String, String)>) = cmd.query(&mut c).unwrap();
        assert_eq!(cursor, 0);
        let got: Vec<(f64, String)> = items
            .into_iter()
            .map(|(id, d)| (d.parse().unwrap(), id))
            .collect();
        assert_eq!(got.len(), want.len(), "query {qlat},{qlon} r={radius}");
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g.0, w.0, "distance of {} vs {}", g.1, w.1);
        }
        assert!(got.windows(2).all(|w| w[0].0 <= w[1].0), "ascending");
    }
}

#[test]
fn nearby_pages_with_cursor_cover_everything_once() {
    let srv = TestServer::start(&[]);
    let mut c = srv.redis();
    for i in 0..120 {
        let _: () = redis::cmd("SET")
            .arg("k")
            .arg(format!("id{i}"))
            .arg("POINT")
            .arg(i as f64 * 0.01)
            .arg(0)
            .query(&mut c)
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut cursor = 0i64;
    loop {
        let (next, ids): (i64, Vec<String>) = redis::cmd("NEARBY")
            .arg("k")
            .arg("CURSOR")
            .arg(cursor)
            .arg("LIMIT")
            .arg(50)
            .arg("IDS")
            .arg("POINT")
            .arg(0)
            .arg(0)
            .query(&mut c)
            .unwrap();
        seen.extend(ids);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    let want: Vec<String> = (0..120).map(|i| format!("id{i}")).collect();
    assert_eq!(seen, want);
}

#[test]
fn search_orders_values_then_ids() {
    let srv = TestServer::start(&[]);
    let mut c = srv.redis();
    for (id, v) in [("z", "same"), ("a", "same"), ("b", "other"), ("c", "Zeta")] {
        let _: () = redis::cmd("SET")
            .arg("k")
            .arg(id)
            .arg("STRING")
            .arg(v)
            .query(&mut c)
            .unwrap();
    }
    let (_, ids): (i64, Vec<String>) = redis::cmd("SEARCH")
        .arg("k")
        .arg("IDS")
        .query(&mut c)
        .unwrap();
    assert_eq!(ids, ["c", "b", "a", "z"]);
    let _: () = redis::cmd("SET")
        .arg("k")
        .arg("c")
        .arg("STRING")
        .arg("zz")
        .query(&mut c)
        .unwrap();
    let (_, ids): (i64, Vec<String>) = redis::cmd("SEARCH")
        .arg("k")
        .arg("DESC")
        .arg("IDS")
        .query(&mut c)
        .unwrap();
    assert_eq!(ids, ["c", "z", "a", "b"]);
}
