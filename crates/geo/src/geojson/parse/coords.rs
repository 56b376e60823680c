//! The `coordinates` of a geometry: positions and their nesting, with the
//! z/m value counts `tidwall/geojson` allows, read from validated JSON.

use super::super::json::{skip_string, skip_value, skip_ws};
use super::super::{Coord, GeoJsonError as E, Shape};
use super::Kind;

/// Reads the `coordinates` value (at the cursor) of a geometry of `kind`.
pub(super) fn coordinate_shape(
    kind: Kind,
    mut c: Cursor<'_>,
    zm: &mut ZmBuilder,
) -> Result<Shape, E> {
    Ok(match kind {
        Kind::Point => {
            let mut nums = [0.0; 4];
            let count = c.position(false, true, &mut nums)?;
            zm.part(&nums[2..count]);
            Shape::Point(Coord::new(nums[0], nums[1]))
        }
        Kind::MultiPoint => {
            let mut seq = c.open(false).ok_or(E::InvalidCoordinates)?;
            let mut points = Vec::new();
            while c.item(&mut seq) {
                let mut nums = [0.0; 4];
                let count = c.position(true, true, &mut nums)?;
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
pub(super) struct ZmBuilder {
    /// Per-part counts; left empty while every part is 2-D.
    pub(super) dims: Vec<u8>,
    pub(super) values: Vec<f64>,
    parts: usize,
    /// Whether some part has extra values (`dims` is filled from then on).
    pub(super) any: bool,
}

impl ZmBuilder {
    /// Records one part whose positions carry `extra.len()` values each
    /// (values of later positions of the same part go through `push`).
    pub(super) fn part(&mut self, extra: &[f64]) {
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

    pub(super) fn push(&mut self, extra: &[f64]) {
        self.values.extend_from_slice(extra);
    }
}

/// State of an array (or object, iterated by value) being walked.
pub(super) struct Seq {
    close: u8,
    object: bool,
    first: bool,
}

/// A read position inside validated JSON text.
pub(super) struct Cursor<'a> {
    text: &'a str,
    pub(super) i: usize,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(text: &'a str, i: usize) -> Self {
        Cursor { text, i }
    }

    pub(super) fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// Enters the array at the cursor; with `allow_object`, also an object
    /// (whose member values are then iterated). `None` for anything else.
    pub(super) fn open(&mut self, allow_object: bool) -> Option<Seq> {
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
    pub(super) fn item(&mut self, seq: &mut Seq) -> bool {
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
    pub(super) fn skip(&mut self) {
        self.i = skip_value(self.bytes(), self.i);
    }

    /// Reads the number at the cursor, or `None` if the value is not one.
    ///
    /// Not [`crate::number`]: the text was validated against the stricter
    /// JSON number grammar (no `inf`, `0x1p4`, `1_000`, `.5`), and gjson
    /// converts JSON numbers ignoring range errors, so `1e999` is +Inf here
    /// (`[null,1]` when printed, as Tile38 does) where an argument would be
    /// rejected.
    pub(super) fn number(&mut self) -> Option<f64> {
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

    /// A position: 2 to 4 numbers into `nums`, returning how many. With
    /// `null_nan` (the positions of a Point or MultiPoint) a `null` reads
    /// as NaN, as Tile38 1.37 takes it there (printed back as `null`);
    /// LineString and Polygon positions reject it.
    pub(super) fn position(
        &mut self,
        allow_object: bool,
        null_nan: bool,
        nums: &mut [f64; 4],
    ) -> Result<usize, E> {
        let mut seq = self.open(allow_object).ok_or(E::InvalidCoordinates)?;
        let mut count = 0;
        while self.item(&mut seq) {
            if count == nums.len() {
                self.skip();
                continue;
            }
            nums[count] = match self.number() {
                Some(v) => v,
                None if null_nan && self.bytes()[self.i..].starts_with(b"null") => {
                    self.i += 4;
                    f64::NAN
                }
                None => return Err(E::InvalidCoordinates),
            };
            count += 1;
        }
        if count < 2 {
            return Err(E::InvalidCoordinates);
        }
        Ok(count)
    }

    /// A LineString's positions (at least two). `nested` marks a
    /// MultiLineString member, which gjson iterates unchecked.
    pub(super) fn line(&mut self, nested: bool, zm: &mut ZmBuilder) -> Result<Vec<Coord>, E> {
        let mut seq = self.open(nested).ok_or(E::InvalidCoordinates)?;
        let mut points = Vec::new();
        let mut dims = 0;
        while self.item(&mut seq) {
            let mut nums = [0.0; 4];
            let count = self.position(false, false, &mut nums)?;
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
    pub(super) fn polygon(
        &mut self,
        nested: bool,
        zm: &mut ZmBuilder,
    ) -> Result<Vec<Vec<Coord>>, E> {
        let mut seq = self.open(nested).ok_or(E::InvalidCoordinates)?;
        let mut rings: Vec<Vec<Coord>> = Vec::new();
        let mut dims = 0;
        let mut started = false;
        while self.item(&mut seq) {
            let mut ring_seq = self.open(false).ok_or(E::InvalidCoordinates)?;
            let mut ring = Vec::new();
            while self.item(&mut ring_seq) {
                let mut nums = [0.0; 4];
                let count = self.position(true, false, &mut nums)?;
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
pub(in crate::geojson) fn fast_decimal(raw: &[u8]) -> Option<f64> {
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
