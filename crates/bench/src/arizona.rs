//! The polygon of `INTERSECTS (intersects-az limit 5)`. Tile38's benchmark
//! embeds Arizona's 45 kB outline (about 2,800 vertices); this is the
//! state's outline traced through its corners, densified to the same
//! vertex count, with the Colorado river edges wiggling as rivers do, so
//! the search does as much work per request.

use crate::wire::fmt_fixed;

/// Corners (lon, lat), clockwise from the Four Corners; the last edges
/// follow the Colorado river north.
const CORNERS: &[(f64, f64)] = &[
    (-109.045, 37.000),
    (-109.045, 31.332),
    (-111.075, 31.332),
    (-114.813, 32.494),
    (-114.719, 32.718),
    (-114.468, 32.845),
    (-114.531, 33.928),
    (-114.135, 34.314),
    (-114.634, 35.002),
    (-114.572, 35.140),
    (-114.754, 36.087),
    (-114.050, 36.193),
    (-114.050, 37.000),
];
/// Edges from this corner index on are river edges.
const RIVER_FROM: usize = 4;
const VERTICES: usize = 2800;

/// The outline as a closed ring of (lon, lat).
pub fn ring() -> Vec<(f64, f64)> {
    let n = CORNERS.len();
    let edge_len = |i: usize| {
        let (a, b) = (CORNERS[i], CORNERS[(i + 1) % n]);
        ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt()
    };
    let perimeter: f64 = (0..n).map(edge_len).sum();
    let mut ring = Vec::with_capacity(VERTICES + 1);
    for i in 0..n {
        let (a, b) = (CORNERS[i], CORNERS[(i + 1) % n]);
        let steps = ((edge_len(i) / perimeter * VERTICES as f64).round() as usize).max(1);
        let river = (RIVER_FROM..n - 1).contains(&i);
        for s in 0..steps {
            let f = s as f64 / steps as f64;
            let wiggle = if river && s > 0 {
                0.01 * (s as f64 * 0.7).sin()
            } else {
                0.0
            };
            ring.push((a.0 + (b.0 - a.0) * f + wiggle, a.1 + (b.1 - a.1) * f));
        }
    }
    ring.push(ring[0]);
    ring
}

/// `{"type":"MultiPolygon","coordinates":[[[[lon,lat],…]]]}`.
pub fn multipolygon() -> Vec<u8> {
    let mut out = b"{\"type\":\"MultiPolygon\",\"coordinates\":[[[".to_vec();
    for (i, (lon, lat)) in ring().into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'[');
        let mut buf = [0u8; 48];
        let n = fmt_fixed(&mut buf, lon, 6);
        out.extend_from_slice(&buf[..n]);
        out.push(b',');
        let n = fmt_fixed(&mut buf, lat, 6);
        out.extend_from_slice(&buf[..n]);
        out.push(b']');
    }
    out.extend_from_slice(b"]]]}");
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_closed_ring_about_tile38s_size() {
        let ring = super::ring();
        assert_eq!(ring.first(), ring.last());
        assert!((2700..2900).contains(&ring.len()), "{}", ring.len());
        let json: serde_json::Value = serde_json::from_slice(&super::multipolygon()).unwrap();
        assert_eq!(json["type"], "MultiPolygon");
        for (lon, lat) in ring {
            assert!((-114.9..=-109.0).contains(&lon) && (31.3..=37.0).contains(&lat));
        }
    }
}
