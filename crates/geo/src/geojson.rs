//! GeoJSON parsing and re-serialisation exactly as Tile38 1.37 does it
//! (`tidwall/geojson` with Tile38's default options).
//!
//! [`Geometry::parse`] validates the input, checks the structure with
//! Tile38's error messages ([`GeoJsonError`]) and keeps what Tile38 keeps:
//! the coordinates, up to two extra (z/m) values per position and every
//! foreign member as compacted raw JSON. [`Geometry::append_json`] writes the
//! object back the way Tile38 prints it: structural members first, numbers in
//! Go's shortest `'f'` format, foreign members after them in input order, and
//! an added `"properties":{}` on Features without one.
//!
//! ```
//! use tile38_geo::geojson::Geometry;
//! let g = Geometry::parse(br#"{ "coordinates" : [ -115.000 , 33.10 ] , "type" : "Point" }"#).unwrap();
//! assert_eq!(g.to_json(), br#"{"type":"Point","coordinates":[-115,33.1]}"#);
//! ```
//!
//! The parser is a single pass over the bytes (validation, then member
//! scanning and coordinate reading on the validated text); no JSON tree is
//! built. Parsing never recurses (nested GeoJSON objects use an explicit
//! stack); objects nested more than 1000 deep (Feature geometries, collection
//! members) are rejected as `invalid data` so that the recursive walks of the
//! result ([`Geometry::append_json`], [`Geometry::bbox`], drop) stay shallow.
//!
//! A Feature whose geometry is a Point and whose `properties.type` is
//! `"Circle"` becomes Tile38's special Circle object ([`Shape::Circle`],
//! module [`circle`]).

pub mod circle;
pub(crate) mod json;
mod parse;
pub use parse::MAX_DEPTH;

/// Whether `b` is exactly one JSON value, as `gjson.Valid` checks it (UTF-8
/// is not checked): Tile38 sends a PUBLISH payload that passes as it is to
/// JSON-mode subscribers.
pub fn valid_json(b: &[u8]) -> bool {
    json::valid(b)
}

use crate::rect::{Position, Rect};
use tile38_proto::fmt::write_f64;

/// A GeoJSON position (`x` = longitude, `y` = latitude); extra z/m values are
/// kept privately by the owning [`Geometry`].
pub type Coord = Position;

/// The geometry proper of a GeoJSON object.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    Point(Coord),
    MultiPoint(Vec<Coord>),
    LineString(Vec<Coord>),
    MultiLineString(Vec<Vec<Coord>>),
    /// Exterior ring first, then the holes; every ring is closed.
    Polygon(Vec<Vec<Coord>>),
    MultiPolygon(Vec<Vec<Vec<Coord>>>),
    GeometryCollection(Vec<Geometry>),
    /// The Feature's geometry (any GeoJSON object, as Tile38 accepts); the
    /// Feature's own members (`id`, `properties`, ...) belong to the outer
    /// [`Geometry`].
    Feature(Box<Geometry>),
    FeatureCollection(Vec<Geometry>),
    /// Tile38's Circle: a Feature whose geometry is a Point and whose
    /// `properties.type` is `"Circle"` (see [`circle`]); the radius is in
    /// meters. It keeps nothing else of the Feature.
    Circle {
        center: Coord,
        meters: f64,
    },
}

/// A parsed GeoJSON object: its [`Shape`] plus what Tile38 keeps for
/// re-serialisation (extra coordinate dimensions and foreign members).
#[derive(Clone, Debug, PartialEq)]
pub struct Geometry {
    pub shape: Shape,
    /// `None` for 2-D objects without foreign members (the common case).
    extra: Option<Box<Extra>>,
}

/// Extra coordinate values and foreign members of one object.
#[derive(Clone, Debug, PartialEq)]
struct Extra {
    /// Extra values per position, one entry per part (the Point, LineString
    /// or Polygon itself, or each member of a Multi* geometry). Empty when
    /// every part is 2-D.
    dims: Vec<u8>,
    /// The extra values of all positions, in document order.
    zm: Vec<f64>,
    /// Compact foreign members without the braces: `"id":1,"properties":{}`.
    members: Vec<u8>,
    /// Whether one of the foreign members is `properties`.
    has_properties: bool,
}

/// Why a GeoJSON object was rejected; `Display` gives Tile38's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GeoJsonError {
    InvalidData,
    MissingType,
    InvalidType,
    /// The `type` string that is not a GeoJSON type.
    UnknownType(String),
    MissingCoordinates,
    InvalidCoordinates,
    MissingGeometry,
    MissingFeatures,
    InvalidFeatures,
    MissingGeometries,
    InvalidGeometries,
    /// A Circle Feature whose `radius_units` is not `m` or `km`.
    InvalidCircleRadiusUnits,
}

impl std::fmt::Display for GeoJsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = match self {
            GeoJsonError::InvalidData => "invalid data",
            GeoJsonError::MissingType => "missing type",
            GeoJsonError::InvalidType => "invalid type",
            GeoJsonError::UnknownType(t) => return write!(f, "type '{t}' is unknown"),
            GeoJsonError::MissingCoordinates => "missing coordinates",
            GeoJsonError::InvalidCoordinates => "invalid coordinates",
            GeoJsonError::MissingGeometry => "missing geometry",
            GeoJsonError::MissingFeatures => "missing features",
            GeoJsonError::InvalidFeatures => "invalid features",
            GeoJsonError::MissingGeometries => "missing geometries",
            GeoJsonError::InvalidGeometries => "invalid geometries",
            GeoJsonError::InvalidCircleRadiusUnits => "invalid circle radius units",
        };
        f.write_str(text)
    }
}

impl std::error::Error for GeoJsonError {}

impl Geometry {
    /// A 2-D geometry without foreign members.
    pub fn new(shape: Shape) -> Geometry {
        Geometry { shape, extra: None }
    }

    /// A Point with a z coordinate (`SET … POINT lat lon z`).
    pub fn point_z(p: Position, z: f64) -> Geometry {
        let extra = Extra {
            dims: vec![1],
            zm: vec![z],
            members: Vec::new(),
            has_properties: false,
        };
        Geometry {
            shape: Shape::Point(p),
            extra: Some(Box::new(extra)),
        }
    }

    /// Parses a GeoJSON object the way Tile38 does (see the module docs).
    pub fn parse(input: &[u8]) -> Result<Geometry, GeoJsonError> {
        parse::parse(input)
    }

    /// Appends Tile38's compact JSON for this object.
    pub fn append_json(&self, out: &mut Vec<u8>) {
        let extra = self.extra.as_deref();
        let mut zm = ZmReader::new(extra);
        match &self.shape {
            Shape::Point(c) => {
                out.extend_from_slice(br#"{"type":"Point","coordinates":"#);
                let n = zm.next_part();
                write_position(out, c, zm.take(n));
            }
            Shape::MultiPoint(points) => {
                out.extend_from_slice(br#"{"type":"MultiPoint","coordinates":["#);
                for (i, c) in points.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    let n = zm.next_part();
                    write_position(out, c, zm.take(n));
                }
                out.push(b']');
            }
            Shape::LineString(points) => {
                out.extend_from_slice(br#"{"type":"LineString","coordinates":"#);
                write_series(out, points, &mut zm);
            }
            Shape::MultiLineString(lines) => {
                out.extend_from_slice(br#"{"type":"MultiLineString","coordinates":["#);
                for (i, line) in lines.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_series(out, line, &mut zm);
                }
                out.push(b']');
            }
            Shape::Polygon(rings) => {
                out.extend_from_slice(br#"{"type":"Polygon","coordinates":"#);
                write_rings(out, rings, &mut zm);
            }
            Shape::MultiPolygon(polys) => {
                out.extend_from_slice(br#"{"type":"MultiPolygon","coordinates":["#);
                for (i, rings) in polys.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_rings(out, rings, &mut zm);
                }
                out.push(b']');
            }
            Shape::GeometryCollection(children) => {
                out.extend_from_slice(br#"{"type":"GeometryCollection","geometries":"#);
                write_children(out, children);
            }
            Shape::FeatureCollection(children) => {
                out.extend_from_slice(br#"{"type":"FeatureCollection","features":"#);
                write_children(out, children);
            }
            Shape::Feature(geometry) => {
                out.extend_from_slice(br#"{"type":"Feature","geometry":"#);
                geometry.append_json(out);
                self.write_members(out);
                if !extra.is_some_and(|e| e.has_properties) {
                    out.extend_from_slice(br#","properties":{}"#);
                }
                out.push(b'}');
                return;
            }
            Shape::Circle { center, meters } => return circle::append_json(out, *center, *meters),
        }
        self.write_members(out);
        out.push(b'}');
    }

    /// Tile38's compact JSON for this object.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        self.append_json(&mut out);
        out
    }

    /// The bounding rectangle, as Tile38's `Rect()` computes it: over the x/y
    /// of every position, except that a Polygon only counts its exterior
    /// ring; collections skip empty members; `Rect::default()` when there is
    /// no position at all.
    pub fn bbox(&self) -> Rect {
        self.bbox_opt().unwrap_or_default()
    }

    /// Go's `Empty()` ([`crate::Value::is_empty`]): no position at all
    /// (empty Multi* geometries and collections, recursively), where a
    /// point NaN in both coordinates counts as none.
    pub fn is_empty(&self) -> bool {
        match &self.shape {
            Shape::Point(c) => no_position(c),
            Shape::MultiPoint(points) => points.iter().all(no_position),
            Shape::GeometryCollection(children) | Shape::FeatureCollection(children) => {
                children.iter().all(Geometry::is_empty)
            }
            Shape::Feature(geometry) => geometry.is_empty(),
            Shape::Circle { .. } => false,
            // Structurally, as `bbox_opt` would find no position: this
            // runs on every write of the object (the collection asks).
            Shape::LineString(points) => points.is_empty(),
            Shape::MultiLineString(lines) => lines.iter().all(Vec::is_empty),
            Shape::Polygon(rings) => rings.first().is_none_or(Vec::is_empty),
            Shape::MultiPolygon(polys) => polys.iter().all(|p| p.first().is_none_or(Vec::is_empty)),
        }
    }

    fn bbox_opt(&self) -> Option<Rect> {
        match &self.shape {
            Shape::Point(c) => Some(Rect::point(*c)),
            // A MultiPoint is a collection of Points to Tile38: its box
            // passes over the empty ones.
            Shape::MultiPoint(points) => series_rect(points.iter().filter(|c| !no_position(c))),
            Shape::LineString(points) => series_rect(points),
            Shape::MultiLineString(lines) => union_all(lines.iter().map(series_rect)),
            Shape::Polygon(rings) => rings.first().and_then(series_rect),
            Shape::MultiPolygon(polys) => {
                union_all(polys.iter().map(|p| p.first().and_then(series_rect)))
            }
            Shape::GeometryCollection(children) | Shape::FeatureCollection(children) => union_all(
                children
                    .iter()
                    .filter(|g| !g.is_empty())
                    .map(Geometry::bbox_opt),
            ),
            Shape::Feature(geometry) => geometry.bbox_opt(),
            Shape::Circle { center, meters } => Some(circle::rect(*center, *meters)),
        }
    }

    /// Number of positions: rings count their closing position; collections
    /// and Features sum their members.
    pub fn num_points(&self) -> usize {
        match &self.shape {
            Shape::Point(_) | Shape::Circle { .. } => 1,
            Shape::MultiPoint(points) | Shape::LineString(points) => points.len(),
            Shape::MultiLineString(rings) | Shape::Polygon(rings) => {
                rings.iter().map(Vec::len).sum()
            }
            Shape::MultiPolygon(polys) => polys.iter().flatten().map(Vec::len).sum(),
            Shape::GeometryCollection(children) | Shape::FeatureCollection(children) => {
                children.iter().map(Geometry::num_points).sum()
            }
            Shape::Feature(geometry) => geometry.num_points(),
        }
    }

    /// The third coordinate of a Point that has one.
    pub fn z(&self) -> Option<f64> {
        match (&self.shape, self.extra.as_deref()) {
            (Shape::Point(_), Some(e)) if e.dims.first().is_some_and(|&d| d > 0) => {
                e.zm.first().copied()
            }
            // Tile38's `extractZCoordinate` looks through Features.
            (Shape::Feature(g), _) => g.z(),
            _ => None,
        }
    }

    /// A 2-D Point without foreign members, i.e. fully described by its
    /// coordinates (Tile38's "simple point").
    pub fn is_plain_point(&self) -> bool {
        matches!(self.shape, Shape::Point(_)) && self.extra.is_none()
    }

    /// The foreign members as compact JSON without the enclosing braces
    /// (`"id":"a","properties":{"x":1}`), empty when there are none.
    pub fn foreign_members(&self) -> &[u8] {
        self.extra.as_deref().map_or(&[], |e| &e.members)
    }

    fn write_members(&self, out: &mut Vec<u8>) {
        let members = self.foreign_members();
        if !members.is_empty() {
            out.push(b',');
            out.extend_from_slice(members);
        }
    }
}

/// Walks the extra values of an object part by part while serialising.
struct ZmReader<'a> {
    dims: &'a [u8],
    zm: &'a [f64],
    part: usize,
    /// Extra values per position of the current part.
    current: usize,
}

impl<'a> ZmReader<'a> {
    fn new(extra: Option<&'a Extra>) -> Self {
        let (dims, zm) = extra.map_or((&[][..], &[][..]), |e| (&e.dims[..], &e.zm[..]));
        ZmReader {
            dims,
            zm,
            part: 0,
            current: 0,
        }
    }

    /// Starts the next part; returns its number of extra values per position.
    fn next_part(&mut self) -> usize {
        self.current = self.dims.get(self.part).copied().unwrap_or(0).into();
        self.part += 1;
        self.current
    }

    /// The next `n` extra values (fewer if the data ran out).
    fn take(&mut self, n: usize) -> &'a [f64] {
        let n = n.min(self.zm.len());
        let (head, rest) = self.zm.split_at(n);
        self.zm = rest;
        head
    }
}

fn write_number(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        write_f64(out, v);
    } else {
        out.extend_from_slice(b"null");
    }
}

fn write_position(out: &mut Vec<u8>, c: &Coord, extra: &[f64]) {
    out.push(b'[');
    write_number(out, c.x);
    out.push(b',');
    write_number(out, c.y);
    for &v in extra {
        out.push(b',');
        write_number(out, v);
    }
    out.push(b']');
}

/// Positions of a part that shares one dimension count (a LineString, or
/// one ring of a Polygon whose part was already started).
fn write_positions(out: &mut Vec<u8>, points: &[Coord], zm: &mut ZmReader<'_>) {
    out.push(b'[');
    for (i, c) in points.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let n = zm.current;
        write_position(out, c, zm.take(n));
    }
    out.push(b']');
}

fn write_series(out: &mut Vec<u8>, points: &[Coord], zm: &mut ZmReader<'_>) {
    zm.next_part();
    write_positions(out, points, zm);
}

fn write_rings(out: &mut Vec<u8>, rings: &[Vec<Coord>], zm: &mut ZmReader<'_>) {
    zm.next_part();
    out.push(b'[');
    for (i, ring) in rings.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_positions(out, ring, zm);
    }
    out.push(b']');
}

fn write_children(out: &mut Vec<u8>, children: &[Geometry]) {
    out.push(b'[');
    for (i, child) in children.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        child.append_json(out);
    }
    out.push(b']');
}

fn series_rect<'a>(points: impl IntoIterator<Item = &'a Coord>) -> Option<Rect> {
    let mut points = points.into_iter();
    let mut r = Rect::point(*points.next()?);
    for p in points {
        r.extend(*p);
    }
    Some(r)
}

/// A point Tile38 counts as empty: NaN in both coordinates.
fn no_position(c: &Coord) -> bool {
    c.x.is_nan() && c.y.is_nan()
}

fn union_all(rects: impl Iterator<Item = Option<Rect>>) -> Option<Rect> {
    rects.flatten().reduce(|a, b| a.union(&b))
}

#[cfg(test)]
mod depth_tests;
#[cfg(test)]
mod tests;
