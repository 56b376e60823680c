//! [`Webhooks`], the handle the server holds: the registry of hooks (queue
//! plus delivery task), the queues of deleted hooks kept until their
//! events expire (Tile38 keeps a deleted hook's messages for their TTL and
//! a hook re-created under the same name picks them up), and the writer
//! thread.
//!
//! Lock order: `registry`, then a queue's state. The write path's
//! [`Webhooks::enqueue`] takes the registry's read lock and the queue's
//! mutex, both held for a lookup and a memcpy.

use std::collections::{HashMap, HashSet};
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use parking_lot::RwLock;
use tokio::runtime::Handle;
use tokio::task::JoinHandle;

use crate::endpoint::{self, Endpoint, InvalidEndpoint};
use crate::queue::files::Files;
use crate::queue::{log, HookQueue, Limits};
use crate::stats::{HookStats, Stats};
use crate::worker::{self, Ctx};
use crate::{Config, LocalPublisher};

struct Hook {
    queue: Arc<HookQueue>,
    endpoints: Vec<Vec<u8>>,
    task: JoinHandle<()>,
}

#[derive(Default)]
pub(crate) struct Registry {
    hooks: HashMap<Vec<u8>, Hook>,
    /// Deleted (or not yet re-created after a restart) hooks' queues.
    retired: HashMap<Vec<u8>, Arc<HookQueue>>,
    /// Queue directory names in use.
    dirs: HashSet<String>,
}

/// What the writer thread shares with the handle.
pub(crate) struct Shared {
    pub config: Config,
    pub registry: RwLock<Registry>,
    pub stop: AtomicBool,
    pub writer: OnceLock<std::thread::Thread>,
}

impl Shared {
    /// Every queue, live and retired.
    pub fn queues(&self) -> Vec<Arc<HookQueue>> {
        let reg = self.registry.read();
        let live = reg.hooks.values().map(|h| h.queue.clone());
        live.chain(reg.retired.values().cloned()).collect()
    }

    /// Removes retired queues with nothing left (their events delivered
    /// or expired) and their directories.
    pub fn drop_spent(&self) {
        let mut reg = self.registry.write();
        let spent: Vec<Vec<u8>> = reg
            .retired
            .iter()
            .filter(|(_, q)| q.is_spent())
            .map(|(n, _)| n.clone())
            .collect();
        for name in spent {
            let q = reg.retired.remove(&name).unwrap();
            let mut files = q.files.lock();
            if let Some(d) = files.dir.file_name() {
                reg.dirs.remove(&*d.to_string_lossy());
            }
            if let Err(e) = files.remove() {
                tracing::warn!(dir = %files.dir.display(), error = %e, "webhook queue: cannot remove");
            }
        }
    }

    fn wake_writer(&self) {
        if let Some(t) = self.writer.get() {
            t.unpark();
        }
    }

    fn limits(&self) -> Limits {
        Limits {
            max_events: self.config.max_events,
            max_bytes: self.config.max_bytes,
            ttl_ms: self.config.ttl.as_millis() as u64,
        }
    }
}

/// Webhook delivery: create with [`Webhooks::open`] inside a tokio
/// runtime; dropping it stops the workers and flushes the queues.
pub struct Webhooks {
    shared: Arc<Shared>,
    ctx: Arc<Ctx>,
    runtime: Handle,
    writer: Option<std::thread::JoinHandle<()>>,
}

/// FNV-1a: a stable directory name for any hook name.
fn dir_hash(name: &[u8]) -> u64 {
    name.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

impl Webhooks {
    /// Opens the queues under `config.dir` (every hook's leftovers come
    /// back as retired queues until [`Webhooks::set_hook`] names them) and
    /// starts the writer thread. Must run inside a tokio runtime: the
    /// delivery tasks are spawned on it.
    pub fn open(config: Config, local: Arc<dyn LocalPublisher>) -> io::Result<Webhooks> {
        std::fs::create_dir_all(&config.dir)?;
        let ctx = Arc::new(Ctx::new(&config, local)?);
        let shared = Arc::new(Shared {
            config,
            registry: RwLock::new(Registry::default()),
            stop: AtomicBool::new(false),
            writer: OnceLock::new(),
        });
        load(&shared)?;
        let writer = crate::writer::spawn(shared.clone())?;
        let _ = shared.writer.set(writer.thread().clone());
        Ok(Webhooks {
            shared,
            ctx,
            runtime: Handle::current(),
            writer: Some(writer),
        })
    }

    /// Creates or replaces hook `name` with its endpoints (SETHOOK). The
    /// queue survives a replacement; the delivery task restarts only if
    /// the endpoints changed. Nothing changes if an endpoint is invalid.
    pub fn set_hook(
        &self,
        name: &[u8],
        endpoints: &[impl AsRef<[u8]>],
    ) -> Result<(), InvalidEndpoint> {
        let urls: Vec<Vec<u8>> = endpoints.iter().map(|e| e.as_ref().to_vec()).collect();
        let parsed: Vec<(Vec<u8>, Endpoint)> = urls
            .iter()
            .map(|u| endpoint::parse(u).map(|e| (u.clone(), e)))
            .collect::<Result<_, _>>()?;
        let mut reg = self.shared.registry.write();
        let queue = match reg.hooks.remove(name) {
            Some(h) if h.endpoints == urls => {
                reg.hooks.insert(name.to_vec(), h);
                return Ok(());
            }
            Some(h) => {
                h.task.abort();
                h.queue
            }
            None => match reg.retired.remove(name) {
                Some(q) => q,
                None => self.new_queue(&mut reg, name),
            },
        };
        let task = self
            .runtime
            .spawn(worker::run(queue.clone(), parsed, self.ctx.clone()));
        reg.hooks.insert(
            name.to_vec(),
            Hook {
                queue,
                endpoints: urls,
                task,
            },
        );
        Ok(())
    }

    fn new_queue(&self, reg: &mut Registry, name: &[u8]) -> Arc<HookQueue> {
        let base = format!("{:016x}", dir_hash(name));
        let mut dir = base.clone();
        let mut n = 0;
        while reg.dirs.contains(&dir) {
            n += 1;
            dir = format!("{base}-{n}");
        }
        reg.dirs.insert(dir.clone());
        let cfg = &self.shared.config;
        let files = Files::new(
            cfg.dir.join(dir),
            name.to_vec(),
            Vec::new(),
            0,
            cfg.segment_bytes,
        );
        Arc::new(HookQueue::new(
            name.to_vec(),
            self.shared.limits(),
            files,
            Vec::new(),
            0,
            0,
        ))
    }

    /// Deletes hook `name` (DELHOOK, PDELHOOK, expiry): its task stops; its
    /// queued events stay until they expire. Whether it existed.
    pub fn del_hook(&self, name: &[u8]) -> bool {
        let mut reg = self.shared.registry.write();
        let Some(h) = reg.hooks.remove(name) else {
            return false;
        };
        h.task.abort();
        reg.retired.insert(name.to_vec(), h.queue);
        true
    }

    /// Queues `message` for hook `name`; never blocks on delivery. Whether
    /// the hook exists (a message for no hook is dropped).
    pub fn enqueue(&self, name: &[u8], message: &[u8]) -> bool {
        let reg = self.shared.registry.read();
        let Some(h) = reg.hooks.get(name) else {
            return false;
        };
        if h.queue.push(message) {
            self.shared.wake_writer();
        }
        true
    }

    /// One hook's stats (a deleted hook has none).
    pub fn hook_stats(&self, name: &[u8]) -> Option<HookStats> {
        let reg = self.shared.registry.read();
        reg.hooks.get(name).map(|h| h.queue.stats())
    }

    /// Every live hook's stats, by name, and the total pending.
    pub fn stats(&self) -> Stats {
        let reg = self.shared.registry.read();
        let mut hooks: Vec<HookStats> = reg.hooks.values().map(|h| h.queue.stats()).collect();
        hooks.sort_by(|a, b| a.name.cmp(&b.name));
        let retired: u64 = reg.retired.values().map(|q| q.depth()).sum();
        let pending_events = hooks.iter().map(|h| h.queue_depth).sum::<u64>() + retired;
        Stats {
            hooks,
            pending_events,
        }
    }

    /// Events waiting in all queues (SERVER's `pending_events`).
    pub fn pending_events(&self) -> u64 {
        let reg = self.shared.registry.read();
        let live = reg.hooks.values().map(|h| h.queue.depth());
        live.chain(reg.retired.values().map(|q| q.depth())).sum()
    }

    /// Stops every delivery task, writes and fsyncs the queues, and stops
    /// the writer thread. Dropping the handle does the same.
    pub fn shutdown(&mut self) {
        for h in self.shared.registry.read().hooks.values() {
            h.task.abort();
        }
        self.shared.stop.store(true, Ordering::Release);
        if let Some(w) = self.writer.take() {
            w.thread().unpark();
            let _ = w.join();
        }
    }
}

impl Drop for Webhooks {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Loads every queue directory under `config.dir` as a retired queue.
fn load(shared: &Shared) -> io::Result<()> {
    let cfg = &shared.config;
    let mut reg = shared.registry.write();
    for entry in std::fs::read_dir(&cfg.dir)? {
        let path = entry?.path();
        let Ok(name) = std::fs::read(path.join("name")) else {
            continue;
        };
        let rec = log::recover(&path)?;
        let files = Files::new(
            path.clone(),
            name.clone(),
            rec.segments,
            rec.cursor,
            cfg.segment_bytes,
        );
        let q = HookQueue::new(
            name.clone(),
            shared.limits(),
            files,
            rec.events,
            rec.last_seq,
            rec.cursor,
        );
        let dir = path.file_name().unwrap().to_string_lossy().into_owned();
        reg.dirs.insert(dir);
        reg.retired.insert(name, Arc::new(q));
    }
    Ok(())
}
