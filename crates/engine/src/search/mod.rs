//! The search engine shared by SCAN, SEARCH, NEARBY, WITHIN, INTERSECTS
//! and TEST: the areas a search covers ([`areas`], shapes from
//! `tile38_geo::area`), the options every search takes ([`opts`]: CURSOR,
//! LIMIT, MATCH, WHERE, WHEREIN, output forms), the filters they build
//! ([`filter`]), NEARBY's distance and order ([`geodetic`], [`knn`]) and the writers of their results ([`results`]), as Tile38
//! 1.37 answers them.

pub mod areas;
pub mod filter;
pub mod geodetic;
pub mod knn;
pub mod opts;
pub mod results;

/// One of two iterators of the same items, for a search whose candidates
/// come one of two ways: no box, so no allocation and no move of the
/// iterator's state to the heap per search (about 2 % of a WITHIN BOUNDS
/// that finds nothing, `benches/README.md`, eleventh session).
pub enum Either<L, R> {
    Left(L),
    Right(R),
}

impl<T, L: Iterator<Item = T>, R: Iterator<Item = T>> Iterator for Either<L, R> {
    type Item = T;

    #[inline]
    fn next(&mut self) -> Option<T> {
        match self {
            Either::Left(l) => l.next(),
            Either::Right(r) => r.next(),
        }
    }
}
