//! What the journal costs the hot path: a plain SET (and one with a field)
//! over an existing object allocates nothing on the heap when nobody but
//! the AOF listens. This binary counts the allocations of the calling
//! thread with its own global allocator, so it holds one test only (tests
//! of one binary run on several threads, and the count is per thread
//! anyway).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use tile38_engine::{Engine, Reply, Session};
use tile38_proto::Args;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards every call to `System`; the count is a thread-local
// integer without a destructor.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// Runs `words` with reused buffers, as a connection does.
fn run(engine: &Engine, session: &mut Session, args: &mut Args, out: &mut Reply, words: &[&[u8]]) {
    args.clear();
    for w in words {
        args.push(w);
    }
    out.reset(false);
    session.execute(engine, args, out).expect("command runs");
    session.lock.release();
}

/// Allocations of 1000 SETs replacing existing objects, with the words of
/// `extras` (alternately) before the point.
fn allocations_of_sets(extras: [&[&[u8]]; 2]) -> u64 {
    let engine = Engine::in_process();
    let mut session = Session::local(&engine, 1);
    let (mut args, mut out) = (Args::new(), Reply::new(false));
    let ids: Vec<Vec<u8>> = (0..100).map(|i| format!("truck{i}").into_bytes()).collect();
    let mut set = |n: usize, lat: &[u8]| {
        let extra = extras[n % 2];
        // A fixed array: building the words must not allocate either.
        let mut words: [&[u8]; 9] = [b""; 9];
        words[..3].copy_from_slice(&[b"SET", b"fleet", &ids[n % ids.len()]]);
        words[3..3 + extra.len()].copy_from_slice(extra);
        let end = 3 + extra.len();
        words[end..end + 3].copy_from_slice(&[b"POINT", lat, b"-112.1"]);
        run(
            &engine,
            &mut session,
            &mut args,
            &mut out,
            &words[..end + 3],
        );
    };
    // Every id exists and every buffer has grown before counting.
    for n in 0..300 {
        set(n, b"33.5");
    }
    // The same point again: the spatial index, which allocates when
    // objects move between its pages, is left out of the count.
    let before = allocations();
    for n in 0..1000 {
        set(n, b"33.5");
    }
    allocations() - before
}

#[test]
fn a_set_over_an_existing_object_allocates_nothing_without_subscribers() {
    assert_eq!(allocations_of_sets([&[], &[]]), 0, "plain SET");
    let speed = |v: &'static [u8]| -> [&'static [u8]; 3] { [b"FIELD", b"speed", v] };
    // Parsing the field allocates (its list, its name: 4 allocations
    // before the journal existed); the write itself changes the value in
    // place and the journal adds nothing.
    let with_field = allocations_of_sets([&speed(b"42"), &speed(b"43")]);
    assert!(with_field <= 4 * 1000, "SET with a field: {with_field}");
}
