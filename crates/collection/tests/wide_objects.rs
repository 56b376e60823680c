//! Wide objects (a LineString across the antimeridian spans 360 degrees)
//! get pages of their own: a search far from everything else but at such
//! an object's latitude reads that one entry, not a page of 32 that the
//! object stretched around the globe.

use tile38_collection::page::Bbox;
use tile38_collection::spatial::{PageOf, SpatialIndex};

/// Each slot's page, as the collection's entries keep it.
struct Pages(Vec<Option<u32>>);

impl PageOf for Pages {
    fn page_of(&self, slot: u32) -> Option<u32> {
        self.0[slot as usize]
    }
    fn set_page_of(&mut self, slot: u32, page: Option<u32>) {
        self.0[slot as usize] = page;
    }
}

fn bbox(b: [f64; 4]) -> Bbox {
    Bbox::outward([b[0], b[1]], [b[2], b[3]])
}

/// 3000 points near (0, 0) (a grid, 0.02 degrees apart), then five lines
/// across the antimeridian at latitudes -5, -3, …, 3.
fn entries() -> Vec<(Bbox, u32)> {
    let mut out: Vec<(Bbox, u32)> = (0..3000u32)
        .map(|i| {
            let (x, y) = (f64::from(i % 60) * 0.02, f64::from(i / 60) * 0.02);
            (bbox([x, y, x, y]), i)
        })
        .collect();
    for (k, lat) in [-5.0, -3.0, -1.0, 1.0, 3.0].into_iter().enumerate() {
        out.push((bbox([-179.9, lat, 179.9, lat + 0.1]), 3000 + k as u32));
    }
    out
}

/// A 2 km box at longitude 100, on the line at `lat`.
fn far_query(lat: f64) -> [f64; 4] {
    [100.0, lat + 0.04, 100.02, lat + 0.06]
}

fn assert_lines_alone(ix: &SpatialIndex) {
    for lat in [-5.0, -3.0, -1.0, 1.0, 3.0] {
        assert_eq!(ix.pages_meeting(far_query(lat)), (1, 1), "at {lat}");
        let hits: Vec<u32> = ix.search(far_query(lat)).map(|(s, _)| s).collect();
        assert_eq!(hits.len(), 1, "at {lat}");
    }
}

#[test]
fn wide_objects_get_pages_of_their_own() {
    let mut at = Pages(vec![None; 3005]);
    let mut ix = SpatialIndex::default();
    // Lines first and last, so that some arrive while pages have room.
    let all = entries();
    let (points, lines) = all.split_at(3000);
    for &(b, s) in lines.iter().take(2).chain(points).chain(&lines[2..]) {
        ix.insert(&mut at, s, b);
    }
    ix.check(&at);
    assert_lines_alone(&ix);
    // Nothing else joins them: more points along the lines' latitudes.
    let mut at2 = Pages(vec![None; 3105]);
    at2.0[..3005].copy_from_slice(&at.0);
    for i in 0..100u32 {
        let x = -170.0 + f64::from(i) * 3.0;
        ix.insert(&mut at2, 3005 + i, bbox([x, 1.05, x, 1.05]));
    }
    ix.check(&at2);
    assert_eq!(ix.pages_meeting(far_query(-5.0)), (1, 1));
    // A line that stops being wide leaves its page; one that becomes wide
    // gets one.
    ix.update(&mut at2, 3000, bbox([0.5, 0.5, 0.6, 0.6]));
    ix.update(&mut at2, 0, bbox([-179.0, 20.0, 179.0, 20.1]));
    ix.check(&at2);
    assert_eq!(ix.pages_meeting(far_query(-5.0)), (0, 0));
    assert_eq!(ix.pages_meeting([100.0, 20.0, 100.01, 20.01]), (1, 1));
}

#[test]
fn a_packed_index_keeps_wide_objects_apart_too() {
    let mut at = Pages(vec![None; 3005]);
    let ix = SpatialIndex::pack(entries()).record(&mut at);
    ix.check(&at);
    assert_eq!(ix.len(), 3005);
    assert_lines_alone(&ix);
}
