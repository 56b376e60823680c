//! Puts the heap on transparent huge pages once it is built, a background
//! task of ours (Tile38 has none: Go's runtime leaves it to the kernel).
//!
//! Why: a moving SET or a kNN search reads a few dozen scattered lines (the
//! id table, the object, index pages, tree nodes), and on 4 KiB pages
//! nearly each one is a TLB miss as well as a cache miss; in a virtual
//! machine a TLB miss walks two page tables. On 2 MiB pages the hot
//! structures of a few hundred MB need a few hundred TLB entries.
//! Measured with `benches/alt.py` (the same build with and without the
//! heap collapsed, 200k points, 6 rounds): moving SET point +9 % a second
//! (server CPU −8 %), NEARBY limit 1 +25 %, WITHIN circle 1 km +14 %;
//! with this task against the build before, +7–15 %, +1–7 % and +5–11 %
//! (`benches/README.md`, seventeenth session).
//!
//! How: the allocator grows the heap a little at a time, so its faults
//! never get huge pages even where THP is `always`; and advising the
//! whole heap (`MADV_HUGEPAGE`) makes every fault of a restart wait for a
//! 2 MiB page to be found and zeroed (a 108 MB AOF loaded in 1.3–1.6 s
//! against 0.7–0.85). So the heap is left alone while the AOF loads, and
//! then, once a second, the 2 MiB-aligned stretches of the anonymous
//! writable mappings that are nearly all resident (at least [`RESIDENT`]
//! of their 512 pages, checked with `mincore`, so the collapse adds little
//! memory) are collapsed in place with `MADV_COLLAPSE` (Linux 6.1+), for
//! at most [`BUDGET`] a tick. A kernel without it, or with THP `never`,
//! refuses a first collapse of memory of the task's own ([`supported`])
//! and the task ends; a stretch refused as unsuitable (a thread's stack is
//! `MAP_STACK`, no huge pages since Linux 6.7) is not tried again.
//! `TILE38_HUGEPAGES=no` turns it off.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::server::Server;

/// A huge page (x86-64 and aarch64 with 4 KiB base pages).
const HUGE: usize = 2 << 20;

/// Fewest resident base pages (of 512) for a stretch to be collapsed.
const RESIDENT: usize = 480;

/// Most time collapsing a tick (of 1 s): a tenth of one core while the
/// heap grows. A collapse copies 2 MiB into a new huge page: 0.7 ms here,
/// but 20–25 ms where the new page is memory the virtual machine's host
/// had not backed yet (this project's machine: 512 host faults).
const BUDGET: Duration = Duration::from_millis(100);

/// What one pass did.
#[derive(Debug, Default)]
pub struct Pass {
    /// Stretches collapsed.
    pub collapsed: usize,
    /// Stretches the kernel will not collapse (`EINVAL`: not eligible for
    /// huge pages), not tried again.
    pub unsuitable: usize,
    /// The kernel had no huge page to give (`EAGAIN`, `ENOMEM`): the
    /// pass stopped there, the next one tries again.
    pub refused: bool,
}

/// Whether `TILE38_HUGEPAGES` leaves the task on (anything but `no`).
pub fn enabled() -> bool {
    !std::env::var("TILE38_HUGEPAGES").is_ok_and(|v| v.eq_ignore_ascii_case("no"))
}

/// Collapses the heap every second once the server has loaded.
pub async fn task(server: Arc<Server>) {
    if !enabled() {
        return;
    }
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let loading = || server.loading.load(Ordering::Acquire);
    // Nothing while the AOF loads (the restart's faults stay 4 KiB ones).
    while loading() {
        tick.tick().await;
    }
    if !tokio::task::spawn_blocking(supported)
        .await
        .unwrap_or(false)
    {
        tracing::debug!("huge pages: the kernel cannot collapse memory");
        return;
    }
    let mut done = HashSet::new();
    loop {
        tick.tick().await;
        if loading() {
            continue;
        }
        let (pass, kept) = match tokio::task::spawn_blocking(move || {
            let pass = collapse(&mut done, BUDGET);
            (pass, done)
        })
        .await
        {
            Ok(r) => r,
            Err(_) => return,
        };
        done = kept;
        if pass.collapsed > 0 {
            tracing::debug!("huge pages: {} × 2 MiB collapsed", pass.collapsed);
        }
    }
}

/// One pass over `/proc/self/maps`: collapses stretches not in `done`
/// (starts of stretches collapsed before, kept up to date: those no longer
/// mapped are forgotten) until `budget` has passed.
pub fn collapse(done: &mut HashSet<usize>, budget: Duration) -> Pass {
    let began = Instant::now();
    let mut pass = Pass::default();
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return pass;
    };
    let stretches: Vec<usize> = maps
        .lines()
        .filter_map(anonymous)
        .flat_map(aligned)
        .collect();
    let mapped: HashSet<usize> = stretches.iter().copied().collect();
    done.retain(|s| mapped.contains(s));
    for start in stretches {
        if began.elapsed() >= budget {
            break;
        }
        if done.contains(&start) || resident(start) < RESIDENT {
            continue;
        }
        match collapse_at(start) {
            Ok(()) => pass.collapsed += 1,
            Err(libc::EINVAL) => pass.unsuitable += 1,
            Err(_) => {
                pass.refused = true;
                break;
            }
        }
        done.insert(start);
    }
    pass
}

/// `MADV_COLLAPSE` of the stretch at `start`, or the `errno` it failed
/// with.
fn collapse_at(start: usize) -> Result<(), i32> {
    // SAFETY: a mapped, readable and writable range of our own; a collapse
    // moves its contents to one huge page and keeps them.
    let r = unsafe { libc::madvise(start as *mut libc::c_void, HUGE, libc::MADV_COLLAPSE) };
    if r == 0 {
        return Ok(());
    }
    Err(std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EINVAL))
}

/// Whether the kernel collapses memory at all: one try on a stretch
/// mapped and filled for it (`EAGAIN`/`ENOMEM`, no huge page to be had
/// right now, count as yes).
pub fn supported() -> bool {
    let len = 2 * HUGE;
    // SAFETY: a fresh private anonymous mapping, unmapped below; nothing
    // else refers to it.
    unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if p == libc::MAP_FAILED {
            return false;
        }
        let start = (p as usize).div_ceil(HUGE) * HUGE;
        std::ptr::write_bytes(start as *mut u8, 1, HUGE);
        let r = collapse_at(start);
        libc::munmap(p, len);
        r != Err(libc::EINVAL)
    }
}

/// The range of a line of `/proc/self/maps` if it is private anonymous
/// memory we may write (the heap, the allocator's arenas, large blocks).
fn anonymous(line: &str) -> Option<(usize, usize)> {
    let mut fields = line.split_ascii_whitespace();
    let range = fields.next()?;
    let perms = fields.next()?;
    let path = fields.nth(3).unwrap_or("");
    if perms != "rw-p" || !(path.is_empty() || path == "[heap]") {
        return None;
    }
    let (lo, hi) = range.split_once('-')?;
    Some((
        usize::from_str_radix(lo, 16).ok()?,
        usize::from_str_radix(hi, 16).ok()?,
    ))
}

/// The starts of the whole huge-page stretches inside `[lo, hi)`.
fn aligned((lo, hi): (usize, usize)) -> impl Iterator<Item = usize> {
    let first = lo.div_ceil(HUGE) * HUGE;
    (first..hi.saturating_sub(HUGE - 1)).step_by(HUGE)
}

/// How many of the stretch's base pages are resident.
fn resident(start: usize) -> usize {
    let mut vec = [0u8; HUGE / 4096];
    // SAFETY: `vec` has one byte per base page of the mapped stretch.
    let r = unsafe { libc::mincore(start as *mut libc::c_void, HUGE, vec.as_mut_ptr()) };
    if r != 0 {
        return 0;
    }
    vec.iter().filter(|&&b| b & 1 != 0).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_lines_are_read_as_the_kernel_writes_them() {
        let heap =
            "55d0c0a00000-55d0c4e00000 rw-p 00000000 00:00 0                          [heap]";
        assert_eq!(anonymous(heap), Some((0x55d0c0a00000, 0x55d0c4e00000)));
        let arena = "7f1c40000000-7f1c42a31000 rw-p 00000000 00:00 0 ";
        assert_eq!(anonymous(arena), Some((0x7f1c40000000, 0x7f1c42a31000)));
        let file = "7f1c4a000000-7f1c4a200000 rw-p 00001000 fd:01 1234   /usr/lib/libc.so.6";
        assert_eq!(anonymous(file), None);
        let guard = "7f1c42a31000-7f1c44000000 ---p 00000000 00:00 0 ";
        assert_eq!(anonymous(guard), None);
        let stack = "7ffd1a000000-7ffd1a400000 rw-p 00000000 00:00 0      [stack]";
        assert_eq!(anonymous(stack), None);
    }

    #[test]
    fn only_whole_aligned_stretches_are_taken() {
        let m = HUGE;
        assert_eq!(aligned((m, 3 * m)).collect::<Vec<_>>(), [m, 2 * m]);
        assert_eq!(aligned((m + 4096, 3 * m)).collect::<Vec<_>>(), [2 * m]);
        assert_eq!(aligned((m, 3 * m - 4096)).collect::<Vec<_>>(), [m]);
        assert_eq!(aligned((m + 4096, 2 * m + 4096)).count(), 0);
    }

    /// A pass over this test process either collapses a stretch it made
    /// resident or says the kernel cannot; a second pass skips what the
    /// first did.
    #[test]
    fn a_resident_stretch_is_collapsed_once() {
        if !supported() {
            eprintln!("MADV_COLLAPSE unsupported here: nothing to check");
            return;
        }
        let block = vec![1u8; 8 * HUGE];
        let mut done = HashSet::new();
        let first = collapse(&mut done, Duration::MAX);
        let lo = block.as_ptr() as usize;
        let inside = aligned((lo, lo + block.len())).collect::<Vec<_>>();
        assert!(inside.len() >= 7);
        if first.refused {
            eprintln!("no huge page to be had: some stretches left as they were");
        } else {
            assert!(inside.iter().all(|s| done.contains(s)), "{inside:x?}");
        }
        assert!(block.iter().all(|&b| b == 1), "contents kept");
        // Other tests of this process may fill memory meanwhile, but not
        // as many stretches as this block has.
        let again = collapse(&mut done, Duration::MAX);
        assert!(again.collapsed < inside.len(), "{again:?}");
    }

    /// A stretch the kernel will not collapse (advised `MADV_NOHUGEPAGE`,
    /// as a thread's stack is on Linux 6.7+) is passed over and not tried
    /// again; the pass goes on to the others.
    #[test]
    fn an_unsuitable_stretch_is_skipped_not_fatal() {
        if !supported() {
            eprintln!("MADV_COLLAPSE unsupported here: nothing to check");
            return;
        }
        let len = 4 * HUGE;
        // SAFETY: a fresh private anonymous mapping, unmapped at the end.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(p, libc::MAP_FAILED);
        // SAFETY: within the mapping just made.
        unsafe {
            assert_eq!(libc::madvise(p, len, libc::MADV_NOHUGEPAGE), 0);
            std::ptr::write_bytes(p as *mut u8, 1, len);
        }
        let lo = p as usize;
        let inside: Vec<usize> = aligned((lo, lo + len)).collect();
        let block = vec![1u8; 4 * HUGE];
        let mut done = HashSet::new();
        let pass = collapse(&mut done, Duration::MAX);
        if pass.refused {
            eprintln!("no huge page to be had: the pass stopped early");
            // SAFETY: the mapping made above, no longer used.
            unsafe { libc::munmap(p, len) };
            return;
        }
        assert!(pass.unsuitable >= inside.len(), "{pass:?}");
        assert!(inside.iter().all(|s| done.contains(s)));
        let b = block.as_ptr() as usize;
        let others: Vec<usize> = aligned((b, b + block.len())).collect();
        assert!(others.iter().all(|s| done.contains(s)), "{pass:?}");
        assert!(pass.collapsed >= others.len(), "{pass:?}");
        // Not tried again (other tests' memory may be collapsed meanwhile).
        let again = collapse(&mut done, Duration::MAX);
        assert!(again.unsuitable < inside.len(), "{again:?}");
        // SAFETY: the mapping made above, no longer used.
        unsafe { libc::munmap(p, len) };
    }
}
