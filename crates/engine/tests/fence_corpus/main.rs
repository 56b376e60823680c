//! The recorded geofence corpus (`tests/data/conformance/fence.jsonl`,
//! Tile38 1.37) against `tile38-geofence`, in process: every case's
//! commands run on an in-process engine, every change goes through
//! [`tile38_geofence::Geofence::evaluate`], and each listener's events are
//! compared with the recorded ones after `fence_replay.py`'s
//! normalisation (`time` → `<time>`, groups renamed g1, g2, … in order of
//! first appearance over the listeners in order) and with its rules
//! (member order kept, numbers equal within 1e-9 relative).
//!
//! Only geofence events are compared (messages with a `command` member);
//! subscription confirmations, PUBLISH payloads, PONGs and framing belong
//! to the server's delivery layer, not to this crate.

mod define;
mod replay;

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::Value as Json;

use replay::Replay;

const EVENT_COMMANDS: [&str; 6] = ["set", "fset", "expire", "persist", "del", "drop"];

fn corpus() -> Vec<Json> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/conformance/fence.jsonl");
    let text = std::fs::read_to_string(&path).expect("fence corpus");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("corpus line"))
        .collect()
}

/// The geofence event inside a recorded message, if it is one.
fn event_of(msg: &Json) -> Option<&Json> {
    let payload = match msg.get("array").and_then(Json::as_array) {
        Some(items) => items.last()?.get("json")?,
        None => msg.get("json")?,
    };
    let command = payload.get("command")?.as_str()?;
    (EVENT_COMMANDS.contains(&command) && payload.get("time").is_some()).then_some(payload)
}

/// `fence_replay.py:normalize_object` over all listeners of a case.
fn normalize(listeners: &mut [Vec<Json>]) {
    let mut groups: HashMap<String, String> = HashMap::new();
    for msgs in listeners.iter_mut() {
        for m in msgs.iter_mut() {
            let Some(obj) = m.as_object_mut() else {
                continue;
            };
            if let Some(Json::String(t)) = obj.get("time") {
                if t != "<time>" && is_rfc3339(t) {
                    obj.insert("time".into(), Json::String("<time>".into()));
                }
            }
            if let Some(Json::String(g)) = obj.get("group").cloned() {
                let n = groups.len() + 1;
                let name = groups.entry(g).or_insert_with(|| format!("g{n}")).clone();
                obj.insert("group".into(), Json::String(name));
            }
        }
    }
}

fn is_rfc3339(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() >= 20 && b[4] == b'-' && b[10] == b'T' && (t.ends_with('Z') || b[b.len() - 3] == b':')
}

fn num_equal(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// The first difference (member order included), as the replayer reports.
fn diff(exp: &Json, got: &Json, path: &str) -> Option<String> {
    match (exp, got) {
        (Json::Object(e), Json::Object(g)) => {
            let (ek, gk): (Vec<_>, Vec<_>) = (e.keys().collect(), g.keys().collect());
            if ek != gk {
                return Some(format!("{path}: members {ek:?} != {gk:?}"));
            }
            e.iter()
                .find_map(|(k, v)| diff(v, &g[k], &format!("{path}.{k}")))
        }
        (Json::Array(e), Json::Array(g)) if e.len() == g.len() => e
            .iter()
            .zip(g)
            .enumerate()
            .find_map(|(i, (x, y))| diff(x, y, &format!("{path}[{i}]"))),
        (Json::Number(e), Json::Number(g)) => {
            let (e, g) = (e.as_f64().unwrap(), g.as_f64().unwrap());
            (!num_equal(e, g)).then(|| format!("{path}: {e} != {g}"))
        }
        _ => (exp != got).then(|| format!("{path}: {exp} != {got}")),
    }
}

/// Runs one case; `Err` describes the first mismatch.
fn run_case(case: &Json) -> Result<usize, String> {
    let mut r = Replay::new();
    let strs = |v: &Json| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    for cmd in case["setup"].as_array().into_iter().flatten() {
        r.control(&strs(cmd));
    }
    let specs = case["listeners"].as_array().unwrap();
    for l in specs {
        r.listen(l);
    }
    for step in case["steps"].as_array().unwrap() {
        r.step(step);
    }
    let mut expected: Vec<Vec<Json>> = specs
        .iter()
        .map(|l| {
            let msgs = l["expect"].as_array().unwrap();
            msgs.iter().filter_map(event_of).cloned().collect()
        })
        .collect();
    let mut got: Vec<Vec<Json>> = r.listeners.iter().map(|l| l.got.clone()).collect();
    normalize(&mut expected);
    normalize(&mut got);
    let unordered: Vec<bool> = specs.iter().map(|l| l["unordered"] == true).collect();
    let mut events = 0;
    for (i, (e, g)) in expected.iter_mut().zip(got.iter_mut()).enumerate() {
        if unordered[i] {
            e.sort_by_key(|m| m.to_string());
            g.sort_by_key(|m| m.to_string());
        }
        let name = &r.listeners[i].name;
        for (k, (x, y)) in e.iter().zip(g.iter()).enumerate() {
            if let Some(d) = diff(x, y, "") {
                return Err(format!(
                    "listener {name} message {}: {d}\n  expected {x}\n  got      {y}",
                    k + 1
                ));
            }
        }
        if e.len() != g.len() {
            let extra = e.get(g.len()).or(g.get(e.len()));
            return Err(format!(
                "listener {name}: expected {} events, got {}; first differing: {}",
                e.len(),
                g.len(),
                extra.map_or(String::new(), |m| m.to_string())
            ));
        }
        events += e.len();
    }
    Ok(events)
}

#[test]
fn fence_corpus_events_match_tile38() {
    let cases = corpus();
    assert_eq!(cases.len(), 87, "the corpus has 87 cases");
    let (mut passed, mut with_events, mut events) = (0, 0, 0);
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        match run_case(case) {
            Ok(n) => {
                passed += 1;
                with_events += usize::from(n > 0);
                events += n;
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    println!(
        "fence corpus: {passed}/{} cases match ({with_events} with events, {events} events)",
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
