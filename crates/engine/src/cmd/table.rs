//! The command table: one row per command (its name, how it runs, which
//! gates let it through) and the name lookup every transport uses
//! (Tile38's command switch, `handleInputCommand`: lower-cased first word,
//! `CONFIG`/`SCRIPT` joined with their subcommand).

use super::*;

/// One row of the command table.
pub struct Spec {
    /// Lower-case name.
    pub name: &'static str,
    pub run: Run,
    /// Allowed before `AUTH` when a password is set.
    pub no_auth: bool,
    /// Allowed while the AOF is loading.
    pub while_loading: bool,
    /// Refused inside `TIMEOUT` (`timeout not supported for '<cmd>'`):
    /// the commands Tile38 locks as writes, which are all our writes but
    /// JDEL (missing from Tile38's list, it runs with the deadline).
    pub no_timeout: bool,
    /// `name` as [`lookup`] compares it ([`pack`]).
    key: u128,
}

// Table entries: `parse`, then (no lock is held while parsing) the lock,
// then `apply`, as plain function pointers.
macro_rules! read {
    ($t:ty) => {
        Run::Read(|args, gate, out| {
            let cmd = <$t>::parse(args)?;
            gate.run(|cx| cmd.apply(cx, out))
        })
    };
}
// NEARBY/WITHIN/INTERSECTS: with FENCE, the connection goes live instead
// (`crate::fence::live`).
macro_rules! search {
    ($t:ty) => {
        Run::Read(|args, gate, out| {
            if let Some(fence) = crate::fence::live(args)? {
                return gate.run(|cx| crate::fence::go_live(&fence, cx, out));
            }
            let cmd = <$t>::parse(args)?;
            gate.run(|cx| cmd.apply(cx, out))
        })
    };
}
macro_rules! write {
    ($t:ty) => {
        Run::Write(|args, gate, out| {
            let cmd = <$t>::parse(args)?;
            let mut cx = gate.cx(args);
            cmd.apply(&mut cx, out)?;
            Ok(cx.journaled())
        })
    };
}
macro_rules! conn {
    ($t:ty) => {
        Run::Conn(|args, cx, out| <$t>::parse(args)?.apply(cx, out))
    };
}

const fn spec(name: &'static str, run: Run) -> Spec {
    Spec {
        name,
        run,
        no_auth: false,
        while_loading: false,
        no_timeout: matches!(run, Run::Write(_)),
        key: pack(name.as_bytes()),
    }
}

/// A lower-case command name of at most 15 bytes as one number: the bytes
/// in order, then the length in the last byte (so `get` and `get\0`
/// differ). One integer comparison per table row instead of a `memcmp`.
const fn pack(name: &[u8]) -> u128 {
    let mut bytes = [0u8; 16];
    let mut i = 0;
    while i < name.len() {
        bytes[i] = name[i].to_ascii_lowercase();
        i += 1;
    }
    bytes[15] = name.len() as u8;
    u128::from_le_bytes(bytes)
}

const fn open(name: &'static str, run: Run) -> Spec {
    Spec {
        no_auth: true,
        while_loading: true,
        no_timeout: false,
        ..spec(name, run)
    }
}

/// A write that Tile38 does not lock as one, so `TIMEOUT` runs it
/// ([`Spec::no_timeout`]).
const fn timed_write(name: &'static str, run: Run) -> Spec {
    Spec {
        no_timeout: false,
        ..spec(name, run)
    }
}

/// The command table; hot commands first.
static TABLE: &[Spec] = &[
    spec("set", write!(set::Set)),
    spec("get", read!(get::Get)),
    open("ping", conn!(session::Ping)),
    spec("del", write!(del::Del)),
    spec("fset", write!(fields::FSet)),
    spec("fget", read!(fields::FGet)),
    spec("fexists", read!(fields::FExists)),
    spec("exists", read!(get::Exists)),
    spec("scan", read!(scan::Scan)),
    spec("search", read!(scan::Search)),
    spec("nearby", search!(nearby::Nearby)),
    spec("within", search!(within::Within)),
    spec("intersects", search!(within::Intersects)),
    spec("test", read!(testcmd::TestCmd)),
    spec("pdel", write!(del::PDel)),
    spec("drop", write!(del::Drop)),
    spec("flushdb", write!(del::FlushDb)),
    spec("rename", write!(keys::Rename)),
    spec("renamenx", write!(keys::RenameNx)),
    spec("keys", read!(keys::Keys)),
    spec("type", read!(keys::Type)),
    spec("bounds", read!(keys::Bounds)),
    spec("stats", read!(keys::Stats)),
    spec("expire", write!(expire::Expire)),
    spec("persist", write!(expire::Persist)),
    spec("ttl", read!(expire::Ttl)),
    spec("jset", write!(json::JSet)),
    spec("jget", read!(json::JGet)),
    timed_write("jdel", write!(json::JDel)),
    spec("sethook", write!(hooks::SetHook)),
    spec("setchan", write!(hooks::SetChan)),
    spec("delhook", write!(hooks::DelHook)),
    spec("delchan", write!(hooks::DelChan)),
    spec("pdelhook", write!(hooks::PDelHook)),
    spec("pdelchan", write!(hooks::PDelChan)),
    spec("hooks", read!(hooks::ListHooks)),
    spec("chans", read!(hooks::ListChans)),
    spec("publish", conn!(pubsub::Publish)),
    spec("subscribe", conn!(pubsub::Subscribe)),
    spec("psubscribe", conn!(pubsub::Subscribe)),
    open("echo", conn!(session::Echo)),
    open("output", conn!(session::Output)),
    open("auth", conn!(session::Auth)),
    Spec {
        while_loading: false,
        ..open("healthz", conn!(repl::Healthz))
    },
    spec("server", read!(server_info::ServerCmd)),
    spec("info", read!(server_info::Info)),
    spec("role", read!(repl::Role)),
    spec("config get", conn!(config_cmd::ConfigGet)),
    spec("config set", conn!(config_cmd::ConfigSet)),
    spec("config rewrite", conn!(config_cmd::ConfigRewrite)),
    spec("readonly", conn!(admin::ReadOnly)),
    spec("gc", conn!(admin::Gc)),
    spec("aofshrink", conn!(admin::AofShrink)),
    spec("client", conn!(client::Client)),
    spec("monitor", conn!(session::Monitor)),
    spec("aofmd5", conn!(repl::AofMd5)),
    spec("aof", conn!(repl::AofCmd)),
    spec("follow", conn!(repl::Follow)),
    spec("slaveof", conn!(repl::Follow)),
    spec("replconf", conn!(repl::Replconf)),
    spec("wait", conn!(repl::Wait)),
    // Lua scripting (`eval.rs`).
    spec("eval", conn!(eval::Eval)),
    spec("evalsha", conn!(eval::Eval)),
    spec("evalro", conn!(eval::Eval)),
    spec("evalrosha", conn!(eval::Eval)),
    spec("evalna", conn!(eval::Eval)),
    spec("evalnasha", conn!(eval::Eval)),
    spec("script load", conn!(eval::ScriptCmd)),
    spec("script exists", conn!(eval::ScriptCmd)),
    spec("script flush", conn!(eval::ScriptCmd)),
];

/// Finds a command by name, case-insensitively: one probe of [`INDEX`]
/// for most names (a scan of the table, hot rows first, took 13
/// comparisons for INTERSECTS, and a connection looks a command up twice:
/// whether it takes the write lock, then to run it).
pub fn lookup(name: &[u8]) -> Option<&'static Spec> {
    if name.len() > 15 {
        return None;
    }
    let key = pack(name);
    let mut slot = slot_of(key);
    loop {
        let row = INDEX[slot];
        if row == 0 {
            return None;
        }
        let spec = &TABLE[usize::from(row - 1)];
        if spec.key == key {
            return Some(spec);
        }
        slot = (slot + 1) % SLOTS;
    }
}

/// Slots of [`INDEX`]: over twice the rows, so probes stay short.
const SLOTS: usize = 256;

/// Open addressing over the table, built at compile time: each slot holds
/// a row number + 1, or 0 (empty); a row sits at [`slot_of`] its key or
/// the first empty slot after it.
static INDEX: [u8; SLOTS] = index();

const fn slot_of(key: u128) -> usize {
    let folded = (key as u64) ^ ((key >> 64) as u64);
    (folded.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as usize
}

const fn index() -> [u8; SLOTS] {
    assert!(
        TABLE.len() < SLOTS / 2,
        "the command index is sized for the table"
    );
    let mut index = [0u8; SLOTS];
    let mut row = 0;
    while row < TABLE.len() {
        let mut slot = slot_of(TABLE[row].key);
        while index[slot] != 0 {
            slot = (slot + 1) % SLOTS;
        }
        index[slot] = (row + 1) as u8;
        row += 1;
    }
    index
}

/// Commands whose subcommand is a second word: `CONFIG GET …` is the
/// command `config get` (see [`resolve`]).
static GROUPS: &[&str] = &["config", "script"];

/// Finds the command `args` name, as Tile38's command switch does: by the
/// lower-cased first argument, so `"CONFIG GET"` sent as one argument is
/// `config get`; a group's name ([`GROUPS`]) followed by more arguments
/// is joined with the next one by a space, and the result looked up in
/// turn (`CONFIG GET maxmemory` → `CONFIG GET`, `maxmemory`; `CONFIG`,
/// `GET x` → `CONFIG GET x`, unknown). `None`: unknown, the error quoting
/// `args.get(0)` as it then stands.
pub fn resolve(args: &mut Args) -> Option<&'static Spec> {
    let name = args.get(0);
    if let Some(spec) = lookup(name) {
        return Some(spec);
    }
    let group = GROUPS
        .iter()
        .any(|g| g.as_bytes().eq_ignore_ascii_case(name));
    if !group || args.len() < 2 {
        return None;
    }
    args.join_front(b' ');
    lookup(args.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row is found by its name in any case, and nothing else is:
    /// not a prefix, not the name with a NUL after it, not a long word.
    #[test]
    fn lookup_finds_each_row_by_its_name_alone() {
        for spec in TABLE {
            let name = spec.name.as_bytes();
            assert!(name.len() <= 15, "{}", spec.name);
            let upper = name.to_ascii_uppercase();
            for word in [name, &upper[..]] {
                assert!(std::ptr::eq(lookup(word).unwrap(), spec), "{}", spec.name);
            }
            let mut nul = name.to_vec();
            nul.push(0);
            assert!(lookup(&nul).is_none(), "{}", spec.name);
            let prefix = lookup(&name[..name.len() - 1]);
            assert!(
                !prefix.is_some_and(|s| std::ptr::eq(s, spec)),
                "{}",
                spec.name
            );
        }
        assert!(lookup(b"").is_none());
        assert!(lookup(b"intersectsxxxxxx").is_none());
        assert_eq!(lookup(b"WiThIn").unwrap().name, "within");
        assert_eq!(lookup(b"config get").unwrap().name, "config get");
    }
}
