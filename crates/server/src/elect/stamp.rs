//! The position stamp on disk (issue 20): `elect-position` in the AOF's
//! directory, what `tile38_elect::stamp` defines (the format, and the rule
//! deciding at start whether it counts). Written when the epoch this
//! member's data counts in rises, or when the AOF was cut or rewritten
//! (its generation changed) while the stamp holds, with the AOF's file
//! identity, length and the MD5 of all of it: a full read of the AOF per
//! epoch change and per resync, on a thread of its own, never on the async
//! workers nor under a lock the write path takes. Atomic: a temporary file,
//! fsynced, renamed over the old one, the directory fsynced.
//!
//! The AOF may be cut or replaced while the digest is computed; the stamp
//! is written only if the AOF's generation and file are the same after
//! the read as before, and any stamp that slips through describes bytes
//! the rule checks again at start, so a race costs the stamp, never
//! safety.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tile38_aof::Aof;
use tile38_elect::stamp::{judge, Stamp, FILE_NAME};

use crate::server::Server;

/// The stamp file of one data directory.
pub struct Persisted {
    path: PathBuf,
    /// (epoch, AOF generation) last written or found valid at start: a
    /// save of the same pair does nothing.
    saved: parking_lot::Mutex<Option<(u64, u64)>>,
    /// A save is running (one at a time; the next step retries).
    busy: AtomicBool,
}

/// MD5 of the AOF's first `n` bytes (`Aof::md5` answers `None` for an
/// empty range at the end, the digest of nothing here).
fn prefix_md5(aof: &Aof, n: u64) -> std::io::Result<Option<String>> {
    if n == 0 {
        return Ok(Some("d41d8cd98f00b204e9800998ecf8427e".into()));
    }
    aof.md5(0, n)
}

/// The AOF file's (device, inode).
fn file_id(path: &Path) -> Result<(u64, u64), String> {
    let m = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((m.dev(), m.ino()))
}

impl Persisted {
    pub fn new(aof: &Aof) -> Persisted {
        let dir = aof.path().parent().unwrap_or(Path::new("."));
        Persisted {
            path: dir.join(FILE_NAME),
            saved: parking_lot::Mutex::new(None),
            busy: AtomicBool::new(false),
        }
    }

    /// At start, after the AOF load and before the elector: the epoch the
    /// stamp on disk gives this member's data, if it counts (logged either
    /// way). Reads the whole AOF once (its digest).
    pub fn restore(&self, aof: &Aof) -> Option<u64> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                tracing::warn!("elect: {}: {e}", self.path.display());
                return None;
            }
        };
        let generation = aof.generation();
        let verdict = Stamp::parse(&text).and_then(|s| {
            let now = (file_id(aof.path())?, aof.size());
            judge(&s, now, |n| prefix_md5(aof, n).ok().flatten()).map(|e| (e, s.size))
        });
        match verdict {
            Ok((epoch, size)) => {
                tracing::info!(
                    "elect: position epoch={epoch} kept from {} (the AOF's first {size} bytes are unchanged)",
                    self.path.display()
                );
                *self.saved.lock() = Some((epoch, generation));
                Some(epoch)
            }
            Err(why) => {
                tracing::warn!("elect: {} ignored: {why}", self.path.display());
                None
            }
        }
    }

    /// This member's data is now a prefix of the AOF of the leader of
    /// `epoch`: writes the stamp in the background unless this epoch and
    /// AOF generation are already on disk. Cheap when they are.
    pub fn save(self: &Arc<Self>, server: &Arc<Server>, epoch: u64) {
        let Some(aof) = &server.aof else { return };
        let generation = aof.generation();
        if *self.saved.lock() == Some((epoch, generation)) || self.busy.swap(true, Ordering::AcqRel)
        {
            return;
        }
        let (me, s) = (self.clone(), server.clone());
        let spawned = std::thread::Builder::new()
            .name("elect-stamp".into())
            .spawn(move || {
                let written = s.aof.as_ref().map(|aof| me.write(aof, epoch, generation));
                if let Some(Err(e)) = written {
                    tracing::warn!("elect: {}: {e}", me.path.display());
                }
                me.busy.store(false, Ordering::Release);
            });
        if spawned.is_err() {
            self.busy.store(false, Ordering::Release);
        }
    }

    fn write(&self, aof: &Aof, epoch: u64, generation: u64) -> Result<(), String> {
        let io = |e: std::io::Error| e.to_string();
        aof.flush().map_err(io)?;
        let size = aof.size();
        let file = file_id(aof.path())?;
        let digest = prefix_md5(aof, size).map_err(io)?;
        if aof.generation() != generation || file_id(aof.path())? != file {
            return Ok(()); // cut or replaced meanwhile: the next step retries
        }
        let Some(digest) = digest else {
            return Ok(());
        };
        let stamp = Stamp {
            epoch,
            size,
            digest,
            file,
        };
        let tmp = self.path.with_extension("tmp");
        let mut f = File::create(&tmp).map_err(io)?;
        f.write_all(stamp.encode().as_bytes()).map_err(io)?;
        f.sync_all().map_err(io)?;
        std::fs::rename(&tmp, &self.path).map_err(io)?;
        if let Some(dir) = self.path.parent() {
            File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
        }
        *self.saved.lock() = Some((epoch, generation));
        tracing::info!("elect: position epoch={epoch} stamped at {size} AOF bytes");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aof_in(tag: &str) -> (PathBuf, Aof) {
        let dir = std::env::temp_dir().join(format!("elect-stamp-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let aof = Aof::open(&dir.join("appendonly.aof")).unwrap();
        aof.append([&b"set"[..], b"k", b"a", b"string", b"x"].into_iter());
        aof.flush().unwrap();
        (dir, aof)
    }

    #[test]
    fn an_empty_aof_is_stamped_too() {
        let (dir, aof) = aof_in("empty");
        aof.truncate(0).unwrap();
        let p = Persisted::new(&aof);
        p.write(&aof, 2, aof.generation()).unwrap();
        assert_eq!(Persisted::new(&aof).restore(&aof), Some(2));
        drop(aof);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_stamp_counts_after_appends_not_after_a_cut_or_another_file() {
        let (dir, aof) = aof_in("rule");
        let p = Persisted::new(&aof);
        assert_eq!(p.restore(&aof), None, "no file yet");
        p.write(&aof, 4, aof.generation()).unwrap();
        aof.append([&b"set"[..], b"k", b"b", b"string", b"y"].into_iter());
        aof.flush().unwrap();
        assert_eq!(Persisted::new(&aof).restore(&aof), Some(4));
        // Cut inside what the stamp vouches for, grown again.
        let stamped = Stamp::parse(&std::fs::read_to_string(&p.path).unwrap()).unwrap();
        aof.truncate(stamped.size - 3).unwrap();
        aof.append([&b"del"[..], b"k", b"a"].into_iter());
        aof.flush().unwrap();
        assert_eq!(Persisted::new(&aof).restore(&aof), None);
        // Stamped again, then the AOF replaced by another file.
        p.write(&aof, 5, aof.generation()).unwrap();
        assert_eq!(Persisted::new(&aof).restore(&aof), Some(5));
        let copy = dir.join("copy");
        std::fs::copy(aof.path(), &copy).unwrap();
        std::fs::rename(&copy, aof.path()).unwrap();
        assert_eq!(Persisted::new(&aof).restore(&aof), None);
        std::fs::write(&p.path, "garbage").unwrap();
        assert_eq!(Persisted::new(&aof).restore(&aof), None);
        drop(aof);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
