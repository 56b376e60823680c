//! Loading the AOF at startup, while clients get `LOADING`.
//!
//! Every record is replayed through the command table like a client write
//! ([`tile38_engine::cmd::apply_loaded`]), so the state is the one a live
//! server reached by the same writes; nothing is journaled again and change
//! subscribers do not hear of it (`Origin::Loaded`). What differs is cost:
//! * the database write lock is held across records (bumped now and then so
//!   a waiter is not starved) instead of taken for each;
//! * spatial indexes and id orders are deferred
//!   ([`Database::defer_indexes`]) and each is built in one go at the end:
//!   nothing searches while loading (a PDEL builds its key's id order);
//! * a second thread frames the records and parses SETs (the bulk of any
//!   AOF) ahead of the thread applying them
//!   ([`tile38_aof::load_pipelined`]), handing over as little memory as it
//!   can ([`prepared`]).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use parking_lot::RwLockWriteGuard;
use tile38_aof::{LoadError, LoadStats};
use tile38_collection::Database;

mod prepared;

use prepared::Prepared;

use crate::server::Server;
use tile38_engine::cmd::WriteCx;
use tile38_engine::journal::Origin;
use tile38_engine::reply::Reply;

/// Records replayed between bumps of the database lock.
const BUMP_EVERY: u64 = 4096;

/// Loads the AOF at `path` into the server (no-op without an AOF), then
/// readies the AOF for appending. A record that cannot be replayed stops
/// the startup with an error naming its offset.
pub async fn load_at_startup(
    server: &Arc<Server>,
    path: &Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let Some(aof) = &server.aof else {
        return Ok(());
    };
    let started = Instant::now();
    let (s, p) = (server.clone(), path.to_path_buf());
    let stats = tokio::task::spawn_blocking(move || replay_file(&s, &p))
        .await?
        .map_err(|e| describe(e, path))?;
    aof.reread_size()?;
    // The writer thread holds only the channel, never the server.
    let durable = server.durable.clone();
    aof.on_durable(move |offset| {
        durable.send_replace(offset);
    });
    let written = server.aof_written.clone();
    written.send_replace(aof.written());
    aof.on_written(move |offset| {
        written.send_replace(offset);
    });
    server.apply_fsync_policy();
    tracing::info!(
        "AOF loaded {} commands: {:.2}s, {} bytes",
        stats.commands,
        started.elapsed().as_secs_f64(),
        stats.bytes
    );
    Ok(())
}

/// Replays the file into the database under its write lock, parsing SETs
/// (most of any AOF) on the framing thread.
pub(crate) fn replay_file(server: &Server, path: &Path) -> Result<LoadStats, LoadError> {
    let started = Instant::now();
    let mut db = server.db.write();
    db.defer_indexes();
    let mut out = Reply::new(true);
    let mut n = 0u64;
    let result = tile38_aof::load_pipelined(path, Prepared::parse, |args, prepared| {
        n += 1;
        if n.is_multiple_of(BUMP_EVERY) {
            RwLockWriteGuard::bump(&mut db);
        }
        match prepared {
            Some(set) => {
                out.reset(true);
                let cx = &mut WriteCx::new(server, &mut db, args, "set", Origin::Loaded);
                tile38_engine::cmd::replayed(set.apply(args, cx, &mut out))
            }
            None => tile38_engine::cmd::apply_loaded(server, &mut db, args),
        }
    });
    tracing::debug!("AOF replayed: {:.3}s", started.elapsed().as_secs_f64());
    build_indexes(&mut db);
    drop(db);
    // The load's scratch (batches, sort buffers) goes back to the system
    // rather than staying resident.
    let trimming = Instant::now();
    crate::background::release_memory();
    tracing::debug!("Memory trimmed: {:.3}s", trimming.elapsed().as_secs_f64());
    result
}

/// Builds the deferred indexes, logging the time (at info level when long).
fn build_indexes(db: &mut Database) {
    let started = Instant::now();
    db.build_indexes();
    let took = started.elapsed().as_secs_f64();
    if took >= 0.1 {
        tracing::info!("Indexes built: {took:.2}s");
    } else {
        tracing::debug!("Indexes built: {took:.3}s");
    }
}

/// The error that stops the startup, with how to recover.
fn describe(e: LoadError, path: &Path) -> std::io::Error {
    let shown = path.display();
    match e {
        LoadError::Command { offset, message } => std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "AOF {shown} cannot be loaded at byte offset {offset}: {message}. \
                 Nothing was changed. The {offset} bytes before it are intact: to \
                 start from them, keep a copy of the file and cut it there \
                 (`truncate -s {offset} {shown}`), or repair that record"
            ),
        ),
        LoadError::Io(e) => e,
    }
}
