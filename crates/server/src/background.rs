//! Background work: the 100 ms expiry sweep, the once-a-second AOF fsync,
//! and the periodic `maxmemory` check.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use std::time::Duration;
use tile38_aof::Fsync;

use crate::server::{now_nanos, Server};
use tile38_engine::refusal::used_memory;

/// Most objects one sweep deletes, so the write lock is never held long.
const SWEEP_BATCH: usize = 10_000;

/// Deletes objects whose deadline passed, journaling `del key id` for each.
pub fn sweep_expired(server: &Server) -> usize {
    let now = now_nanos();
    let mut db = server.db.write();
    let mut victims: Vec<(Vec<u8>, Vec<tile38_collection::Id>)> = Vec::new();
    let mut total = 0;
    for (key, col) in db.iter_mut() {
        let ids = col.expired(now);
        if ids.is_empty() {
            continue;
        }
        total += ids.len();
        victims.push((key.to_vec(), ids));
        if total >= SWEEP_BATCH {
            break;
        }
    }
    for (key, ids) in &victims {
        if let Some(col) = db.get_mut(key) {
            for id in ids {
                if col.delete(id).is_some() {
                    server.journal_internal(&[b"del", key, id]);
                }
            }
        }
        db.drop_if_empty(key);
    }
    drop(db);
    if total > 0 {
        server
            .stats
            .expired_keys
            .fetch_add(total as u64, Ordering::Relaxed);
        if let Some(aof) = &server.aof {
            let _ = aof.flush();
        }
    }
    total
}

/// Takes `maxmemory` over (startup, `CONFIG SET`) and sets the OOM flag
/// when the heap exceeds it. Writes check the heap themselves
/// (`crate::gate`); this keeps the flag right between writes.
pub fn check_memory(server: &Server) {
    let max = server.config.props().maxmemory;
    server.memory_limit.store(max, Ordering::Relaxed);
    let over = max > 0 && used_memory() > max;
    server.oom.store(over, Ordering::Relaxed);
}

/// Returns freed heap memory to the OS (`GC`, `autogc`).
pub fn release_memory() {
    // SAFETY: malloc_trim only releases free pages.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Spawns the periodic tasks on the current runtime.
pub fn spawn(server: Arc<Server>) {
    tokio::spawn(crate::shrink::task(server.clone()));
    let s = server.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            tick.tick().await;
            if !s.loading.load(Ordering::Acquire) {
                let s2 = s.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    sweep_expired(&s2);
                    tile38_engine::cmd::hooks::sweep_expired(&s2)
                })
                .await;
            }
        }
    });
    let s = server.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            // `everysec` only: `always` syncs in the writer, `no` leaves it
            // to the kernel. The fsync blocks, so it runs off the runtime.
            if s.aof
                .as_ref()
                .is_some_and(|a| a.fsync_policy() == Fsync::EverySec)
            {
                // A failure is logged by the AOF once, when it begins.
                let s = s.clone();
                let _ = tokio::task::spawn_blocking(move || s.aof.as_ref().map(|a| a.sync())).await;
            }
        }
    });
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(4));
        let mut since_gc = 0u64;
        loop {
            tick.tick().await;
            check_memory(&server);
            let autogc = server.config.props().autogc;
            since_gc += 4;
            if autogc > 0 && since_gc >= autogc {
                release_memory();
                since_gc = 0;
            }
        }
    });
}
