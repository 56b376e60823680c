//! Bytes a collection spends per object: 200k random points with ids
//! `truckN`, without fields and with one numeric field, counted by a
//! counting allocator (what was asked for) and as resident memory (what
//! malloc's rounding and headers make of it).
//!
//! `cargo run --profile ci -p tile38-collection --example memprobe`

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
struct Count;
static BYTES: AtomicUsize = AtomicUsize::new(0);
unsafe impl GlobalAlloc for Count {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        BYTES.fetch_add(l.size(), Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        BYTES.fetch_sub(l.size(), Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        BYTES.fetch_add(n, Ordering::Relaxed);
        BYTES.fetch_sub(l.size(), Ordering::Relaxed);
        unsafe { System.realloc(p, l, n) }
    }
}
#[global_allocator]
static A: Count = Count;
use tile38_collection::{Collection, Item, SetCond};
use tile38_geo::{FieldValue, Value};
/// The process's resident set (Linux), KiB.
fn rss_kib() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    println!(
        "Item {} Value {} FieldList {} FieldValue {}",
        std::mem::size_of::<Item>(),
        std::mem::size_of::<Value>(),
        std::mem::size_of::<tile38_geo::FieldList>(),
        std::mem::size_of::<FieldValue>()
    );
    for fields in [false, true] {
        let before = BYTES.load(Ordering::Relaxed);
        let rss_before = rss_kib();
        let mut c = Collection::new();
        let mut s: u64 = 1;
        for i in 0..200_000u64 {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let x = (s >> 11) as f64 / (1u64 << 53) as f64 * 360.0 - 180.0;
            let y = (s >> 20) as f64 / (1u64 << 44) as f64 * 120.0 - 60.0;
            let f = if fields {
                vec![(
                    b"speed"[..].into(),
                    FieldValue::parse(format!("{}", i % 100).as_bytes()),
                )]
            } else {
                vec![]
            };
            c.set(
                format!("truck{i}").as_bytes(),
                Value::Point { x, y, z: 0.0 },
                f,
                None,
                SetCond::Always,
            );
        }
        let after = BYTES.load(Ordering::Relaxed);
        let rss_after = rss_kib();
        println!(
            "fields={fields}: {} bytes/object (resident: {} bytes/object)",
            (after - before) / 200_000,
            (rss_after - rss_before) * 1024 / 200_000
        );
        std::mem::forget(c);
    }
}
