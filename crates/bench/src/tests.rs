//! The named tests and the request each sends. Key `key:bench`, ids
//! `id:<n>`, coordinates random with 5 decimals, as Tile38's benchmark.

/// A tiny deterministic generator (per client, seeded).
pub struct Rng(u64);

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

    pub fn lat(&mut self) -> String {
        format!("{:.5}", self.unit() * 180.0 - 90.0)
    }

    pub fn lon(&mut self) -> String {
        format!("{:.5}", self.unit() * 360.0 - 180.0)
    }
}

pub const KEY: &str = "key:bench";

/// What a client keeps between requests of one test.
pub struct State {
    pub rng: Rng,
    pub next_id: u64,
    /// The rectangle of the bounds tests: fixed per connection, as Tile38.
    pub rect: Option<[String; 4]>,
}

/// One named test.
pub struct Test {
    pub name: &'static str,
    /// Builds the arguments of the next request.
    pub make: fn(&mut State) -> Vec<String>,
}

fn v(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn id(s: &mut State) -> String {
    s.next_id += 1;
    format!("id:{}", s.next_id)
}

/// A square of about `km` kilometres around a random point.
fn rect(s: &mut State, km: f64) -> Vec<String> {
    let r = s.rect.get_or_insert_with(|| {
        let (lat, lon) = (s.rng.unit() * 160.0 - 80.0, s.rng.unit() * 340.0 - 170.0);
        let dlat = km / 111.32;
        let dlon = dlat / lat.to_radians().cos();
        [
            format!("{lat:.5}"),
            format!("{lon:.5}"),
            format!("{:.5}", lat + dlat),
            format!("{:.5}", lon + dlon),
        ]
    });
    r.to_vec()
}

macro_rules! search {
    ($cmd:literal, circle, $m:literal) => {
        |s: &mut State| {
            let (lat, lon) = (s.rng.lat(), s.rng.lon());
            v(&[$cmd, KEY, "COUNT", "CIRCLE", &lat, &lon, $m])
        }
    };
    ($cmd:literal, bounds, $km:literal) => {
        |s: &mut State| {
            let mut a = v(&[$cmd, KEY, "COUNT", "BOUNDS"]);
            a.extend(rect(s, $km));
            a
        }
    };
}

macro_rules! nearby {
    (limit $n:literal) => {
        |s: &mut State| {
            let (lat, lon) = (s.rng.lat(), s.rng.lon());
            v(&["NEARBY", KEY, "LIMIT", $n, "COUNT", "POINT", &lat, &lon])
        }
    };
    (point $m:literal) => {
        |s: &mut State| {
            let (lat, lon) = (s.rng.lat(), s.rng.lon());
            v(&["NEARBY", KEY, "COUNT", "POINT", &lat, &lon, $m])
        }
    };
}

/// Every test, in Tile38's order (the EVAL tests need scripting, which
/// this server does not have yet, and are left out).
pub fn all() -> Vec<Test> {
    vec![
        Test {
            name: "PING",
            make: |_| v(&["PING"]),
        },
        Test {
            name: "SET (point)",
            make: |s| {
                let (i, lat, lon) = (id(s), s.rng.lat(), s.rng.lon());
                v(&["SET", KEY, &i, "POINT", &lat, &lon])
            },
        },
        Test {
            name: "SET (rect)",
            make: |s| {
                let i = id(s);
                let mut a = v(&["SET", KEY, &i, "BOUNDS"]);
                s.rect = None;
                a.extend(rect(s, 20.0));
                s.rect = None;
                a
            },
        },
        Test {
            name: "SET (string)",
            make: |s| v(&["SET", KEY, &id(s), "STRING", "xxx"]),
        },
        Test {
            name: "GET (point)",
            make: |s| v(&["GET", KEY, &id(s), "POINT"]),
        },
        Test {
            name: "INTERSECTS (intersects-circle 1km)",
            make: search!("INTERSECTS", circle, "1000"),
        },
        Test {
            name: "INTERSECTS (intersects-circle 10km)",
            make: search!("INTERSECTS", circle, "10000"),
        },
        Test {
            name: "INTERSECTS (intersects-circle 100km)",
            make: search!("INTERSECTS", circle, "100000"),
        },
        Test {
            name: "INTERSECTS (intersects-bounds 1km)",
            make: search!("INTERSECTS", bounds, 1.0),
        },
        Test {
            name: "INTERSECTS (intersects-bounds 10km)",
            make: search!("INTERSECTS", bounds, 10.0),
        },
        Test {
            name: "INTERSECTS (intersects-bounds 100km)",
            make: search!("INTERSECTS", bounds, 100.0),
        },
        Test {
            name: "WITHIN (within-circle 1km)",
            make: search!("WITHIN", circle, "1000"),
        },
        Test {
            name: "WITHIN (within-circle 10km)",
            make: search!("WITHIN", circle, "10000"),
        },
        Test {
            name: "WITHIN (within-circle 100km)",
            make: search!("WITHIN", circle, "100000"),
        },
        Test {
            name: "WITHIN (within-bounds 1km)",
            make: search!("WITHIN", bounds, 1.0),
        },
        Test {
            name: "WITHIN (within-bounds 10km)",
            make: search!("WITHIN", bounds, 10.0),
        },
        Test {
            name: "WITHIN (within-bounds 100km)",
            make: search!("WITHIN", bounds, 100.0),
        },
        Test {
            name: "NEARBY (limit 1)",
            make: nearby!(limit "1"),
        },
        Test {
            name: "NEARBY (limit 10)",
            make: nearby!(limit "10"),
        },
        Test {
            name: "NEARBY (limit 100)",
            make: nearby!(limit "100"),
        },
        Test {
            name: "NEARBY (point 1km)",
            make: nearby!(point "1000"),
        },
        Test {
            name: "NEARBY (point 10km)",
            make: nearby!(point "10000"),
        },
        Test {
            name: "NEARBY (point 100km)",
            make: nearby!(point "100000"),
        },
    ]
}

/// Tile38's `-t` rule: each comma-separated word matches a test whose
/// first word equals it, case-insensitively.
pub fn selected(filter: Option<&str>) -> Vec<Test> {
    let words: Option<Vec<String>> = filter.map(|f| {
        f.split(',')
            .map(|w| w.trim().to_ascii_lowercase())
            .collect()
    });
    all()
        .into_iter()
        .filter(|t| {
            let first = t.name.split(' ').next().unwrap_or("").to_ascii_lowercase();
            words.as_ref().is_none_or(|w| w.contains(&first))
        })
        .collect()
}
