//! WITHIN and INTERSECTS against the real server, checked against a
//! brute-force scan with the same predicates (`tile38_geo::predicate`):
//! random points, rectangles, lines and polygons; random BOUNDS, CIRCLE and
//! OBJECT areas; before and after random moves and deletes; small keys
//! (Tile38's sorted single leaf) and big ones; CURSOR paging covering every
//! result once.

use std::collections::{BTreeMap, BTreeSet};

use tile38::{Lcg, TestServer};
use tile38_geo::predicate::Area;
use tile38_geo::{Geometry, Position, Rect, Value};

/// A random object as `SET` arguments and as the value the server stores.
fn random_object(rng: &mut Lcg) -> (Vec<String>, Value) {
    let (x, y) = (rng.range(-10.0, 10.0), rng.range(-10.0, 10.0));
    let (w, h) = (rng.range(0.0, 3.0), rng.range(0.0, 3.0));
    let kind = (rng.unit() * 4.0) as u32;
    let json = match kind {
        0 => {
            let v = Value::Point { x, y, z: 0.0 };
            return (vec!["POINT".into(), y.to_string(), x.to_string()], v);
        }
        1 => {
            let r = Rect::new(Position::new(x, y), Position::new(x + w, y + h));
            let args = [
                "BOUNDS",
                &y.to_string(),
                &x.to_string(),
                &(y + h).to_string(),
                &(x + w).to_string(),
            ];
            return (args.iter().map(|s| s.to_string()).collect(), Value::Rect(r));
        }
        2 => format!(
            r#"{{"type":"LineString","coordinates":[[{x},{y}],[{},{}]]}}"#,
            x + w,
            y + h
        ),
        _ => format!(
            r#"{{"type":"Polygon","coordinates":[[[{x},{y}],[{},{y}],[{},{}],[{x},{y}]]]}}"#,
            x + w,
            x + w,
            y + h
        ),
    };
    let g = Geometry::parse(json.as_bytes()).expect("valid GeoJSON");
    (vec!["OBJECT".into(), json], Value::from_geometry(g))
}

/// A random area as command arguments and as the predicate's area.
fn random_area(rng: &mut Lcg) -> (Vec<String>, Area) {
    let (x, y) = (rng.range(-10.0, 10.0), rng.range(-10.0, 10.0));
    let s = rng.range(0.5, 8.0);
    match (rng.unit() * 3.0) as u32 {
        0 => {
            let r = Rect::new(Position::new(x, y), Position::new(x + s, y + s));
            let args = [
                "BOUNDS",
                &y.to_string(),
                &x.to_string(),
                &(y + s).to_string(),
                &(x + s).to_string(),
            ];
            (
                args.iter().map(|a| a.to_string()).collect(),
                Area::Value(Value::Rect(r)),
            )
        }
        1 => {
            let meters = s * 50_000.0;
            let args = vec![
                "CIRCLE".into(),
                y.to_string(),
                x.to_string(),
                meters.to_string(),
            ];
            (
                args,
                Area::Circle {
                    center: Position::new(x, y),
                    meters,
                },
            )
        }
        _ => {
            let json = format!(
                r#"{{"type":"Polygon","coordinates":[[[{x},{y}],[{},{y}],[{},{}],[{x},{}],[{x},{y}]]]}}"#,
                x + s,
                x + s * 0.5,
                y + s,
                y + s * 0.7
            );
            let g = Geometry::parse(json.as_bytes()).expect("valid GeoJSON");
            (
                vec!["OBJECT".into(), json],
                Area::Value(Value::from_geometry(g)),
            )
        }
    }
}

fn set(c: &mut redis::Connection, key: &str, id: &str, args: &[String]) {
    let _: () = redis::cmd("SET")
        .arg(key)
        .arg(id)
        .arg(args)
        .query(c)
        .unwrap();
}

/// Every id a search returns, paging with CURSOR/LIMIT; each at most once.
fn search_all(
    c: &mut redis::Connection,
    cmd: &str,
    key: &str,
    area: &[String],
) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut cursor = 0i64;
    loop {
        let (next, ids): (i64, Vec<String>) = redis::cmd(cmd)
            .arg(key)
            .arg("CURSOR")
            .arg(cursor)
            .arg("LIMIT")
            .arg(7)
            .arg("IDS")
            .arg(area)
            .query(c)
            .unwrap();
        for id in ids {
            assert!(seen.insert(id.clone()), "{cmd} returned {id} twice");
        }
        if next == 0 {
            return seen;
        }
        cursor = next;
    }
}

fn check(c: &mut redis::Connection, key: &str, objects: &BTreeMap<String, Value>, rng: &mut Lcg) {
    for _ in 0..40 {
        let (args, area) = random_area(rng);
        for (cmd, within) in [("WITHIN", true), ("INTERSECTS", false)] {
            let want: BTreeSet<String> = objects
                .iter()
                .filter(|(_, v)| {
                    if within {
                        area.contains(v)
                    } else {
                        area.intersects(v)
                    }
                })
                .map(|(id, _)| id.clone())
                .collect();
            let got = search_all(c, cmd, key, &args);
            assert_eq!(got, want, "{cmd} {key} {args:?}");
            let count: i64 = redis::cmd(cmd)
                .arg(key)
                .arg("COUNT")
                .arg(&args)
                .query(c)
                .unwrap();
            assert_eq!(count as usize, want.len(), "{cmd} COUNT {args:?}");
        }
    }
}

#[test]
fn within_and_intersects_equal_brute_force() {
    let srv = TestServer::start(&[]);
    let mut c = srv.redis();
    let mut rng = Lcg(2026);
    for (key, n) in [("small", 50), ("big", 400)] {
        let mut objects = BTreeMap::new();
        for i in 0..n {
            let (args, value) = random_object(&mut rng);
            set(&mut c, key, &format!("o{i}"), &args);
            objects.insert(format!("o{i}"), value);
        }
        check(&mut c, key, &objects, &mut rng);
        // Moves and deletes keep the index equal to the objects.
        for i in 0..n {
            let id = format!("o{i}");
            match (rng.unit() * 3.0) as u32 {
                0 => {
                    let _: i64 = redis::cmd("DEL").arg(key).arg(&id).query(&mut c).unwrap();
                    objects.remove(&id);
                }
                1 => {
                    let (args, value) = random_object(&mut rng);
                    set(&mut c, key, &id, &args);
                    objects.insert(id, value);
                }
                _ => {}
            }
        }
        check(&mut c, key, &objects, &mut rng);
    }
}

#[test]
fn small_keys_come_in_tile38_leaf_order() {
    let srv = TestServer::start(&[]);
    let mut c = srv.redis();
    // West edges 3, 1, 2, 1, 2: order by west edge, newest first on ties.
    for (id, lon) in [("a", 3), ("b", 1), ("c", 2), ("d", 1), ("e", 2)] {
        set(
            &mut c,
            "k",
            id,
            &["POINT".into(), "0".into(), lon.to_string()],
        );
    }
    let all = ["BOUNDS", "-1", "0", "1", "4"].map(String::from);
    let (_, ids): (i64, Vec<String>) = redis::cmd("WITHIN")
        .arg("k")
        .arg("IDS")
        .arg(&all)
        .query(&mut c)
        .unwrap();
    assert_eq!(ids, ["d", "b", "e", "c", "a"]);
    // Rewriting b makes it the newest of the objects at lon 1.
    let _: i64 = redis::cmd("FSET")
        .arg("k")
        .arg("b")
        .arg("f")
        .arg(1)
        .query(&mut c)
        .unwrap();
    let (_, ids): (i64, Vec<String>) = redis::cmd("INTERSECTS")
        .arg("k")
        .arg("IDS")
        .arg(&all)
        .query(&mut c)
        .unwrap();
    assert_eq!(ids, ["b", "d", "e", "c", "a"]);
}
