//! The writer thread's side of one queue: which segment is being appended
//! to, the cursor file, and what needs an fsync. Only the writer thread
//! (`writer.rs`) touches it, so file I/O never runs under the lock the
//! write path takes.

use std::collections::VecDeque;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::PathBuf;

use super::log::{self, CursorFile, Segment};

pub(crate) struct Files {
    pub dir: PathBuf,
    name: Vec<u8>,
    /// The directory and its `name` file exist.
    exists: bool,
    /// Oldest first; the last one is the active one when `active` is set.
    segments: VecDeque<Segment>,
    active: Option<(File, u64)>,
    cursor: Option<CursorFile>,
    cursor_written: u64,
    /// Data or cursor written since the last sync; files created or
    /// removed since then (the directory needs one too).
    dirty: bool,
    dir_dirty: bool,
    segment_bytes: u64,
}

impl Files {
    /// `segments` are the recovered ones (appends start a new segment).
    pub fn new(
        dir: PathBuf,
        name: Vec<u8>,
        segments: Vec<Segment>,
        cursor: u64,
        segment_bytes: u64,
    ) -> Files {
        Files {
            exists: dir.join("name").exists(),
            dir,
            name,
            segments: segments.into(),
            active: None,
            cursor: None,
            cursor_written: cursor,
            dirty: false,
            dir_dirty: false,
            segment_bytes,
        }
    }

    fn ensure_dir(&mut self) -> io::Result<()> {
        if !self.exists {
            fs::create_dir_all(&self.dir)?;
            fs::write(self.dir.join("name"), &self.name)?;
            self.exists = true;
            self.dir_dirty = true;
        }
        Ok(())
    }

    /// Appends `buf` (whole records, the last one `last_seq`) and moves the
    /// cursor to `done`, deleting segments wholly done with.
    pub fn persist(&mut self, buf: &[u8], last_seq: u64, done: u64) -> io::Result<()> {
        if !buf.is_empty() {
            self.append(buf, last_seq)?;
        }
        if done > self.cursor_written {
            self.ensure_dir()?;
            if self.cursor.is_none() {
                self.cursor = Some(CursorFile::open(&self.dir.join("cursor"))?);
            }
            self.cursor.as_mut().unwrap().write(done)?;
            self.cursor_written = done;
            self.dirty = true;
            self.trim(done)?;
        }
        Ok(())
    }

    fn append(&mut self, buf: &[u8], last_seq: u64) -> io::Result<()> {
        self.ensure_dir()?;
        if self
            .active
            .as_ref()
            .is_none_or(|(_, len)| *len >= self.segment_bytes)
        {
            let first = u64::from_le_bytes(buf[8..16].try_into().unwrap());
            let f = log::create_segment(&self.dir, first)?;
            self.segments.push_back(Segment {
                path: log::segment_path(&self.dir, first),
                last: first,
            });
            self.active = Some((f, log::MAGIC.len() as u64));
            self.dir_dirty = true;
        }
        let (f, len) = self.active.as_mut().unwrap();
        if let Err(e) = f.write_all(buf) {
            // A partial record ends what recovery reads of this segment:
            // later records go to a new one.
            self.active = None;
            return Err(e);
        }
        *len += buf.len() as u64;
        self.segments.back_mut().unwrap().last = last_seq;
        self.dirty = true;
        Ok(())
    }

    /// Deletes the segments (not the active one) whose records are all at
    /// or before `done`.
    fn trim(&mut self, done: u64) -> io::Result<()> {
        let keep_last = usize::from(self.active.is_some());
        while self.segments.len() > keep_last && self.segments[0].last <= done {
            let seg = self.segments.pop_front().unwrap();
            fs::remove_file(&seg.path)?;
            self.dir_dirty = true;
        }
        Ok(())
    }

    /// fsyncs what was written since the last call.
    pub fn sync(&mut self) -> io::Result<()> {
        if self.dirty {
            if let Some((f, _)) = &self.active {
                f.sync_data()?;
            }
            if let Some(c) = &self.cursor {
                c.sync()?;
            }
            self.dirty = false;
        }
        if self.dir_dirty {
            File::open(&self.dir)?.sync_all()?;
            self.dir_dirty = false;
        }
        Ok(())
    }

    /// Removes the directory (a deleted hook whose events are all gone).
    pub fn remove(&mut self) -> io::Result<()> {
        self.active = None;
        self.cursor = None;
        self.segments.clear();
        if self.exists {
            self.exists = false;
            fs::remove_dir_all(&self.dir)?;
        }
        Ok(())
    }
}
