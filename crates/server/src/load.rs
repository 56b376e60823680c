//! Loading the AOF at startup, while clients get `LOADING`.
//!
//! Every record is replayed through the command table like a client write
//! ([`crate::cmd::apply_replicated`]), so the state is the one a live server reached
//! by the same writes. What differs is cost:
//! * the database write lock is held across records (bumped now and then so
//!   a waiter is not starved) instead of taken for each;
//! * spatial indexes are deferred ([`Database::defer_indexes`]) and each is
//!   built in one go at the end: nothing searches while loading;
//! * a second thread frames the records and parses SETs (the bulk of any
//!   AOF) ahead of the thread applying them
//!   ([`tile38_aof::load_pipelined`]), handing over as little memory as it
//!   can ([`Prepared`]).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use parking_lot::RwLockWriteGuard;
use tile38_aof::{LoadError, LoadStats};
use tile38_collection::Database;

use tile38_geo::FieldValue;
use tile38_proto::Args;

use crate::cmd::set::Set;
use crate::cmd::{WriteCommand, WriteCx};
use crate::reply::Reply;
use crate::server::Server;

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
fn replay_file(server: &Server, path: &Path) -> Result<LoadStats, LoadError> {
    let mut db = server.db.write();
    db.defer_indexes();
    let mut out = Reply::new(true);
    let mut n = 0u64;
    let result = tile38_aof::load_pipelined(path, prepare, |args, prepared| {
        n += 1;
        if n.is_multiple_of(BUMP_EVERY) {
            RwLockWriteGuard::bump(&mut db);
        }
        match prepared {
            Some(prepared) => {
                out.reset(true);
                // The same SET a client would run, parsed ahead.
                let set = Set {
                    key: args.get(1),
                    id: args.get(2),
                    ..prepared.into_set()
                };
                let cx = &mut WriteCx {
                    db: &mut db,
                    server,
                };
                crate::cmd::replayed(set.apply(cx, &mut out))
            }
            None => crate::cmd::apply_replicated(server, &mut db, args),
        }
    });
    build_indexes(&mut db);
    drop(db);
    // The load's scratch (batches, sort buffers, the framing thread's
    // arena) goes back to the system rather than staying resident.
    crate::background::release_memory();
    result
}

/// Most fields of a SET carried inline from the framing thread.
const INLINE_FIELDS: usize = 2;
/// Longest field name carried inline.
const INLINE_NAME: usize = 23;

/// A SET parsed on the framing thread, as it crosses to the applying one:
/// its key and id are left empty (they stay in the record's arguments),
/// and up to [`INLINE_FIELDS`] fields with short names travel inline, to be
/// allocated again by the applying thread. glibc's `free` of memory another
/// thread allocated takes that thread's arena lock, and the two threads
/// contending for it cost a fifth of the framing thread's time.
struct Prepared {
    set: Set<'static>,
    fields: [Option<(u8, [u8; INLINE_NAME], FieldValue)>; INLINE_FIELDS],
}

impl Prepared {
    /// The SET (key and id empty) with its fields allocated here.
    fn into_set(self) -> Set<'static> {
        let mut set = self.set;
        if self.fields[0].is_some() {
            set.fields = self
                .fields
                .into_iter()
                .flatten()
                .map(|(len, name, value)| (name[..usize::from(len)].into(), value))
                .collect();
        }
        set
    }
}

/// A SET parsed ahead; `None` for other commands and for a SET that fails
/// to parse, which then runs (and fails) as usual.
fn prepare(args: &Args) -> Option<Prepared> {
    if !args.get(0).eq_ignore_ascii_case(b"set") {
        return None;
    }
    let mut set = Set {
        key: b"",
        id: b"",
        ..Set::parse(args).ok()?
    };
    let mut fields = [None, None];
    let inline = set.fields.len() <= INLINE_FIELDS
        && set.fields.iter().all(|(name, _)| name.len() <= INLINE_NAME);
    if inline {
        for (slot, (name, value)) in fields.iter_mut().zip(std::mem::take(&mut set.fields)) {
            let mut bytes = [0; INLINE_NAME];
            bytes[..name.len()].copy_from_slice(&name);
            *slot = Some((name.len() as u8, bytes, value));
        }
    }
    Some(Prepared { set, fields })
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
