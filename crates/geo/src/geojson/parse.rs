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
//!   array's elements.

use super::json::{
    append_compact, scan_string, scan_value, skip_string, skip_value, skip_ws, string_text,
};
use super::{Coord, Extra, GeoJsonError as E, Geometry, Shape};

/// Deepest nesting of GeoJSON objects (Feature → geometry, collections)
/// accepted before the input is rejected as `invalid data`.
pub(super) const MAX_DEPTH: usize = 1000;

/// Parses a complete GeoJSON document.
///
/// Nested objects (Feature geometries, collection members) are handled with
/// an explicit stack rather than recursion, so parsing uses a small, fixed
/// amount of call stack whatever the input.
pub(super) fn parse(input: &[u8]) -> Result<Geometry, E> {
    let text = std::str::from_utf8(input).map_err(|_| E::InvalidData)?;
    let start = skip_ws(input, 0);
    if input.get(start) != Some(&b'{') {
        return Err(E::InvalidData);
    }
    // The top-level scan validates every member value as it skips it, so
    // the whole document is known to be valid JSON before any GeoJSON rule
    // is checked; nested objects are then scanned without re-validation.
    let (members, end) = scan_members(text, start, true).ok_or(E::InvalidData)?;
    if skip_ws(input, end) != input.len() {
        return Err(E::InvalidData);
    }
    let mut step = classify(text, members)?;
    let mut stack: Vec<Pending> = Vec::new();
    loop {
        let mut done = match step {
            Step::Done(g) => g,
            Step::Feature(at, extra) => {
                stack.push(Pending::Feature(extra));
                step = descend(text, &mut stack, at)?;
                continue;
            }
            Step::Collection(kind, at, extra) => {
                let mut c = Cursor::new(text, at);
                let mut seq = c.open(false).ok_or_else(|| kind.not_array())?;
                if c.item(&mut seq) {
                    let child = c.i;
                    let children = Vec::new();
                    stack.push(Pending::Collection {
                        kind,
                        resume: child,
                        seq,
                        children,
                        extra,
                    });
                    step = descend(text, &mut stack, child)?;
                    continue;
                }
                Geometry {
                    shape: kind.collection(Vec::new()),
                    extra,
                }
            }
        };
        // `done` is complete: hand it to its parents until one of them has
        // another member to parse.
        loop {
            match stack.pop() {
                None => return Ok(done),
                Some(Pending::Feature(extra)) => {
                    done = Geometry {
                        shape: Shape::Feature(Box::new(done)),
                        extra,
                    };
                }
                Some(Pending::Collection {
                    kind,
                    resume,
                    mut seq,
                    mut children,
                    extra,
                }) => {
                    children.push(done);
                    let mut c = Cursor::new(text, resume);
                    if c.item(&mut seq) {
                        let child = c.i;
                        stack.push(Pending::Collection {
                            kind,
                            resume: child,
                            seq,
                            children,
                            extra,
                        });
                        step = descend(text, &mut stack, child)?;
                        break;
                    }
                    done = Geometry {
                        shape: kind.collection(children),
                        extra,
                    };
                }
            }
        }
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
fn descend(text: &str, stack: &mut [Pending], start: usize) -> Result<Step, E> {
    if stack.len() > MAX_DEPTH || text.as_bytes().get(start) != Some(&b'{') {
        return Err(E::InvalidData);
    }
    let (m, end) = scan_members(text, start, false).ok_or(E::InvalidData)?;
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
/// the index just past the `}`. With `validate`, the object is checked to be
/// valid JSON (`None` otherwise); without, it must already be known valid.
fn scan_members(text: &str, start: usize, validate: bool) -> Option<(Members, usize)> {
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
        let value_end = if validate {
            scan_value(b, value)?
        } else {
            skip_value(b, value)
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

/// Reads the `coordinates` value (at the cursor) of a geometry of `kind`.
fn coordinate_shape(kind: Kind, mut c: Cursor<'_>, zm: &mut ZmBuilder) -> Result<Shape, E> {
    Ok(match kind {
        Kind::Point => {
            let mut nums = [0.0; 4];
            let count = c.position(false, &mut nums)?;
            zm.part(&nums[2..count]);
            Shape::Point(Coord::new(nums[0], nums[1]))
        }
        Kind::MultiPoint => {
            let mut seq = c.open(false).ok_or(E::InvalidCoordinates)?;
            let mut points = Vec::new();
            while c.item(&mut seq) {
                let mut nums = [0.0; 4];
                let count = c.position(true, &mut nums)?;
                zm.part(&nums[2..count]);
                points.push(Coord::new(nums[0], nums[1]));
            }
            Shape::MultiPoint(points)
        }
        Kind::LineString => Shape::LineString(c.line(false, zm)?),
        Kind::MultiLineString => {
            let mut seq = c.open(false).ok_or(E::InvalidCoordinates)?;
            let mut lines = Vec::new();
            while c.item(&mut seq) {
                lines.push(c.line(true, zm)?);
            }
            Shape::MultiLineString(lines)
        }
        Kind::Polygon => Shape::Polygon(c.polygon(false, zm)?),
        Kind::MultiPolygon => {
            let mut seq = c.open(false).ok_or(E::InvalidCoordinates)?;
            let mut polys = Vec::new();
            while c.item(&mut seq) {
                polys.push(c.polygon(true, zm)?);
            }
            Shape::MultiPolygon(polys)
        }
        // Not coordinate types; handled by `classify`.
        Kind::GeometryCollection | Kind::FeatureCollection | Kind::Feature => {
            return Err(E::InvalidData);
        }
    })
}

/// Collects the extra (z/m) values: one dimension count per part (a Point,
/// a LineString, a Polygon, or one member of a Multi* geometry).
#[derive(Default)]
struct ZmBuilder {
    /// Per-part counts; left empty while every part is 2-D.
    dims: Vec<u8>,
    values: Vec<f64>,
    parts: usize,
    /// Whether some part has extra values (`dims` is filled from then on).
    any: bool,
}

impl ZmBuilder {
    /// Records one part whose positions carry `extra.len()` values each
    /// (values of later positions of the same part go through `push`).
    fn part(&mut self, extra: &[f64]) {
        if !extra.is_empty() && !self.any {
            self.any = true;
            self.dims.resize(self.parts, 0);
        }
        if self.any {
            self.dims.push(extra.len() as u8);
        }
        self.parts += 1;
        self.values.extend_from_slice(extra);
    }

    fn push(&mut self, extra: &[f64]) {
        self.values.extend_from_slice(extra);
    }
}

/// State of an array (or object, iterated by value) being walked.
struct Seq {
    close: u8,
    object: bool,
    first: bool,
}

/// A read position inside validated JSON text.
struct Cursor<'a> {
    text: &'a str,
    i: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str, i: usize) -> Self {
        Cursor { text, i }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// Enters the array at the cursor; with `allow_object`, also an object
    /// (whose member values are then iterated). `None` for anything else.
    fn open(&mut self, allow_object: bool) -> Option<Seq> {
        let (close, object) = match self.bytes().get(self.i)? {
            b'[' => (b']', false),
            b'{' if allow_object => (b'}', true),
            _ => return None,
        };
        self.i += 1;
        Some(Seq {
            close,
            object,
            first: true,
        })
    }

    /// Moves to the next element value of `seq`; `false` (past the closing
    /// bracket) when there is none. The caller must consume each value.
    fn item(&mut self, seq: &mut Seq) -> bool {
        let b = self.bytes();
        self.i = skip_ws(b, self.i);
        match b.get(self.i) {
            None => return false,
            Some(&c) if c == seq.close => {
                self.i += 1;
                return false;
            }
            Some(b',') if !seq.first => self.i = skip_ws(b, self.i + 1),
            Some(_) if seq.first => {}
            Some(_) => return false,
        }
        seq.first = false;
        if seq.object {
            let key_end = skip_string(b, self.i);
            self.i = skip_ws(b, skip_ws(b, key_end) + 1);
        }
        true
    }

    /// Skips the value at the cursor.
    fn skip(&mut self) {
        self.i = skip_value(self.bytes(), self.i);
    }

    /// Reads the number at the cursor, or `None` if the value is not one.
    fn number(&mut self) -> Option<f64> {
        let b = self.bytes();
        if !matches!(b.get(self.i), Some(b'-' | b'0'..=b'9')) {
            return None;
        }
        let mut end = self.i + 1;
        while b
            .get(end)
            .is_some_and(|c| matches!(c, b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-'))
        {
            end += 1;
        }
        let raw = self.text.get(self.i..end)?;
        let v = match fast_decimal(raw.as_bytes()) {
            Some(v) => v,
            None => raw.parse().ok()?,
        };
        self.i = end;
        Some(v)
    }

    /// A position: 2 to 4 numbers into `nums`, returning how many.
    fn position(&mut self, allow_object: bool, nums: &mut [f64; 4]) -> Result<usize, E> {
        let mut seq = self.open(allow_object).ok_or(E::InvalidCoordinates)?;
        let mut count = 0;
        while self.item(&mut seq) {
            if count == nums.len() {
                self.skip();
                continue;
            }
            nums[count] = self.number().ok_or(E::InvalidCoordinates)?;
            count += 1;
        }
        if count < 2 {
            return Err(E::InvalidCoordinates);
        }
        Ok(count)
    }

    /// A LineString's positions (at least two). `nested` marks a
    /// MultiLineString member, which gjson iterates unchecked.
    fn line(&mut self, nested: bool, zm: &mut ZmBuilder) -> Result<Vec<Coord>, E> {
        let mut seq = self.open(nested).ok_or(E::InvalidCoordinates)?;
        let mut points = Vec::new();
        let mut dims = 0;
        while self.item(&mut seq) {
            let mut nums = [0.0; 4];
            let count = self.position(false, &mut nums)?;
            if points.is_empty() {
                dims = count - 2;
                zm.part(&nums[2..count]);
            } else if dims == 0 && count > 2 {
                return Err(E::InvalidCoordinates);
            } else {
                zm.push(&nums[2..2 + dims]);
            }
            points.push(Coord::new(nums[0], nums[1]));
        }
        if points.len() < 2 {
            return Err(E::InvalidCoordinates);
        }
        Ok(points)
    }

    /// A Polygon's rings: at least one, each closed with at least four
    /// positions. `nested` marks a MultiPolygon member.
    fn polygon(&mut self, nested: bool, zm: &mut ZmBuilder) -> Result<Vec<Vec<Coord>>, E> {
        let mut seq = self.open(nested).ok_or(E::InvalidCoordinates)?;
        let mut rings: Vec<Vec<Coord>> = Vec::new();
        let mut dims = 0;
        let mut started = false;
        while self.item(&mut seq) {
            let mut ring_seq = self.open(false).ok_or(E::InvalidCoordinates)?;
            let mut ring = Vec::new();
            while self.item(&mut ring_seq) {
                let mut nums = [0.0; 4];
                let count = self.position(true, &mut nums)?;
                if !started {
                    if !rings.is_empty() && count > 2 {
                        return Err(E::InvalidCoordinates);
                    }
                    started = true;
                    dims = count - 2;
                    zm.part(&nums[2..count]);
                } else if dims == 0 && count > 2 {
                    return Err(E::InvalidCoordinates);
                } else {
                    zm.push(&nums[2..2 + dims]);
                }
                ring.push(Coord::new(nums[0], nums[1]));
            }
            rings.push(ring);
        }
        let closed = |r: &Vec<Coord>| r.len() >= 4 && r[0] == r[r.len() - 1];
        if rings.is_empty() || !rings.iter().all(closed) {
            return Err(E::InvalidCoordinates);
        }
        Ok(rings)
    }
}

/// Clinger's fast path for plain decimals (`-112.2693`): when the digits fit
/// in 53 bits and there are at most 22 decimals, one correctly rounded
/// division of two exact values gives the correctly rounded result. `None`
/// for anything else (exponents, long mantissas), which `str::parse` handles.
pub(super) fn fast_decimal(raw: &[u8]) -> Option<f64> {
    const POW10: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    let (negative, digits) = match raw.split_first()? {
        (b'-', rest) => (true, rest),
        _ => (false, raw),
    };
    if digits.len() > 18 {
        return None;
    }
    let mut mantissa = 0u64;
    let mut decimals = None;
    for (i, &c) in digits.iter().enumerate() {
        match c {
            b'0'..=b'9' => mantissa = mantissa * 10 + u64::from(c - b'0'),
            b'.' if decimals.is_none() => decimals = Some(digits.len() - i - 1),
            _ => return None,
        }
    }
    if mantissa >= 1 << 53 {
        return None;
    }
    let v = mantissa as f64 / POW10[decimals.unwrap_or(0)];
    Some(if negative { -v } else { v })
}
