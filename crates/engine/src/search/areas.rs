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
use tile38_proto::Args;

use super::opts::parse_not_negative;
use crate::cmd::set::parse_f64;
use crate::cmd::ReadCx;
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

/// `args[i]` if present and non-empty, else an arity error (Tile38's
/// `tokenval` plus its `== ""` checks).
fn token(args: &Args, i: usize) -> Result<&[u8]> {
    match (i < args.len()).then(|| args.get(i)) {
        Some(t) if !t.is_empty() => Ok(t),
        _ => Err(Error::Arity),
    }
}

fn float(arg: &[u8]) -> Result<f64> {
    parse_f64(arg)
}

fn int<T: std::str::FromStr>(arg: &[u8]) -> Result<T> {
    std::str::from_utf8(arg)
        .ok()
        .and_then(|s| s.parse::<T>().ok())
        .ok_or_else(|| Error::invalid_arg(arg))
}

/// The highest TILE zoom the search commands accept.
const MAX_TILE_Z: i64 = 23;

/// The search commands' (not TEST's) `TILE x y z` checks, in Tile38 1.37's
/// order: each number is parsed, then checked, before the next one: `x`
/// and `y` at least 0, `z` in 0..=23; a failure is `invalid argument`
/// naming that number.
fn check_tile(args: &Args, i: usize) -> Result<()> {
    for (k, max) in [(0, i64::MAX), (1, i64::MAX), (2, MAX_TILE_Z)] {
        let t = token(args, i + k)?;
        let v = int::<i64>(t)?;
        if !(0..=max).contains(&v) {
            return Err(Error::invalid_arg(t));
        }
    }
    Ok(())
}

/// A rectangle area (BOUNDS, HASH, QUADKEY, TILE) at `args[i..]` (after the
/// type word); `Ok(None)` when `typ` is not a rectangle type. `strict`:
/// the search commands' TILE range checks ([`check_tile`]); TEST has none.
pub fn parse_rect(
    args: &Args,
    typ: &[u8],
    i: usize,
    strict: bool,
) -> Result<Option<(Rect, usize)>> {
    let lower = typ.to_ascii_lowercase();
    let rect = match lower.as_slice() {
        b"bounds" => {
            let t: Vec<&[u8]> = (0..4).map(|k| token(args, i + k)).collect::<Result<_>>()?;
            let v: Vec<f64> = t.iter().map(|a| float(a)).collect::<Result<_>>()?;
            (
                Rect::new(Position::new(v[1], v[0]), Position::new(v[3], v[2])),
                i + 4,
            )
        }
        b"hash" => {
            let h = token(args, i)?;
            (geohash::bounding_box_lenient(h), i + 1)
        }
        b"quadkey" => {
            let k = token(args, i)?;
            let r = area::quadkey(k).ok_or_else(|| Error::invalid_arg(k))?;
            (r, i + 1)
        }
        b"tile" => {
            if strict {
                check_tile(args, i)?;
            }
            let (sx, sy, sz) = (token(args, i)?, token(args, i + 1)?, token(args, i + 2)?);
            let (x, y) = (int::<i64>(sx)?, int::<i64>(sy)?);
            // Checked, `z` is a signed number (`-0` passes) in 0..=23.
            let z = match strict {
                true => int::<i64>(sz)? as u64,
                false => int::<u64>(sz)?,
            };
            (area::tile(x, y, z), i + 3)
        }
        _ => return Ok(None),
    };
    Ok(Some(rect))
}

/// Parses the area whose type word is `args[i]`; returns the area and the
/// index after it. `nearby_radius` is not used here: NEARBY has its own
/// POINT syntax.
pub fn parse(args: &Args, i: usize, clip: ClipMode, strict: bool) -> Result<(Spec, usize)> {
    let typ = token(args, i)?;
    let lower = typ.to_ascii_lowercase();
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
    let i = i + 1;
    let ready = |v: Value, next: usize| Ok((Spec::Ready(Area::Value(v)), next));
    match lower.as_slice() {
        b"point" => {
            let (lat, lon) = (token(args, i)?, token(args, i + 1)?);
            let (lat, lon) = (float(lat)?, float(lon)?);
            ready(
                Value::Point {
                    x: lon,
                    y: lat,
                    z: 0.0,
                },
                i + 2,
            )
        }
        b"circle" => {
            refuse_clip("circle")?;
            let (lat, lon) = (token(args, i)?, token(args, i + 1)?);
            let (lat, lon) = (float(lat)?, float(lon)?);
            let m = token(args, i + 2)?;
            let meters = parse_not_negative(m)?;
            let center = Position::new(lon, lat);
            Ok((Spec::Ready(Area::Circle { center, meters }), i + 3))
        }
        b"object" => {
            refuse_clip("object")?;
            let g = Geometry::parse(token(args, i)?)?;
            ready(Value::from_geometry(g), i + 1)
        }
        b"sector" => {
            refuse_clip("sector")?;
            let t: Vec<&[u8]> = (0..5).map(|k| token(args, i + k)).collect::<Result<_>>()?;
            let v: Vec<f64> = t.iter().map(|a| float(a)).collect::<Result<_>>()?;
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
            let sector = area::sector(Position::new(v[1], v[0]), v[2], v[3], v[4])
                .map_err(Error::Message)?;
            ready(sector, i + 5)
        }
        b"get" => {
            if clip == ClipMode::Test {
                refuse_clip("get")?;
            }
            let (key, id) = (token(args, i)?, token(args, i + 1)?);
            Ok((
                Spec::Get {
                    key: key.to_vec(),
                    id: id.to_vec(),
                },
                i + 2,
            ))
        }
        _ => match parse_rect(args, typ, i, strict)? {
            Some((r, next)) => ready(Value::Rect(r), next),
            None => Err(Error::invalid_arg(typ)),
        },
    }
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
    /// Parses the area at `args[i..]` and the `CLIPBY` clauses after it; the
    /// area must end the command.
    pub fn parse(args: &Args, i: usize, clip: bool, buffer: Option<f64>) -> Result<SearchArea> {
        let mode = if clip {
            ClipMode::Search
        } else {
            ClipMode::None
        };
        let (spec, mut i) = parse(args, i, mode, true)?;
        let mut deferred =
            (clip && spec.is_get()).then(|| Error::InvalidArg(b"cannot clip with get".to_vec()));
        let mut clipby = Vec::new();
        let rest = (|| {
            while i < args.len() {
                let tok = token(args, i)?;
                if !tok.eq_ignore_ascii_case(b"clipby") {
                    return Err(Error::Arity);
                }
                let typ = token(args, i + 1)?;
                let cannot = || {
                    let word = String::from_utf8_lossy(typ).to_ascii_lowercase();
                    Error::InvalidArg(format!("cannot clipby {word}").into_bytes())
                };
                let (rect, next) = parse_rect(args, typ, i + 2, true)?.ok_or_else(cannot)?;
                clipby.push(rect);
                i = next;
            }
            Ok(())
        })();
        match rest {
            Err(e) if spec.is_get() => deferred = Some(e),
            Err(e) => return Err(e),
            // Tile38 overwrites its pending error with each later step's
            // result: a CLIPBY or BUFFER that works clears "cannot clip".
            Ok(()) if !clipby.is_empty() || buffer.is_some() => deferred = None,
            Ok(()) => {}
        }
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
            let v = area::buffer(&a.to_value(), m).map_err(Error::Message)?;
            a = Area::Value(v);
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
