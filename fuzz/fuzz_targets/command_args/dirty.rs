//! What an input's commands may have changed in the fixture, known from
//! the commands themselves (their names and the fixture keys among their
//! arguments) and from whether each reported a change.

use tile38_proto::Args;
use tile38_engine::cmd::{self, Run};

use crate::pool::Pool;

/// What an input's write commands did to the fixture (a bit per key).
#[derive(Default)]
pub struct Dirty {
    /// Named by a write command (any outcome).
    pub named: u64,
    /// Named by a write command that reported a change (rebuilt without
    /// looking: a change undone later, such as SET then DEL of a new id,
    /// leaves the counts alone but not the index layout).
    pub written: u64,
    /// FLUSHDB reported a change: every key is rebuilt.
    pub all: bool,
    /// FLUSHDB ran.
    pub flushed: bool,
    /// A command that changes the hooks (SETHOOK, SETCHAN, DELHOOK,
    /// DELCHAN, PDELHOOK, PDELCHAN, FLUSHDB) reported a change.
    pub hooks: bool,
}

/// What a command may change in the fixture, known before it runs.
pub struct Touch {
    keys: u64,
    flush: bool,
    hooks: bool,
}

impl Dirty {
    /// What a command may change in the fixture: the fixture keys among
    /// a write command's arguments, FLUSHDB, the hooks. `None` for reads.
    pub fn touch(pool: &Pool, args: &Args) -> Option<Touch> {
        let mut name = args.get(0);
        if name.eq_ignore_ascii_case(b"timeout") && args.len() > 2 {
            name = args.get(2);
        }
        // Cheap tests first: most commands name no fixture key.
        let keys = args
            .iter()
            .skip(1)
            .filter_map(|a| pool.key_index(a))
            .fold(0, |m, i| m | 1u64 << i);
        let flush = name.eq_ignore_ascii_case(b"flushdb");
        let hooks = flush
            || name.len() >= 7 && {
                let l = name.to_ascii_lowercase();
                matches!(
                    l.as_slice(),
                    b"sethook" | b"setchan" | b"delhook" | b"delchan" | b"pdelhook" | b"pdelchan"
                )
            };
        if keys == 0 && !hooks {
            return None;
        }
        let spec = cmd::lookup(name)?;
        if !matches!(spec.run, Run::Write(_)) {
            return None;
        }
        // The hook commands change only `Server::hooks`.
        let keys = if hooks && !flush { 0 } else { keys };
        Some(Touch { keys, flush, hooks })
    }

    /// Records what a command did, given what it may change and whether it
    /// reported a change (`ConnState::wrote`).
    pub fn record(&mut self, t: Touch, wrote: bool) {
        self.named |= t.keys;
        self.flushed |= t.flush;
        if wrote {
            self.written |= t.keys;
            self.all |= t.flush;
            self.hooks |= t.hooks;
        }
    }
}
