//! Property tests of the persisted position stamp (`tile38_elect::stamp`):
//! a model AOF (bytes and a file identity) goes through appends, cuts to
//! any length, cuts followed by other bytes (a resync onto another
//! history) and rewrites (a new file), with the stamp written at a random
//! point. Whatever happened, a stamp that counts at start vouches only for
//! bytes still there unchanged in the same file; one followed by appends
//! only always counts. The digest here is the bytes themselves (an
//! injective stand-in for MD5: the rule, not the hash, is under test).

use proptest::prelude::*;
use tile38_elect::stamp::{judge, Stamp};

#[derive(Clone, Debug)]
enum Op {
    Append(Vec<u8>),
    Cut(usize),
    CutAndRegrow(usize, Vec<u8>),
    Rewrite(Vec<u8>),
}

fn op() -> impl Strategy<Value = Op> {
    let bytes = || proptest::collection::vec(0u8..4, 0..24);
    prop_oneof![
        4 => bytes().prop_map(Op::Append),
        1 => (0usize..64).prop_map(Op::Cut),
        2 => ((0usize..64), bytes()).prop_map(|(n, b)| Op::CutAndRegrow(n, b)),
        1 => bytes().prop_map(Op::Rewrite),
    ]
}

/// The model AOF: its bytes and its file's inode.
#[derive(Clone, Debug, Default)]
struct Aof {
    bytes: Vec<u8>,
    inode: u64,
}

impl Aof {
    fn apply(&mut self, op: &Op) {
        match op {
            Op::Append(b) => self.bytes.extend_from_slice(b),
            Op::Cut(n) => self.bytes.truncate(*n),
            Op::CutAndRegrow(n, b) => {
                self.bytes.truncate(*n);
                self.bytes.extend_from_slice(b);
            }
            Op::Rewrite(b) => {
                self.bytes = b.clone();
                self.inode += 1;
            }
        }
    }

    fn digest(&self, n: u64) -> Option<String> {
        let n = usize::try_from(n).ok()?;
        self.bytes
            .get(..n)
            .map(|b| b.iter().map(|x| format!("{x:02x}")).collect())
    }

    fn stamp(&self, epoch: u64) -> Stamp {
        let size = self.bytes.len() as u64;
        Stamp {
            epoch,
            size,
            digest: self.digest(size).unwrap(),
            file: (1, self.inode),
        }
    }

    fn judge(&self, s: &Stamp) -> Result<u64, String> {
        judge(s, ((1, self.inode), self.bytes.len() as u64), |n| {
            self.digest(n)
        })
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn a_counted_stamp_vouches_only_for_unchanged_bytes(
        before in proptest::collection::vec(op(), 0..8),
        after in proptest::collection::vec(op(), 0..8),
        epoch in 1u64..100,
    ) {
        let mut aof = Aof::default();
        before.iter().for_each(|o| aof.apply(o));
        let at_stamp = aof.clone();
        let stamp = at_stamp.stamp(epoch);
        after.iter().for_each(|o| aof.apply(o));
        let rewritten = after.iter().any(|o| matches!(o, Op::Rewrite(_)));
        match aof.judge(&stamp) {
            Ok(e) => {
                prop_assert_eq!(e, epoch);
                prop_assert!(!rewritten, "counted across a rewrite");
                let n = stamp.size as usize;
                prop_assert_eq!(&aof.bytes[..n], &at_stamp.bytes[..n]);
            }
            Err(_) => {
                let appends_only = after.iter().all(|o| matches!(o, Op::Append(_)));
                prop_assert!(!appends_only, "refused after appends only");
            }
        }
    }

    #[test]
    fn the_file_never_panics_the_reader(text in ".{0,120}") {
        let _ = Stamp::parse(&text);
    }

    #[test]
    fn the_file_round_trips(epoch: u64, size: u64, dev: u64, ino: u64, d in "[0-9a-f]{32}") {
        let s = Stamp { epoch, size, digest: d, file: (dev, ino) };
        prop_assert_eq!(Stamp::parse(&s.encode()), Ok(s));
    }
}
