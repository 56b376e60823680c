//! `WITHIN key [options] [output] <area> [CLIPBY …]` and
//! `INTERSECTS key [options] [CLIP] [output] <area> [CLIPBY …]`.
//!
//! Candidates are the objects whose bounding box meets the area's; each is
//! then tested exactly (`obj WITHIN area` / `obj INTERSECTS area`). The
//! cursor counts candidates, including those failing the exact test, as
//! Tile38 does. Order: while Tile38's R-tree is a single leaf (under 64
//! spatial objects since the key was last empty) the collection keeps a
//! replica of it once a NaN side has entered, a replay of the objects
//! present standing in before (`tile38_collection::leaf`: order by west
//! edge rounded down to float32, newest first among equals, disordered
//! where a NaN entry was, and the root box `Search` tests first), and we
//! search that; bigger collections come in our R-tree's order
//! (deterministic, as Tile38's own order then depends on its node
//! splits). `SPARSE n` returns at most one object per cell of the area's
//! box split into 4ⁿ quadrants, and stops at the first candidate failing
//! the exact test, as Tile38 1.37 does ([`sparse`]).

use std::collections::HashSet;

use tile38_collection::leaf::GoRect;
use tile38_collection::{Collection, Id, Item};
use tile38_geo::predicate::PreparedArea;
use tile38_geo::{area, Rect, Value};
use tile38_proto::Args;

use super::output::Form;
use super::{ReadCommand, ReadCx};
use crate::cursor::{float, Cursor};
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::search::areas::SearchArea;
use crate::search::knn::{f32_down, f32_up, leaf_entries};
use crate::search::opts::{Output, SearchOpts};
use crate::search::results::{write_results, Hit, Page};
use crate::search::Either;

/// Tile38's R-tree node capacity: up to this many objects it is one sorted
/// leaf.
pub const LEAF_CAPACITY: usize = 64;

const AREA_TYPES: [&[u8]; 9] = [
    b"point", b"circle", b"bounds", b"hash", b"tile", b"quadkey", b"get", b"object", b"sector",
];

/// WITHIN (`INTERSECTS == false`) or INTERSECTS.
pub struct SpatialSearch<const INTERSECTS: bool> {
    opts: SearchOpts,
    area: SearchArea,
}

pub type Within = SpatialSearch<false>;
pub type Intersects = SpatialSearch<true>;

/// Whether an object is a candidate of Tile38's R-tree search for `q`:
/// the tree holds each box as given (an inverted `SET … BOUNDS`, south
/// above north or west east of east, stays inverted) rounded outward to
/// float32, searches with the query box rounded the same way, and does
/// not check the exact box: an object a float32 step outside the query
/// (or a SPARSE cell) is still a candidate there.
/// The query's side of the test is rounded once per search.
#[derive(Clone, Copy)]
struct RtreeQuery([f32; 4]);

impl RtreeQuery {
    fn new(q: &Rect) -> RtreeQuery {
        RtreeQuery([
            f32_down(q.min.x),
            f32_up(q.max.x),
            f32_down(q.min.y),
            f32_up(q.max.y),
        ])
    }

    fn meets(&self, value: &Value) -> bool {
        let (r, [x0, x1, y0, y1]) = (value.bbox(), self.0);
        !(x0 > f32_up(r.max.x)
            || x1 < f32_down(r.min.x)
            || y0 > f32_up(r.max.y)
            || y1 < f32_down(r.min.y))
    }
}

/// `q` made ready for our index walk, a superset of what [`RtreeQuery`]
/// accepts: a NaN side drops out of Go's test (its comparisons are false),
/// so it walks as unbounded; then normalised and grown by more than the
/// float32 rounding of both boxes (an infinite side stays as it is).
fn grown(q: &Rect) -> Rect {
    let pad = |v: f64| {
        if v.is_finite() {
            (v.abs() + 1.0) / 1_048_576.0
        } else {
            0.0
        }
    };
    let or = |v: f64, unbounded: f64| if v.is_nan() { unbounded } else { v };
    let (ax, bx) = (or(q.min.x, f64::NEG_INFINITY), or(q.max.x, f64::INFINITY));
    let (ay, by) = (or(q.min.y, f64::NEG_INFINITY), or(q.max.y, f64::INFINITY));
    let (x0, x1) = (ax.min(bx), ax.max(bx));
    let (y0, y1) = (ay.min(by), ay.max(by));
    Rect::new(
        tile38_geo::Position::new(x0 - pad(x0), y0 - pad(y0)),
        tile38_geo::Position::new(x1 + pad(x1), y1 + pad(y1)),
    )
}

/// The objects whose box meets `rect`, in the order Tile38 visits them.
///
/// Up to [`LEAF_CAPACITY`] objects every object is put to Go's box test
/// ([`RtreeQuery`]), as Tile38's one leaf does: an object with a NaN side
/// is indexed here by its other sides only, and passes Go's test where
/// that box may not (`BOUNDS 33 -112 nan -111` meets any area above 33).
/// Bigger collections walk our index (where such an object keeps its
/// finite sides, as Tile38's node boxes do).
pub fn candidates<'a>(
    col: &'a Collection,
    rect: Rect,
) -> impl Iterator<Item = (&'a Id, &'a Item)> + 'a {
    // Observed of Tile38 1.37 (not derived): a box NaN on every side (a
    // CIRCLE of NaN radius or latitude, `BOUNDS nan nan nan nan`) meets
    // nothing, while one finite side is enough for Go's half test.
    if [rect.min.x, rect.min.y, rect.max.x, rect.max.y]
        .iter()
        .all(|v| v.is_nan())
    {
        return Either::Left(Either::Left(std::iter::empty()));
    }
    let go = RtreeQuery::new(&rect);
    if col.spatial_len() + col.unindexed_len() > LEAF_CAPACITY {
        let found = col
            .intersecting(grown(&rect))
            .filter(move |(_, item)| go.meets(&item.value));
        return Either::Left(Either::Right(found));
    }
    // Tile38's `Search` tests its root box first ([`tile38_collection::leaf`]).
    if let Some((leaf, _)) = col.leaf() {
        if !GoRect::of(&rect).intersects(&leaf.rect) {
            return Either::Left(Either::Left(std::iter::empty()));
        }
    }
    let all = leaf_entries(col).into_iter();
    Either::Right(all.filter(move |(_, item)| go.meets(&item.value)))
}

/// SPARSE: the area's box split `depth` times into quadrants (top-left,
/// top-right, bottom-left, bottom-right), each final cell walked in
/// Tile38's candidate order (its `geoSparse`): objects an earlier cell
/// returned are passed over, the first other object passing `test` is the
/// cell's (returned even if MATCH or WHERE then drop it), and the first
/// one failing `test` ends the whole search: Tile38 1.37 reads that
/// failure as "stop".
///
/// A quadrant with no object left unseen is not split further: its cells
/// would neither return nor stop anything, so the result is Tile38's, but
/// the work is bounded by the objects found (each visited quadrant returns
/// an object or stops the search) instead of growing as 4^depth (SPARSE 16
/// is 4.3 billion cells, which Tile38 never finishes). The `TIMEOUT`
/// deadline is checked at every quadrant.
pub fn sparse<'a>(
    cx: &ReadCx,
    col: &'a Collection,
    rect: Rect,
    depth: u8,
    test: &dyn Fn(&Item) -> bool,
) -> Result<Vec<(&'a Id, &'a Item)>> {
    struct Walk<'a, 'c> {
        cx: &'c ReadCx<'c>,
        col: &'a Collection,
        test: &'c dyn Fn(&Item) -> bool,
        seen: HashSet<&'a Id>,
        out: Vec<(&'a Id, &'a Item)>,
    }
    impl<'a> Walk<'a, '_> {
        fn left(&self, r: Rect) -> bool {
            candidates(self.col, r).any(|(id, _)| !self.seen.contains(id))
        }

        /// Walks the cells of `r`; `false` once the search has stopped.
        fn walk(&mut self, r: Rect, depth: u8) -> Result<bool> {
            self.cx.check_deadline()?;
            if depth == 0 {
                let found = candidates(self.col, r).find(|(id, _)| !self.seen.contains(id));
                return Ok(match found {
                    Some((id, item)) if (self.test)(item) => {
                        self.seen.insert(id);
                        self.out.push((id, item));
                        true
                    }
                    Some(_) => false,
                    None => true,
                });
            }
            let (w, h) = (r.max.x - r.min.x, r.max.y - r.min.y);
            let (mx, my) = (r.min.x + w / 2.0, r.min.y + h / 2.0);
            let quad = |x0, y0, x1, y1| {
                Rect::new(
                    tile38_geo::Position::new(x0, y0),
                    tile38_geo::Position::new(x1, y1),
                )
            };
            for q in [
                quad(r.min.x, my, mx, r.max.y),
                quad(mx, my, r.max.x, r.max.y),
                quad(r.min.x, r.min.y, mx, my),
                quad(mx, r.min.y, r.max.x, my),
            ] {
                if self.left(q) && !self.walk(q, depth - 1)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
    }
    let mut walk = Walk {
        cx,
        col,
        test,
        seen: HashSet::new(),
        out: Vec::new(),
    };
    walk.walk(rect, depth)?;
    Ok(walk.out)
}

impl<const INTERSECTS: bool> SpatialSearch<INTERSECTS> {
    const NAME: &'static str = if INTERSECTS { "INTERSECTS" } else { "WITHIN" };

    fn test(&self, area: &PreparedArea, item: &Item) -> bool {
        if INTERSECTS {
            area.intersects(&item.value)
        } else {
            area.contains(&item.value)
        }
    }
}

impl<const INTERSECTS: bool> ReadCommand<'_> for SpatialSearch<INTERSECTS> {
    fn parse(args: &Args) -> Result<Self> {
        let mut c = Cursor::new(args);
        let mut opts = SearchOpts::parse(&mut c, Self::NAME)?;
        let Some(first) = c.peek().filter(|t| !t.is_empty()) else {
            return Err(Error::Arity);
        };
        // `WITHIN k BOUNDS 1 2 3 4`: BOUNDS was the area, not the output.
        if opts.output == Output::Form(Form::Bounds) && float(first).is_ok() {
            opts.output = Output::Form(Form::Object);
            c.back();
        }
        let typ = c.peek().unwrap_or_default();
        if !AREA_TYPES.iter().any(|t| typ.eq_ignore_ascii_case(t)) {
            return Err(Error::invalid_arg(typ));
        }
        let area = SearchArea::parse(&mut c, opts.clip, opts.buffer)?;
        Ok(SpatialSearch { opts, area })
    }

    fn apply(&self, cx: &ReadCx, out: &mut Reply) -> Result<()> {
        let o = &self.opts;
        let area = self.area.resolve(cx)?;
        let Some(col) = cx.db.get(&o.key) else {
            write_results(out, o, &Page::default());
            return Ok(());
        };
        // The prepared area's box: a large polygon's is computed once.
        let prepared = area.prepare();
        let rect = prepared.bbox();
        let test = |item: &Item| self.test(&prepared, item);
        let hits = match o.sparse {
            Some(depth) => Either::Left(sparse(cx, col, rect, depth, &test)?.into_iter()),
            None => Either::Right(candidates(col, rect)),
        };
        let hits = hits.map(|(id, item)| Hit {
            id: id.as_bytes(),
            item,
            dist: 0.0,
        });
        let page = o.collect(cx, hits, |id, item| {
            o.matches_id(id) && (o.sparse.is_some() || test(item))
        })?;
        if o.clip && matches!(o.output, Output::Form(_)) {
            let clipped: Vec<Item> = page
                .hits
                .iter()
                .map(|h| Item {
                    value: area::clip(&h.item.value, rect),
                    ..h.item.clone()
                })
                .collect();
            let hits: Vec<Hit> = page
                .hits
                .iter()
                .zip(&clipped)
                .map(|(h, item)| Hit { item, ..*h })
                .collect();
            let shown = Page {
                hits,
                count: page.count,
                cursor: page.cursor,
            };
            write_results(out, o, &shown);
        } else {
            write_results(out, o, &page);
        }
        Ok(())
    }
}
