//! Allocation budget of [`tile38_geofence::Geofence::evaluate`]: once its
//! buffers are warm and the groups exist, a change allocates exactly one
//! block per event (the event's text) and nothing for fences it does not
//! report to. Its own test binary: it counts allocations process-wide.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use tile38_geofence::{Change, Command, FenceSpec, Region, Target};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn one_allocation_per_event() {
    let mut w = World::new();
    // Three channels that report (inside), 500 enter/exit fences that do
    // not (elsewhere), 100 fences of another key.
    for name in ["a", "b", "c"] {
        w.add(chan(name, "fleet", None));
    }
    for i in 0..500 {
        let mut spec = FenceSpec::new(
            Target::Channel,
            format!("x{i}").as_bytes(),
            b"fleet",
            Region::Within(box_area(20.0 + i as f64 * 0.01, 20.0, 21.0, 21.0)),
        );
        spec.detect = tile38_geofence::DetectSet::parse_list(b"enter,exit");
        w.add(spec);
    }
    for i in 0..100 {
        w.add(chan(&format!("o{i}"), "other", None));
    }
    w.set_with("fleet", "t1", point(5.0, 5.0), &[("speed", "10")]);
    w.set_with("fleet", "t1", point(5.5, 5.5), &[("speed", "10")]);
    let old = w.db.get(b"fleet").unwrap().get(b"t1").cloned();
    w.db.get_or_create(b"fleet").set(
        b"t1",
        point(6.0, 6.0),
        Vec::new(),
        None,
        tile38_collection::SetCond::Always,
    );
    let new = w.db.get(b"fleet").unwrap().get(b"t1").cloned();
    let change = Change {
        command: Command::Set,
        key: b"fleet",
        id: b"t1",
        old: old.as_ref(),
        new: new.as_ref(),
        time: TIME,
    };
    let mut out = Vec::with_capacity(16);
    let before = ALLOCS.load(Ordering::Relaxed);
    let n = w.geo.evaluate(&change, &w.db, |_, _| true, &mut out);
    let allocs = ALLOCS.load(Ordering::Relaxed) - before;
    assert_eq!((n, out.len()), (3, 3), "three inside events");
    assert_eq!(allocs, out.len(), "one allocation per event");
}
