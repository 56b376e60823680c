//! NEARBY with a radius ends its walk at the radius (`Nearest`'s cutoff);
//! its results must be exactly the no-radius walk's up to the first
//! object beyond the radius, as Tile38 stops there. Checked in process
//! over keys past the one-leaf size, with points, boxes (some inverted),
//! objects with a NaN side and lines, for many queries and radii.

use tile38_engine::{Engine, Reply, Session};
use tile38_proto::Args;

fn run(engine: &Engine, session: &mut Session, words: &[&str]) -> Vec<u8> {
    let mut args = Args::from_slices(words);
    let mut out = Reply::new(false);
    let res = session.execute(engine, &mut args, &mut out);
    session.lock.release();
    res.unwrap_or_else(|e| panic!("{words:?}: {}", e.message()));
    out.buf
}

/// The bulk strings of a RESP reply, in order (ids and distances of an
/// `IDS` + `DISTANCE` search).
fn bulks(reply: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(reply);
    let mut lines = text.split("\r\n");
    let mut out = Vec::new();
    while let Some(line) = lines.next() {
        if line.starts_with('$') {
            out.push(lines.next().unwrap_or_default().to_string());
        }
    }
    out
}

struct Rng(u64);
impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
}

fn load(engine: &Engine, session: &mut Session, rng: &mut Rng) -> Vec<(f64, f64)> {
    let centres: Vec<(f64, f64)> = (0..6)
        .map(|_| (rng.range(-80.0, 80.0), rng.range(-180.0, 180.0)))
        .collect();
    for i in 0..3000 {
        let (clat, clon) = centres[i % centres.len()];
        let spread = [0.001, 0.05, 1.0][i % 3];
        let (lat, lon) = (
            clat + rng.range(-spread, spread),
            clon + rng.range(-spread, spread),
        );
        let (la, lo) = (format!("{lat:.6}"), format!("{lon:.6}"));
        let id = format!("o{i}");
        let words: Vec<String> = match i % 10 {
            0..=5 => vec!["POINT".into(), la, lo],
            6 | 7 => {
                let d = rng.range(0.0, 0.02);
                let (s, n) = (lat - d, lat + d);
                // Every third box is stored inverted (north below south).
                let (s, n) = if i % 3 == 0 { (n, s) } else { (s, n) };
                vec![
                    "BOUNDS".into(),
                    s.to_string(),
                    lo.clone(),
                    n.to_string(),
                    (lon + d).to_string(),
                ]
            }
            8 => vec![
                "OBJECT".into(),
                format!(
                    "{{\"type\":\"LineString\",\"coordinates\":[[{lo},{la}],[{},{}]]}}",
                    lon + 0.01,
                    lat + 0.01
                ),
            ],
            _ => vec![
                "OBJECT".into(),
                format!("{{\"type\":\"Point\",\"coordinates\":[null,{la}]}}"),
            ],
        };
        let mut cmd = vec!["SET", "k", id.as_str()];
        cmd.extend(words.iter().map(String::as_str));
        run(engine, session, &cmd);
    }
    centres
}

#[test]
fn a_radius_search_is_the_full_walk_cut_at_the_radius() {
    let engine = Engine::in_process();
    let mut session = Session::local(&engine, 1);
    let mut rng = Rng(38);
    let centres = load(&engine, &mut session, &mut rng);
    let mut nonempty = 0;
    for q in 0..300 {
        let (clat, clon) = centres[q % centres.len()];
        let (lat, lon) = (clat + rng.range(-1.5, 1.5), clon + rng.range(-1.5, 1.5));
        let meters = [1.0, 50.0, 500.0, 5_000.0, 50_000.0, 400_000.0][q % 6];
        let (la, lo, m) = (lat.to_string(), lon.to_string(), meters.to_string());
        let full = bulks(&run(
            &engine,
            &mut session,
            &[
                "NEARBY", "k", "LIMIT", "100000", "DISTANCE", "IDS", "POINT", &la, &lo,
            ],
        ));
        // Distances come in order, inverted boxes measured as given
        // (`AsGiven`); the NaN objects close the list.
        let dists: Vec<f64> = full
            .chunks(2)
            .map(|p| p[1].parse().unwrap_or(f64::NAN))
            .collect();
        let measured: Vec<f64> = dists.iter().copied().take_while(|d| !d.is_nan()).collect();
        assert!(
            measured.windows(2).all(|w| w[0] <= w[1]),
            "query {q}: out of order"
        );
        assert!(
            dists[measured.len()..].iter().all(|d| d.is_nan()),
            "query {q}"
        );
        let mut expect = Vec::new();
        for pair in full.chunks(2) {
            let d: f64 = pair[1].parse().unwrap_or(f64::NAN);
            if d > meters {
                break;
            }
            expect.extend_from_slice(pair);
        }
        let got = bulks(&run(
            &engine,
            &mut session,
            &[
                "NEARBY", "k", "LIMIT", "100000", "DISTANCE", "IDS", "POINT", &la, &lo, &m,
            ],
        ));
        assert_eq!(got, expect, "query {q}: {la} {lo} {m}");
        let count = run(
            &engine,
            &mut session,
            &["NEARBY", "k", "COUNT", "POINT", &la, &lo, &m],
        );
        let n = String::from_utf8_lossy(&count)
            .trim()
            .trim_start_matches(':')
            .to_string();
        assert_eq!(n, (expect.len() / 2).to_string(), "query {q} count");
        nonempty += usize::from(!expect.is_empty());
    }
    // The queries reach objects, not only empty places.
    assert!(nonempty > 50, "{nonempty}");
}

#[test]
fn a_radius_that_covers_every_object_also_reaches_the_nan_ones() {
    let engine = Engine::in_process();
    let mut session = Session::local(&engine, 1);
    let mut rng = Rng(7);
    load(&engine, &mut session, &mut rng);
    let got = bulks(&run(
        &engine,
        &mut session,
        &[
            "NEARBY", "k", "LIMIT", "100000", "IDS", "POINT", "0", "0", "40000000",
        ],
    ));
    assert_eq!(got.len(), 3000);
    let cut = bulks(&run(
        &engine,
        &mut session,
        &[
            "NEARBY", "k", "LIMIT", "100000", "IDS", "POINT", "0", "0", "1000",
        ],
    ));
    assert!(cut
        .iter()
        .all(|id| id.trim_start_matches('o').parse::<usize>().unwrap() % 10 != 9));
}

/// Ties at one distance come newest first (Tile38's queue favours the
/// most recently inserted entry), whatever LIMIT cuts the list: a LIMIT k
/// answer is the first k of the whole ordered list, even where the k-th
/// ties with the next (the walk's bound decides whether a tie must be
/// looked for; `NewestFirstTies`).
#[test]
fn ties_come_newest_first_under_every_limit() {
    let engine = Engine::in_process();
    let mut session = Session::local(&engine, 1);
    let mut rng = Rng(5);
    // 400 objects over 40 shared positions (each position rewritten in a
    // shuffled order), so most distances tie, past the one-leaf size.
    let spots: Vec<(String, String)> = (0..40)
        .map(|_| {
            let (lat, lon) = (rng.range(10.0, 11.0), rng.range(20.0, 21.0));
            (format!("{lat:.4}"), format!("{lon:.4}"))
        })
        .collect();
    let mut order: Vec<usize> = (0..400).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, (rng.unit() * (i + 1) as f64) as usize);
    }
    for &i in &order {
        let (la, lo) = &spots[i % spots.len()];
        run(
            &engine,
            &mut session,
            &["SET", "k", &format!("o{i}"), "POINT", la, lo],
        );
    }
    let inserted_at = |id: &str| {
        let i: usize = id.trim_start_matches('o').parse().unwrap();
        order.iter().position(|&o| o == i).unwrap()
    };
    for q in 0..20 {
        let (la, lo) = (
            rng.range(10.0, 11.0).to_string(),
            rng.range(20.0, 21.0).to_string(),
        );
        let query = |limit: &str, session: &mut Session| {
            bulks(&run(
                &engine,
                session,
                &[
                    "NEARBY", "k", "LIMIT", limit, "DISTANCE", "IDS", "POINT", &la, &lo,
                ],
            ))
        };
        let full = query("1000", &mut session);
        assert_eq!(full.len(), 800);
        for w in full.chunks(2).collect::<Vec<_>>().windows(2) {
            let (d0, d1): (f64, f64) = (w[0][1].parse().unwrap(), w[1][1].parse().unwrap());
            assert!(d0 <= d1, "query {q}: out of order");
            if d0 == d1 {
                assert!(
                    inserted_at(&w[0][0]) > inserted_at(&w[1][0]),
                    "query {q}: tie not newest first"
                );
            }
        }
        for limit in [1usize, 2, 3, 7, 10, 11, 25] {
            let got = query(&limit.to_string(), &mut session);
            assert_eq!(got, full[..2 * limit], "query {q} limit {limit}");
        }
    }
}
