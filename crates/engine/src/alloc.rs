//! Counting the heap for `maxmemory`: a global allocator, installed by the
//! `tile38-server` binary, that wraps the system allocator and keeps the
//! number of live bytes: per-thread counts, added to one relaxed atomic
//! every 64 KiB of change. Reading it costs a load, so
//! every write can compare it with `maxmemory` before it runs ([`crate::gate`]);
//! Tile38 compares Go's `HeapAlloc` every 4 s, which lets a burst of writes
//! run hundreds of megabytes past the limit.
//!
//! The figure is the bytes the program asked for, without the allocator's
//! own overhead or the freed memory it keeps (what RSS adds on top).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

/// The system allocator, counting.
pub struct Counting;

/// Live bytes, as flushed by the threads (a thread may free what another
/// allocated, so a moment's sum can dip below zero).
static LIVE: AtomicIsize = AtomicIsize::new(0);
/// Set once anything was counted: [`Counting`] is the global allocator.
static INSTALLED: AtomicBool = AtomicBool::new(false);
/// How far a thread's own count may drift before it is added to [`LIVE`].
/// One shared atomic updated on every allocation from every thread makes
/// its cache line bounce between the cores (the AOF load parses on two
/// threads); batching makes the shared update rare, and the figure is off
/// by at most this much per thread.
const FLUSH: isize = 64 * 1024;

thread_local! {
    static DELTA: Cell<isize> = const { Cell::new(0) };
}

fn count(bytes: isize) {
    let flushed = DELTA.try_with(|d| {
        let v = d.get() + bytes;
        if v.abs() >= FLUSH {
            d.set(0);
            v
        } else {
            d.set(v);
            0
        }
    });
    match flushed {
        Ok(0) => {}
        Ok(v) => {
            LIVE.fetch_add(v, Ordering::Relaxed);
            INSTALLED.store(true, Ordering::Relaxed);
        }
        // The thread's locals are gone (it is exiting): count directly.
        Err(_) => {
            LIVE.fetch_add(bytes, Ordering::Relaxed);
        }
    }
}

// SAFETY: every call is forwarded to `System` unchanged; the counter is
// only arithmetic on the sizes, and touches no allocating code.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        count(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        p
    }
}

/// Live heap bytes (within 64 KiB per thread); `None` when [`Counting`] is
/// not the global allocator (in-process servers in tests and benches).
pub fn live_bytes() -> Option<u64> {
    INSTALLED
        .load(Ordering::Relaxed)
        .then(|| LIVE.load(Ordering::Relaxed).max(0) as u64)
}
