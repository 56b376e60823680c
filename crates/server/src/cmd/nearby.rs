//! `NEARBY key [CURSOR start] [LIMIT count] [MATCH pattern] [DISTANCE]
//! [WHERE …] [WHEREIN …] [NOFIELDS] [COUNT|IDS|OBJECTS|POINTS|BOUNDS|(HASHES p)]
//! POINT lat lon [meters]`
//!
//! k-nearest objects in ascending haversine distance (Tile38's Go-math
//! formula, R = 6 371 000 m) from the point to each object's bounding box
//! (0 inside it). A radius of 0 or none means unlimited; with a radius the
//! walk stops at the first object farther away.

use std::iter::Peekable;

use tile38_collection::Item;
use tile38_geo::gomath::{distance_from_h, distance_to, haversine_h};
use tile38_geo::predicate::Area;
use tile38_geo::{Position, Rect, Value};
use tile38_proto::Args;

use super::opts::SearchOpts;
use super::results::{write_results, Hit};
use super::set::parse_f64;
use super::within::sparse;
use super::{ReadCommand, ReadCx};
use crate::error::{Error, Result};
use crate::reply::Reply;

pub struct Nearby {
    opts: SearchOpts,
    lat: f64,
    lon: f64,
    meters: f64,
}

impl ReadCommand<'_> for Nearby {
    fn parse(args: &Args) -> Result<Self> {
        let (opts, mut i) = SearchOpts::parse(args, "NEARBY")?;
        if i >= args.len() {
            return Err(Error::Arity);
        }
        let area = args.get(i);
        if !area.eq_ignore_ascii_case(b"point") {
            if area.eq_ignore_ascii_case(b"roam") && opts.fence {
                return Err(Error::Message(
                    "ROAM geofences are not supported yet".into(),
                ));
            }
            return Err(Error::invalid_arg(area));
        }
        if i + 2 >= args.len() {
            return Err(Error::Arity);
        }
        let (lat, lon) = (parse_f64(args.get(i + 1))?, parse_f64(args.get(i + 2))?);
        i += 3;
        let mut meters = 0.0;
        if i < args.len() {
            let a = args.get(i);
            meters = parse_f64(a)
                .ok()
                .filter(|m| *m >= 0.0)
                .ok_or_else(|| Error::invalid_arg(a))?;
            i += 1;
        }
        if i < args.len() {
            return Err(Error::Arity);
        }
        if opts.sparse.is_some() && meters <= 0.0 {
            return Err(Error::Message(
                "cannot use SPARSE without a point distance".into(),
            ));
        }
        if opts.fence {
            return Err(Error::Message(
                "FENCE geofences are not supported yet".into(),
            ));
        }
        Ok(Nearby {
            opts,
            lat,
            lon,
            meters,
        })
    }

    fn apply(&self, cx: &ReadCx, out: &mut Reply) -> Result<()> {
        let o = &self.opts;
        let Some(col) = cx.db.get(&o.key) else {
            write_results(out, o, &[], 0);
            return Ok(());
        };
        let (qlat, qlon, meters) = (self.lat, self.lon, self.meters);
        if let Some(depth) = o.sparse {
            // Tile38 runs SPARSE as INTERSECTS with the circle: no distance
            // order, one object per cell.
            let circle = Area::Circle {
                center: Position::new(qlon, qlat),
                meters,
            };
            let prepared = circle.prepare();
            let picked = sparse(col, circle.bbox(), depth, &|item: &Item| {
                prepared.intersects(&item.value)
            });
            let hits = picked.into_iter().map(|(id, item)| Hit {
                id: id.as_bytes(),
                item,
                dist: if o.distance {
                    sparse_distance(&item.value, qlat, qlon)
                } else {
                    0.0
                },
            });
            let (found, cursor) = o.collect(cx, hits, |id, _| o.matches_id(id))?;
            write_results(out, o, &found, cursor);
            return Ok(());
        }
        // Distance from the query point to the nearest point of a box: the
        // object is Tile38's point "a".
        // Ordered by the haversine term: the arcsine only for results.
        let candidates = col
            .nearest(move |r: &Rect| bbox_h(r, qlat, qlon))
            .map(|(h, id, item)| (distance_from_h(h), id, item))
            .take_while(move |(d, _, _)| !(meters > 0.0 && *d > meters))
            .map(|(d, id, item)| Hit {
                id: id.as_bytes(),
                item,
                dist: d,
            });
        let candidates = NewestFirstTies::new(candidates);
        let (found, cursor) = o.collect(cx, candidates, |id, _| o.matches_id(id))?;
        write_results(out, o, &found, cursor);
        Ok(())
    }
}

/// Tile38's `Object.Distance(circle)`: from the centre to a point object
/// (`geo.DistanceTo`, centre first); other objects are measured to their
/// bounding box.
fn sparse_distance(v: &Value, qlat: f64, qlon: f64) -> f64 {
    match v {
        Value::Point { x, y, .. } => distance_to(qlat, qlon, *y, *x),
        _ => distance_from_h(bbox_h(&v.bbox(), qlat, qlon)),
    }
}

/// The haversine term from the query point to the nearest point of a box
/// (Tile38 measures from the object's box, the box's point first).
fn bbox_h(r: &Rect, qlat: f64, qlon: f64) -> f64 {
    let (lat, lon) = clamp(r, qlat, qlon);
    haversine_h(lat, lon, qlat, qlon)
}

/// The point of a box nearest the query in each coordinate.
fn clamp(r: &Rect, qlat: f64, qlon: f64) -> (f64, f64) {
    let (lo, hi) = (r.min, r.max);
    (
        qlat.clamp(lo.y.min(hi.y), lo.y.max(hi.y)),
        qlon.clamp(lo.x.min(hi.x), lo.x.max(hi.x)),
    )
}

/// Reorders runs of equal distance newest first, as Tile38's kNN returns
/// them (its queue favours the most recently inserted entry).
struct NewestFirstTies<'a, I: Iterator<Item = Hit<'a>>> {
    inner: Peekable<I>,
    run: Vec<Hit<'a>>,
}

impl<'a, I: Iterator<Item = Hit<'a>>> NewestFirstTies<'a, I> {
    fn new(inner: I) -> Self {
        NewestFirstTies {
            inner: inner.peekable(),
            run: Vec::new(),
        }
    }
}

impl<'a, I: Iterator<Item = Hit<'a>>> Iterator for NewestFirstTies<'a, I> {
    type Item = Hit<'a>;

    fn next(&mut self) -> Option<Hit<'a>> {
        if let Some(h) = self.run.pop() {
            return Some(h);
        }
        let first = self.inner.next()?;
        if self.inner.peek().is_none_or(|n| n.dist != first.dist) {
            return Some(first);
        }
        let dist = first.dist;
        self.run.push(first);
        while let Some(h) = self.inner.next_if(|n| n.dist == dist) {
            self.run.push(h);
        }
        // Popped from the back, so the newest goes last.
        self.run.sort_by_key(|h| h.item.seq);
        self.run.pop()
    }
}
