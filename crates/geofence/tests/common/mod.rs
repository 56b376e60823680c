//! A small world for the crate's tests: a database the tests write to
//! directly, a [`Geofence`], and the changes each write makes, with the
//! events normalised as `fence_replay.py` does (`time` → `T`, group ids →
//! g1, g2, … in order of first appearance).

#![allow(dead_code)]

use std::collections::HashMap;

use tile38_collection::{Database, Item, SetCond};
use tile38_geo::predicate::Area;
use tile38_geo::{FieldValue, Geometry, Position, Rect, Value};
use tile38_geofence::{
    Change, Command, DetectSet, Event, Fence, FenceId, FenceSpec, Geofence, Region, Target,
};

/// 2026-12-05T19:35:34.942857155Z.
pub const TIME: i64 = 1_796_499_334_942_857_155;

pub fn point(lat: f64, lon: f64) -> Value {
    Value::Point {
        x: lon,
        y: lat,
        z: 0.0,
    }
}

pub fn bounds(min_lat: f64, min_lon: f64, max_lat: f64, max_lon: f64) -> Value {
    Value::Rect(Rect::new(
        Position::new(min_lon, min_lat),
        Position::new(max_lon, max_lat),
    ))
}

pub fn geojson(text: &str) -> Value {
    Value::from_geometry(Geometry::parse(text.as_bytes()).expect("GeoJSON"))
}

/// `WITHIN|INTERSECTS … BOUNDS` area.
pub fn box_area(min_lat: f64, min_lon: f64, max_lat: f64, max_lon: f64) -> Area {
    Area::Value(bounds(min_lat, min_lon, max_lat, max_lon))
}

pub fn circle(lat: f64, lon: f64, meters: f64) -> Area {
    Area::Circle {
        center: Position::new(lon, lat),
        meters,
    }
}

/// A channel spec `WITHIN key FENCE [DETECT list] BOUNDS 0 0 10 10`.
pub fn chan(name: &str, key: &str, detect: Option<&str>) -> FenceSpec {
    let mut s = FenceSpec::new(
        Target::Channel,
        name.as_bytes(),
        key.as_bytes(),
        Region::Within(box_area(0.0, 0.0, 10.0, 10.0)),
    );
    s.detect = detect.map(|d| DetectSet::parse_list(d.as_bytes()).expect("DETECT"));
    s
}

pub struct World {
    pub db: Database,
    pub geo: Geofence,
    groups: HashMap<String, String>,
    /// Evaluated fences of the last change.
    pub evaluated: usize,
}

impl World {
    pub fn new() -> World {
        World {
            db: Database::new(),
            geo: Geofence::new(42),
            groups: HashMap::new(),
            evaluated: 0,
        }
    }

    pub fn add(&mut self, spec: FenceSpec) -> FenceId {
        self.geo.insert(Fence::new(spec))
    }

    fn item(&self, key: &str, id: &str) -> Option<Item> {
        self.db.get(key.as_bytes())?.get(id.as_bytes()).cloned()
    }

    /// Evaluates a change and returns its normalised events.
    pub fn change(
        &mut self,
        command: Command,
        key: &str,
        id: &str,
        old: Option<&Item>,
    ) -> Vec<String> {
        let new = self.item(key, id);
        let new = if command == Command::Del {
            None
        } else {
            new.as_ref()
        };
        let change = Change {
            command,
            key: key.as_bytes(),
            id: id.as_bytes(),
            old,
            new,
            time: TIME,
        };
        let mut out: Vec<Event> = Vec::new();
        self.evaluated = self.geo.evaluate(&change, &self.db, |_, _| true, &mut out);
        out.iter().map(|e| self.normalize(&e.json)).collect()
    }

    /// `SET key id <value> [FIELD name value]…`.
    pub fn set_with(
        &mut self,
        key: &str,
        id: &str,
        value: Value,
        fields: &[(&str, &str)],
    ) -> Vec<String> {
        let old = self.item(key, id);
        let fields = fields
            .iter()
            .map(|(n, v)| (n.as_bytes().into(), FieldValue::parse(v.as_bytes())))
            .collect();
        let col = self.db.get_or_create(key.as_bytes());
        let outcome = col.set(id.as_bytes(), value, fields, None, SetCond::Always);
        assert!(!matches!(outcome, tile38_collection::SetOutcome::Refused));
        self.change(Command::Set, key, id, old.as_ref())
    }

    pub fn set(&mut self, key: &str, id: &str, value: Value) -> Vec<String> {
        self.set_with(key, id, value, &[])
    }

    /// `FSET key id name value`: an event only when a field changed.
    pub fn fset(&mut self, key: &str, id: &str, name: &str, value: &str) -> Vec<String> {
        let old = self.item(key, id);
        let col = self.db.get_mut(key.as_bytes()).expect("key");
        let fields = vec![(name.as_bytes().into(), FieldValue::parse(value.as_bytes()))];
        if col.set_fields(id.as_bytes(), fields, false).map(|(n, _)| n) != Some(1) {
            return Vec::new();
        }
        self.change(Command::Fset, key, id, old.as_ref())
    }

    /// EXPIRE / PERSIST (the deadline itself does not matter here).
    pub fn expire(&mut self, key: &str, id: &str, command: Command) -> Vec<String> {
        let old = self.item(key, id);
        let col = self.db.get_mut(key.as_bytes()).expect("key");
        let at = (command == Command::Expire).then_some(TIME + 1_000_000_000);
        col.set_expires(id.as_bytes(), at);
        self.change(command, key, id, old.as_ref())
    }

    pub fn del(&mut self, key: &str, id: &str) -> Vec<String> {
        let Some(col) = self.db.get_mut(key.as_bytes()) else {
            return Vec::new();
        };
        let Some(old) = col.delete(id.as_bytes()) else {
            return Vec::new();
        };
        self.db.drop_if_empty(key.as_bytes());
        self.change(Command::Del, key, id, Some(&old))
    }

    pub fn drop_key(&mut self, key: &str) -> Vec<String> {
        if self.db.remove(key.as_bytes()).is_none() {
            return Vec::new();
        }
        self.change(Command::Drop, key, "", None)
    }

    fn normalize(&mut self, json: &str) -> String {
        let mut s = json.replace("\"time\":\"2026-12-05T19:35:34.942857155Z\"", "\"time\":T");
        if let Some(at) = s.find("\"group\":\"") {
            let start = at + 9;
            let hex = s[start..start + 24].to_string();
            assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()), "{json}");
            let n = self.groups.len() + 1;
            let name = self
                .groups
                .entry(hex.clone())
                .or_insert_with(|| format!("g{n}"));
            s.replace_range(start - 1..start + 25, name);
        }
        s
    }
}

/// `{"command":"set","group":g1,"detect":"enter","hook":"ch","key":"fleet","time":T,"id":"t1","object":{…}}`
/// for the common point case.
pub fn msg(
    cmd: &str,
    group: &str,
    detect: &str,
    hook: &str,
    id: &str,
    lat: f64,
    lon: f64,
) -> String {
    let hook = if hook.is_empty() {
        String::new()
    } else {
        format!(",\"hook\":\"{hook}\"")
    };
    format!(
        "{{\"command\":\"{cmd}\",\"group\":{group},\"detect\":\"{detect}\"{hook},\"key\":\"fleet\",\"time\":T,\"id\":\"{id}\",\"object\":{{\"type\":\"Point\",\"coordinates\":[{lon},{lat}]}}}}"
    )
}
