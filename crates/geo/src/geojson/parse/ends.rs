//! Where every JSON object of a validated document closes, so that the
//! parser can step over a nested object in O(log n) instead of scanning
//! it.
//!
//! Scanning the members of a collection at nesting depth `d` used to skip
//! its `geometries` value byte by byte, which holds every deeper level: a
//! hostile 1,000-deep GeometryCollection cost 1,000 passes over the whole
//! text (100,000 levels took seconds to be rejected). With the table each
//! byte outside nested objects is scanned once per level it belongs to,
//! so parsing is linear. The table is built only for documents with nested
//! GeoJSON objects (Features, collections).

#[cfg(doc)]
use super::super::json::skip_value;
use super::super::json::{container_ends, skip_value_with};

/// The objects of a text: `(open, end)` pairs in order of `open`, where
/// `end` is just past the closing `}`.
pub(super) struct Ends(Vec<(usize, usize)>);

impl Ends {
    /// Indexes the objects of valid JSON text `b` (one pass).
    pub(super) fn build(b: &[u8]) -> Ends {
        Ends(container_ends(b, true))
    }

    /// Just past the object opening at `open`, if one does.
    fn end_of(&self, open: usize) -> Option<usize> {
        let k = self.0.binary_search_by_key(&open, |p| p.0).ok()?;
        Some(self.0[k].1)
    }

    /// [`skip_value`] for valid text, stepping over nested objects with the
    /// table.
    pub(super) fn skip_value(&self, b: &[u8], i: usize) -> usize {
        skip_value_with(b, i, |open| self.end_of(open))
    }
}
