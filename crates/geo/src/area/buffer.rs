//! `BUFFER meters`: Tile38's `internal/buffer.Simple`, which grows the search
//! area by unioning simple shapes instead of computing a true offset curve.
//!
//! * a point becomes a 16-vertex "circle" (an ellipse in degrees whose
//!   half-axes come from the destination points due N/E/S/W, 24° apart,
//!   plus a closing vertex: 17 positions);
//! * every line segment becomes its two end circles plus a quadrilateral
//!   whose corners lie `meters` off each end, perpendicular to the bearing;
//! * a LineString is a GeometryCollection of those parts (first end cap,
//!   then per segment: quadrilateral, end cap), a Polygon the same for every
//!   ring plus the polygon itself; Multi* geometries are collections of
//!   their members' buffers, Features and FeatureCollections keep their
//!   shape; a Circle is buffered as its 64-step polygon.
//!
//! No pole or antimeridian handling (Tile38 has none either). The result is
//! only ever used as a search area, never printed.

use std::f64::consts::PI;

use crate::geojson::{Coord, Geometry, Shape};
use crate::gomath::{
    bearing_to, circle_half_axes, cos, destination_point, normalize_distance, sin,
};
use crate::Value;

/// Circle vertices: `360 / BUFFER_STEPS` = 24° apart.
const BUFFER_STEPS: f64 = 15.0;

/// `bufferSimplePoint`.
fn point_circle(p: Coord, meters: f64) -> Geometry {
    let (lons, lats) = circle_half_axes(p.y, p.x, normalize_distance(meters));
    let mut ring = Vec::with_capacity(BUFFER_STEPS as usize + 2);
    // Go accumulates `th += 360/15`; multiples of 24 are exact, so 0..=360.
    let mut th = 0.0;
    while th <= 360.0 {
        let radians = (PI / 180.0) * th;
        ring.push(Coord::new(
            p.x + lons * cos(radians),
            p.y + lats * sin(radians),
        ));
        th += 360.0 / BUFFER_STEPS;
    }
    ring.push(ring[0]);
    Geometry::new(Shape::Polygon(vec![ring]))
}

/// `appendSimpleBufferSegment`: (end cap A,) the segment quadrilateral and
/// end cap B.
fn push_segment(out: &mut Vec<Geometry>, a: Coord, b: Coord, meters: f64, first: bool) {
    if first {
        out.push(point_circle(a, meters));
    }
    let bearing_ab = bearing_to(a.y, a.x, b.y, b.x);
    let (lat1, lon1) = destination_point(a.y, a.x, meters, bearing_ab - 90.0);
    let (lat2, lon2) = destination_point(a.y, a.x, meters, bearing_ab + 90.0);
    let bearing_ba = bearing_to(b.y, b.x, a.y, a.x);
    let (lat3, lon3) = destination_point(b.y, b.x, meters, bearing_ba - 90.0);
    let (lat4, lon4) = destination_point(b.y, b.x, meters, bearing_ba + 90.0);
    out.push(Geometry::new(Shape::Polygon(vec![vec![
        Coord::new(lon1, lat1),
        Coord::new(lon2, lat2),
        Coord::new(lon3, lat3),
        Coord::new(lon4, lat4),
        Coord::new(lon1, lat1),
    ]])));
    out.push(point_circle(b, meters));
}

/// The segments of a LineString (open) or a ring (closed: the closing
/// segment is implied unless the last point repeats the first), as
/// tidwall/geometry's `SegmentAt`.
fn push_series(out: &mut Vec<Geometry>, points: &[Coord], closed: bool, meters: f64) {
    let n = points.len();
    let segments = match (closed, n) {
        (false, n) if n < 2 => 0,
        (false, n) => n - 1,
        (true, n) if n < 3 => 0,
        (true, n) if points[n - 1] == points[0] => n - 1,
        (true, n) => n,
    };
    for i in 0..segments {
        let b = points[if i == n - 1 { 0 } else { i + 1 }];
        push_segment(out, points[i], b, meters, i == 0);
    }
}

fn line_parts(points: &[Coord], meters: f64) -> Geometry {
    let mut parts = Vec::new();
    push_series(&mut parts, points, false, meters);
    Geometry::new(Shape::GeometryCollection(parts))
}

/// Every ring's segments, then the polygon itself (its inside is covered
/// too).
fn polygon_parts(polygon: Geometry, rings: &[Vec<Coord>], meters: f64) -> Geometry {
    let mut parts = Vec::new();
    for ring in rings {
        push_series(&mut parts, ring, true, meters);
    }
    parts.push(polygon);
    Geometry::new(Shape::GeometryCollection(parts))
}

/// The GeoJSON `type` Tile38 names in "cannot buffer … type".
fn type_name(shape: &Shape) -> &'static str {
    match shape {
        Shape::GeometryCollection(_) => "GeometryCollection",
        Shape::Point(_) => "Point",
        Shape::MultiPoint(_) => "MultiPoint",
        Shape::LineString(_) => "LineString",
        Shape::MultiLineString(_) => "MultiLineString",
        Shape::Polygon(_) => "Polygon",
        Shape::MultiPolygon(_) => "MultiPolygon",
        Shape::Feature(_) | Shape::Circle { .. } => "Feature",
        Shape::FeatureCollection(_) => "FeatureCollection",
    }
}

fn cannot_buffer(typ: &str) -> String {
    format!("cannot buffer {typ} type")
}

fn buffer_geometry(g: &Geometry, meters: f64) -> Result<Geometry, String> {
    Ok(match &g.shape {
        Shape::Point(p) => point_circle(*p, meters),
        Shape::MultiPoint(points) => Geometry::new(Shape::GeometryCollection(
            points.iter().map(|p| point_circle(*p, meters)).collect(),
        )),
        Shape::LineString(points) => line_parts(points, meters),
        Shape::MultiLineString(lines) => Geometry::new(Shape::GeometryCollection(
            lines.iter().map(|l| line_parts(l, meters)).collect(),
        )),
        Shape::Polygon(rings) => polygon_parts(g.clone(), rings, meters),
        Shape::MultiPolygon(polys) => Geometry::new(Shape::GeometryCollection(
            polys
                .iter()
                .map(|rings| {
                    let polygon = Geometry::new(Shape::Polygon(rings.clone()));
                    polygon_parts(polygon, rings, meters)
                })
                .collect(),
        )),
        Shape::Feature(inner) => {
            let mut feature = g.clone();
            feature.shape = Shape::Feature(Box::new(buffer_geometry(inner, meters)?));
            feature
        }
        // Buffered as its 64-step polygon, as a CIRCLE area is.
        Shape::Circle { center, meters: r } => {
            let ring = crate::predicate::circle_ring(*center, *r);
            let polygon = Geometry::new(Shape::Polygon(vec![ring.clone()]));
            polygon_parts(polygon, &[ring], meters)
        }
        Shape::FeatureCollection(children) => Geometry::new(Shape::FeatureCollection(
            children
                .iter()
                .map(|c| buffer_geometry(c, meters))
                .collect::<Result<_, _>>()?,
        )),
        shape @ Shape::GeometryCollection(_) => return Err(cannot_buffer(type_name(shape))),
    })
}

/// See [`crate::area::buffer`].
pub(super) fn buffer_value(obj: &Value, meters: f64) -> Result<Value, String> {
    // `meters <= 0` (and so BUFFER 0) leaves any object alone, even those
    // that cannot be buffered.
    if meters <= 0.0 {
        return Ok(obj.clone());
    }
    if !meters.is_finite() {
        return Err("invalid meters".to_string());
    }
    match obj {
        Value::Point { x, y, .. } => Ok(Value::Geo(std::sync::Arc::new(point_circle(
            Coord::new(*x, *y),
            meters,
        )))),
        // A BOUNDS rectangle is a geojson.Rect, whose JSON type is Polygon.
        Value::Rect(_) => Err(cannot_buffer("Polygon")),
        // A string's JSON has no "type" member.
        Value::String(_) => Err(cannot_buffer("")),
        Value::Geo(g) => Ok(Value::Geo(std::sync::Arc::new(buffer_geometry(g, meters)?))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(v: &Value) -> &[Geometry] {
        match v {
            Value::Geo(g) => match &g.shape {
                Shape::GeometryCollection(parts) => parts,
                other => panic!("not a collection: {other:?}"),
            },
            other => panic!("not geo: {other:?}"),
        }
    }

    fn ring_len(g: &Geometry) -> usize {
        match &g.shape {
            Shape::Polygon(rings) => rings[0].len(),
            other => panic!("not a polygon: {other:?}"),
        }
    }

    fn geo(json: &str) -> Value {
        Value::from_geometry(Geometry::parse(json.as_bytes()).unwrap())
    }

    #[test]
    fn point_circle_has_17_positions_around_the_point() {
        let v = buffer_value(
            &Value::Point {
                x: 16.0,
                y: 16.0,
                z: 0.0,
            },
            200_000.0,
        )
        .unwrap();
        let Value::Geo(g) = &v else { panic!() };
        assert_eq!(ring_len(g), 17);
        let r = v.bbox();
        // 200 km is 1.7986° of latitude; the top vertex is at 96° (sin 0.9945).
        assert!((r.max.y - 16.0 - 1.7986 * 0.9945).abs() < 1e-3, "{r:?}");
        assert!(r.min.x < 14.2 && r.max.x > 17.8, "{r:?}");
    }

    #[test]
    fn line_and_polygon_parts() {
        let line = geo(r#"{"type":"LineString","coordinates":[[0,0],[1,0],[1,1]]}"#);
        let v = buffer_value(&line, 1000.0).unwrap();
        // cap, quad, cap, quad, cap.
        let lens: Vec<usize> = parts(&v).iter().map(ring_len).collect();
        assert_eq!(lens, [17, 5, 17, 5, 17]);

        let poly = geo(r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}"#);
        let v = buffer_value(&poly, 1000.0).unwrap();
        // Three segments (cap + 3 × (quad, cap)) and the polygon itself.
        assert_eq!(parts(&v).len(), 1 + 3 * 2 + 1);
        let Value::Geo(original) = &poly else {
            panic!()
        };
        assert_eq!(parts(&v).last(), Some(&**original));
    }

    #[test]
    fn what_cannot_be_buffered() {
        let rect = Value::Rect(crate::Rect::default());
        assert_eq!(
            buffer_value(&rect, 10.0).unwrap_err(),
            "cannot buffer Polygon type"
        );
        let gc = geo(r#"{"type":"GeometryCollection","geometries":[]}"#);
        assert_eq!(
            buffer_value(&gc, 10.0).unwrap_err(),
            "cannot buffer GeometryCollection type"
        );
        let s = Value::String(b"x"[..].into());
        assert_eq!(buffer_value(&s, 10.0).unwrap_err(), "cannot buffer  type");
        let feature = geo(
            r#"{"type":"Feature","geometry":{"type":"GeometryCollection","geometries":[]},"id":7}"#,
        );
        assert_eq!(
            buffer_value(&feature, 10.0).unwrap_err(),
            "cannot buffer GeometryCollection type"
        );
        // Zero or negative meters: untouched, whatever the type.
        assert!(matches!(buffer_value(&rect, 0.0), Ok(Value::Rect(_))));
        assert!(matches!(buffer_value(&s, -1.0), Ok(Value::String(_))));
        assert_eq!(
            buffer_value(&line_point(), f64::NAN).unwrap_err(),
            "invalid meters"
        );
    }

    fn line_point() -> Value {
        Value::Point {
            x: 1.0,
            y: 2.0,
            z: 0.0,
        }
    }

    #[test]
    fn features_keep_their_members() {
        let f =
            geo(r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"id":"a"}"#);
        let v = buffer_value(&f, 10.0).unwrap();
        let text = String::from_utf8(v.to_text()).unwrap();
        assert!(
            text.starts_with(r#"{"type":"Feature","geometry":{"type":"Polygon""#),
            "{text}"
        );
        assert!(text.ends_with(r#","id":"a","properties":{}}"#), "{text}");
    }
}
