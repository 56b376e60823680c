//! The stored value of an object and every way Tile38 prints it.
//!
//! `SET key id POINT lat lon [z]` → [`Value::Point`], `BOUNDS` → [`Value::Rect`],
//! `HASH` → a point at the cell's rounded centre, `OBJECT geojson` →
//! [`Value::Geo`] (plain points are stored as [`Value::Point`] to save memory),
//! `STRING` → [`Value::String`].

use tile38_proto::fmt::write_f64;

use crate::geojson::{Geometry, Shape};
use crate::rect::{Position, Rect};

/// An object's value.
#[derive(Clone, Debug)]
pub enum Value {
    /// A GeoJSON Point; `z == 0` means "no z" (a given zero z is kept by
    /// [`Value::point`] as a [`Value::Geo`]).
    Point { x: f64, y: f64, z: f64 },
    /// `SET … BOUNDS`: printed as a 5-point Polygon.
    Rect(Rect),
    /// Any other GeoJSON. Shared, not boxed: a search by a stored object
    /// (`INTERSECTS … GET key id`, a state's outline) takes it without
    /// copying its positions, and the prepared-area cache
    /// (`predicate::prepared`) knows it again by pointer.
    Geo(std::sync::Arc<Geometry>),
    /// A non-spatial string (`SET … STRING`, JSET documents).
    String(Box<[u8]>),
}

/// Writes a coordinate, `null` for NaN/±Inf as GeoJSON cannot hold them.
pub fn write_coord(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        write_f64(out, v);
    } else {
        out.extend_from_slice(b"null");
    }
}

fn write_pos(out: &mut Vec<u8>, x: f64, y: f64) {
    out.push(b'[');
    write_coord(out, x);
    out.push(b',');
    write_coord(out, y);
    out.push(b']');
}

impl Value {
    /// Builds the value for `OBJECT`: plain points are kept unboxed.
    pub fn from_geometry(g: Geometry) -> Value {
        if g.is_plain_point() {
            if let Shape::Point(p) = g.shape {
                return Value::Point {
                    x: p.x,
                    y: p.y,
                    z: 0.0,
                };
            }
        }
        Value::Geo(std::sync::Arc::new(g))
    }

    /// `SET … POINT lat lon [z]`: Tile38 keeps a z that was given, even a
    /// zero one (`[x,y,0]`), while [`Value::Point`]'s zero z means none, so
    /// a zero z is kept as a GeoJSON point with its z.
    pub fn point(x: f64, y: f64, z: Option<f64>) -> Value {
        match z {
            Some(z) if z == 0.0 => Value::Geo(std::sync::Arc::new(Geometry::point_z(
                Position::new(x, y),
                z,
            ))),
            z => Value::Point {
                x,
                y,
                z: z.unwrap_or(0.0),
            },
        }
    }

    /// Whether the collection indexes the value spatially. Strings are not
    /// spatial, and neither is a top-level Circle: Tile38's `Circle` is no
    /// `geojson.Spatial`, so its collection files it with the strings
    /// (SEARCH order, `num_strings`, never found by a spatial search).
    pub fn is_spatial(&self) -> bool {
        match self {
            Value::String(_) => false,
            Value::Geo(g) => !matches!(g.shape, Shape::Circle { .. }),
            _ => true,
        }
    }

    /// Go's `Empty()` of the object: a GeoJSON value without a position
    /// (an empty MultiPoint after a JDEL), and, as Tile38 1.37 observably
    /// treats them, a point NaN in both coordinates (`SET … POINT nan nan`,
    /// a JSET of both to null) and collections of nothing else. Tile38
    /// keeps such objects out of its R-tree: no search or NEARBY finds
    /// them, and `BOUNDS key` passes them over.
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Point { x, y, .. } => x.is_nan() && y.is_nan(),
            Value::Geo(g) => g.is_empty(),
            _ => false,
        }
    }

    /// The text a non-spatial value is ordered and matched by in SEARCH
    /// (Go's `obj.String()`): the string itself, or a Circle's JSON.
    pub fn search_text(&self) -> Option<std::borrow::Cow<'_, [u8]>> {
        match self {
            Value::String(s) => Some(std::borrow::Cow::Borrowed(s)),
            other if !other.is_spatial() => Some(std::borrow::Cow::Owned(other.to_text())),
            _ => None,
        }
    }

    /// Bounding box (strings: the zero rectangle).
    pub fn bbox(&self) -> Rect {
        match self {
            Value::Point { x, y, .. } => Rect::point(Position::new(*x, *y)),
            Value::Rect(r) => *r,
            Value::Geo(g) => g.bbox(),
            Value::String(_) => Rect::default(),
        }
    }

    /// The position `GET … POINT` and `HASH` report: the point itself, else
    /// the centre of the bounding box; strings are at 0,0.
    pub fn center(&self) -> Position {
        match self {
            Value::Point { x, y, .. } => Position::new(*x, *y),
            Value::Geo(g) => match &g.shape {
                Shape::Point(p) | Shape::Circle { center: p, .. } => *p,
                _ => g.bbox().center(),
            },
            other => other.bbox().center(),
        }
    }

    /// The z of a point, if it has a non-zero one.
    pub fn z(&self) -> Option<f64> {
        match self {
            Value::Point { z, .. } if *z != 0.0 => Some(*z),
            Value::Geo(g) => g.z().filter(|z| *z != 0.0),
            _ => None,
        }
    }

    /// Number of coordinates (STATS `num_points`).
    pub fn num_points(&self) -> usize {
        match self {
            Value::Point { .. } => 1,
            Value::Rect(_) => 2,
            Value::Geo(g) => g.num_points(),
            Value::String(_) => 0,
        }
    }

    /// Tile38's object weight without the id: 16 bytes a point, or the
    /// length of a non-spatial value's text.
    pub fn weight(&self) -> usize {
        match self.search_text() {
            Some(text) => text.len(),
            None => self.num_points() * 16,
        }
    }

    /// The GeoJSON text (spatial) or the raw string, as `GET` shows it in RESP.
    pub fn write_raw(&self, out: &mut Vec<u8>) {
        match self {
            Value::String(s) => out.extend_from_slice(s),
            spatial => spatial.write_geojson(out),
        }
    }

    /// The value as a JSON value: GeoJSON, or a quoted string.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Value::String(s) => tile38_proto::fmt::write_json_str(out, s),
            spatial => spatial.write_geojson(out),
        }
    }

    fn write_geojson(&self, out: &mut Vec<u8>) {
        match self {
            Value::Point { x, y, z } => {
                out.extend_from_slice(br#"{"type":"Point","coordinates":["#);
                write_coord(out, *x);
                out.push(b',');
                write_coord(out, *y);
                if *z != 0.0 {
                    out.push(b',');
                    write_coord(out, *z);
                }
                out.extend_from_slice(b"]}");
            }
            Value::Rect(r) => {
                out.extend_from_slice(br#"{"type":"Polygon","coordinates":[["#);
                let (a, b) = (r.min, r.max);
                for (i, (x, y)) in [(a.x, a.y), (b.x, a.y), (b.x, b.y), (a.x, b.y), (a.x, a.y)]
                    .into_iter()
                    .enumerate()
                {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_pos(out, x, y);
                }
                out.extend_from_slice(b"]]}");
            }
            Value::Geo(g) => g.append_json(out),
            Value::String(s) => out.extend_from_slice(s),
        }
    }

    /// The value as text (GeoJSON for spatial values).
    pub fn to_text(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_raw(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: &Value) -> String {
        String::from_utf8(v.to_text()).unwrap()
    }

    #[test]
    fn points_and_rects_print_like_tile38() {
        assert_eq!(
            text(&Value::Point {
                x: -112.0,
                y: 33.0,
                z: 0.0
            }),
            r#"{"type":"Point","coordinates":[-112,33]}"#
        );
        assert_eq!(
            text(&Value::Point {
                x: -112.0,
                y: 33.0,
                z: 55.0
            }),
            r#"{"type":"Point","coordinates":[-112,33,55]}"#
        );
        let r = Rect::new(Position::new(-112.0, 34.0), Position::new(-115.0, 33.0));
        assert_eq!(
            text(&Value::Rect(r)),
            r#"{"type":"Polygon","coordinates":[[[-112,34],[-115,34],[-115,33],[-112,33],[-112,34]]]}"#
        );
        assert_eq!(Value::Rect(r).num_points(), 2);
    }

    #[test]
    fn centers() {
        let g = Geometry::parse(br#"{"type":"LineString","coordinates":[[-122.4408378,37.7341129],[-122.4408378,37.733]]}"#)
            .unwrap();
        let c = Value::from_geometry(g).center();
        assert_eq!((c.y, c.x), (37.733556449999995, -122.4408378));
        assert_eq!(
            Value::String(b"x"[..].into()).center(),
            Position::new(0.0, 0.0)
        );
    }
}
