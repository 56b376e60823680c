//! Helpers shared by the predicate tests: values from Tile38 command
//! arguments (lat/lon order) and a search that runs like Tile38's (box
//! prefilter, then the exact test).

use super::geom::rect_intersects_rect;
use super::Area;
use crate::geojson::Geometry;
use crate::rect::{Position, Rect};
use crate::Value;

/// Web Mercator's latitude limit (tile and quadkey edges).
pub const MAX_LAT: f64 = 85.05112877980659;

/// `OBJECT geojson`.
pub fn obj(json: &str) -> Value {
    let g = Geometry::parse(json.as_bytes()).unwrap_or_else(|e| panic!("{json}: {e}"));
    Value::from_geometry(g)
}

/// `POINT lat lon`.
pub fn point(lat: f64, lon: f64) -> Value {
    Value::Point {
        x: lon,
        y: lat,
        z: 0.0,
    }
}

/// `BOUNDS minlat minlon maxlat maxlon`, kept as given.
pub fn bounds(min_lat: f64, min_lon: f64, max_lat: f64, max_lon: f64) -> Value {
    Value::Rect(Rect::new(
        Position::new(min_lon, min_lat),
        Position::new(max_lon, max_lat),
    ))
}

pub fn area(v: Value) -> Area {
    Area::Value(v)
}

#[derive(Clone, Copy)]
pub enum Mode {
    Within,
    Intersects,
}
pub use Mode::*;

/// The ids a WITHIN/INTERSECTS search returns, sorted. The prepared area
/// must agree with the one-shot tests on every candidate.
pub fn search(objects: &[(&'static str, Value)], area: &Area, mode: Mode) -> Vec<&'static str> {
    let bbox = area.bbox();
    let prepared = area.prepare();
    assert_eq!(prepared.bbox(), bbox);
    let mut ids: Vec<&'static str> = objects
        .iter()
        .filter(|(_, v)| v.is_spatial() && rect_intersects_rect(&v.bbox(), &bbox))
        .filter(|(id, v)| {
            let (one_shot, prep) = match mode {
                Within => (area.contains(v), prepared.contains(v)),
                Intersects => (area.intersects(v), prepared.intersects(v)),
            };
            assert_eq!(one_shot, prep, "prepared area disagrees on {id}");
            one_shot
        })
        .map(|(id, _)| *id)
        .collect();
    ids.sort_unstable();
    ids
}
