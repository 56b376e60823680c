//! The id order of a collection (SCAN, PDEL prefixes): slots sorted by the
//! id bytes of their entries, in a list of blocks of at most [`BLOCK`]
//! slots. Four bytes an object (plus the blocks' slack) instead of a second
//! copy of every id in a `BTreeSet`; the price is that comparisons read the
//! ids from the entries, which the caller lends as `key`.
//!
//! Finding an id is a binary search over the blocks' first ids, then one in
//! the block; inserting shifts at most one block (two when a full block
//! lends slots to a neighbour), and a full block whose neighbours are full
//! too splits in two (shifting the list of blocks, `n / BLOCK` headers).

use std::ops::Range;

/// Most slots in a block (2 KiB).
const BLOCK: usize = 512;
/// A block this small is merged into a neighbour when they fit together.
const LOW: usize = BLOCK / 4;
/// A full block lends slots to a neighbour with at least this much room.
const SPARE: usize = BLOCK / 8;

#[derive(Default)]
pub struct Order {
    blocks: Vec<Vec<u32>>,
}

impl Order {
    /// The block that holds, or would hold, `id`.
    fn block_of<'k>(&self, id: &[u8], key: &impl Fn(u32) -> &'k [u8]) -> usize {
        self.blocks
            .partition_point(|b| key(b[0]) <= id)
            .saturating_sub(1)
    }

    /// Inserts `slot`, whose id is `id` (not present yet).
    pub fn insert<'k>(&mut self, slot: u32, id: &[u8], key: impl Fn(u32) -> &'k [u8]) {
        if self.blocks.is_empty() {
            let mut b = Vec::with_capacity(BLOCK);
            b.push(slot);
            self.blocks.push(b);
            return;
        }
        let bi = self.block_of(id, &key);
        let pos = self.blocks[bi].partition_point(|&s| key(s) < id);
        if self.blocks[bi].len() < BLOCK {
            self.blocks[bi].insert(pos, slot);
        } else if bi + 1 < self.blocks.len() && self.blocks[bi + 1].len() < BLOCK - SPARE {
            // Full: lend the tail to the next block rather than split, so
            // that blocks stay more than half full under ordered inserts.
            let (left, right) = self.blocks.split_at_mut(bi + 1);
            let (block, next) = (&mut left[bi], &mut right[0]);
            let keep = BLOCK - (BLOCK - next.len()) / 2;
            next.splice(0..0, block.drain(keep..));
            if pos <= keep {
                block.insert(pos, slot);
            } else {
                next.insert(pos - keep, slot);
            }
        } else if bi > 0 && self.blocks[bi - 1].len() < BLOCK - SPARE {
            let (left, right) = self.blocks.split_at_mut(bi);
            let (prev, block) = (&mut left[bi - 1], &mut right[0]);
            let lend = (BLOCK - prev.len()) / 2;
            let at = prev.len();
            prev.extend(block.drain(..lend));
            if pos <= lend {
                prev.insert(at + pos, slot);
            } else {
                block.insert(pos - lend, slot);
            }
        } else {
            let block = &mut self.blocks[bi];
            let mut right = Vec::with_capacity(BLOCK);
            right.extend(block.drain(BLOCK / 2..));
            if pos <= BLOCK / 2 {
                block.insert(pos, slot);
            } else {
                right.insert(pos - BLOCK / 2, slot);
            }
            self.blocks.insert(bi + 1, right);
        }
    }

    /// Removes `slot`, whose id is `id`; returns whether it was there.
    pub fn remove<'k>(&mut self, slot: u32, id: &[u8], key: impl Fn(u32) -> &'k [u8]) -> bool {
        if self.blocks.is_empty() {
            return false;
        }
        let bi = self.block_of(id, &key);
        let block = &mut self.blocks[bi];
        let pos = block.partition_point(|&s| key(s) < id);
        if block.get(pos) != Some(&slot) {
            return false;
        }
        block.remove(pos);
        if block.is_empty() {
            self.blocks.remove(bi);
        } else if block.len() < LOW {
            self.merge_around(bi);
        }
        true
    }

    /// Merges the small block `bi` with a neighbour when both fit in
    /// three quarters of a block (so that the next insert does not split).
    fn merge_around(&mut self, bi: usize) {
        let fits = |a: usize, b: usize| a + b <= BLOCK * 3 / 4;
        let len = self.blocks[bi].len();
        if bi + 1 < self.blocks.len() && fits(len, self.blocks[bi + 1].len()) {
            let next = self.blocks.remove(bi + 1);
            self.blocks[bi].extend(next);
        } else if bi > 0 && fits(len, self.blocks[bi - 1].len()) {
            let this = self.blocks.remove(bi);
            self.blocks[bi - 1].extend(this);
        }
    }

    /// Position `(block, index)` of the first id `>= start` (`strict`: `>`).
    fn seek<'k>(
        &self,
        start: &[u8],
        strict: bool,
        key: &impl Fn(u32) -> &'k [u8],
    ) -> (usize, usize) {
        if self.blocks.is_empty() {
            return (0, 0);
        }
        let bi = self.block_of(start, key);
        let pos = self.blocks[bi].partition_point(|&s| {
            let k = key(s);
            if strict {
                k <= start
            } else {
                k < start
            }
        });
        (bi, pos)
    }

    /// Slots in id order from the first id `>= start` on, or (`desc`) in
    /// reverse order from the last id `<= start` down.
    pub fn iter<'a, 'k>(
        &'a self,
        start: Option<&[u8]>,
        desc: bool,
        key: impl Fn(u32) -> &'k [u8],
    ) -> Slots<'a> {
        let (bi, pos) = match start {
            None if desc => (self.blocks.len(), 0),
            None => (0, 0),
            Some(s) => self.seek(s, desc, &key),
        };
        let (block, range) = if desc {
            // Everything before (bi, pos).
            (bi, 0..pos)
        } else {
            let len = self.blocks.get(bi).map_or(0, Vec::len);
            (bi, pos..len)
        };
        Slots {
            blocks: &self.blocks,
            block,
            range,
            desc,
        }
    }

    /// Every slot in id order (tests).
    pub fn all(&self) -> impl Iterator<Item = u32> + '_ {
        self.blocks.iter().flatten().copied()
    }
}

/// Iterator of [`Order::iter`].
pub struct Slots<'a> {
    blocks: &'a [Vec<u32>],
    /// Block being read and the indexes of it left to read.
    block: usize,
    range: Range<usize>,
    desc: bool,
}

impl Iterator for Slots<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        loop {
            let i = if self.desc {
                self.range.next_back()
            } else {
                self.range.next()
            };
            if let Some(i) = i {
                return Some(self.blocks[self.block][i]);
            }
            if self.desc {
                if self.block == 0 {
                    return None;
                }
                self.block -= 1;
                self.range = 0..self.blocks[self.block].len();
            } else {
                self.block += 1;
                let b = self.blocks.get(self.block)?;
                self.range = 0..b.len();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_across_splits_and_merges() {
        // Slot i holds the id `format!("{:05}", keys[i])`.
        let n = 5000u32;
        let ids: Vec<Vec<u8>> = (0..n)
            .map(|i| format!("{:05}", (i * 7919) % n).into_bytes())
            .collect();
        let key = |s: u32| ids[s as usize].as_slice();
        let mut o = Order::default();
        for s in 0..n {
            o.insert(s, key(s), key);
        }
        let sorted: Vec<&[u8]> = o.all().map(key).collect();
        assert!(sorted.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(sorted.len(), n as usize);
        // Remove all but every tenth.
        for s in 0..n {
            if s % 10 != 0 {
                assert!(o.remove(s, key(s), key));
            }
        }
        assert!(!o.remove(1, key(1), key));
        let left: Vec<&[u8]> = o.all().map(key).collect();
        assert_eq!(left.len(), 500);
        assert!(left.windows(2).all(|w| w[0] < w[1]));
        assert!(o.blocks.len() <= 3);
        let from: Vec<&[u8]> = o.iter(Some(b"02500"), false, key).map(key).collect();
        assert!(from.iter().all(|k| *k >= &b"02500"[..]));
        assert_eq!(
            from.len(),
            left.iter().filter(|k| **k >= &b"02500"[..]).count()
        );
        let down: Vec<&[u8]> = o.iter(Some(b"02500"), true, key).map(key).collect();
        assert!(down.windows(2).all(|w| w[0] > w[1]));
        assert_eq!(
            down.len() + from.len(),
            500 + usize::from(left.contains(&&b"02500"[..]))
        );
        assert_eq!(o.iter(None, true, key).count(), 500);
        assert_eq!(o.iter(Some(b"99999"), false, key).count(), 0);
        assert_eq!(o.iter(Some(b""), true, key).count(), 0);
    }

    #[test]
    fn ordered_inserts_fill_blocks() {
        for step in [1u32, 7919] {
            let n = 20_000u32;
            let ids: Vec<Vec<u8>> = (0..n)
                .map(|i| format!("{:05}", (i * step) % n).into_bytes())
                .collect();
            let key = |s: u32| ids[s as usize].as_slice();
            let mut o = Order::default();
            for s in 0..n {
                o.insert(s, key(s), key);
            }
            let sorted: Vec<&[u8]> = o.all().map(key).collect();
            assert!(sorted.windows(2).all(|w| w[0] < w[1]));
            let fill = n as f64 / (o.blocks.len() * BLOCK) as f64;
            assert!(fill > 0.65, "step {step}: fill {fill}");
        }
    }
}
