//! The kNN walk's buffers, kept per thread from one search to the next.
//!
//! Why: a NEARBY walk opens a few hundred nodes, so its run buffer, heap
//! and quarter list were allocated and grown (realloc) on every query:
//! 11 % of the server's time under `tile38-benchmark`'s NEARBY tests
//! (`perf` of the release server, `benches/README.md`). A walk now starts
//! with the buffers the last one on its thread left, emptied.

use std::cell::RefCell;
use std::collections::BinaryHeap;

use super::{Head, Keyed};
use crate::page::Bbox;

/// A walk's buffers.
pub(super) struct Buffers<'a> {
    pub heap: BinaryHeap<Head>,
    pub runs: Vec<Keyed<'a>>,
    pub quarters: Vec<(Bbox, u32)>,
}

thread_local! {
    static SPARE: RefCell<Option<Buffers<'static>>> = const { RefCell::new(None) };
}

/// Buffers longer than this (nodes) go back to the allocator: a walk
/// through millions of objects does not leave its memory behind.
const KEEP: usize = 1 << 14;

/// The buffers the last walk on this thread left, else new ones.
pub(super) fn take<'a>() -> Buffers<'a> {
    match SPARE.with_borrow_mut(Option::take) {
        Some(b) => Buffers {
            heap: b.heap,
            runs: recycle(b.runs),
            quarters: b.quarters,
        },
        None => Buffers {
            heap: BinaryHeap::with_capacity(64),
            runs: Vec::with_capacity(512),
            quarters: Vec::with_capacity(64),
        },
    }
}

/// Keeps a finished walk's buffers (emptied) for the next one.
pub(super) fn give_back(b: Buffers<'_>) {
    let Buffers {
        mut heap,
        runs,
        mut quarters,
    } = b;
    if runs.capacity() > KEEP || quarters.capacity() > KEEP || heap.capacity() > KEEP {
        return;
    }
    heap.clear();
    quarters.clear();
    let spare = Buffers {
        heap,
        runs: recycle(runs),
        quarters,
    };
    SPARE.with_borrow_mut(|s| *s = Some(spare));
}

/// The empty `v` for another lifetime, its allocation kept: collecting a
/// `vec::IntoIter` into a `Vec` of the same layout reuses the allocation
/// (std's in-place collection); no node of the old walk survives.
fn recycle<'b>(mut v: Vec<Keyed<'_>>) -> Vec<Keyed<'b>> {
    v.clear();
    v.into_iter().map(|_| unreachable!("emptied")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_come_back_emptied_with_their_room() {
        let mut b = take();
        b.runs.reserve(2000);
        b.quarters.push((Bbox::of_point([0.0, 0.0]), 1));
        let room = b.runs.capacity();
        give_back(b);
        let again = take();
        assert!(again.runs.is_empty() && again.quarters.is_empty() && again.heap.is_empty());
        assert_eq!(again.runs.capacity(), room);
        give_back(again);
    }
}
