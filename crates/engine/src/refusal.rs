//! What a client write must pass before it runs ([`Engine::write_refusal`],
//! called once by the command dispatch, next to the read-only check), so
//! that a refused write changes nothing and logs nothing:
//!
//! * The AOF cannot be written (disk full, I/O error): every write gets
//!   Redis's `MISCONF Errors writing to the AOF file: <OS error>` until the
//!   AOF writer's retry succeeds (`tile38_aof::Aof::write_error`). The
//!   in-memory state never runs ahead of what can be made durable by more
//!   than the writes in flight when the failure happened, which stay queued.
//!   With `appendfsync always` those in-flight writes are not answered
//!   until their records are on disk, after the recovery (they are visible
//!   to readers meanwhile, as during any fsync); no later write is applied.
//! * Over `maxmemory`: `SET`, `FSET` and `JSET` get Tile38's `OOM command not
//!   allowed when used memory > 'maxmemory'` when the live heap
//!   ([`crate::alloc`]) plus the request's size is over the limit; other
//!   writes (DEL, DROP, EXPIRE, …) free memory and go on, as in Tile38.
//!   Tile38 checks every 4 s (so bursts overshoot by hundreds of MB) and
//!   refuses JSET only when it rewrites a GeoJSON object; here every JSET
//!   counts, since a string grows the heap as well.
//!
//! * `min-followers-to-write N` (N > 0): fewer than N streaming followers
//!   acknowledged within the last `min-followers-max-lag` seconds
//!   (`tile38_repl::acks`): `not enough good followers to write` (Redis's
//!   `min-replicas-to-write` and its `NOREPLICAS`, in Tile38's wording).
//!   Checked after MISCONF and OOM, as Redis orders them; a follower never
//!   gets here (`not the leader` first). See `docs/replication.md`.
//!
//! A follower takes no client writes; its stream waits instead (the
//! server's follow loop).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tile38_proto::Args;

use crate::engine::Engine;
use crate::error::Error;

/// The writes that grow the heap and that Tile38 refuses over `maxmemory`.
const GROWING: [&[u8]; 3] = [b"set", b"fset", b"jset"];

impl Engine {
    /// Why the client write `args` must be refused before it runs, if it
    /// must.
    pub fn write_refusal(&self, args: &Args) -> Option<Error> {
        if let Some(text) = self.aof.as_ref().and_then(|a| a.write_error()) {
            return Some(Error::AofWrite(text));
        }
        self.memory_refusal(args)
            .or_else(|| self.followers_refusal())
    }

    /// `min-followers-to-write`: too few followers acked recently enough.
    fn followers_refusal(&self) -> Option<Error> {
        let min = self.config.min_followers_to_write();
        if min == 0 {
            return None;
        }
        let lag = Duration::from_secs(self.config.props().followers.max_lag);
        (self.repl.good_followers(lag, Instant::now()) < min).then_some(Error::NoFollowers)
    }

    fn memory_refusal(&self, args: &Args) -> Option<Error> {
        let max = self.memory_limit.load(Ordering::Relaxed);
        let name = args.get(0);
        if max == 0 || !GROWING.iter().any(|c| name.eq_ignore_ascii_case(c)) {
            return None;
        }
        let request: usize = args.iter().map(<[u8]>::len).sum();
        let over = used_memory().saturating_add(request as u64) > max;
        // Written only when it changes: this runs for every SET.
        if self.oom.load(Ordering::Relaxed) != over {
            self.oom.store(over, Ordering::Relaxed);
        }
        over.then_some(Error::Oom)
    }

    /// Refreshes the `maxmemory` limit and the OOM flag (every 4 s, and
    /// after `CONFIG SET maxmemory`).
    pub fn check_memory(&self) {
        let max = self.config.props().maxmemory;
        self.memory_limit.store(max, Ordering::Relaxed);
        let over = max > 0 && used_memory() > max;
        self.oom.store(over, Ordering::Relaxed);
    }
}

/// The heap figure `maxmemory` is compared with: the counting allocator's
/// live bytes, or the C allocator's statistics without it.
pub fn used_memory() -> u64 {
    crate::alloc::live_bytes().unwrap_or_else(crate::cmd::server_heap_alloc)
}

/// Returns freed heap memory to the OS (`GC`, `autogc`).
pub fn release_memory() {
    // SAFETY: malloc_trim only releases free pages.
    unsafe {
        libc::malloc_trim(0);
    }
}
