//! Tile38's Circle object (`tidwall/geojson` `Circle`): a Feature whose
//! geometry is a Point and whose `properties.type` is `"Circle"`
//! (`parseJSONFeature`).
//!
//! * The radius is `properties.radius` read as gjson's `Float()` (a number,
//!   a numeric string, `true` = 1, anything else 0), times 1000 when
//!   `properties.radius_units` is `"km"`; units other than `""`, `"m"` and
//!   `"km"` are rejected (`invalid circle radius units`).
//! * Nothing else of the Feature is kept: no id, no other properties, no z.
//!   It prints as `{"type":"Feature","geometry":{"type":"Point",
//!   "coordinates":[x,y]},"properties":{"type":"Circle","radius":R,
//!   "radius_units":"m"}}` (a non-finite radius as `null`).
//! * Its box is the box of its 64-step polygon (a point for a radius of
//!   zero or less); it counts as one point.
//! * A top-level Circle is not a `geojson.Spatial` in Tile38, so its
//!   collection files it with the strings ([`crate::Value::is_spatial`]);
//!   inside a collection it is a child like any other.

use super::{Coord, GeoJsonError, Geometry, Shape};
use crate::rect::Rect;
use tile38_proto::fmt::write_f64;

/// The Circle a parsed Feature stands for, if it is one: `point` is the
/// Feature's geometry, `members` its foreign members (compact, without
/// braces).
pub(super) fn from_feature(
    point: &Geometry,
    members: &[u8],
) -> Result<Option<Geometry>, GeoJsonError> {
    let Shape::Point(center) = point.shape else {
        return Ok(None);
    };
    if members.is_empty() {
        return Ok(None);
    }
    let mut doc = Vec::with_capacity(members.len() + 2);
    doc.push(b'{');
    doc.extend_from_slice(members);
    doc.push(b'}');
    // The members were validated and compacted by the parser.
    let doc = std::str::from_utf8(&doc).map_err(|_| GeoJsonError::InvalidData)?;
    if gjson::get(doc, "properties.type").str() != "Circle" {
        return Ok(None);
    }
    let mut meters = gjson::get(doc, "properties.radius").f64();
    match gjson::get(doc, "properties.radius_units").str() {
        "" | "m" => {}
        "km" => meters *= 1000.0,
        _ => return Err(GeoJsonError::InvalidCircleRadiusUnits),
    }
    Ok(Some(Geometry::new(Shape::Circle { center, meters })))
}

/// Appends the Circle's JSON as Tile38 prints it.
pub(super) fn append_json(out: &mut Vec<u8>, center: Coord, meters: f64) {
    out.extend_from_slice(br#"{"type":"Feature","geometry":{"type":"Point","coordinates":["#);
    write_number(out, center.x);
    out.push(b',');
    write_number(out, center.y);
    out.extend_from_slice(br#"]},"properties":{"type":"Circle","radius":"#);
    write_number(out, meters);
    out.extend_from_slice(br#","radius_units":"m"}}"#);
}

fn write_number(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        write_f64(out, v);
    } else {
        out.extend_from_slice(b"null");
    }
}

/// The Circle's box: its polygon's.
pub(super) fn rect(center: Coord, meters: f64) -> Rect {
    crate::predicate::circle_rect(center, meters)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(s: &str) -> Result<String, String> {
        Geometry::parse(s.as_bytes())
            .map(|g| String::from_utf8(g.to_json()).unwrap())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_circle_feature_keeps_only_center_and_radius() {
        let c = r#"{"type":"Feature","id":7,"geometry":{"type":"Point","coordinates":[-112.03,33.03,5]},"properties":{"type":"Circle","radius":"1.5","radius_units":"km","x":1}}"#;
        assert_eq!(
            json(c).unwrap(),
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[-112.03,33.03]},"properties":{"type":"Circle","radius":1500,"radius_units":"m"}}"#
        );
        let t = r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"type":"Circle","radius":true}}"#;
        assert!(json(t).unwrap().contains(r#""radius":1,"#));
        let bad = r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"type":"Circle","radius":5,"radius_units":"mi"}}"#;
        assert_eq!(json(bad).unwrap_err(), "invalid circle radius units");
    }

    #[test]
    fn only_a_point_feature_typed_circle_is_a_circle() {
        let multi = r#"{"type":"Feature","geometry":{"type":"MultiPoint","coordinates":[[1,2]]},"properties":{"type":"Circle","radius":5}}"#;
        assert_eq!(json(multi).unwrap(), multi);
        let other = r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"type":"circle","radius":5}}"#;
        assert_eq!(json(other).unwrap(), other);
    }

    #[test]
    fn a_circle_in_a_collection_has_the_polygon_box() {
        let fc = r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[-112.03,33.03]},"properties":{"type":"Circle","radius":1500}}]}"#;
        let g = Geometry::parse(fc.as_bytes()).unwrap();
        let r = g.bbox();
        // Tile38 1.37: GET … BOUNDS of this object.
        assert_eq!((r.min.y, r.min.x), (33.01651017591122, -112.04609024430005));
        assert_eq!((r.max.y, r.max.x), (33.04348982408878, -112.01390975569996));
        assert_eq!(g.num_points(), 1);
    }
}
