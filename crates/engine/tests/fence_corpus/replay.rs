//! Runs one `fence.jsonl` case in process: its commands go through a
//! [`Session`] of an in-process [`Engine`]; every data change the engine
//! made becomes a [`Change`] for a [`Geofence`] that mirrors the case's
//! channels, hooks and live fences; the events are routed to the case's
//! listeners as the server would deliver them.
//!
//! Time is virtual for the `sleep` steps: objects (and channels with EX)
//! whose deadline falls before "now + slept so far" are expired then, in
//! deadline order, each object as a `del` change.

use std::collections::BTreeMap;

use serde_json::Value as Json;
use tile38_collection::{glob, Item};
use tile38_engine::{now_nanos, Engine, Reply, Session};
use tile38_geofence::{Change, Command, Event, FenceId, Geofence, Target};
use tile38_proto::Args;

use super::define;

/// Where a listener's messages come from.
pub enum Sink {
    /// SUBSCRIBE / PSUBSCRIBE: channel names and patterns.
    Subs {
        chans: Vec<String>,
        patterns: Vec<String>,
    },
    /// A live fence (none when its command failed).
    Live(Option<FenceId>),
    /// A webhook: the first endpoint of a hook, with placeholders.
    Hook(String),
}

pub struct Listener {
    pub name: String,
    pub sink: Sink,
    pub got: Vec<Json>,
}

struct Hook {
    id: FenceId,
    channel: bool,
    endpoint: String,
    /// Virtual expiry time (seconds since the case began).
    expires: Option<f64>,
}

pub struct Replay {
    engine: Engine,
    session: Session,
    geo: Geofence,
    hooks: BTreeMap<String, Hook>,
    pub listeners: Vec<Listener>,
    /// Seconds slept so far.
    clock: f64,
    events: Vec<Event>,
}

fn strs(v: &Json) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

impl Replay {
    pub fn new() -> Replay {
        let engine = Engine::in_process();
        let session = Session::local(&engine, 1);
        Replay {
            engine,
            session,
            geo: Geofence::new(0x7469_6c65_3338_0000),
            hooks: BTreeMap::new(),
            listeners: Vec::new(),
            clock: 0.0,
            events: Vec::new(),
        }
    }

    /// Opens a listener of the case (after the setup, as the replayer does).
    pub fn listen(&mut self, spec: &Json) {
        let name = spec["name"].as_str().unwrap_or("").to_string();
        let cmd = strs(&spec["cmd"]);
        let sink = match spec["kind"].as_str().unwrap_or("") {
            "subscribe" => Sink::Subs {
                chans: cmd[1..].to_vec(),
                patterns: Vec::new(),
            },
            "psubscribe" => Sink::Subs {
                chans: Vec::new(),
                patterns: cmd[1..].to_vec(),
            },
            "live" => {
                let words: Vec<&[u8]> = cmd.iter().map(|s| s.as_bytes()).collect();
                let fence = define::fence(&self.engine, Target::Live, b"", &words).ok();
                Sink::Live(fence.map(|f| self.geo.insert(f)))
            }
            "webhook-http" => {
                Sink::Hook(format!("{{hook_http}}{}", spec["path"].as_str().unwrap()))
            }
            _ => Sink::Hook(format!(
                "{{hook_redis}}/{}",
                spec["channel"].as_str().unwrap_or("")
            )),
        };
        self.listeners.push(Listener {
            name,
            sink,
            got: Vec::new(),
        });
    }

    /// Runs a command on the control connection; the RESP reply.
    fn exec(&mut self, words: &[String]) -> String {
        // Hook URLs must validate; which listener gets a hook's messages
        // is decided on the words with the placeholders.
        let words: Vec<String> = words
            .iter()
            .map(|w| {
                w.replace("{hook_http}", "http://127.0.0.1:9/c1")
                    .replace("{hook_redis}", "redis://127.0.0.1:9")
            })
            .collect();
        let mut args = Args::from_slices(&words);
        let mut out = Reply::new(false);
        let res = self.session.execute(&self.engine, &mut args, &mut out);
        self.session.lock.release();
        match res {
            Ok(()) => String::from_utf8_lossy(&out.buf).into_owned(),
            Err(e) => format!("-{}", e.message()),
        }
    }

    fn item(&self, key: &str, id: &str) -> Option<Item> {
        let db = self.engine.db.read();
        db.get(key.as_bytes())?.get(id.as_bytes()).cloned()
    }

    /// A step: a command on the control connection or on a listener, or
    /// a sleep.
    pub fn step(&mut self, step: &Json) {
        if let Some(secs) = step["sleep"].as_f64() {
            self.clock += secs;
            self.expire();
            return;
        }
        let cmd = strs(&step["cmd"]);
        match step["on"].as_str() {
            Some(on) => self.on_listener(on, &cmd),
            None => self.control(&cmd),
        }
    }

    /// Setup commands and control steps.
    pub fn control(&mut self, cmd: &[String]) {
        let verb = cmd[0].to_ascii_lowercase();
        let before = match verb.as_str() {
            "set" | "fset" | "expire" | "persist" | "del" if cmd.len() > 2 => {
                self.item(&cmd[1], &cmd[2])
            }
            _ => None,
        };
        let pdel_before = (verb == "pdel").then(|| self.snapshot(&cmd[1], &cmd[2]));
        let reply = self.exec(cmd);
        let changed = reply.starts_with('+') || (reply.starts_with(':') && reply != ":0\r\n");
        let (key, id) = (cmd.get(1).map_or("", |s| s), cmd.get(2).map_or("", |s| s));
        let command = match verb.as_str() {
            "set" | "jset" | "jdel" => Command::Set,
            "fset" => Command::Fset,
            "expire" => Command::Expire,
            "persist" => Command::Persist,
            "del" => Command::Del,
            "drop" => Command::Drop,
            "pdel" => return self.pdel(key, pdel_before.unwrap_or_default()),
            "flushdb" => {
                self.geo.flush();
                self.hooks.clear();
                return;
            }
            "setchan" | "sethook" if changed => return self.set_hook(cmd),
            "delchan" | "delhook" if changed => return self.drop_hooks(&cmd[1], verb == "delchan"),
            "pdelchan" | "pdelhook" if changed => {
                return self.drop_hooks(&cmd[1], verb == "pdelchan")
            }
            _ => return,
        };
        if !changed {
            return;
        }
        let after = self.item(key, id);
        let (old, new) = match command {
            Command::Del => (before.as_ref(), None),
            _ => (before.as_ref(), after.as_ref()),
        };
        let change = Change {
            command,
            key: key.as_bytes(),
            id: id.as_bytes(),
            old,
            new,
            time: now_nanos(),
        };
        self.apply(&change);
    }

    /// The objects of `key` whose ids match `pattern`, in id order.
    fn snapshot(&self, key: &str, pattern: &str) -> Vec<(String, Item)> {
        let db = self.engine.db.read();
        let Some(col) = db.get(key.as_bytes()) else {
            return Vec::new();
        };
        col.range(None, false)
            .filter(|(id, _)| glob::matches(pattern.as_bytes(), id.as_bytes()))
            .map(|(id, item)| {
                (
                    String::from_utf8_lossy(id.as_bytes()).into_owned(),
                    item.clone(),
                )
            })
            .collect()
    }

    /// PDEL: one del change per deleted object, ascending, one time.
    fn pdel(&mut self, key: &str, before: Vec<(String, Item)>) {
        let time = now_nanos();
        for (id, item) in &before {
            if self.item(key, id).is_none() {
                let change = Change {
                    command: Command::Del,
                    key: key.as_bytes(),
                    id: id.as_bytes(),
                    old: Some(item),
                    new: None,
                    time,
                };
                self.apply(&change);
            }
        }
    }

    /// SETCHAN/SETHOOK that answered 1: new or replacing.
    fn set_hook(&mut self, cmd: &[String]) {
        let channel = cmd[0].eq_ignore_ascii_case("setchan");
        let name = cmd[1].clone();
        let mut i = if channel { 2 } else { 3 };
        let endpoint = if channel {
            format!("local://{name}")
        } else {
            cmd[2].split(',').next().unwrap_or("").trim().to_string()
        };
        let mut metas = Vec::new();
        let mut expires = None;
        while i + 1 < cmd.len() {
            match cmd[i].to_ascii_lowercase().as_str() {
                "meta" if i + 2 < cmd.len() => {
                    metas.push((
                        cmd[i + 1].clone().into_bytes(),
                        cmd[i + 2].clone().into_bytes(),
                    ));
                    i += 3;
                }
                "ex" => {
                    expires = cmd[i + 1].parse::<f64>().ok().map(|s| self.clock + s);
                    i += 2;
                }
                _ => break,
            }
        }
        if let Some(old) = self.hooks.remove(&name) {
            self.geo.remove(old.id);
        }
        let words: Vec<&[u8]> = cmd[i..].iter().map(|s| s.as_bytes()).collect();
        let target = if channel {
            Target::Channel
        } else {
            Target::Hook
        };
        let fence = define::fence_with_metas(&self.engine, target, name.as_bytes(), &words, metas)
            .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        let id = self.geo.insert(fence);
        self.hooks.insert(
            name,
            Hook {
                id,
                channel,
                endpoint,
                expires,
            },
        );
    }

    /// DELCHAN/DELHOOK name, PDELCHAN/PDELHOOK pattern.
    fn drop_hooks(&mut self, pattern: &str, channel: bool) {
        let gone: Vec<String> = self
            .hooks
            .iter()
            .filter(|(n, h)| {
                h.channel == channel && glob::matches(pattern.as_bytes(), n.as_bytes())
            })
            .map(|(n, _)| n.clone())
            .collect();
        for name in gone {
            if let Some(h) = self.hooks.remove(&name) {
                self.geo.remove(h.id);
            }
        }
    }

    /// The expiry sweeps of the time slept: channels with EX, then objects.
    fn expire(&mut self) {
        let clock = self.clock;
        let gone: Vec<String> = self
            .hooks
            .iter()
            .filter(|(_, h)| h.expires.is_some_and(|at| at <= clock))
            .map(|(n, _)| n.clone())
            .collect();
        for name in gone {
            if let Some(h) = self.hooks.remove(&name) {
                self.geo.remove(h.id);
            }
        }
        let now = now_nanos() + (self.clock * 1e9) as i64;
        let mut expired: Vec<(String, String, Item)> = Vec::new();
        {
            let mut db = self.engine.db.write();
            let keys: Vec<Vec<u8>> = db.iter().map(|(k, _)| k.to_vec()).collect();
            for key in keys {
                let col = db.get_mut(&key).expect("listed");
                for id in col.expired(now) {
                    if let Some(item) = col.delete(&id) {
                        let (k, i) = (&key, id.as_bytes());
                        expired.push((lossy(k), lossy(i), item));
                    }
                }
                db.drop_if_empty(&key);
            }
        }
        for (key, id, item) in &expired {
            let change = Change {
                command: Command::Del,
                key: key.as_bytes(),
                id: id.as_bytes(),
                old: Some(item),
                new: None,
                time: now_nanos(),
            };
            self.apply(&change);
        }
    }

    /// A command sent on a listener's connection.
    fn on_listener(&mut self, on: &str, cmd: &[String]) {
        let Some(l) = self.listeners.iter_mut().find(|l| l.name == on) else {
            return;
        };
        let verb = cmd[0].to_ascii_lowercase();
        match &mut l.sink {
            Sink::Subs { chans, patterns } => {
                let args = cmd[1..].iter().cloned();
                match verb.as_str() {
                    "subscribe" => chans.extend(args),
                    "psubscribe" => patterns.extend(args),
                    "unsubscribe" => chans.retain(|c| !cmd[1..].contains(c)),
                    "punsubscribe" => patterns.retain(|c| !cmd[1..].contains(c)),
                    "quit" => {
                        chans.clear();
                        patterns.clear();
                    }
                    _ => {}
                }
            }
            // Anything sent on a live connection ends it.
            Sink::Live(id) => {
                if let Some(id) = id.take() {
                    self.geo.remove(id);
                }
            }
            Sink::Hook(_) => {}
        }
    }

    /// Evaluates a change and delivers its events.
    fn apply(&mut self, change: &Change) {
        self.events.clear();
        let db = self.engine.db.read();
        let listeners = &self.listeners;
        let listened = |_: FenceId, f: &tile38_geofence::Fence| match f.target() {
            Target::Channel => listeners.iter().any(|l| receives(l, f.name()) > 0),
            _ => true,
        };
        self.geo.evaluate(change, &db, listened, &mut self.events);
        drop(db);
        for e in &self.events {
            let fence = self.geo.get(e.fence).expect("evaluated fence");
            let json: Json = serde_json::from_str(&e.json)
                .unwrap_or_else(|err| panic!("invalid event JSON {}: {err}", e.json));
            for l in &mut self.listeners {
                let n = match (&l.sink, fence.target()) {
                    (Sink::Subs { .. }, Target::Channel) => receives(l, fence.name()),
                    (Sink::Live(Some(id)), Target::Live) => usize::from(*id == e.fence),
                    (Sink::Hook(endpoint), Target::Hook) => {
                        let name = String::from_utf8_lossy(fence.name());
                        let h = self.hooks.get(name.as_ref());
                        usize::from(h.is_some_and(|h| &h.endpoint == endpoint))
                    }
                    _ => 0,
                };
                for _ in 0..n {
                    l.got.push(json.clone());
                }
            }
        }
    }
}

/// How many copies of a channel's message a subscriber gets: one for the
/// channel, one per matching pattern.
fn receives(l: &Listener, channel: &[u8]) -> usize {
    let Sink::Subs { chans, patterns } = &l.sink else {
        return 0;
    };
    let exact = chans.iter().any(|c| c.as_bytes() == channel);
    let pats = patterns
        .iter()
        .filter(|p| glob::matches(p.as_bytes(), channel))
        .count();
    usize::from(exact) + pats
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
