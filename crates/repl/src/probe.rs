//! Where a follower resumes: the longest prefix its AOF shares with the
//! leader's, found by comparing MD5s of byte ranges (`AOFMD5 pos size`).
//!
//! Tile38 compares 512 KiB windows: the first, then a binary search. It
//! replays from 0 **on top of** its data when the first window differs or
//! the local AOF is smaller than a window (tidwall/tile38 #740: followers
//! keep objects the leader no longer has). Here:
//!
//! * an AOF shorter than a window is compared whole, and a mismatch means
//!   [`Resume::Reset`]: the follower drops its data and AOF first;
//! * a matching first window is followed by one probe of the last window,
//!   so an intact follower resumes exactly at its end without Tile38's
//!   truncate-and-reload of the last 512 KiB;
//! * otherwise Tile38's binary search runs and the follower truncates to
//!   the result (the caller snaps it down to a record boundary).

/// Tile38's window: 512 KiB.
pub const CHUNK: u64 = 512 * 1024;

/// Where to resume.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resume {
    /// Keep the local AOF up to this offset (cut anything after it, then
    /// stream from there).
    At(u64),
    /// Nothing in common: drop local data and AOF, stream from 0.
    Reset,
}

/// The next step of the search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Compare `md5(local[pos, pos+len))` with the leader's `AOFMD5 pos len`
    /// and report the outcome with [`Probe::answer`] (an `EOF` reply is a
    /// mismatch).
    Compare {
        pos: u64,
        len: u64,
    },
    Done(Resume),
}

#[derive(Clone, Copy, Debug)]
enum Phase {
    First,
    Last,
    Search { min: u64, max: u64, limit: u64 },
    Finished(Resume),
}

/// The search as a state machine: the caller does the I/O.
#[derive(Clone, Debug)]
pub struct Probe {
    local: u64,
    phase: Phase,
}

impl Probe {
    /// `local`: the follower's AOF size.
    pub fn new(local: u64) -> Probe {
        let phase = if local == 0 {
            Phase::Finished(Resume::Reset)
        } else {
            Phase::First
        };
        Probe { local, phase }
    }

    pub fn next(&self) -> Step {
        match self.phase {
            Phase::First => Step::Compare {
                pos: 0,
                len: self.local.min(CHUNK),
            },
            Phase::Last => Step::Compare {
                pos: self.local - CHUNK,
                len: CHUNK,
            },
            Phase::Search { max, .. } => Step::Compare {
                pos: max,
                len: CHUNK,
            },
            Phase::Finished(r) => Step::Done(r),
        }
    }

    /// Records whether the range asked for by [`Probe::next`] matched.
    pub fn answer(&mut self, matched: bool) {
        self.phase = match self.phase {
            Phase::First if !matched => Phase::Finished(Resume::Reset),
            Phase::First if self.local <= CHUNK => Phase::Finished(Resume::At(self.local)),
            Phase::First => Phase::Last,
            Phase::Last if matched => Phase::Finished(Resume::At(self.local)),
            Phase::Last => Self::search(CHUNK, self.local - CHUNK, self.local),
            Phase::Search { min, max, limit } => {
                let (min, limit) = if matched {
                    (max + CHUNK, limit)
                } else {
                    (min, max)
                };
                let max = ((limit.saturating_sub(min)) / 2 + min).saturating_sub(CHUNK / 2);
                Self::search(min, max, limit)
            }
            done @ Phase::Finished(_) => done,
        };
    }

    fn search(min: u64, max: u64, limit: u64) -> Phase {
        if max < min || max + CHUNK > limit {
            Phase::Finished(Resume::At(min))
        } else {
            Phase::Search { min, max, limit }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use md5::{Digest, Md5};
    use proptest::prelude::*;

    fn md5(data: &[u8], pos: u64, len: u64) -> Option<[u8; 16]> {
        let end = pos.checked_add(len)?;
        if end > data.len() as u64 {
            return None;
        }
        Some(Md5::digest(&data[pos as usize..end as usize]).into())
    }

    fn run(local: &[u8], leader: &[u8]) -> (Resume, usize) {
        let mut p = Probe::new(local.len() as u64);
        let mut probes = 0;
        loop {
            match p.next() {
                Step::Done(r) => return (r, probes),
                Step::Compare { pos, len } => {
                    probes += 1;
                    let a = md5(local, pos, len);
                    p.answer(a.is_some() && a == md5(leader, pos, len));
                }
            }
        }
    }

    fn common_prefix(a: &[u8], b: &[u8]) -> usize {
        a.iter().zip(b).take_while(|(x, y)| x == y).count()
    }

    #[test]
    fn intact_follower_resumes_at_its_end_in_two_probes() {
        let leader: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let local = &leader[..2_000_001];
        assert_eq!(run(local, &leader), (Resume::At(2_000_001), 2));
        assert_eq!(run(&leader[..1000], &leader), (Resume::At(1000), 1));
        assert_eq!(run(&[], &leader), (Resume::Reset, 0));
    }

    #[test]
    fn different_history_resets() {
        let leader = vec![1u8; 100];
        assert_eq!(run(&[2u8; 50], &leader).0, Resume::Reset);
        // The leader restarted empty: everything local is stale.
        assert_eq!(run(&[2u8; 50], &[]).0, Resume::Reset);
        assert_eq!(run(&leader[..], &leader[..60]).0, Resume::Reset);
    }

    proptest! {
        // The result never keeps a byte that differs from the leader's, and
        // loses at most two windows of the common prefix (Tile38's
        // resolution).
        #[test]
        fn never_keeps_divergent_bytes(
            len in 0usize..4_000_000,
            cut in 0usize..4_000_000,
            extra in 0usize..1_000_000,
            leader_extra in 0usize..1_000_000,
        ) {
            let base: Vec<u8> = (0..len as u32).map(|i| (i.wrapping_mul(2654435761) >> 24) as u8).collect();
            let cut = cut.min(len);
            let mut local = base[..cut].to_vec();
            local.extend(std::iter::repeat_n(7u8, extra));
            let mut leader = base.clone();
            leader.extend(std::iter::repeat_n(9u8, leader_extra));
            let common = common_prefix(&local, &leader) as u64;
            match run(&local, &leader).0 {
                Resume::At(p) => {
                    prop_assert!(p <= common, "kept {p} > common {common}");
                    prop_assert!(p + 2 * CHUNK >= common || common == local.len() as u64 && p == common);
                }
                Resume::Reset => prop_assert!(common < CHUNK.min(local.len() as u64) || local.is_empty()),
            }
        }
    }
}
