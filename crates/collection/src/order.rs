//! The id order of a collection (SCAN, PDEL prefixes): slots sorted by the
//! ids of their entries, in a list of blocks of at most [`BLOCK`] slots.
//!
//! Comparing ids means reading them from the entries (the caller lends them
//! as `key`), a cache miss each. So that a search reads only one or two:
//! * each block's first id is copied in `firsts`, to pick the block;
//! * in a block every id starts with the same `lcp` bytes, and each slot
//!   carries the next four bytes of its id (`prefix`, big-endian, zero
//!   padded): the search runs on those and reads ids only to order slots
//!   whose four bytes tie. `truck123456` in a block of `truck12…` ids is
//!   told apart by `3456`.
//!
//! 8 bytes an object (at about 85% fill: a full block lends slots to a
//! neighbour with room before it splits) instead of a `BTreeSet<Id>`'s 45.
//! The block's `lcp` shrinks when an id without it arrives (the block's
//! prefixes are recomputed) and is recomputed from the first and last ids
//! when a block splits, so that it stays long enough to tell ids apart.

use std::ops::Range;

use crate::id::Id;

/// Most slots in a block (4 KiB).
const BLOCK: usize = 512;
/// A block this small is merged into a neighbour when they fit together.
const LOW: usize = BLOCK / 4;
/// A full block lends slots to a neighbour with at least this much room.
const SPARE: usize = BLOCK / 8;

/// The four bytes of `id` after its first `lcp`, big-endian, zero padded.
/// Ordering by prefix agrees with ordering by id; equal prefixes tell
/// nothing.
fn prefix(id: &[u8], lcp: usize) -> u32 {
    let mut b = [0u8; 4];
    let tail = id.get(lcp..).unwrap_or_default();
    let n = tail.len().min(4);
    b[..n].copy_from_slice(&tail[..n]);
    u32::from_be_bytes(b)
}

fn common(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Recomputes the prefixes of `entries` for a new `lcp` (`from` → `to`).
fn rebase<'k>(entries: &mut [(u32, u32)], from: usize, to: usize, key: &impl Fn(u32) -> &'k [u8]) {
    if from != to {
        for e in entries {
            e.0 = prefix(key(e.1), to);
        }
    }
}

struct Block {
    /// Every id in the block starts with the first `lcp` bytes of its
    /// first id (`firsts`).
    lcp: usize,
    /// `(prefix, slot)` in id order; capacity [`BLOCK`].
    entries: Vec<(u32, u32)>,
}

/// Slots in id order, each with the first 16 bytes of its id.
pub struct Sorted(Vec<(u128, u32)>);

impl Sorted {
    /// Room for `len` slots: made by the thread that keeps the order, so
    /// that [`Sorted::sort`] on another thread allocates nothing (glibc
    /// keeps memory a short-lived thread allocated resident in that
    /// thread's arena).
    pub fn with_capacity(len: usize) -> Sorted {
        Sorted(Vec::with_capacity(len))
    }

    /// Sorts `slots` (distinct ids; at most the capacity) by id: the costly
    /// half of [`Order::bulk`], which can run on another thread.
    pub fn sort<'k>(
        &mut self,
        slots: impl IntoIterator<Item = u32>,
        key: impl Fn(u32) -> &'k [u8],
    ) {
        // Sorting compares the first 16 bytes as one integer; ids tie on it
        // only when they share 16 bytes or differ by trailing zero bytes.
        let head = |id: &[u8]| {
            let mut b = [0u8; 16];
            let n = id.len().min(16);
            b[..n].copy_from_slice(&id[..n]);
            u128::from_be_bytes(b)
        };
        let keyed = &mut self.0;
        keyed.clear();
        keyed.extend(slots.into_iter().map(|s| (head(key(s)), s)));
        keyed.sort_unstable();
        // Runs of equal heads are put in id order.
        let mut from = 0;
        while from < keyed.len() {
            let head = keyed[from].0;
            let end = from + keyed[from..].iter().take_while(|e| e.0 == head).count();
            if end - from > 1 {
                keyed[from..end].sort_unstable_by(|a, b| key(a.1).cmp(key(b.1)));
            }
            from = end;
        }
    }
}

#[derive(Default)]
pub struct Order {
    blocks: Vec<Block>,
    /// A copy of the first id of each block.
    firsts: Vec<Id>,
}

impl Order {
    /// The block that holds, or would hold, `id`.
    fn block_of(&self, id: &[u8]) -> usize {
        self.firsts
            .partition_point(|f| f.as_bytes() <= id)
            .saturating_sub(1)
    }

    /// Index in block `b` of the first id `>= id` (`strict`: `> id`).
    fn position<'k>(
        &self,
        b: usize,
        id: &[u8],
        strict: bool,
        key: &impl Fn(u32) -> &'k [u8],
    ) -> usize {
        let block = &self.blocks[b];
        let shared = &self.firsts[b][..block.lcp];
        if !id.starts_with(shared) {
            // Every id in the block starts with `shared`.
            return if id < shared { 0 } else { block.entries.len() };
        }
        let p = prefix(id, block.lcp);
        let lo = block.entries.partition_point(|e| e.0 < p);
        let ties = block.entries[lo..].partition_point(|e| e.0 == p);
        lo + block.entries[lo..lo + ties].partition_point(|e| {
            let k = key(e.1);
            if strict {
                k <= id
            } else {
                k < id
            }
        })
    }

    /// Shortens block `b`'s `lcp` so that `id` shares it.
    fn admit<'k>(&mut self, b: usize, id: &[u8], key: &impl Fn(u32) -> &'k [u8]) {
        let block = &mut self.blocks[b];
        let shared = &self.firsts[b][..block.lcp];
        if !id.starts_with(shared) {
            let lcp = common(id, shared);
            rebase(&mut block.entries, block.lcp, lcp, key);
            block.lcp = lcp;
        }
    }

    /// Lengthens block `b`'s `lcp` to what its first and last ids share.
    fn tighten<'k>(&mut self, b: usize, key: &impl Fn(u32) -> &'k [u8]) {
        let block = &mut self.blocks[b];
        let last = key(block.entries.last().expect("block not empty").1);
        let lcp = common(&self.firsts[b], last);
        if lcp > block.lcp {
            rebase(&mut block.entries, block.lcp, lcp, key);
            block.lcp = lcp;
        }
    }

    /// The order of `slots` (distinct ids) built in one go, for an AOF
    /// load: [`Sorted::sort`], then [`Order::from_sorted`].
    pub fn bulk<'k>(slots: Vec<u32>, key: impl Fn(u32) -> &'k [u8]) -> Order {
        let mut sorted = Sorted::with_capacity(slots.len());
        sorted.sort(slots, &key);
        Order::from_sorted(sorted, key)
    }

    /// The order of sorted slots, in blocks filled to [`BLOCK`] - [`SPARE`]
    /// (room for inserts before a block splits). The blocks are the
    /// order's memory for good: built by the thread that keeps the
    /// collection, they stay in its allocator arena with the objects.
    pub fn from_sorted<'k>(sorted: Sorted, key: impl Fn(u32) -> &'k [u8]) -> Order {
        let mut order = Order::default();
        for part in sorted.0.chunks(BLOCK - SPARE) {
            let first = key(part[0].1);
            let lcp = common(first, key(part[part.len() - 1].1));
            let mut entries = Vec::with_capacity(BLOCK);
            // The four bytes after `lcp` are in the head when it holds them
            // (zero padded as `prefix` pads): no need to read the id.
            entries.extend(part.iter().map(|&(h, s)| match lcp {
                0..=12 => ((h >> (8 * (12 - lcp))) as u32, s),
                _ => (prefix(key(s), lcp), s),
            }));
            order.blocks.push(Block { lcp, entries });
            order.firsts.push(Id::new(first));
        }
        order
    }

    /// Inserts `slot`, whose id is `id` (not present yet).
    pub fn insert<'k>(&mut self, slot: u32, id: &[u8], key: impl Fn(u32) -> &'k [u8]) {
        self.insert_at(slot, id, &key);
    }

    fn insert_at<'k>(&mut self, slot: u32, id: &[u8], key: &impl Fn(u32) -> &'k [u8]) {
        if self.blocks.is_empty() {
            let mut entries = Vec::with_capacity(BLOCK);
            entries.push((0, slot));
            let lcp = id.len();
            self.blocks.push(Block { lcp, entries });
            self.firsts.push(Id::new(id));
            return;
        }
        let b = self.block_of(id);
        if self.blocks[b].entries.len() < BLOCK {
            self.admit(b, id, key);
            let pos = self.position(b, id, false, key);
            let block = &mut self.blocks[b];
            block.entries.insert(pos, (prefix(id, block.lcp), slot));
            if pos == 0 {
                self.firsts[b] = Id::new(id);
            }
            return;
        }
        // Full: lend to a neighbour with room, else split; then insert
        // into whichever block now takes `id` (it has room).
        let has_room = |i: usize| {
            self.blocks
                .get(i)
                .is_some_and(|n| n.entries.len() < BLOCK - SPARE)
        };
        if has_room(b + 1) {
            let keep = BLOCK - (BLOCK - self.blocks[b + 1].entries.len()) / 2;
            let mut moved: Vec<(u32, u32)> = self.blocks[b].entries.drain(keep..).collect();
            // Ids between the new first and the old first of the next block
            // share what those two share.
            let first = key(moved[0].1);
            self.admit(b + 1, first, key);
            rebase(&mut moved, self.blocks[b].lcp, self.blocks[b + 1].lcp, key);
            self.blocks[b + 1].entries.splice(0..0, moved);
            self.firsts[b + 1] = Id::new(first);
        } else if b > 0 && has_room(b - 1) {
            let lend = (BLOCK - self.blocks[b - 1].entries.len()) / 2;
            let mut moved: Vec<(u32, u32)> = self.blocks[b].entries.drain(..lend).collect();
            self.admit(b - 1, key(moved[lend - 1].1), key);
            rebase(&mut moved, self.blocks[b].lcp, self.blocks[b - 1].lcp, key);
            self.blocks[b - 1].entries.extend(moved);
            self.firsts[b] = Id::new(key(self.blocks[b].entries[0].1));
        } else {
            let mut entries = Vec::with_capacity(BLOCK);
            entries.extend(self.blocks[b].entries.drain(BLOCK / 2..));
            let first = Id::new(key(entries[0].1));
            let lcp = self.blocks[b].lcp;
            self.blocks.insert(b + 1, Block { lcp, entries });
            self.firsts.insert(b + 1, first);
            self.tighten(b, key);
            self.tighten(b + 1, key);
        }
        self.insert_at(slot, id, key);
    }

    /// Removes `slot`, whose id is `id`; returns whether it was there.
    pub fn remove<'k>(&mut self, slot: u32, id: &[u8], key: impl Fn(u32) -> &'k [u8]) -> bool {
        if self.blocks.is_empty() {
            return false;
        }
        let b = self.block_of(id);
        let pos = self.position(b, id, false, &key);
        let block = &mut self.blocks[b];
        if block.entries.get(pos).map(|e| e.1) != Some(slot) {
            return false;
        }
        block.entries.remove(pos);
        if block.entries.is_empty() {
            self.blocks.remove(b);
            self.firsts.remove(b);
            return true;
        }
        if pos == 0 {
            self.firsts[b] = Id::new(key(block.entries[0].1));
        }
        if block.entries.len() < LOW {
            self.merge_around(b, &key);
        }
        true
    }

    /// Merges the small block `b` with a neighbour when both fit in
    /// three quarters of a block (so that the next insert does not split).
    fn merge_around<'k>(&mut self, b: usize, key: &impl Fn(u32) -> &'k [u8]) {
        let fits = |a: usize, c: usize| {
            self.blocks[a].entries.len() + self.blocks[c].entries.len() <= BLOCK * 3 / 4
        };
        let (into, from) = if b + 1 < self.blocks.len() && fits(b, b + 1) {
            (b, b + 1)
        } else if b > 0 && fits(b - 1, b) {
            (b - 1, b)
        } else {
            return;
        };
        let mut block = self.blocks.remove(from);
        self.firsts.remove(from);
        let last = key(block.entries.last().expect("block not empty").1);
        self.admit(into, last, key);
        rebase(&mut block.entries, block.lcp, self.blocks[into].lcp, key);
        self.blocks[into].entries.extend(block.entries);
    }

    /// Slots in id order from the first id `>= start` on, or (`desc`) in
    /// reverse order from the last id `<= start` down.
    pub fn iter<'a, 'k>(
        &'a self,
        start: Option<&[u8]>,
        desc: bool,
        key: impl Fn(u32) -> &'k [u8],
    ) -> Slots<'a> {
        let (block, pos) = match start {
            None if desc => (self.blocks.len(), 0),
            None => (0, 0),
            Some(_) if self.blocks.is_empty() => (0, 0),
            Some(s) => {
                let b = self.block_of(s);
                (b, self.position(b, s, desc, &key))
            }
        };
        let range = if desc {
            // Everything before (block, pos).
            0..pos
        } else {
            pos..self.blocks.get(block).map_or(0, |b| b.entries.len())
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
        self.blocks
            .iter()
            .flat_map(|b| b.entries.iter().map(|e| e.1))
    }

    /// Checks the blocks (tests): firsts, shared prefixes and prefixes
    /// agree with the ids.
    pub fn check<'k>(&self, key: impl Fn(u32) -> &'k [u8]) {
        assert_eq!(self.blocks.len(), self.firsts.len());
        for (block, first) in self.blocks.iter().zip(&self.firsts) {
            assert!(!block.entries.is_empty() && block.entries.len() <= BLOCK);
            assert_eq!(key(block.entries[0].1), first.as_bytes(), "first id");
            for &(p, s) in &block.entries {
                assert!(key(s).starts_with(&first[..block.lcp]), "lcp");
                assert_eq!(p, prefix(key(s), block.lcp), "prefix");
            }
        }
    }
}

/// Iterator of [`Order::iter`].
pub struct Slots<'a> {
    blocks: &'a [Block],
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
                return Some(self.blocks[self.block].entries[i].1);
            }
            if self.desc {
                if self.block == 0 {
                    return None;
                }
                self.block -= 1;
                self.range = 0..self.blocks[self.block].entries.len();
            } else {
                self.block += 1;
                let b = self.blocks.get(self.block)?;
                self.range = 0..b.entries.len();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Slot `i` holds `ids[i]`; inserts them in slot order, removes those
    /// `gone` selects, checks order, blocks and range starts.
    fn run(ids: &[Vec<u8>], gone: impl Fn(u32) -> bool) -> Order {
        let key = |s: u32| ids[s as usize].as_slice();
        let mut o = Order::default();
        for s in 0..ids.len() as u32 {
            o.insert(s, key(s), key);
        }
        o.check(key);
        for s in 0..ids.len() as u32 {
            if gone(s) {
                assert!(o.remove(s, key(s), key));
                assert!(!o.remove(s, key(s), key));
            }
        }
        o.check(key);
        let mut want: Vec<&[u8]> = (0..ids.len() as u32)
            .filter(|&s| !gone(s))
            .map(key)
            .collect();
        want.sort();
        let got: Vec<&[u8]> = o.all().map(key).collect();
        assert_eq!(got, want);
        for probe in [&b""[..], b"0", b"02500", b"truck12", b"truck5", b"~"] {
            let up: Vec<&[u8]> = o.iter(Some(probe), false, key).map(key).collect();
            let down: Vec<&[u8]> = o.iter(Some(probe), true, key).map(key).collect();
            let want_up: Vec<&[u8]> = want.iter().copied().filter(|k| *k >= probe).collect();
            let mut want_down: Vec<&[u8]> = want.iter().copied().filter(|k| *k <= probe).collect();
            want_down.reverse();
            assert_eq!((up, down), (want_up, want_down), "{probe:?}");
        }
        assert_eq!(o.iter(None, true, key).count(), want.len());
        o
    }

    #[test]
    fn ordered_across_splits_lends_and_merges() {
        let n = 20_000u32;
        for step in [1u32, 7919] {
            let ids: Vec<Vec<u8>> = (0..n)
                .map(|i| format!("{:05}", (i * step) % n).into_bytes())
                .collect();
            let o = run(&ids, |s| s % 10 != 0);
            assert!(
                o.blocks.len() <= 2 * (n as usize / 10) / LOW,
                "{}",
                o.blocks.len()
            );
            let o = run(&ids, |_| false);
            let fill = n as f64 / (o.blocks.len() * BLOCK) as f64;
            assert!(fill > 0.65, "step {step}: fill {fill}");
        }
    }

    /// Numeric suffixes of every length, a shared 15+ byte prefix, ids
    /// that are prefixes of others or differ by a trailing zero byte, and
    /// empty and binary ids.
    fn ragged_ids(trucks: u32, long: u32) -> Vec<Vec<u8>> {
        let mut ids: Vec<Vec<u8>> = (0..trucks)
            .map(|i| format!("truck{i}").into_bytes())
            .collect();
        ids.extend((0..long).map(|i| format!("a-very-long-common-prefix:{i}").into_bytes()));
        ids.extend([
            b"".to_vec(),
            b"t".to_vec(),
            b"tr".to_vec(),
            b"tr\0".to_vec(),
            vec![0, 0],
            vec![0],
            vec![255; 3],
        ]);
        ids
    }

    #[test]
    fn dense_and_ragged_ids() {
        let ids = ragged_ids(30_000, 3000);
        run(&ids, |s| s % 3 == 0);
        run(&ids, |s| s % 100 != 7);
    }

    #[test]
    fn bulk_equals_inserts() {
        let ids = ragged_ids(5000, 700);
        let key = |s: u32| ids[s as usize].as_slice();
        let bulk = Order::bulk((0..ids.len() as u32).rev().collect(), key);
        bulk.check(key);
        let inserted = run(&ids, |_| false);
        assert!(bulk.all().eq(inserted.all()));
        let from = |o: &Order| o.iter(Some(b"truck2"), false, key).collect::<Vec<_>>();
        assert_eq!(from(&bulk), from(&inserted));
    }
}
