//! A pool of 32-byte blocks for one-field lists that are not shared (see
//! `list/shared.rs`). malloc keeps an 8-byte header before each block and
//! rounds to 16 bytes, so a 32-byte field costs 48; the pool carves blocks
//! from 64 KiB chunks with no header (16 bytes an object saved). Freed blocks go on a
//! free list for the next one-field list; chunks are never returned.
//! Other sizes go to the global allocator.

use std::alloc::{self, Layout};
use std::ptr::{self, NonNull};
use std::sync::Mutex;

/// Size of the pooled blocks.
pub const SIZE: usize = 32;
const ALIGN: usize = 8;
/// Blocks carved from one chunk (64 KiB).
const PER_CHUNK: usize = 65_536 / SIZE;

struct Pool {
    /// Freed blocks, each holding the next one's address.
    free: Option<NonNull<u8>>,
    /// The rest of the current chunk.
    next: *mut u8,
    left: usize,
}

// SAFETY: the pool only hands out blocks; the pointers are not shared.
unsafe impl Send for Pool {}

static POOL: Mutex<Pool> = Mutex::new(Pool {
    free: None,
    next: ptr::null_mut(),
    left: 0,
});

fn pooled(layout: Layout) -> bool {
    layout.size() == SIZE && layout.align() <= ALIGN
}

/// Allocates like `std::alloc::alloc` (null when out of memory).
///
/// # Safety
/// `layout` must have a non-zero size.
pub unsafe fn alloc(layout: Layout) -> *mut u8 {
    if !pooled(layout) {
        // SAFETY: the caller's layout is non-zero sized.
        return unsafe { alloc::alloc(layout) };
    }
    let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(block) = pool.free {
        // SAFETY: a free block holds the next free block's address.
        pool.free = unsafe { block.as_ptr().cast::<Option<NonNull<u8>>>().read() };
        return block.as_ptr();
    }
    if pool.left == 0 {
        let chunk = Layout::from_size_align(SIZE * PER_CHUNK, ALIGN).expect("chunk layout");
        // SAFETY: non-zero size; the chunk is never freed.
        let raw = unsafe { alloc::alloc(chunk) };
        if raw.is_null() {
            return raw;
        }
        (pool.next, pool.left) = (raw, PER_CHUNK);
    }
    let block = pool.next;
    // SAFETY: `left > 0` blocks remain in the chunk after `next`.
    pool.next = unsafe { block.add(SIZE) };
    pool.left -= 1;
    block
}

/// Frees a block from [`alloc`].
///
/// # Safety
/// `block` must come from [`alloc`] with the same `layout`, and not be used
/// again.
pub unsafe fn dealloc(block: *mut u8, layout: Layout) {
    if !pooled(layout) {
        // SAFETY: allocated by the global allocator with `layout`.
        unsafe { alloc::dealloc(block, layout) };
        return;
    }
    let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: the block is ours again and 8-aligned, large enough for a
    // pointer.
    unsafe { block.cast::<Option<NonNull<u8>>>().write(pool.free) };
    pool.free = NonNull::new(block);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_reused_and_distinct() {
        let l = Layout::from_size_align(SIZE, 8).unwrap();
        // SAFETY: non-zero layouts; every block freed once with its layout.
        unsafe {
            let a = alloc(l);
            let b = alloc(l);
            assert!(!a.is_null() && a != b && (a as usize).is_multiple_of(8));
            a.write_bytes(1, SIZE);
            b.write_bytes(2, SIZE);
            dealloc(a, l);
            let c = alloc(l);
            // Other threads may take `a` first; either way `c` is usable.
            c.write_bytes(3, SIZE);
            assert_eq!(*b.add(SIZE - 1), 2);
            dealloc(b, l);
            dealloc(c, l);
            let big = Layout::from_size_align(72, 8).unwrap();
            let d = alloc(big);
            d.write_bytes(4, 72);
            dealloc(d, big);
        }
    }
}
