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
