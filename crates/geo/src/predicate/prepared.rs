//! [`PreparedArea`]: an area made ready for a search, where the same area
//! is tested against every candidate. Ring boxes, convexity and winding
//! are computed once, long rings get a segment index, and a circle keeps
//! its radius haversine, centre cosine and 64-step outline. The answers are
//! those of [`Area::contains`] / [`Area::intersects`]. The index of the last
//! big (Multi)Polygon area is kept per thread and reused when the next area
//! has the very same coordinates: a stored area searched with again and
//! again (`INTERSECTS … GET key id`) is indexed once, as Tile38 indexes it
//! once at SET (6× on `tile38-benchmark`'s Arizona test).

use std::cell::RefCell;
use std::sync::Arc;

use super::circle::Circle;
use super::index::PolyIndex;
use super::object::{self, Children, Obj};
use super::shapes::{Base, Poly};
use super::Area;
use crate::geojson::{Geometry, Shape};
use crate::rect::{Position as P, Rect};
use crate::Value;

/// An [`Area`] prepared for many tests (see [`Area::prepare`]). Building it
/// allocates (indexes for polygon areas); testing with it does not. It can
/// move between threads but not be shared (it caches lazily).
pub struct PreparedArea<'a> {
    bbox: Rect,
    kind: Kind<'a>,
}

enum Kind<'a> {
    Value(&'a Value),
    Poly {
        rings: &'a [Vec<P>],
        index: Arc<PolyIndex>,
    },
    Polys {
        polys: &'a [Vec<Vec<P>>],
        index: Arc<Vec<PolyIndex>>,
    },
    Circle(Circle),
}

impl<'a> PreparedArea<'a> {
    pub(super) fn new(area: &'a Area) -> Self {
        let kind = match area {
            Area::Circle { center, meters } => Kind::Circle(Circle::new(*center, *meters)),
            Area::Value(v) => match v {
                Value::Geo(g) => prepare_geometry(g).unwrap_or(Kind::Value(v)),
                _ => Kind::Value(v),
            },
        };
        let bbox = match &kind {
            Kind::Circle(c) => c.rect(),
            _ => indexed_bbox(&kind).unwrap_or_else(|| area.bbox()),
        };
        PreparedArea { bbox, kind }
    }

    /// The R-tree search rectangle, as [`Area::bbox`].
    pub fn bbox(&self) -> Rect {
        self.bbox
    }

    /// `obj WITHIN area`.
    pub fn contains(&self, obj: &Value) -> bool {
        self.with_obj(|area| object::contains(area, &Obj::from_value(obj)))
    }

    /// `obj INTERSECTS area`.
    pub fn intersects(&self, obj: &Value) -> bool {
        self.with_obj(|area| object::intersects(&Obj::from_value(obj), area))
    }

    fn with_obj<T>(&self, f: impl FnOnce(&Obj) -> T) -> T {
        match &self.kind {
            Kind::Value(v) => f(&Obj::from_value(v)),
            Kind::Poly { rings, index } => f(&Obj::Leaf(Base::Poly(Poly::indexed(rings, index)))),
            Kind::Polys { polys, index } => f(&Obj::Multi(Children::IndexedPolys(polys, index))),
            Kind::Circle(c) => f(&Obj::Circle(std::borrow::Cow::Borrowed(c))),
        }
    }
}

/// Polygon and MultiPolygon areas get prepared rings. Feature wrappers are
/// looked through: as an area, a Feature answers exactly as its geometry
/// does (it only differs as a leaf of `ForEach`, where "any leaf meets any
/// child" gives the same result either way).
/// The box of an indexed polygon area from its (cached) index: the union
/// of its exterior rings' boxes, as [`Area::bbox`] computes it, without a
/// pass over a state's outline on every search. Only when every exterior
/// ring has positions and a finite box (else the rules for NaN and empty
/// rings are [`Area::bbox`]'s).
fn indexed_bbox(kind: &Kind) -> Option<Rect> {
    let finite = |r: &Rect| {
        [r.min.x, r.min.y, r.max.x, r.max.y]
            .iter()
            .all(|v| v.is_finite())
    };
    let ext = |rings: &[Vec<P>], index: &PolyIndex| {
        let r = index.ext.rect;
        (rings.first().is_some_and(|e| !e.is_empty()) && finite(&r)).then_some(r)
    };
    match kind {
        Kind::Poly { rings, index } => ext(rings, index),
        Kind::Polys { polys, index } => {
            let mut all = polys.iter().zip(index.iter()).map(|(p, i)| ext(p, i));
            let first = all.next()??;
            all.try_fold(first, |u, r| Some(u.union(&r?)))
        }
        _ => None,
    }
}

fn prepare_geometry(owner: &Arc<Geometry>) -> Option<Kind<'_>> {
    match area_shape(owner) {
        Shape::Polygon(rings) => Some(Kind::Poly {
            rings,
            index: cached(&LAST_POLY, owner, rings, || PolyIndex::new(rings)),
        }),
        Shape::MultiPolygon(polys) => Some(Kind::Polys {
            polys,
            index: cached(&LAST_POLYS, owner, polys, || {
                polys.iter().map(|p| PolyIndex::new(p)).collect()
            }),
        }),
        _ => None,
    }
}

/// The shape `g` stands for as an area: Features looked through.
fn area_shape(mut g: &Geometry) -> &Shape {
    while let Shape::Feature(inner) = &g.shape {
        g = inner;
    }
    &g.shape
}

/// Areas with fewer positions are indexed afresh each time: cheaper than
/// comparing them with the cached one.
const CACHE_FROM: usize = 64;

/// The last index built and the shared geometry it was built for (held,
/// so its coordinates are at hand to compare).
type Cached<I> = RefCell<Option<(Arc<Geometry>, Arc<I>)>>;

thread_local! {
    /// The last big Polygon area indexed on this thread, and its index: a
    /// stored area (`INTERSECTS … GET key id`, a state's outline) is
    /// searched with again and again, and Tile38 indexes it once, at SET.
    static LAST_POLY: Cached<PolyIndex> = const { RefCell::new(None) };
    /// The same for MultiPolygon areas.
    static LAST_POLYS: Cached<Vec<PolyIndex>> = const { RefCell::new(None) };
}

/// The index `build` makes for `coords` (the positions of `owner`), reused
/// when the last one built on this thread was for the very same geometry
/// (the same `Arc`: a stored object, `GET key id`, is shared, not copied,
/// and while the cache holds it nobody can change it or free it, so the
/// pointer cannot name other coordinates) or for the very same coordinates
/// (compared bit for bit: an `OBJECT` area parsed again per request).
fn cached<C: Positions, I: 'static>(
    slot: &'static std::thread::LocalKey<Cached<I>>,
    owner: &Arc<Geometry>,
    coords: &[C],
    build: impl FnOnce() -> I,
) -> Arc<I> {
    if coords.iter().map(Positions::count).sum::<usize>() < CACHE_FROM {
        return Arc::new(build());
    }
    slot.with_borrow_mut(|last| {
        if let Some((by, index)) = last {
            if Arc::ptr_eq(by, owner) {
                return index.clone();
            }
            let seen = C::of(area_shape(by)).unwrap_or_default();
            if seen.len() == coords.len() && seen.iter().zip(coords).all(|(a, b)| a.same(b)) {
                *by = owner.clone();
                return index.clone();
            }
        }
        let index = Arc::new(build());
        *last = Some((owner.clone(), index.clone()));
        index
    })
}

/// Nested position lists, compared bit for bit.
trait Positions: Sized {
    /// The lists of this kind a shape has (a Polygon's rings, a
    /// MultiPolygon's polygons).
    fn of(shape: &Shape) -> Option<&[Self]>;
    fn count(&self) -> usize;
    fn same(&self, other: &Self) -> bool;
}

impl Positions for Vec<P> {
    fn of(shape: &Shape) -> Option<&[Self]> {
        match shape {
            Shape::Polygon(rings) => Some(rings),
            _ => None,
        }
    }
    fn count(&self) -> usize {
        self.len()
    }
    fn same(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .zip(other)
                .all(|(a, b)| a.x.to_bits() == b.x.to_bits() && a.y.to_bits() == b.y.to_bits())
    }
}

impl Positions for Vec<Vec<P>> {
    fn of(shape: &Shape) -> Option<&[Self]> {
        match shape {
            Shape::MultiPolygon(polys) => Some(polys),
            _ => None,
        }
    }
    fn count(&self) -> usize {
        self.iter().map(Vec::len).sum()
    }
    fn same(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a.same(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 100-vertex regular polygon around `(cx, 0)`.
    fn ring_area(cx: f64) -> Area {
        let mut ring: Vec<P> = (0..100)
            .map(|i| {
                let t = f64::from(i) * std::f64::consts::TAU / 100.0;
                P::new(cx + t.cos(), t.sin())
            })
            .collect();
        ring.push(ring[0]);
        Area::Value(Value::Geo(std::sync::Arc::new(Geometry::new(
            Shape::Polygon(vec![ring]),
        ))))
    }

    #[test]
    fn the_cached_index_follows_the_coordinates() {
        let inside = Value::Point {
            x: 0.0,
            y: 0.0,
            z: 0.0,
        };
        let (a, b) = (ring_area(0.0), ring_area(5.0));
        assert!(a.prepare().contains(&inside));
        // Same vertex count, other coordinates: not the cached index.
        assert!(!b.prepare().contains(&inside));
        assert!(a.prepare().contains(&inside));
        // An equal copy reuses it and answers the same.
        let first = match &a.prepare().kind {
            Kind::Poly { index, .. } => Arc::as_ptr(index),
            _ => unreachable!(),
        };
        let again = match &ring_area(0.0).prepare().kind {
            Kind::Poly { index, .. } => Arc::as_ptr(index),
            _ => unreachable!(),
        };
        assert_eq!(first, again);
    }

    #[test]
    fn a_shared_geometry_is_known_by_pointer() {
        let a = ring_area(0.0);
        let index = |area: &Area| match &area.prepare().kind {
            Kind::Poly { index, .. } => Arc::as_ptr(index),
            _ => unreachable!(),
        };
        let first = index(&a);
        // Another area in between, then a clone of the first (a stored
        // object looked up again): the cache holds the clone's geometry.
        let other = ring_area(7.0);
        assert_ne!(index(&other), first);
        let b = ring_area(0.0);
        let second = index(&b);
        assert_eq!(index(&b.clone()), second);
        assert!(b.clone().prepare().contains(&Value::Point {
            x: 0.0,
            y: 0.0,
            z: 0.0
        }));
    }

    #[test]
    fn prepared_areas_can_move_between_threads() {
        fn send<T: Send>() {}
        send::<super::PreparedArea<'static>>();
    }
}
