//! Clipping an object to a rectangle: Tile38's `internal/clip`, used by
//! `INTERSECTS … CLIP` (each returned object), `TEST … INTERSECTS CLIP` and
//! `CLIPBY` (the search area).
//!
//! The algorithms are reproduced step by step because their output is
//! printed: Cohen–Sutherland for line segments and Sutherland–Hodgman for
//! polygon rings (edges left, right, bottom, top; each pass starts from the
//! ring's second-to-last vertex and re-closes its output), which is where
//! the repeated vertices of e.g. `[[12,16],[12,12],[16,12],[16,16],[12,16],
//! [12,12],[12,16]]` come from.

use crate::geojson::{Coord, Geometry, Shape};
use crate::rect::{Position, Rect};
use crate::Value;

const LEFT: u8 = 1;
const RIGHT: u8 = 2;
const BOTTOM: u8 = 4;
const TOP: u8 = 8;

/// Cohen–Sutherland gives up after this many endpoint moves. Go recurses
/// without a limit (a stack overflow on a pathological cycle); every real
/// segment settles within four moves per endpoint.
const MAX_SEGMENT_STEPS: usize = 64;

/// Outcode of a point. NaN compares false everywhere, so a NaN coordinate
/// counts as inside, as in Go.
fn outcode(rect: &Rect, p: Position) -> u8 {
    let mut code = 0;
    if p.x < rect.min.x {
        code |= LEFT;
    } else if p.x > rect.max.x {
        code |= RIGHT;
    }
    if p.y < rect.min.y {
        code |= BOTTOM;
    } else if p.y > rect.max.y {
        code |= TOP;
    }
    code
}

/// Where the segment `a`–`b` crosses the first edge named in `code`
/// (priority top, bottom, right, left). The zero code gives (0, 0), Go's
/// zero value; no caller passes it.
fn intersect(rect: &Rect, code: u8, a: Position, b: Position) -> Position {
    if code & TOP != 0 {
        Position::new(
            a.x + (b.x - a.x) * (rect.max.y - a.y) / (b.y - a.y),
            rect.max.y,
        )
    } else if code & BOTTOM != 0 {
        Position::new(
            a.x + (b.x - a.x) * (rect.min.y - a.y) / (b.y - a.y),
            rect.min.y,
        )
    } else if code & RIGHT != 0 {
        Position::new(
            rect.max.x,
            a.y + (b.y - a.y) * (rect.max.x - a.x) / (b.x - a.x),
        )
    } else if code & LEFT != 0 {
        Position::new(
            rect.min.x,
            a.y + (b.y - a.y) * (rect.min.x - a.x) / (b.x - a.x),
        )
    } else {
        Position::default()
    }
}

/// Cohen–Sutherland: the part of `a`–`b` inside `rect`, `None` if rejected.
fn clip_segment(rect: &Rect, mut a: Position, mut b: Position) -> Option<(Position, Position)> {
    for _ in 0..MAX_SEGMENT_STEPS {
        let (code_a, code_b) = (outcode(rect, a), outcode(rect, b));
        if code_a | code_b == 0 {
            return Some((a, b));
        }
        if code_a & code_b != 0 {
            return None;
        }
        if code_a != 0 {
            a = intersect(rect, code_a, a, b);
        } else {
            b = intersect(rect, code_b, a, b);
        }
    }
    None
}

/// Sutherland–Hodgman on one ring; empty when nothing is left (or the ring
/// has fewer than four positions).
fn clip_ring(rect: &Rect, ring: &[Coord]) -> Vec<Coord> {
    if ring.len() < 4 {
        return Vec::new();
    }
    let mut ring = ring.to_vec();
    for edge in [LEFT, RIGHT, BOTTOM, TOP] {
        let mut out = Vec::with_capacity(ring.len() + 4);
        // Go reads `ring[len-2]`; a pass never leaves a one-vertex ring, but
        // saturate rather than panic.
        let mut prev = ring[ring.len().saturating_sub(2)];
        let mut prev_inside = outcode(rect, prev) & edge == 0;
        for &p in &ring {
            let inside = outcode(rect, p) & edge == 0;
            match (prev_inside, inside) {
                (true, true) => out.push(p),
                (true, false) => out.push(intersect(rect, edge, prev, p)),
                (false, true) => {
                    out.push(intersect(rect, edge, prev, p));
                    out.push(p);
                }
                (false, false) => {}
            }
            prev = p;
            prev_inside = inside;
        }
        if let (Some(&first), Some(&last)) = (out.first(), out.last()) {
            if first != last {
                out.push(first);
            }
        }
        ring = out;
        if ring.is_empty() {
            break;
        }
    }
    ring
}

fn contains(rect: &Rect, p: Position) -> bool {
    p.x >= rect.min.x && p.x <= rect.max.x && p.y >= rect.min.y && p.y <= rect.max.y
}

fn empty_multipoint() -> Geometry {
    Geometry::new(Shape::MultiPoint(Vec::new()))
}

/// A LineString, or a MultiLineString when the line leaves and re-enters
/// the rectangle (or is gone entirely: `"coordinates":[]`).
fn clip_line(rect: &Rect, points: &[Coord]) -> Geometry {
    let mut lines: Vec<Vec<Coord>> = Vec::new();
    let mut line: Vec<Coord> = Vec::new();
    for segment in points.windows(2) {
        let Some((a, b)) = clip_segment(rect, segment[0], segment[1]) else {
            continue;
        };
        match line.last() {
            Some(&last) if last != a => lines.push(std::mem::replace(&mut line, vec![a])),
            Some(_) => {}
            None => line.push(a),
        }
        line.push(b);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    if lines.len() == 1 {
        Geometry::new(Shape::LineString(lines.pop().unwrap_or_default()))
    } else {
        Geometry::new(Shape::MultiLineString(lines))
    }
}

/// Every ring clipped; rings that vanish are dropped, so if the exterior
/// vanishes the first surviving hole becomes the exterior (as in Go). An
/// empty result is an empty MultiPolygon.
fn clip_polygon(rect: &Rect, rings: &[Vec<Coord>]) -> Geometry {
    let rings: Vec<Vec<Coord>> = rings
        .iter()
        .map(|ring| clip_ring(rect, ring))
        .filter(|ring| !ring.is_empty())
        .collect();
    if rings.first().is_none_or(|exterior| exterior.len() < 3) {
        return Geometry::new(Shape::MultiPolygon(Vec::new()));
    }
    Geometry::new(Shape::Polygon(rings))
}

/// The polygon ring of a `BOUNDS` rectangle, in `geometry.Rect.PointAt`
/// order (the order it prints in).
pub(super) fn rect_ring(r: &Rect) -> Vec<Coord> {
    vec![
        r.min,
        Position::new(r.max.x, r.min.y),
        r.max,
        Position::new(r.min.x, r.max.y),
        r.min,
    ]
}

/// tidwall/geojson's `Empty()`: a series of too few points, a polygon whose
/// exterior has fewer than three, a collection whose members are all empty.
fn is_empty(g: &Geometry) -> bool {
    match &g.shape {
        Shape::Point(_) => false,
        Shape::MultiPoint(points) => points.is_empty(),
        Shape::LineString(points) => points.len() < 2,
        Shape::MultiLineString(lines) => lines.iter().all(|l| l.len() < 2),
        Shape::Polygon(rings) => rings.first().is_none_or(|r| r.len() < 3),
        Shape::MultiPolygon(polys) => polys
            .iter()
            .all(|rings| rings.first().is_none_or(|r| r.len() < 3)),
        Shape::GeometryCollection(children) | Shape::FeatureCollection(children) => {
            children.iter().all(is_empty)
        }
        Shape::Feature(inner) => is_empty(inner),
        Shape::Circle { .. } => false,
    }
}

/// The members of a Multi* geometry or collection, clipped, non-empty ones
/// wrapped in Features (without members): always a FeatureCollection, the
/// collection's own members are not kept.
fn clip_members(members: impl Iterator<Item = Geometry>) -> Geometry {
    let features = members
        .filter(|g| !is_empty(g))
        .map(|g| match g.shape {
            Shape::Feature(_) => g,
            _ => Geometry::new(Shape::Feature(Box::new(g))),
        })
        .collect();
    Geometry::new(Shape::FeatureCollection(features))
}

/// The Points of a MultiPoint as Go's children: each keeps its own z/m,
/// which only the printed text exposes, so it is read back from there.
fn multipoint_members(g: &Geometry, points: &[Coord]) -> Vec<Geometry> {
    let plain = |p: &Coord| Geometry::new(Shape::Point(*p));
    let json = g.to_json();
    let prefix = br#"{"type":"MultiPoint","coordinates":["#;
    let Some(mut rest) = json.strip_prefix(&prefix[..]) else {
        return points.iter().map(plain).collect();
    };
    let mut out = Vec::with_capacity(points.len());
    for p in points {
        // Positions print as `[n,n(,n…)]` with no nested brackets.
        let end = rest
            .iter()
            .position(|&c| c == b']')
            .map_or(rest.len(), |i| i + 1);
        let (position, tail) = rest.split_at(end);
        rest = tail.strip_prefix(b",").unwrap_or(tail);
        let has_extra = position.iter().filter(|&&c| c == b',').count() > 1;
        let text = [br#"{"type":"Point","coordinates":"#, position, b"}"].concat();
        out.push(
            has_extra
                .then(|| Geometry::parse(&text).ok())
                .flatten()
                .unwrap_or_else(|| plain(p)),
        );
    }
    out
}

/// [`clip_value`] for GeoJSON.
fn clip_geometry(rect: &Rect, g: &Geometry) -> Geometry {
    match &g.shape {
        Shape::Point(p) if contains(rect, *p) => g.clone(),
        Shape::Point(_) => empty_multipoint(),
        // Go's `clip` leaves types it does not list (Circle) alone.
        Shape::Circle { .. } => g.clone(),
        Shape::LineString(points) => clip_line(rect, points),
        Shape::Polygon(rings) => clip_polygon(rect, rings),
        Shape::Feature(inner) => {
            let clipped = clip_geometry(rect, inner);
            if matches!(clipped.shape, Shape::Feature(_)) {
                // A Feature nested in a Feature replaces the outer one.
                return clipped;
            }
            let mut feature = g.clone();
            feature.shape = Shape::Feature(Box::new(clipped));
            feature
        }
        Shape::MultiPoint(points) => {
            let inside = points.iter().any(|p| contains(rect, *p));
            let members = if inside {
                multipoint_members(g, points)
            } else {
                Vec::new()
            };
            clip_members(
                members
                    .into_iter()
                    .filter(|m| matches!(m.shape, Shape::Point(p) if contains(rect, p))),
            )
        }
        Shape::MultiLineString(lines) => clip_members(lines.iter().map(|l| clip_line(rect, l))),
        Shape::MultiPolygon(polys) => {
            clip_members(polys.iter().map(|rings| clip_polygon(rect, rings)))
        }
        Shape::GeometryCollection(children) | Shape::FeatureCollection(children) => {
            clip_members(children.iter().map(|c| clip_geometry(rect, c)))
        }
    }
}

/// See [`crate::area::clip`].
pub(super) fn clip_value(obj: &Value, rect: &Rect) -> Value {
    match obj {
        Value::Point { x, y, .. } if contains(rect, Position::new(*x, *y)) => obj.clone(),
        Value::Point { .. } => Value::Geo(std::sync::Arc::new(empty_multipoint())),
        Value::Rect(r) => Value::Geo(std::sync::Arc::new(clip_polygon(rect, &[rect_ring(r)]))),
        Value::Geo(g) => Value::Geo(std::sync::Arc::new(clip_geometry(rect, g))),
        Value::String(_) => obj.clone(),
    }
}

#[cfg(test)]
mod tests;
