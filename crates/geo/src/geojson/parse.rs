//! Single-pass GeoJSON parsing over the input bytes, mirroring
//! `tidwall/geojson`'s `Parse` (Tile38 1.37) including its quirks:
//!
//! * the whole input is validated first, so any JSON syntax error wins over
//!   every GeoJSON error (`invalid data`);
//! * the members `type`, `coordinates`, `geometries`, `geometry` and
//!   `features` are structural for *every* type (a `geometry` member on a
//!   Point is dropped), the last duplicate wins; every other member is kept
//!   as compacted raw text, in order;
//! * positions take at most four numbers (later elements are not looked at);
//!   the number of extra (z/m) values is fixed by the first position of a
//!   LineString/Polygon, later positions are zero-filled or truncated to it,
//!   and extra values appearing only after the first position are invalid;
//!   each MultiPoint position, MultiLineString line and MultiPolygon polygon
//!   has its own count;
//! * where gjson iterates a value without checking that it is an array
//!   (MultiPoint positions, MultiLineString lines, MultiPolygon polygons and
//!   Polygon positions), an object's member values are iterated like an
//!   array's elements;
//! * a Feature whose geometry is a Point and whose `properties.type` is
//!   `"Circle"` is a Circle ([`super::circle`]).

use super::json::{append_compact, scan_string, scan_value, skip_string, skip_ws, string_text};
use super::{Extra, GeoJsonError as E, Geometry, Shape};

pub(super) mod coords;
mod ends;
use coords::{coordinate_shape, Cursor, Seq, ZmBuilder};
use ends::Ends;

/// Deepest nesting of GeoJSON objects (Feature → geometry, collection →
/// member) accepted; deeper input is rejected as `invalid data` (Tile38
/// has no limit). Serialising, boxes, clipping and the predicates recurse
/// once per level, the costliest (a prepared WITHIN area) ~1.1 KiB per
/// level: 256 levels take under 300 KiB of a server thread's 2 MiB, and
/// real documents nest a handful of levels.
pub const MAX_DEPTH: usize = 256;

/// Parses a complete GeoJSON document.
///
/// Nested objects (Feature geometries, collection members) are handled with
/// an explicit stack rather than recursion ([`Nest`]), so parsing uses a
/// small, fixed amount of call stack whatever the input, and with an index
/// of where each object ends ([`Ends`]), so it takes time linear in the
/// input.
pub(super) fn parse(input: &[u8]) -> Result<Geometry, E> {
    let text = std::str::from_utf8(input).map_err(|_| E::InvalidData)?;
    let start = skip_ws(input, 0);
    if input.get(start) != Some(&b'{') {
        return Err(E::InvalidData);
    }
    // The top-level scan validates every member value as it skips it, so
    // the whole document is known to be valid JSON before any GeoJSON rule
    // is checked; nested objects are then scanned without re-validation.
    let (members, end) = scan_members(text, start, None).ok_or(E::InvalidData)?;
    if skip_ws(input, end) != input.len() {
        return Err(E::InvalidData);
    }
    match classify(text, members)? {
        Step::Done(g) => Ok(g),
        step => Nest {
            text,
            ends: Ends::build(input),
            stack: Vec::new(),
        }
        .run(step),
    }
}

/// The objects of a document being parsed that wait for their nested
/// objects, innermost last.
struct Nest<'a> {
    text: &'a str,
    ends: Ends,
    stack: Vec<Pending>,
}

impl Nest<'_> {
    /// Parses from `step` (the top-level object's) to the whole geometry.
    fn run(mut self, mut step: Step) -> Result<Geometry, E> {
        loop {
            step = match step {
                // `g` is complete: hand it to its parent, if any.
                Step::Done(g) => match self.stack.pop() {
                    None => return Ok(g),
                    Some(parent) => self.resume(parent, g)?,
                },
                Step::Feature(at, extra) => {
                    self.stack.push(Pending::Feature(extra));
                    self.enter(at)?
                }
                Step::Collection(kind, at, extra) => {
                    let mut c = Cursor::new(self.text, at);
                    let seq = c.open(false).ok_or_else(|| kind.not_array())?;
                    self.next_member(kind, c.i, seq, Vec::new(), extra)?
                }
            };
        }
    }

    /// Scans the nested object at `at`, whose parent is on top of the stack.
    fn enter(&mut self, at: usize) -> Result<Step, E> {
        descend(self.text, &self.ends, &mut self.stack, at)
    }

    /// Gives `parent` its complete child `done`: a Feature is then complete
    /// too; a collection goes on with its next member.
    fn resume(&mut self, parent: Pending, done: Geometry) -> Result<Step, E> {
        match parent {
            Pending::Feature(extra) => {
                let members = extra.as_deref().map_or(&[][..], |e| &e.members[..]);
                if let Some(circle) = super::circle::from_feature(&done, members)? {
                    return Ok(Step::Done(circle));
                }
                Ok(Step::Done(Geometry {
                    shape: Shape::Feature(Box::new(done)),
                    extra,
                }))
            }
            Pending::Collection {
                kind,
                resume,
                seq,
                mut children,
                extra,
            } => {
                children.push(done);
                self.next_member(kind, resume, seq, children, extra)
            }
        }
    }

    /// Starts on the member of a collection's list that follows `resume`
    /// (its place `seq`), or, at the end of the list, completes the
    /// collection.
    fn next_member(
        &mut self,
        kind: Kind,
        resume: usize,
        mut seq: Seq,
        children: Vec<Geometry>,
        extra: Option<Box<Extra>>,
    ) -> Result<Step, E> {
        let mut c = Cursor::new(self.text, resume);
        if !c.item(&mut seq) {
            return Ok(Step::Done(Geometry {
                shape: kind.collection(children),
                extra,
            }));
        }
        let child = c.i;
        self.stack.push(Pending::Collection {
            kind,
            resume: child,
            seq,
            children,
            extra,
        });
        self.enter(child)
    }
}

/// The result of scanning one object.
enum Step {
    /// A complete geometry (the coordinate types).
    Done(Geometry),
    /// A Feature whose geometry value starts at the index.
    Feature(usize, Option<Box<Extra>>),
    /// A collection whose `geometries`/`features` value starts at the index.
    Collection(Kind, usize, Option<Box<Extra>>),
}

/// An object waiting for its nested objects to be parsed.
enum Pending {
    Feature(Option<Box<Extra>>),
    Collection {
        kind: Kind,
        /// Where the member list continues after the member being parsed.
        resume: usize,
        seq: Seq,
        children: Vec<Geometry>,
        extra: Option<Box<Extra>>,
    },
}

/// Scans the (already validated) nested object at `start` whose parent is
/// on top of `stack` (a non-object value is `invalid data`, as for Go's
/// `Parse(value.Raw)`), and records where the parent's member list resumes.
fn descend(text: &str, ends: &Ends, stack: &mut [Pending], start: usize) -> Result<Step, E> {
    if stack.len() > MAX_DEPTH || text.as_bytes().get(start) != Some(&b'{') {
        return Err(E::InvalidData);
    }
    let (m, end) = scan_members(text, start, Some(ends)).ok_or(E::InvalidData)?;
    if let Some(Pending::Collection { resume, .. }) = stack.last_mut() {
        *resume = end;
    }
    classify(text, m)
}

/// Byte range `[start, end)` of a member value.
type Span = (usize, usize);

/// The members of one GeoJSON object.
#[derive(Default)]
struct Members {
    typ: Option<Span>,
    coordinates: Option<Span>,
    geometries: Option<Span>,
    geometry: Option<Span>,
    features: Option<Span>,
    foreign: Vec<u8>,
    has_properties: bool,
}

/// Scans the members of the object whose `{` is at `start`; returns them and
/// the index just past the `}`. Without `ends` (the top level), the object
/// is checked to be valid JSON (`None` otherwise); with them, it must
/// already be known valid and nested objects are stepped over.
fn scan_members(text: &str, start: usize, ends: Option<&Ends>) -> Option<(Members, usize)> {
    let validate = ends.is_none();
    let b = text.as_bytes();
    let mut m = Members::default();
    let mut i = skip_ws(b, start + 1);
    if b.get(i) == Some(&b'}') {
        return Some((m, i + 1));
    }
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let key_end = if validate {
            scan_string(b, i)?
        } else {
            skip_string(b, i)
        };
        let colon = skip_ws(b, key_end);
        if b.get(colon) != Some(&b':') {
            return None;
        }
        let value = skip_ws(b, colon + 1);
        let value_end = match ends {
            None => scan_value(b, value)?,
            Some(ends) => ends.skip_value(b, value),
        };
        let key_raw = text.get(i..key_end)?;
        let span = Some((value, value_end));
        match &*string_text(key_raw) {
            "type" => m.typ = span,
            "coordinates" => m.coordinates = span,
            "geometries" => m.geometries = span,
            "geometry" => m.geometry = span,
            "features" => m.features = span,
            other => {
                // Compaction never grows the text: reserve once.
                m.foreign.reserve(value_end.saturating_sub(i) + 1);
                if !m.foreign.is_empty() {
                    m.foreign.push(b',');
                }
                m.foreign.extend_from_slice(key_raw.as_bytes());
                m.foreign.push(b':');
                append_compact(&mut m.foreign, b.get(value..value_end)?);
                m.has_properties |= other == "properties";
            }
        }
        i = skip_ws(b, value_end);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return Some((m, i + 1)),
            _ => return None,
        }
    }
}

/// Checks the type of a scanned object and parses its coordinates.
fn classify(text: &str, m: Members) -> Result<Step, E> {
    let (ts, te) = m.typ.ok_or(E::MissingType)?;
    let type_raw = text.get(ts..te).unwrap_or("");
    if !type_raw.starts_with('"') {
        return Err(E::InvalidType);
    }
    let kind = match &*string_text(type_raw) {
        "Point" => Kind::Point,
        "MultiPoint" => Kind::MultiPoint,
        "LineString" => Kind::LineString,
        "MultiLineString" => Kind::MultiLineString,
        "Polygon" => Kind::Polygon,
        "MultiPolygon" => Kind::MultiPolygon,
        "GeometryCollection" => Kind::GeometryCollection,
        "FeatureCollection" => Kind::FeatureCollection,
        "Feature" => Kind::Feature,
        other => return Err(E::UnknownType(other.to_string())),
    };
    let mut zm = ZmBuilder::default();
    let step = match kind {
        Kind::GeometryCollection => {
            let (at, _) = m.geometries.ok_or(E::MissingGeometries)?;
            Step::Collection(kind, at, None)
        }
        Kind::FeatureCollection => {
            let (at, _) = m.features.ok_or(E::MissingFeatures)?;
            Step::Collection(kind, at, None)
        }
        Kind::Feature => Step::Feature(m.geometry.ok_or(E::MissingGeometry)?.0, None),
        _ => {
            let (at, _) = m.coordinates.ok_or(E::MissingCoordinates)?;
            let shape = coordinate_shape(kind, Cursor::new(text, at), &mut zm)?;
            Step::Done(Geometry { shape, extra: None })
        }
    };
    let extra = (zm.any || !m.foreign.is_empty()).then(|| {
        Box::new(Extra {
            dims: zm.dims,
            zm: zm.values,
            members: m.foreign,
            has_properties: m.has_properties,
        })
    });
    Ok(match step {
        Step::Done(g) => Step::Done(Geometry { extra, ..g }),
        Step::Feature(at, _) => Step::Feature(at, extra),
        Step::Collection(kind, at, _) => Step::Collection(kind, at, extra),
    })
}

/// The GeoJSON types.
#[derive(Clone, Copy)]
enum Kind {
    Point,
    MultiPoint,
    LineString,
    MultiLineString,
    Polygon,
    MultiPolygon,
    GeometryCollection,
    FeatureCollection,
    Feature,
}

impl Kind {
    /// The collection shape of this kind holding `children`.
    fn collection(self, children: Vec<Geometry>) -> Shape {
        match self {
            Kind::FeatureCollection => Shape::FeatureCollection(children),
            _ => Shape::GeometryCollection(children),
        }
    }

    /// The error for a collection whose member list is not an array.
    fn not_array(self) -> E {
        match self {
            Kind::FeatureCollection => E::InvalidFeatures,
            _ => E::InvalidGeometries,
        }
    }
}
