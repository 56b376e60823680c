//! The bulk AOF load (indexes deferred and built at the end, SETs parsed on
//! a second thread) gives the state a live server reached by the same
//! writes: 50k mixed records (moves, crowds at one spot, fields, TTLs,
//! strings, areas, FSET, DEL, PDEL, EXPIRE, PERSIST, JSET, RENAME, DROP,
//! a channel) sent to a live server, then a restart from its AOF. SCAN,
//! SEARCH, STATS, BOUNDS, CHANS and NEARBY must answer byte for byte as before;
//! WITHIN and INTERSECTS must find the same objects (above 64 objects they
//! come in R-tree order, which depends on how the tree was built), and TTLs
//! count from the load.

use std::time::Duration;

use tile38::{resp_cmd, resp_strings, temp_dir, Lcg, Resp, TestServer};

const RECORDS: usize = 50_000;

/// The writes: deterministic, varied, mostly moves of a fleet.
fn writes() -> Vec<Vec<String>> {
    let mut r = Lcg(7);
    (0..RECORDS).map(|n| write(&mut r, n)).collect()
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// An id of 3000 with `p` in front.
fn id(r: &mut Lcg, p: &str) -> String {
    format!("{p}{}", (r.unit() * 3000.0) as u32)
}

/// Write number `n`: a hook, a RENAME and a DROP at fixed places, else
/// one drawn from `r` (a position is drawn for every write).
fn write(r: &mut Lcg, n: usize) -> Vec<String> {
    let (lat, lon) = (r.range(-60.0, 60.0), r.range(-120.0, 120.0));
    let (lat, lon) = (format!("{lat:.5}"), format!("{lon:.5}"));
    let pick = r.unit();
    if n == RECORDS / 3 {
        s(&[
            "SETCHAN", "near", "NEARBY", "fleet", "FENCE", "POINT", "10", "10", "100000",
        ])
    } else if n == RECORDS / 2 {
        s(&["RENAME", "zones", "zones-old"])
    } else if n == RECORDS * 3 / 4 {
        s(&["DROP", "misc"])
    } else if pick < 0.67 {
        store(r, n, pick, &lat, &lon)
    } else {
        change(r, n, pick, &lat, &lon)
    }
}

/// A SET (or JSET) of an object of any type, for `pick` below 0.67.
fn store(r: &mut Lcg, n: usize, pick: f64, lat: &str, lon: &str) -> Vec<String> {
    if pick < 0.45 {
        set_truck(r, n, lat, lon)
    } else if pick < 0.50 {
        // A crowd at the depot.
        s(&["SET", "fleet", &id(r, "truck"), "POINT", "33.5", "-112.1"])
    } else if pick < 0.58 {
        let (a, b) = (r.range(-50.0, 50.0), r.range(-100.0, 100.0));
        let (c, d) = (a + r.unit() * 5.0, b + r.unit() * 5.0);
        let v: Vec<String> = [a, b, c, d].iter().map(|x| format!("{x:.4}")).collect();
        s(&[
            "SET",
            "zones",
            &id(r, "z"),
            "BOUNDS",
            &v[0],
            &v[1],
            &v[2],
            &v[3],
        ])
    } else if pick < 0.61 {
        let (x, y) = (r.range(-100.0, 100.0), r.range(-50.0, 50.0));
        let poly = format!(
            r#"{{"type":"Polygon","coordinates":[[[{x:.3},{y:.3}],[{:.3},{y:.3}],[{:.3},{:.3}],[{x:.3},{y:.3}]]]}}"#,
            x + 1.0,
            x + 1.0,
            y + 1.0
        );
        s(&["SET", "zones", &id(r, "p"), "OBJECT", &poly])
    } else if pick < 0.65 {
        s(&["SET", "misc", &id(r, "s"), "STRING", &format!("v{n}")])
    } else {
        s(&["JSET", "misc", &id(r, "j"), "a.b", &format!("{n}")])
    }
}

/// A truck's SET: fields (sometimes many, with text values), sometimes EX.
fn set_truck(r: &mut Lcg, n: usize, lat: &str, lon: &str) -> Vec<String> {
    let mut c = s(&["SET", "fleet", &id(r, "truck")]);
    let fields = r.unit();
    if fields < 0.5 {
        c.extend(s(&["FIELD", "speed", &format!("{}", n % 90)]));
    } else if fields < 0.53 {
        // Many fields, a long name, text values.
        let long = "a-field-name-longer-than-most-names";
        c.extend(s(&[
            "FIELD", long, "1.50", "FIELD", "x", "y", "FIELD", "z", "0",
        ]));
    }
    if r.unit() < 0.05 {
        c.extend(s(&["EX", "3600"]));
    }
    c.extend(s(&["POINT", lat, lon]));
    c
}

/// A change to what is stored (FSET, DEL, EXPIRE, PERSIST, PDEL) or a
/// move, for `pick` from 0.67 on.
fn change(r: &mut Lcg, n: usize, pick: f64, lat: &str, lon: &str) -> Vec<String> {
    if pick < 0.75 {
        // Each FSET changes its value (the counter), so it is journaled.
        let field = if r.unit() < 0.5 { "speed" } else { "heading" };
        s(&[
            "FSET",
            "fleet",
            &id(r, "truck"),
            field,
            &format!("{}", n + 1),
        ])
    } else if pick < 0.85 {
        let key = if r.unit() < 0.8 { "fleet" } else { "zones" };
        let prefix = if key == "fleet" { "truck" } else { "z" };
        s(&["DEL", key, &id(r, prefix)])
    } else if pick < 0.89 {
        s(&["EXPIRE", "fleet", &id(r, "truck"), "3600"])
    } else if pick < 0.91 {
        s(&["PERSIST", "fleet", &id(r, "truck")])
    } else if pick < 0.912 {
        s(&[
            "PDEL",
            "fleet",
            &format!("truck{}*", (r.unit() * 300.0) as u32),
        ])
    } else {
        s(&["SET", "fleet", &id(r, "truck"), "POINT", lat, lon])
    }
}

/// Sends every write pipelined, in batches, reading every reply.
fn send_all(c: &mut Resp, cmds: &[Vec<String>]) {
    for batch in cmds.chunks(1000) {
        let mut buf = Vec::new();
        for cmd in batch {
            buf.extend(resp_cmd(cmd));
        }
        c.send(&buf);
        for _ in batch {
            c.read();
        }
    }
}

/// What the server serves: `(query, reply)`; replies of `sorted` queries
/// are compared as sets of ids.
fn state(c: &mut Resp) -> Vec<(String, Vec<u8>)> {
    let mut queries: Vec<(Vec<&str>, bool)> =
        vec![(vec!["KEYS", "*"], false), (vec!["CHANS", "*"], false)];
    let windows = [
        ["-10", "-20", "10", "20"],
        ["30", "-115", "35", "-110"],
        ["-60", "-120", "60", "120"],
    ];
    for key in ["fleet", "zones", "zones-old", "misc"] {
        queries.push((vec!["SCAN", key, "LIMIT", "100000"], false));
        // String values in value order, built in bulk at the end of a load.
        queries.push((vec!["SEARCH", key, "LIMIT", "100000"], false));
        queries.push((vec!["SEARCH", key, "DESC", "LIMIT", "100000"], false));
        queries.push((vec!["STATS", key], false));
        queries.push((vec!["BOUNDS", key], false));
        for w in &windows {
            let mut q = vec!["WITHIN", key, "LIMIT", "100000", "IDS", "BOUNDS"];
            q.extend(w);
            queries.push((q, true));
            let mut q = vec!["INTERSECTS", key, "LIMIT", "100000", "IDS", "BOUNDS"];
            q.extend(w);
            queries.push((q, true));
        }
        for p in [["33.5", "-112.1"], ["0", "0"], ["-40", "90"]] {
            let mut q = vec!["NEARBY", key, "LIMIT", "300", "POINT"];
            q.extend(p);
            queries.push((q, false));
        }
    }
    queries
        .into_iter()
        .map(|(q, sorted)| {
            let mut reply = c.cmd(&q);
            if sorted {
                let mut ids = resp_strings(&reply);
                ids.sort();
                reply = ids.join("\n").into_bytes();
            }
            (q.join(" "), reply)
        })
        .collect()
}

/// `(id, ttl)` of every fleet object with a TTL.
fn ttls(c: &mut Resp) -> Vec<(String, i64)> {
    let ids = resp_strings(&c.cmd(&["SCAN", "fleet", "LIMIT", "100000", "IDS"]));
    let mut out = Vec::new();
    for id in ids {
        let t = c.cmd_str(&["TTL", "fleet", &id]);
        let t: i64 = t.trim().trim_start_matches(':').parse().unwrap();
        if t >= 0 {
            out.push((id, t));
        }
    }
    out
}

#[test]
fn bulk_load_serves_what_the_live_server_did() {
    let dir = temp_dir("aof-load");
    let srv = TestServer::start_in(&dir, &[]);
    let mut c = srv.resp();
    c.stream()
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    send_all(&mut c, &writes());
    let live = state(&mut c);
    let live_ttls = ttls(&mut c);
    assert!(live
        .iter()
        .any(|(q, r)| q.starts_with("SCAN fleet") && r.len() > 100_000));
    assert!(live_ttls.len() > 50, "{} TTLs", live_ttls.len());
    srv.terminate();

    let srv = TestServer::start_in(&dir, &[]);
    let mut c = srv.resp();
    let loaded = state(&mut c);
    for ((q, want), (_, got)) in live.iter().zip(&loaded) {
        assert!(
            !want.starts_with(b"-"),
            "{q}: {}",
            String::from_utf8_lossy(want)
        );
        assert!(
            want == got,
            "{q}: live {} bytes, loaded {} bytes",
            want.len(),
            got.len()
        );
    }
    // TTLs restart from the load: `EX 3600` replayed now.
    let loaded_ttls = ttls(&mut c);
    assert_eq!(
        live_ttls.iter().map(|(id, _)| id).collect::<Vec<_>>(),
        loaded_ttls.iter().map(|(id, _)| id).collect::<Vec<_>>()
    );
    assert!(loaded_ttls.iter().all(|&(_, t)| (3590..=3600).contains(&t)));
    // The indexes built by the load keep working: every truck moves to
    // one spot.
    let moves: Vec<Vec<String>> = (0..3000)
        .map(|i| {
            [
                "SET",
                "fleet",
                &format!("truck{i}"),
                "POINT",
                "1.2345",
                "1.2345",
            ]
            .map(String::from)
            .to_vec()
        })
        .collect();
    send_all(&mut c, &moves);
    let spot = [
        "WITHIN", "fleet", "COUNT", "BOUNDS", "1.2344", "1.2344", "1.2346", "1.2346",
    ];
    let count = c.cmd_str(&spot);
    assert!(count.contains(":3000\r\n"), "{count:?}");
    srv.terminate();
    let _ = std::fs::remove_dir_all(&dir);
}
