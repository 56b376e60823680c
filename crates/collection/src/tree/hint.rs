//! A guess at the page for a box, before [`PageTree::choose`] descends the
//! tree: a direct-mapped table from a coarse grid cell to the page the
//! last descent from that cell found with room.
//!
//! Why: a moving SET puts its object into a page that covers the new
//! position and has room. Finding one goes down the R-tree (rstar's 3–6
//! children a node), a cache miss a level below the first few: at
//! `pair.py`'s 200k points, the descent was 11 % of the moving SET row's
//! server samples and `choose` 17 % (`benches/README.md`, eighteenth
//! session). The same pages keep taking the objects that land in the
//! same place, so a table keyed by where the box is answers most choices
//! with one read of the table and the page, which the insert reads anyway.
//!
//! A guess is only taken if it still holds (the page exists, is shared,
//! has room, and covers the box), so a stale entry costs the descent it
//! would have cost anyway; entries are never cleared. Cells are about
//! half the side of an average page (the tree's extent over its page
//! count), and the grid is sized again when the page count has doubled or
//! halved since. No table below [`MIN_PAGES`]: small trees are shallow.

use crate::page::{Bbox, NO_PAGE};

/// Fewest pages (about 1 500 objects) for which a table is kept.
pub const MIN_PAGES: usize = 64;

/// Most entries in a table (16 MiB).
const MAX_CELLS: usize = 1 << 22;

pub struct Hint {
    origin: [f32; 2],
    /// Cells a degree.
    scale: f32,
    mask: usize,
    cells: Box<[u32]>,
    /// The page count the grid was sized for.
    pages: usize,
}

impl Hint {
    /// A grid for `pages` pages over `extent` (the tree's root box).
    pub fn new(extent: &Bbox, pages: usize) -> Hint {
        let (w, h) = (
            f64::from(extent.max[0]) - f64::from(extent.min[0]),
            f64::from(extent.max[1]) - f64::from(extent.min[1]),
        );
        let side = ((w * h / pages as f64).sqrt() / 2.0).max(1e-6);
        let len = (pages * 8).next_power_of_two().min(MAX_CELLS);
        Hint {
            origin: extent.min,
            scale: (1.0 / side) as f32,
            mask: len - 1,
            cells: vec![NO_PAGE; len].into_boxed_slice(),
            pages,
        }
    }

    /// Whether the page count moved too far from the grid's (`pages`).
    pub fn stale(&self, pages: usize) -> bool {
        pages > self.pages * 2 || pages * 2 < self.pages
    }

    /// The entry of the cell of `b`'s lower corner.
    fn slot(&self, b: &Bbox) -> usize {
        // `as` saturates (NaN gives 0): far or odd boxes share edge cells.
        let cell = |axis: usize| ((b.min[axis] - self.origin[axis]) * self.scale) as i64 as u64;
        let key = cell(0).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ cell(1).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
        (key >> 29) as usize & self.mask
    }

    /// The page last remembered for `b`'s cell, or [`NO_PAGE`].
    pub fn get(&self, b: &Bbox) -> u32 {
        self.cells[self.slot(b)]
    }

    /// Remembers page `p` for `b`'s cell.
    pub fn set(&mut self, b: &Bbox, p: u32) {
        let i = self.slot(b);
        self.cells[i] = p;
    }
}
