//! The named tests, in Tile38's order, and the request each sends: key
//! `key:bench`, ids `id:<n>`, random coordinates with 5 decimals (lines
//! 6), as Tile38 1.37's benchmark. Where Tile38's requests do not match
//! their names, the names win: `GET (string)` reads the strings (Tile38
//! reads the lines), the `… 100km` bounds tests use a 100 km radius
//! (Tile38 uses 10 km).

use crate::wire::Enc;

pub const KEY: &[u8] = b"key:bench";
pub const GEO_KEY: &[u8] = b"key:bench:geo";

/// Degrees of latitude per kilometre.
const DEG_PER_KM: f64 = 1.0 / 111.195;

const SET_SCRIPT: &[u8] = b"return tile38.call('SET', KEYS[1], ARGV[1], 'point', ARGV[2], ARGV[3])";
const GET_SCRIPT: &[u8] = b"return tile38.call('GET', KEYS[1], ARGV[1], 'point')";
const GET4_SCRIPT: &[u8] = b"local a = tile38.call('GET', KEYS[1], ARGV[1], 'point');\
local b = tile38.call('GET', KEYS[1], ARGV[2], 'point');\
local c = tile38.call('GET', KEYS[1], ARGV[3], 'point');\
local d = tile38.call('GET', KEYS[1], ARGV[4], 'point');return d";

/// A tiny deterministic generator (per client, seeded). `Rng(state)` takes
/// the state as given; [`Rng::new`] mixes a seed first.
pub struct Rng(pub u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn unit(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + self.unit() * (hi - lo)
    }

    pub fn point(&mut self) -> (f64, f64) {
        (self.range(-90.0, 90.0), self.range(-180.0, 180.0))
    }
}

/// What one client keeps between its requests.
pub struct State {
    pub rng: Rng,
    /// The id of the last request (the next one is `next_id + 1`).
    pub next_id: u64,
    /// The bounds tests' rectangle: one per connection, as Tile38's.
    pub rect: Option<[f64; 4]>,
}

impl State {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Ping,
    SetPoint,
    SetRect,
    SetLine,
    SetString,
    /// `GET key id <format>`.
    Get(&'static [u8]),
    /// `<cmd> key COUNT CIRCLE lat lon <meters>`.
    Circle(&'static [u8], &'static [u8]),
    /// `<cmd> key COUNT BOUNDS …`, a square of this radius in km.
    Bounds(&'static [u8], f64),
    IntersectsAz,
    NearbyLimit(&'static [u8]),
    NearbyPoint(&'static [u8]),
    EvalSet(&'static [u8]),
    EvalGet(&'static [u8]),
    EvalGet4,
    RedisSet,
    RedisGet,
    GeoAdd,
}

/// One named test.
#[derive(Clone, Copy, Debug)]
pub struct Test {
    pub name: &'static str,
    /// What `-t` matches besides the full name (`EVAL` covers EVALNA and
    /// EVALRO too, as Tile38's groups do).
    group: &'static str,
    kind: Kind,
    /// The block of `-n` ids the test's ids come from (0: points, 1:
    /// rects, 2: lines, 3: strings), so each GET reads what a SET wrote.
    pub id_block: u64,
}

/// A `w × w` km-ish square: `[minlat, minlon, maxlat, maxlon]`.
fn square(rng: &mut Rng, radius_km: f64) -> [f64; 4] {
    let dlat = 2.0 * radius_km * DEG_PER_KM;
    let lat = rng.range(-85.0, 85.0 - dlat);
    let dlon = (dlat / lat.to_radians().cos()).min(180.0);
    let lon = rng.range(-180.0, 180.0 - dlon);
    [lat, lon, lat + dlat, lon + dlon]
}

/// A 20 km LineString at a random diagonal, as Tile38's `SET (line)`.
fn line_json(rng: &mut Rng) -> Vec<u8> {
    let (lat, lon) = (rng.range(-89.0, 89.0), rng.range(-180.0, 180.0));
    let dlat = 20.0 * DEG_PER_KM * if rng.unit() < 0.5 { -1.0 } else { 1.0 };
    let dlon =
        20.0 * DEG_PER_KM / lat.to_radians().cos() * if rng.unit() < 0.5 { -1.0 } else { 1.0 };
    let lon2 = (lon + dlon + 540.0).rem_euclid(360.0) - 180.0;
    let mut out = b"{\"type\":\"LineString\",\"coordinates\":[[".to_vec();
    for (i, v) in [lon, lat, lon2, lat + dlat].into_iter().enumerate() {
        let mut buf = [0u8; 48];
        let n = crate::wire::fmt_fixed(&mut buf, v, 6);
        out.extend_from_slice(&buf[..n]);
        out.extend_from_slice([&b","[..], b"],[", b",", b"]]}"][i]);
    }
    out
}

impl Test {
    /// Appends the next request of this test.
    pub fn write(&self, st: &mut State, out: &mut Vec<u8>) {
        let mut e = Enc(out);
        match self.kind {
            Kind::Ping => {
                e.array(1).bulk(b"PING");
            }
            Kind::SetPoint => set_point(st, &mut e),
            Kind::SetRect => set_rect(st, &mut e),
            Kind::SetLine => set_line(st, &mut e),
            Kind::SetString => {
                let id = st.id();
                e.array(5).bulk(b"SET").bulk(KEY).id(id);
                e.bulk(b"STRING").bulk(b"xxx");
            }
            Kind::Get(format) => {
                let id = st.id();
                e.array(4).bulk(b"GET").bulk(KEY).id(id).bulk(format);
            }
            Kind::Circle(cmd, meters) => circle(st, &mut e, cmd, meters),
            Kind::Bounds(cmd, km) => bounds(st, &mut e, cmd, km),
            Kind::IntersectsAz => intersects_az(&mut e),
            Kind::NearbyLimit(n) => nearby_limit(st, &mut e, n),
            Kind::NearbyPoint(meters) => nearby_point(st, &mut e, meters),
            Kind::EvalSet(cmd) => eval_set(st, &mut e, cmd),
            Kind::EvalGet(cmd) => eval_get(st, &mut e, cmd),
            Kind::EvalGet4 => eval_get4(st, &mut e),
            Kind::RedisSet | Kind::RedisGet => {
                redis_key(st, &mut e, matches!(self.kind, Kind::RedisSet))
            }
            Kind::GeoAdd => geo_add(st, &mut e),
        }
    }

    /// What to send once, on its own connection, before the test.
    pub fn setup(&self) -> Option<Vec<u8>> {
        matches!(self.kind, Kind::IntersectsAz).then(|| {
            let mut out = Vec::new();
            let az = crate::arizona::multipolygon();
            Enc(&mut out)
                .array(5)
                .bulk(b"SET")
                .bulk(GEO_KEY)
                .bulk(b"az")
                .bulk(b"OBJECT")
                .bulk(&az);
            out
        })
    }

    /// Whether `-t` word `w` (lower case, trimmed) selects this test: its
    /// full name, its first word or its group.
    fn matches(&self, w: &str) -> bool {
        let first = self.name.split(' ').next().unwrap_or("");
        self.name.eq_ignore_ascii_case(w)
            || first.eq_ignore_ascii_case(w)
            || self.group.eq_ignore_ascii_case(w)
    }
}

// The requests of [`Test::write`] (but for the shortest, which it
// writes itself), one function per kind.

fn set_point(st: &mut State, e: &mut Enc) {
    let (lat, lon) = st.rng.point();
    let id = st.id();
    e.array(6).bulk(b"SET").bulk(KEY).id(id).bulk(b"POINT");
    e.fixed(lat, 5).fixed(lon, 5);
}

fn set_rect(st: &mut State, e: &mut Enc) {
    let r = square(&mut st.rng, 10.0);
    let id = st.id();
    e.array(8).bulk(b"SET").bulk(KEY).id(id).bulk(b"BOUNDS");
    for v in r {
        e.fixed(v, 5);
    }
}

fn set_line(st: &mut State, e: &mut Enc) {
    let json = line_json(&mut st.rng);
    let id = st.id();
    e.array(5).bulk(b"SET").bulk(KEY).id(id);
    e.bulk(b"OBJECT").bulk(&json);
}

fn circle(st: &mut State, e: &mut Enc, cmd: &[u8], meters: &[u8]) {
    let (lat, lon) = st.rng.point();
    e.array(7)
        .bulk(cmd)
        .bulk(KEY)
        .bulk(b"COUNT")
        .bulk(b"CIRCLE");
    e.fixed(lat, 5).fixed(lon, 5).bulk(meters);
}

fn bounds(st: &mut State, e: &mut Enc, cmd: &[u8], km: f64) {
    let rng = &mut st.rng;
    let r = *st.rect.get_or_insert_with(|| square(rng, km));
    e.array(8)
        .bulk(cmd)
        .bulk(KEY)
        .bulk(b"COUNT")
        .bulk(b"BOUNDS");
    for v in r {
        e.fixed(v, 5);
    }
}

fn intersects_az(e: &mut Enc) {
    e.array(8)
        .bulk(b"INTERSECTS")
        .bulk(KEY)
        .bulk(b"LIMIT")
        .bulk(b"5");
    e.bulk(b"COUNT").bulk(b"GET").bulk(GEO_KEY).bulk(b"az");
}

fn nearby_limit(st: &mut State, e: &mut Enc, n: &[u8]) {
    let (lat, lon) = st.rng.point();
    e.array(8).bulk(b"NEARBY").bulk(KEY).bulk(b"LIMIT").bulk(n);
    e.bulk(b"COUNT").bulk(b"POINT").fixed(lat, 5).fixed(lon, 5);
}

fn nearby_point(st: &mut State, e: &mut Enc, meters: &[u8]) {
    let (lat, lon) = st.rng.point();
    e.array(7)
        .bulk(b"NEARBY")
        .bulk(KEY)
        .bulk(b"COUNT")
        .bulk(b"POINT");
    e.fixed(lat, 5).fixed(lon, 5).bulk(meters);
}

fn eval_set(st: &mut State, e: &mut Enc, cmd: &[u8]) {
    let (lat, lon) = st.rng.point();
    let id = st.id();
    e.array(7)
        .bulk(cmd)
        .bulk(SET_SCRIPT)
        .bulk(b"1")
        .bulk(KEY)
        .id(id);
    e.fixed(lat, 5).fixed(lon, 5);
}

fn eval_get(st: &mut State, e: &mut Enc, cmd: &[u8]) {
    let id = st.id();
    e.array(5)
        .bulk(cmd)
        .bulk(GET_SCRIPT)
        .bulk(b"1")
        .bulk(KEY)
        .id(id);
}

fn eval_get4(st: &mut State, e: &mut Enc) {
    let id = st.id();
    e.array(8)
        .bulk(b"EVALRO")
        .bulk(GET4_SCRIPT)
        .bulk(b"1")
        .bulk(KEY);
    for i in id..id + 4 {
        e.id(i);
    }
}

/// Redis's `SET key:<n> xxx` (`set`) or `GET key:<n>`.
fn redis_key(st: &mut State, e: &mut Enc, set: bool) {
    let mut key = b"key:".to_vec();
    crate::wire::push_u64(&mut key, (st.rng.unit() * 100_000.0) as u64);
    if set {
        e.array(3).bulk(b"SET").bulk(&key).bulk(b"xxx");
    } else {
        e.array(2).bulk(b"GET").bulk(&key);
    }
}

fn geo_add(st: &mut State, e: &mut Enc) {
    // Redis's GEOADD takes longitude first and latitudes within ±85.05.
    let (lat, lon) = (st.rng.range(-85.0, 85.0), st.rng.range(-180.0, 180.0));
    let id = st.id();
    e.array(5)
        .bulk(b"GEOADD")
        .bulk(KEY)
        .fixed(lon, 5)
        .fixed(lat, 5)
        .id(id);
}

const fn t(name: &'static str, group: &'static str, kind: Kind, id_block: u64) -> Test {
    Test {
        name,
        group,
        kind,
        id_block,
    }
}

/// Every Tile38 test, in Tile38's order.
#[rustfmt::skip]
pub const TILE38: &[Test] = &[
    t("PING", "PING", Kind::Ping, 0),
    t("SET (point)", "SET", Kind::SetPoint, 0),
    t("SET (rect)", "SET", Kind::SetRect, 1),
    t("SET (line)", "SET", Kind::SetLine, 2),
    t("SET (string)", "SET", Kind::SetString, 3),
    t("GET (point)", "GET", Kind::Get(b"POINT"), 0),
    t("GET (rect)", "GET", Kind::Get(b"BOUNDS"), 1),
    t("GET (string)", "GET", Kind::Get(b"OBJECT"), 3),
    t("INTERSECTS (intersects-circle 1km)", "INTERSECTS", Kind::Circle(b"INTERSECTS", b"1000"), 0),
    t("INTERSECTS (intersects-circle 10km)", "INTERSECTS", Kind::Circle(b"INTERSECTS", b"10000"), 0),
    t("INTERSECTS (intersects-circle 100km)", "INTERSECTS", Kind::Circle(b"INTERSECTS", b"100000"), 0),
    t("INTERSECTS (intersects-bounds 1km)", "INTERSECTS", Kind::Bounds(b"INTERSECTS", 1.0), 0),
    t("INTERSECTS (intersects-bounds 10km)", "INTERSECTS", Kind::Bounds(b"INTERSECTS", 10.0), 0),
    t("INTERSECTS (intersects-bounds 100km)", "INTERSECTS", Kind::Bounds(b"INTERSECTS", 100.0), 0),
    t("INTERSECTS (intersects-az limit 5)", "INTERSECTS", Kind::IntersectsAz, 0),
    t("WITHIN (within-circle 1km)", "WITHIN", Kind::Circle(b"WITHIN", b"1000"), 0),
    t("WITHIN (within-circle 10km)", "WITHIN", Kind::Circle(b"WITHIN", b"10000"), 0),
    t("WITHIN (within-circle 100km)", "WITHIN", Kind::Circle(b"WITHIN", b"100000"), 0),
    t("WITHIN (within-bounds 1km)", "WITHIN", Kind::Bounds(b"WITHIN", 1.0), 0),
    t("WITHIN (within-bounds 10km)", "WITHIN", Kind::Bounds(b"WITHIN", 10.0), 0),
    t("WITHIN (within-bounds 100km)", "WITHIN", Kind::Bounds(b"WITHIN", 100.0), 0),
    t("NEARBY (limit 1)", "NEARBY", Kind::NearbyLimit(b"1"), 0),
    t("NEARBY (limit 10)", "NEARBY", Kind::NearbyLimit(b"10"), 0),
    t("NEARBY (limit 100)", "NEARBY", Kind::NearbyLimit(b"100"), 0),
    t("NEARBY (point 1km)", "NEARBY", Kind::NearbyPoint(b"1000"), 0),
    t("NEARBY (point 10km)", "NEARBY", Kind::NearbyPoint(b"10000"), 0),
    t("NEARBY (point 100km)", "NEARBY", Kind::NearbyPoint(b"100000"), 0),
    t("EVAL (set point)", "EVAL", Kind::EvalSet(b"EVAL"), 0),
    t("EVALNA (set point)", "EVAL", Kind::EvalSet(b"EVALNA"), 1),
    t("EVALRO (get point)", "EVAL", Kind::EvalGet(b"EVALRO"), 0),
    t("EVALRO (get 4 points)", "EVAL", Kind::EvalGet4, 0),
    t("EVALNA (get point)", "EVAL", Kind::EvalGet(b"EVALNA"), 0),
];

/// `--redis`: the tests that make sense against a Redis server.
pub const REDIS: &[Test] = &[
    t("PING", "PING", Kind::Ping, 0),
    t("SET", "SET", Kind::RedisSet, 0),
    t("GET", "GET", Kind::RedisGet, 0),
    t("GEOADD", "GEOADD", Kind::GeoAdd, 0),
];

/// The tests `-t` selects (all without `-t`), in run order. Each
/// comma-separated word matches a full test name, a first word or a group,
/// case-insensitively (Tile38 matches first words only).
pub fn selected(filter: Option<&str>, redis: bool) -> Vec<Test> {
    let all = if redis { REDIS } else { TILE38 };
    let words: Option<Vec<String>> =
        filter.map(|f| f.split(',').map(|w| w.trim().to_string()).collect());
    all.iter()
        .filter(|t| {
            words
                .as_ref()
                .is_none_or(|ws| ws.iter().any(|w| t.matches(w)))
        })
        .copied()
        .collect()
}

#[cfg(test)]
mod unit {
    use super::*;

    fn names(filter: &str) -> Vec<&'static str> {
        selected(Some(filter), false)
            .iter()
            .map(|t| t.name)
            .collect()
    }

    #[test]
    fn selection_by_word_group_or_name() {
        assert_eq!(names("PING,GET (point)"), ["PING", "GET (point)"]);
        assert_eq!(names("get,nearby").len(), 9);
        assert_eq!(names("eval").len(), 5);
        assert_eq!(names("EVALRO").len(), 2);
        assert!(names("NOSUCH").is_empty());
        assert_eq!(selected(None, false).len(), TILE38.len());
    }

    fn request(test: &str, seed: u64) -> String {
        let t = selected(Some(test), false)[0];
        let mut st = State {
            rng: Rng::new(seed),
            next_id: 6,
            rect: None,
        };
        let mut out = Vec::new();
        t.write(&mut st, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn requests_as_tile38_sends_them() {
        assert_eq!(request("PING", 1), "*1\r\n$4\r\nPING\r\n");
        let set = request("SET (string)", 1);
        assert_eq!(
            set,
            "*5\r\n$3\r\nSET\r\n$9\r\nkey:bench\r\n$4\r\nid:7\r\n$6\r\nSTRING\r\n$3\r\nxxx\r\n"
        );
        let line = request("SET (line)", 2);
        assert!(
            line.contains("{\"type\":\"LineString\",\"coordinates\":[["),
            "{line}"
        );
        let json = line.split("\r\n").nth(10).unwrap();
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(v["coordinates"].as_array().unwrap().len(), 2);
        let near = request("NEARBY (limit 10)", 3);
        assert!(near
            .starts_with("*8\r\n$6\r\nNEARBY\r\n$9\r\nkey:bench\r\n$5\r\nLIMIT\r\n$2\r\n10\r\n"));
        let eval = request("EVALRO (get 4 points)", 3);
        assert!(eval.contains("id:7\r\n$4\r\nid:8\r\n$4\r\nid:9\r\n$5\r\nid:10\r\n"));
    }

    #[test]
    fn bounds_rectangle_fixed_per_connection() {
        let t = selected(Some("INTERSECTS (intersects-bounds 100km)"), false)[0];
        let mut st = State {
            rng: Rng::new(9),
            next_id: 0,
            rect: None,
        };
        let (mut a, mut b) = (Vec::new(), Vec::new());
        t.write(&mut st, &mut a);
        t.write(&mut st, &mut b);
        assert_eq!(a, b);
        let r = st.rect.unwrap();
        assert!((r[2] - r[0] - 200.0 * DEG_PER_KM).abs() < 1e-9);
    }
}
