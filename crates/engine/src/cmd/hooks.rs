//! Webhook and pub/sub channel *definitions*, as Tile38 1.37 stores them:
//!
//! ```text
//! SETHOOK name endpoint[,endpoint…] [META name value]… [EX seconds] <fence>
//! SETCHAN name [META name value]… [EX seconds] <fence>
//!   <fence> = NEARBY|WITHIN|INTERSECTS key [options] [FENCE] … (see `crate::fence::parse`)
//! DELHOOK name | DELCHAN name | PDELHOOK pattern | PDELCHAN pattern
//! HOOKS pattern | CHANS pattern
//! ```
//!
//! This module owns the definitions ([`Hooks`], held in `Engine::hooks`)
//! and the commands above; RENAME asks [`check_rename`], FLUSHDB calls
//! [`clear`], SERVER reports [`count`]. DROP leaves definitions alone, as in
//! Tile38. Changes are journaled verbatim through `Engine::journal` (as a
//! `What::Definitions` change, reported once the definitions are unlocked
//! so that subscribers may read them), so an AOF written
//! by Tile38 (`SETCHAN …`, `PDELCHAN …`, the shrink's lower-case `sethook
//! … meta … ex 12.3 …`) loads through `cmd::replay` like any other write.
//!
//! Each definition's fence lives in `Engine::fences` (`crate::fence`),
//! kept in step here: a new or replacing definition builds its fence
//! ([`crate::fence::FenceCmd::build`], also when the AOF loads), and every
//! way a definition goes (DEL*, PDEL*, expiry, FLUSHDB) removes it.
//!
//! Tile38 quirks kept:
//! * Hooks and channels share one namespace; reusing a name across kinds
//!   fails with `hooks and channels cannot share the same name`, while
//!   DELHOOK of a channel's name (and vice versa) just answers 0.
//! * Setting an identical definition answers 0 and logs nothing; the
//!   comparison includes the deadline, so one with EX always counts as new.
//! * META names are deduplicated (last value wins) and listed sorted.
//! * EX follows Go's float-to-Duration conversion on amd64: NaN or a value
//!   out of int64 nanoseconds range expires at once.
//! * Expiry logs `delhook name` / `delchan name`, like an expired object's
//!   `del`. Tile38 sweeps every 100 ms; [`sweep_expired`] is that sweep,
//!   and until the background tick calls it, expired definitions are
//!   dropped (and logged) by the next write that touches definitions
//!   (SETHOOK…, DELHOOK…, PDELHOOK…, RENAME) while reads already leave
//!   them out, so no reply can tell. Nothing expires while the AOF loads: the
//!   file's own records decide.
//! * RENAME/RENAMENX refuse when a definition watches either key, naming
//!   the first such definition's kind (`key has hooks set` / `key has
//!   channels set`).

use tile38_endpoint as endpoint;
mod json;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use parking_lot::MutexGuard;
use tile38_collection::{glob, Database};
use tile38_geofence::Target;
use tile38_proto::Args;

use super::gate::go_duration;
use super::{ReadCommand, ReadCx, WriteCommand, WriteCx};
use crate::cursor::{float, Cursor};
use crate::engine::{now_nanos, Engine};
use crate::error::{Error, Result};
use crate::journal::What;
use crate::reply::Reply;

/// One hook or channel.
#[derive(Debug, PartialEq)]
pub struct Hook {
    pub channel: bool,
    /// The key the fence watches.
    pub key: Vec<u8>,
    /// Channels have one: `local://<name>`.
    pub endpoints: Vec<Vec<u8>>,
    /// Sorted by name, names unique.
    pub metas: Vec<(Vec<u8>, Vec<u8>)>,
    /// Deadline in unix nanoseconds.
    pub expires: Option<i64>,
    /// The fence command as given, from its command word on.
    pub command: Vec<Vec<u8>>,
}

/// Every definition, by name.
#[derive(Default)]
pub struct Hooks {
    by_name: BTreeMap<Vec<u8>, Hook>,
}

impl Hooks {
    /// Drops the definitions whose deadline passed; returns them, oldest
    /// deadline first, as `(channel, name)`.
    fn expire(&mut self, now: i64) -> Vec<(bool, Vec<u8>)> {
        let mut gone: Vec<(i64, Vec<u8>)> = self
            .by_name
            .iter()
            .filter_map(|(name, h)| {
                h.expires
                    .filter(|at| *at <= now)
                    .map(|at| (at, name.clone()))
            })
            .collect();
        gone.sort();
        gone.into_iter()
            .filter_map(|(_, name)| Some((self.by_name.remove(&name)?.channel, name)))
            .collect()
    }

    /// The live definitions of one kind whose names match `pattern`, in
    /// name order (narrowed by the pattern's literal prefix, as Tile38
    /// does).
    fn matching<'a>(
        &'a self,
        pattern: &'a [u8],
        channel: bool,
        now: i64,
    ) -> impl Iterator<Item = (&'a [u8], &'a Hook)> + 'a {
        // Tile38's `forEachHookByPattern`: upper limit inclusive.
        let walk = glob::Walk::new(pattern);
        self.by_name
            .range::<[u8], _>((
                std::ops::Bound::Included(walk.start()),
                std::ops::Bound::Unbounded,
            ))
            .map(|(name, h)| (name.as_slice(), h))
            .take_while(move |(name, _)| walk.holds(name))
            .filter(move |(name, h)| {
                h.channel == channel && h.live(now) && glob::matches(pattern, name)
            })
    }
}

impl Hook {
    fn live(&self, now: i64) -> bool {
        self.expires.is_none_or(|at| at > now)
    }
}

/// The definitions for a write (the database write lock is held, `db`),
/// with the expired ones dropped and logged first. Lock order: the
/// database lock (read or write) first, then the definitions.
fn lock_for_write<'e>(server: &'e Engine, db: &Database) -> MutexGuard<'e, Hooks> {
    expire(server, db);
    server.hooks.lock()
}

/// Drops the expired definitions (unless the AOF is loading: its records
/// decide), journaling the record Tile38's expiry logs for each
/// (`delhook name` / `delchan name`) once the definitions are unlocked
/// again, so that subscribers may read them. Under the database write
/// lock (`db`), which every change of definitions holds: nothing changes
/// them in between. Returns how many went.
fn expire(server: &Engine, db: &Database) -> usize {
    if server.loading.load(Ordering::Acquire) {
        return 0;
    }
    let gone = server.hooks.lock().expire(now_nanos());
    for (_, name) in &gone {
        server.fences.undefine(name);
    }
    for (channel, name) in &gone {
        let command = if *channel { "delchan" } else { "delhook" };
        let record = [command.as_bytes(), name];
        server.journal_internal(db, command, &record, b"", What::Definitions);
    }
    gone.len()
}

/// Tile38's 100 ms hook expiry sweep: drops the definitions whose EX ran
/// out, journaling `delhook`/`delchan` for each; returns how many. Meant
/// for the background tick next to the object sweep.
pub fn sweep_expired(server: &Engine) -> usize {
    let db = server.db.write();
    expire(server, &db)
}

/// The live definitions as AOFSHRINK writes them, in name order:
/// `setchan name [meta k v]… [ex secs] command…` and
/// `sethook name endpoint,… [meta k v]… [ex secs] command…` (seconds left
/// with one decimal, at least 0.1).
pub fn shrink_records(server: &Engine) -> Vec<Vec<Vec<u8>>> {
    let now = now_nanos();
    let hooks = server.hooks.lock();
    hooks
        .by_name
        .iter()
        .filter(|(_, h)| h.live(now))
        .map(|(name, h)| {
            let verb: &[u8] = if h.channel { b"setchan" } else { b"sethook" };
            let mut r = vec![verb.to_vec(), name.clone()];
            if !h.channel {
                r.push(h.endpoints.join(&b","[..]));
            }
            for (k, v) in &h.metas {
                r.extend([b"meta".to_vec(), k.clone(), v.clone()]);
            }
            if let Some(at) = h.expires {
                let tenths = ((at - now) / 100_000_000).max(1);
                r.extend([
                    b"ex".to_vec(),
                    format!("{}", tenths as f64 / 10.0).into_bytes(),
                ]);
            }
            r.extend(h.command.iter().cloned());
            r
        })
        .collect()
}

/// How many hooks and channels exist (SERVER `num_hooks`).
pub fn count(server: &Engine) -> usize {
    let now = now_nanos();
    server
        .hooks
        .lock()
        .by_name
        .values()
        .filter(|h| h.live(now))
        .count()
}

/// FLUSHDB: every hook and channel goes too (FLUSHDB alone is logged).
pub fn clear(server: &Engine) {
    server.hooks.lock().by_name.clear();
    server.fences.flush();
}

/// RENAME/RENAMENX refuse to move a key that a definition watches, either
/// the source or the target.
pub fn check_rename(server: &Engine, db: &Database, key: &[u8], new_key: &[u8]) -> Result<()> {
    let hooks = lock_for_write(server, db);
    match hooks
        .by_name
        .values()
        .find(|h| h.key == key || h.key == new_key)
    {
        Some(h) if h.channel => Err(Error::KeyHasChannels),
        Some(_) => Err(Error::KeyHasHooks),
        None => Ok(()),
    }
}

/// `SETHOOK` (`CHAN == false`) or `SETCHAN`.
pub struct SetDef<const CHAN: bool> {
    name: Vec<u8>,
    endpoints: Vec<Vec<u8>>,
    metas: Vec<(Vec<u8>, Vec<u8>)>,
    ex: Option<f64>,
    command: Vec<Vec<u8>>,
    fence: crate::fence::FenceCmd,
}

pub type SetHook = SetDef<false>;
pub type SetChan = SetDef<true>;

impl<const CHAN: bool> WriteCommand<'_> for SetDef<CHAN> {
    fn parse(args: &Args) -> Result<Self> {
        let mut c = Cursor::new(args);
        let name = c.token()?.to_vec();
        let endpoints = if CHAN {
            vec![[b"local://", name.as_slice()].concat()]
        } else {
            let mut list = Vec::new();
            for url in c.token()?.split(|&b| b == b',') {
                let url = endpoint::trim_space(url);
                if !endpoint::is_valid(url) {
                    return Err(Error::invalid_arg(url));
                }
                list.push(url.to_vec());
            }
            list
        };
        let mut metas = BTreeMap::new();
        let mut ex = None;
        loop {
            let word = c.token()?;
            match word.to_ascii_lowercase().as_slice() {
                b"meta" => {
                    let (k, v) = (c.token()?, c.token()?);
                    metas.insert(k.to_vec(), v.to_vec());
                }
                b"ex" => ex = Some(float(c.token()?)?),
                b"nearby" | b"within" | b"intersects" => {
                    // The fence starts at its command word.
                    c.back();
                    break;
                }
                _ => return Err(Error::invalid_arg(word)),
            }
        }
        let words: Vec<&[u8]> = c.rest().collect();
        let fence = crate::fence::parse(&words)?;
        Ok(SetDef {
            name,
            endpoints,
            metas: metas.into_iter().collect(),
            ex,
            command: words.iter().map(|w| w.to_vec()).collect(),
            fence,
        })
    }

    fn apply(self, cx: &mut WriteCx, out: &mut Reply) -> Result<()> {
        // Built first: a `GET` area is looked up now, and a missing
        // object fails the command before anything changes (Tile38).
        let fence = {
            let read = ReadCx {
                db: &*cx.db,
                engine: cx.engine,
                deadline: None,
            };
            let target = if CHAN { Target::Channel } else { Target::Hook };
            self.fence
                .build(&read, target, &self.name, self.metas.clone())?
        };
        let now = cx.now();
        let hook = Hook {
            channel: CHAN,
            key: self.fence.key().to_vec(),
            endpoints: self.endpoints,
            metas: self.metas,
            expires: self.ex.map(|s| now.saturating_add(go_duration(s))),
            command: self.command,
        };
        let mut hooks = lock_for_write(cx.engine, cx.db);
        if let Some(prev) = hooks.by_name.get(&self.name) {
            if prev.channel != CHAN {
                return Err(Error::Message(
                    "hooks and channels cannot share the same name".into(),
                ));
            }
            if *prev == hook {
                out.int_or_ok(0);
                return Ok(());
            }
        }
        let endpoints = if CHAN {
            Vec::new()
        } else {
            hook.endpoints.clone()
        };
        cx.engine
            .fences
            .define(cx.engine, &self.name, fence, endpoints);
        hooks.by_name.insert(self.name, hook);
        drop(hooks);
        out.int_or_ok(1);
        cx.changed(b"", What::Definitions);
        Ok(())
    }
}

/// The single word after the command (`DELHOOK name`, `HOOKS pattern`, …).
fn one_word(args: &Args) -> Result<Vec<u8>> {
    let mut c = Cursor::new(args);
    c.exactly(1)?;
    Ok(c.token()?.to_vec())
}

/// `DELHOOK name` / `DELCHAN name`: 1 if a definition of that kind went.
pub struct DelDef<const CHAN: bool> {
    name: Vec<u8>,
}

pub type DelHook = DelDef<false>;
pub type DelChan = DelDef<true>;

impl<const CHAN: bool> WriteCommand<'_> for DelDef<CHAN> {
    fn parse(args: &Args) -> Result<Self> {
        Ok(DelDef {
            name: one_word(args)?,
        })
    }

    fn apply(self, cx: &mut WriteCx, out: &mut Reply) -> Result<()> {
        let mut hooks = lock_for_write(cx.engine, cx.db);
        let found = hooks
            .by_name
            .get(&self.name)
            .is_some_and(|h| h.channel == CHAN);
        if found {
            hooks.by_name.remove(&self.name);
            cx.engine.fences.undefine(&self.name);
        }
        drop(hooks);
        out.int_or_ok(found as i64);
        if found {
            cx.changed(b"", What::Definitions);
        }
        Ok(())
    }
}

/// `PDELHOOK pattern` / `PDELCHAN pattern`: how many of that kind went.
pub struct PDelDef<const CHAN: bool> {
    pattern: Vec<u8>,
}

pub type PDelHook = PDelDef<false>;
pub type PDelChan = PDelDef<true>;

impl<const CHAN: bool> WriteCommand<'_> for PDelDef<CHAN> {
    fn parse(args: &Args) -> Result<Self> {
        Ok(PDelDef {
            pattern: one_word(args)?,
        })
    }

    fn apply(self, cx: &mut WriteCx, out: &mut Reply) -> Result<()> {
        let mut hooks = lock_for_write(cx.engine, cx.db);
        let names: Vec<Vec<u8>> = hooks
            // Expired ones are already gone (or, while loading, still count).
            .matching(&self.pattern, CHAN, i64::MIN)
            .map(|(name, _)| name.to_vec())
            .collect();
        for name in &names {
            hooks.by_name.remove(name);
            cx.engine.fences.undefine(name);
        }
        drop(hooks);
        out.int_or_ok(names.len() as i64);
        if !names.is_empty() {
            cx.changed(b"", What::Definitions);
        }
        Ok(())
    }
}

/// `HOOKS pattern` / `CHANS pattern`: the matching definitions in name
/// order. RESP: `[name, key, [endpoint…], [command word…], [meta name,
/// value…]]` each; JSON adds `ttl` (-1 without EX) and leaves `endpoints`
/// out for channels.
pub struct ListDefs<const CHAN: bool> {
    pattern: Vec<u8>,
}

pub type ListHooks = ListDefs<false>;
pub type ListChans = ListDefs<true>;

impl<const CHAN: bool> ReadCommand<'_> for ListDefs<CHAN> {
    fn parse(args: &Args) -> Result<Self> {
        Ok(ListDefs {
            pattern: one_word(args)?,
        })
    }

    fn apply(&self, cx: &ReadCx, out: &mut Reply) -> Result<()> {
        let now = cx.now();
        let hooks = cx.engine.hooks.lock();
        let found: Vec<(&[u8], &Hook)> = hooks.matching(&self.pattern, CHAN, now).collect();
        if out.json {
            out.key(if CHAN { "chans" } else { "hooks" });
            out.push(b"[");
            for (n, (name, h)) in found.iter().enumerate() {
                if n > 0 {
                    out.push(b",");
                }
                json::write_json(out, name, h, now);
            }
            out.push(b"]");
            return Ok(());
        }
        out.resp_array(found.len());
        for (name, h) in found {
            out.resp_array(5);
            out.resp_bulk(name);
            out.resp_bulk(&h.key);
            out.resp_array(h.endpoints.len());
            for e in &h.endpoints {
                out.resp_bulk(e);
            }
            out.resp_array(h.command.len());
            for w in &h.command {
                out.resp_bulk(w);
            }
            out.resp_array(h.metas.len() * 2);
            for (k, v) in &h.metas {
                out.resp_bulk(k);
                out.resp_bulk(v);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::go_duration;

    #[test]
    fn ex_conversion_matches_go_on_amd64() {
        assert_eq!(go_duration(1.5), 1_500_000_000);
        assert_eq!(go_duration(-0.25), -250_000_000);
        assert_eq!(go_duration(f64::NAN), i64::MIN);
        assert_eq!(go_duration(f64::INFINITY), i64::MIN);
        assert_eq!(go_duration(1e10), i64::MIN);
        assert_eq!(go_duration(9e9), 9_000_000_000_000_000_000);
    }
}
