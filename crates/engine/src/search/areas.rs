//! The areas of WITHIN, INTERSECTS and TEST, parsed as Tile38 does
//! (`cmdSearchArgs`, `parseArea`, `parseRectArea`):
//!
//! ```text
//! POINT lat lon | CIRCLE lat lon meters | BOUNDS minlat minlon maxlat maxlon
//! | HASH geohash | QUADKEY key | TILE x y z | OBJECT geojson | GET key id
//! | SECTOR lat lon meters bearing1 bearing2      [CLIPBY BOUNDS|HASH|TILE|QUADKEY …]…
//! ```
//!
//! The search commands (and hook fences) check TILE's numbers as Tile38
//! 1.37 does (`x`, `y` ≥ 0, `z` ≤ 23); TEST, like Tile38's, does not. A NaN
//! or infinite SECTOR bearing, which Tile38 never returns from, is an
//! `invalid argument`.
//!
//! `GET key id` is only looked up when the command runs (parsing has no
//! database); [`Resolved`] keeps what must happen after the lookup (CLIPBY,
//! BUFFER, and an error Tile38 would report only if the lookup succeeds).

use tile38_geo::predicate::Area;
use tile38_geo::{area, geohash, Geometry, Position, Rect, Value};

use crate::cmd::ReadCx;
use crate::cursor::{float, int, not_negative, uint, Cursor, Lowered};
use crate::error::{Error, Result};

/// How `CLIP` restricts the area types.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ClipMode {
    None,
    /// `INTERSECTS … CLIP <area>`: `invalid argument 'cannot clip with <type>'`.
    Search,
    /// `TEST … INTERSECTS CLIP <area>`: `invalid clip type '<TYPE>'`.
    Test,
}

/// An area as parsed: ready, or an object to look up.
#[derive(Clone, Debug)]
pub enum Spec {
    Ready(Area),
    Get { key: Vec<u8>, id: Vec<u8> },
}

impl Spec {
    /// Looks up `GET key id`; a string object is an area nothing matches.
    pub fn resolve(&self, cx: &ReadCx) -> Result<Area> {
        match self {
            Spec::Ready(a) => Ok(a.clone()),
            Spec::Get { key, id } => {
                let col = cx.db.get(key).ok_or(Error::KeyNotFound)?;
                let item = col.get(id).ok_or(Error::IdNotFound)?;
                Ok(Area::Value(item.value.clone()))
            }
        }
    }

    pub fn is_get(&self) -> bool {
        matches!(self, Spec::Get { .. })
    }
}

/// The highest TILE zoom the search commands accept.
const MAX_TILE_Z: i64 = 23;

/// The search commands' (not TEST's) `TILE x y z` checks, in Tile38 1.37's
/// order: each number is parsed, then checked, before the next one is
/// read: `x` and `y` at least 0, `z` in 0..=23; a failure is `invalid
/// argument` naming that number. (On a copy of the cursor: the numbers are
/// read again for the tile.)
fn check_tile(mut c: Cursor<'_>) -> Result<()> {
    for max in [i64::MAX, i64::MAX, MAX_TILE_Z] {
        let t = c.token()?;
        if !(0..=max).contains(&int(t)?) {
            return Err(Error::invalid_arg(t));
        }
    }
    Ok(())
}

/// A rectangle area (BOUNDS, HASH, QUADKEY, TILE), its type word `typ`
/// already read; `Ok(None)` when `typ` is not a rectangle type. `strict`:
/// the search commands' TILE range checks ([`check_tile`]); TEST has none.
pub fn parse_rect(c: &mut Cursor<'_>, typ: &[u8], strict: bool) -> Result<Option<Rect>> {
    let lower = Lowered::of(typ);
    let rect = match lower.as_slice() {
        b"bounds" => {
            // All four must be there before any is read as a number.
            let t = [c.token()?, c.token()?, c.token()?, c.token()?];
            let [s, w, n, e] = [float(t[0])?, float(t[1])?, float(t[2])?, float(t[3])?];
            Rect::new(Position::new(w, s), Position::new(e, n))
        }
        b"hash" => geohash::bounding_box_lenient(c.token()?),
        b"quadkey" => {
            let k = c.token()?;
            area::quadkey(k).ok_or_else(|| Error::invalid_arg(k))?
        }
        b"tile" => {
            if strict {
                check_tile(*c)?;
            }
            let (sx, sy, sz) = (c.token()?, c.token()?, c.token()?);
            let (x, y) = (int(sx)?, int(sy)?);
            // Checked, `z` is a signed number (`-0` passes) in 0..=23;
            // unchecked (TEST), Go's `ParseUint` (`+5` is refused).
            let z = match strict {
                true => int(sz)? as u64,
                false => uint(sz)?,
            };
            area::tile(x, y, z)
        }
        _ => return Ok(None),
    };
    Ok(Some(rect))
}

/// `SECTOR lat lon meters bearing1 bearing2` after its type word.
fn sector(c: &mut Cursor<'_>) -> Result<Value> {
    // All five must be there before any is read as a number.
    let t = [c.token()?, c.token()?, c.token()?, c.token()?, c.token()?];
    let mut v = [0.0; 5];
    for (slot, arg) in v.iter_mut().zip(t) {
        *slot = float(arg)?;
    }
    // A NaN or infinite bearing never returns in Tile38: refused.
    if let Some(k) = (3..5).find(|&k| !v[k].is_finite()) {
        return Err(Error::invalid_arg(t[k]));
    }
    if v[3] == v[4] {
        return Err(Error::Message(format!(
            "equal bearings ({} == {}), use CIRCLE instead",
            String::from_utf8_lossy(t[3]),
            String::from_utf8_lossy(t[4])
        )));
    }
    area::sector(Position::new(v[1], v[0]), v[2], v[3], v[4]).map_err(Error::Message)
}

/// Parses an area, from its type word on.
pub fn parse(c: &mut Cursor<'_>, clip: ClipMode, strict: bool) -> Result<Spec> {
    let typ = c.token()?;
    let lower = Lowered::of(typ);
    let refuse_clip = |name: &str| match clip {
        ClipMode::None => Ok(()),
        ClipMode::Search => Err(Error::InvalidArg(
            format!("cannot clip with {name}").into_bytes(),
        )),
        ClipMode::Test => Err(Error::Message(format!(
            "invalid clip type '{}'",
            String::from_utf8_lossy(typ)
        ))),
    };
    let ready = |v: Value| Ok(Spec::Ready(Area::Value(v)));
    match lower.as_slice() {
        b"point" => {
            let (lat, lon) = (c.token()?, c.token()?);
            let (lat, lon) = (float(lat)?, float(lon)?);
            ready(Value::Point {
                x: lon,
                y: lat,
                z: 0.0,
            })
        }
        b"circle" => {
            refuse_clip("circle")?;
            let (lat, lon) = (c.token()?, c.token()?);
            let (lat, lon) = (float(lat)?, float(lon)?);
            let meters = not_negative(c.token()?)?;
            let center = Position::new(lon, lat);
            Ok(Spec::Ready(Area::Circle { center, meters }))
        }
        b"object" => {
            refuse_clip("object")?;
            ready(Value::from_geometry(Geometry::parse(c.token()?)?))
        }
        b"sector" => {
            refuse_clip("sector")?;
            ready(sector(c)?)
        }
        b"get" => {
            if clip == ClipMode::Test {
                refuse_clip("get")?;
            }
            let (key, id) = (c.token()?, c.token()?);
            Ok(Spec::Get {
                key: key.to_vec(),
                id: id.to_vec(),
            })
        }
        _ => match parse_rect(c, typ, strict)? {
            Some(r) => ready(Value::Rect(r)),
            None => Err(Error::invalid_arg(typ)),
        },
    }
}

/// The `CLIPBY BOUNDS|HASH|TILE|QUADKEY …` clauses that may end a search
/// area (and any fence): every word left must belong to one.
pub fn parse_clipby(c: &mut Cursor<'_>) -> Result<Vec<Rect>> {
    let mut rects = Vec::new();
    while !c.is_empty() {
        if !c.token()?.eq_ignore_ascii_case(b"clipby") {
            return Err(Error::Arity);
        }
        let typ = c.token()?;
        let cannot = || {
            let word = String::from_utf8_lossy(typ).to_ascii_lowercase();
            Error::InvalidArg(format!("cannot clipby {word}").into_bytes())
        };
        rects.push(parse_rect(c, typ, true)?.ok_or_else(cannot)?);
    }
    Ok(rects)
}

/// The area of a WITHIN/INTERSECTS search, with its CLIPBY rectangles and
/// BUFFER, completed when the command runs.
#[derive(Debug)]
pub struct SearchArea {
    pub spec: Spec,
    clipby: Vec<Rect>,
    buffer: Option<f64>,
    /// An error Tile38 reports only once a `GET` area was found.
    deferred: Option<Error>,
}

impl SearchArea {
    /// Parses the area and the `CLIPBY` clauses after it; the area must
    /// end the command.
    pub fn parse(c: &mut Cursor<'_>, clip: bool, buffer: Option<f64>) -> Result<SearchArea> {
        let mode = if clip {
            ClipMode::Search
        } else {
            ClipMode::None
        };
        let spec = parse(c, mode, true)?;
        let mut deferred =
            (clip && spec.is_get()).then(|| Error::InvalidArg(b"cannot clip with get".to_vec()));
        let clipby = match parse_clipby(c) {
            Err(e) if spec.is_get() => {
                deferred = Some(e);
                Vec::new()
            }
            Err(e) => return Err(e),
            // Tile38 overwrites its pending error with each later step's
            // result: a CLIPBY or BUFFER that works clears "cannot clip".
            Ok(rects) if !rects.is_empty() || buffer.is_some() => {
                deferred = None;
                rects
            }
            Ok(rects) => rects,
        };
        let mut area = SearchArea {
            spec,
            clipby,
            buffer,
            deferred,
        };
        if let Spec::Ready(a) = &area.spec {
            // Known areas are completed now: their CLIPBY/BUFFER errors are
            // parse errors in Tile38, and the work is not redone per run.
            let done = area.finish(a.clone())?;
            area = SearchArea {
                spec: Spec::Ready(done),
                clipby: Vec::new(),
                buffer: None,
                deferred: None,
            };
        }
        Ok(area)
    }

    /// Applies CLIPBY and BUFFER to the looked-up area.
    fn finish(&self, mut a: Area) -> Result<Area> {
        for r in &self.clipby {
            if let Area::Value(v) = &a {
                a = Area::Value(area::clip(v, *r));
            }
        }
        if let Some(m) = self.buffer {
            // A BUFFER of zero or less leaves any area alone, a CIRCLE one
            // included (its polygon is not a circle: containment differs).
            if m <= 0.0 {
                return Ok(a);
            }
            a = Area::Value(area::buffer(&a.to_value(), m).map_err(Error::Message)?);
        }
        Ok(a)
    }

    /// The final area when the command runs.
    pub fn resolve(&self, cx: &ReadCx) -> Result<Area> {
        let a = self.spec.resolve(cx)?;
        if let Some(e) = &self.deferred {
            return Err(e.clone());
        }
        self.finish(a)
    }
}
