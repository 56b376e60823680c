//! The group table (`groups.go`): one server-wide map
//! `(hook name, key, id) → group id`, so the events of one stay of an
//! object in one fence share a `group`. Live fences all use hook name
//! `""` and so share one entry per object.
//!
//! Like Tile38's two B-trees (`groupHooks` ordered by hook-key-id,
//! `groupObjects` by key-id-hook), two ordered maps give the lookups and
//! the prefix removals: a hook's groups (DELCHAN, replacement), an
//! object's (DEL) and a key's (DROP). Keys are the three parts, each
//! length-prefixed, in one byte string, so a lookup borrows a reused
//! buffer instead of allocating.
//!
//! Group ids look like Tile38's `server.go:bsonID`: 24 hex digits of a
//! BSON ObjectId (4 bytes of Unix seconds, 3 machine bytes, 1 process
//! byte, a 4-byte counter from a random start). Only their identity
//! matters to clients.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

/// A group id (12 bytes, printed as 24 lower-case hex digits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GroupId(pub [u8; 12]);

impl GroupId {
    /// Appends the 24 hex digits.
    pub fn write_hex(&self, out: &mut Vec<u8>) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for b in self.0 {
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 15)]);
        }
    }
}

/// The group table.
pub struct Groups {
    /// hook·key·id → group.
    by_hook: BTreeMap<Vec<u8>, GroupId>,
    /// key·id·hook (for DEL and DROP).
    by_object: BTreeSet<Vec<u8>>,
    /// Lookup buffer.
    scratch: Vec<u8>,
    /// Machine and process bytes of new ids.
    origin: [u8; 4],
    counter: u32,
}

fn push_part(out: &mut Vec<u8>, part: &[u8]) {
    out.extend_from_slice(&(part.len() as u32).to_be_bytes());
    out.extend_from_slice(part);
}

/// Splits a key made by `push_part` into its parts.
fn parts(mut key: &[u8]) -> [&[u8]; 3] {
    let mut out: [&[u8]; 3] = [&[]; 3];
    for slot in &mut out {
        let (len, rest) = key.split_at(4);
        let len = u32::from_be_bytes(len.try_into().expect("4 bytes")) as usize;
        let (part, rest) = rest.split_at(len);
        *slot = part;
        key = rest;
    }
    out
}

impl Groups {
    /// An empty table. `seed` supplies the machine/process bytes and the
    /// counter's start (Tile38 takes them from the hostname, the pid and
    /// a random number).
    pub fn new(seed: u64) -> Groups {
        let b = seed.to_be_bytes();
        Groups {
            by_hook: BTreeMap::new(),
            by_object: BTreeSet::new(),
            scratch: Vec::new(),
            origin: [b[0], b[1], b[2], b[3]],
            counter: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
        }
    }

    pub fn len(&self) -> usize {
        self.by_hook.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_hook.is_empty()
    }

    fn hook_key(&mut self, hook: &[u8], key: &[u8], id: &[u8]) {
        self.scratch.clear();
        push_part(&mut self.scratch, hook);
        push_part(&mut self.scratch, key);
        push_part(&mut self.scratch, id);
    }

    fn object_key(hook: &[u8], key: &[u8], id: &[u8]) -> Vec<u8> {
        let mut k = Vec::with_capacity(12 + hook.len() + key.len() + id.len());
        push_part(&mut k, key);
        push_part(&mut k, id);
        push_part(&mut k, hook);
        k
    }

    /// `groupGet`: the object's current group in this hook.
    pub fn get(&mut self, hook: &[u8], key: &[u8], id: &[u8]) -> Option<GroupId> {
        self.hook_key(hook, key, id);
        self.by_hook.get(self.scratch.as_slice()).copied()
    }

    /// `groupConnect`: a new group for the object in this hook, replacing
    /// any current one. `unix_secs` goes into the id.
    pub fn connect(&mut self, hook: &[u8], key: &[u8], id: &[u8], unix_secs: i64) -> GroupId {
        self.counter = self.counter.wrapping_add(1);
        let mut g = [0u8; 12];
        g[..4].copy_from_slice(&(unix_secs as u32).to_be_bytes());
        g[4..8].copy_from_slice(&self.origin);
        g[8..].copy_from_slice(&self.counter.to_be_bytes());
        let g = GroupId(g);
        self.hook_key(hook, key, id);
        match self.by_hook.get_mut(self.scratch.as_slice()) {
            Some(slot) => *slot = g,
            None => {
                self.by_hook.insert(self.scratch.clone(), g);
                self.by_object.insert(Self::object_key(hook, key, id));
            }
        }
        g
    }

    /// The current group, or a new one (`fenceMatch` for every detect but
    /// enter and cross).
    pub fn get_or_connect(&mut self, hook: &[u8], key: &[u8], id: &[u8], secs: i64) -> GroupId {
        match self.get(hook, key, id) {
            Some(g) => g,
            None => self.connect(hook, key, id, secs),
        }
    }

    /// `groupDisconnect`: forgets the object's group in this hook.
    pub fn disconnect(&mut self, hook: &[u8], key: &[u8], id: &[u8]) {
        self.hook_key(hook, key, id);
        if self.by_hook.remove(self.scratch.as_slice()).is_some() {
            self.by_object.remove(&Self::object_key(hook, key, id));
        }
    }

    /// `groupDisconnectObject` (DEL, PDEL, expiry): the object's groups in
    /// every hook.
    pub fn disconnect_object(&mut self, key: &[u8], id: &[u8]) {
        let mut prefix = Vec::new();
        push_part(&mut prefix, key);
        push_part(&mut prefix, id);
        self.remove_objects(&prefix);
    }

    /// `groupDisconnectCollection` (DROP): every group of the key.
    pub fn disconnect_key(&mut self, key: &[u8]) {
        let mut prefix = Vec::new();
        push_part(&mut prefix, key);
        self.remove_objects(&prefix);
    }

    fn remove_objects(&mut self, prefix: &[u8]) {
        let gone: Vec<Vec<u8>> = self
            .by_object
            .range::<[u8], _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(|k| k.starts_with(prefix))
            .cloned()
            .collect();
        for k in gone {
            self.by_object.remove(&k);
            let [key, id, hook] = parts(&k);
            self.hook_key(hook, key, id);
            self.by_hook.remove(self.scratch.as_slice());
        }
    }

    /// `groupDisconnectHook` (DELCHAN/DELHOOK, PDEL*, EX expiry, a
    /// replacing SETCHAN/SETHOOK): every group of the hook.
    pub fn disconnect_hook(&mut self, hook: &[u8]) {
        let mut prefix = Vec::new();
        push_part(&mut prefix, hook);
        let gone: Vec<Vec<u8>> = self
            .by_hook
            .range::<[u8], _>((Bound::Included(prefix.as_slice()), Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| k.clone())
            .collect();
        for k in gone {
            self.by_hook.remove(&k);
            let [hook, key, id] = parts(&k);
            self.by_object.remove(&Self::object_key(hook, key, id));
        }
    }

    /// FLUSHDB.
    pub fn clear(&mut self) {
        self.by_hook.clear();
        self.by_object.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(g: GroupId) -> String {
        let mut out = Vec::new();
        g.write_hex(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn ids_look_like_bson_object_ids() {
        let mut g = Groups::new(0x0102_0304_ffff_fffe);
        let a = g.connect(b"h", b"k", b"i", 0x6b14_6786);
        assert_eq!(hex(a), "6b14678601020304ffffffff");
        let b = g.connect(b"h", b"k", b"j", 0x6b14_6786);
        assert_eq!(hex(b), "6b1467860102030400000000");
    }

    #[test]
    fn get_connect_and_removals() {
        let mut g = Groups::new(7);
        let a = g.get_or_connect(b"h1", b"k", b"a", 1);
        assert_eq!(g.get_or_connect(b"h1", b"k", b"a", 1), a);
        let b = g.connect(b"h1", b"k", b"a", 1);
        assert_ne!(a, b);
        assert_eq!(g.get(b"h1", b"k", b"a"), Some(b));
        g.connect(b"h2", b"k", b"a", 1);
        g.connect(b"h2", b"k", b"b", 1);
        g.connect(b"h2", b"k2", b"a", 1);
        // Parts are length-prefixed: "k"+"a…" never matches "ka".
        g.connect(b"h2", b"ka", b"", 1);
        assert_eq!(g.len(), 5);
        g.disconnect_object(b"k", b"a");
        assert_eq!(g.len(), 3);
        assert_eq!(g.get(b"h1", b"k", b"a"), None);
        assert!(g.get(b"h2", b"k", b"b").is_some());
        g.disconnect_key(b"k");
        assert_eq!(g.len(), 2);
        g.disconnect_hook(b"h2");
        assert!(g.is_empty());
        g.connect(b"", b"k", b"a", 1);
        g.disconnect(b"", b"k", b"a");
        assert!(g.is_empty() && g.by_object.is_empty());
    }
}
