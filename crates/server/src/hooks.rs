//! Webhook delivery wired into the server: [`HookDelivery`] owns the
//! `tile38_webhook::Webhooks` queues (under `<data dir>/webhooks`) and is
//! the engine's [`HookSink`]. It keeps the delivery side's hook
//! definitions in step with the engine's: a hook is (re)defined there on
//! SETHOOK (a replacement's queue goes to its new endpoints, as Tile38's
//! does), checked again on each event, and at startup for the hooks the
//! AOF defined (so queued leftovers are delivered); it is deleted on DELHOOK,
//! PDELHOOK, EX expiry and FLUSHDB (Tile38 stops a deleted hook's delivery;
//! its queued events stay until they expire). `local://channel` endpoints
//! are published to this server's own subscribers, as Tile38 does.
//!
//! `https://` endpoints trust the bundled Mozilla roots plus, when the
//! `SSL_CERT_FILE` environment variable names a PEM file, its
//! certificates (Tile38 honours the same variable through Go's
//! `crypto/x509`, where the file replaces the system bundle). A file that
//! cannot be read or parsed is logged and left out; the server still
//! starts, as Tile38 does.
//!
//! [`HookSink`] calls come under the database write lock: they only check
//! a map, queue and return (no I/O, no waiting on delivery).

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use parking_lot::{Mutex, RwLock};
use tile38_engine::fence::HookSink;
use tile38_webhook::{Config, LocalPublisher, Stats, Webhooks};

use crate::server::Server;

/// The server's webhook delivery (see the module docs).
pub struct HookDelivery {
    /// `None` once shut down.
    webhooks: RwLock<Option<Webhooks>>,
    /// The endpoints the delivery side has for each hook.
    known: Mutex<HashMap<Vec<u8>, Vec<Vec<u8>>>>,
}

impl HookDelivery {
    /// Opens the queues under `<dir>/webhooks` (inside the tokio runtime);
    /// `local://` deliveries go to `server`'s subscribers.
    pub fn open(server: Weak<Server>, dir: &std::path::Path) -> std::io::Result<HookDelivery> {
        let local: Arc<dyn LocalPublisher> = Arc::new(move |channel: &[u8], message: &[u8]| {
            if let Some(s) = server.upgrade() {
                s.publish(channel, message);
            }
        });
        let mut config = Config::new(dir.join("webhooks"));
        config.ca_file = std::env::var_os("SSL_CERT_FILE")
            .filter(|f| !f.is_empty())
            .map(Into::into);
        let webhooks = match Webhooks::open(config.clone(), local.clone()) {
            Err(e) if config.ca_file.is_some() => {
                let file = config.ca_file.take().unwrap_or_default();
                tracing::warn!("SSL_CERT_FILE {}: {e}; not trusted", file.display());
                Webhooks::open(config, local)?
            }
            opened => opened?,
        };
        Ok(HookDelivery {
            webhooks: RwLock::new(Some(webhooks)),
            known: Mutex::new(HashMap::new()),
        })
    }

    /// Defines `name` on the delivery side unless it already has these
    /// endpoints; whether the hook can take events.
    fn ensure(&self, webhooks: &Webhooks, name: &[u8], endpoints: &[Vec<u8>]) -> bool {
        let mut known = self.known.lock();
        if known.get(name).is_some_and(|e| e == endpoints) {
            return true;
        }
        match webhooks.set_hook(name, endpoints) {
            Ok(()) => {
                known.insert(name.to_vec(), endpoints.to_vec());
                true
            }
            Err(e) => {
                let name = String::from_utf8_lossy(name);
                tracing::warn!("hook {name}: not delivered: {e:?}");
                false
            }
        }
    }

    /// Defines every hook the engine has (startup, after the AOF load).
    pub fn sync(&self, hooks: Vec<(Vec<u8>, Vec<Vec<u8>>)>) {
        if let Some(w) = self.webhooks.read().as_ref() {
            for (name, endpoints) in hooks {
                self.ensure(w, &name, &endpoints);
            }
        }
    }

    /// Events waiting in every queue.
    pub fn pending_events(&self) -> u64 {
        self.webhooks
            .read()
            .as_ref()
            .map_or(0, Webhooks::pending_events)
    }

    /// Every hook's delivery stats (none once shut down).
    pub fn stats(&self) -> Stats {
        self.webhooks
            .read()
            .as_ref()
            .map(Webhooks::stats)
            .unwrap_or_default()
    }

    /// Stops delivery and fsyncs the queues (shutdown); later events are
    /// dropped.
    pub fn shutdown(&self) {
        if let Some(mut w) = self.webhooks.write().take() {
            w.shutdown();
        }
    }
}

impl HookSink for HookDelivery {
    fn deliver(&self, name: &[u8], endpoints: &[Vec<u8>], json: &str) {
        if let Some(w) = self.webhooks.read().as_ref() {
            if self.ensure(w, name, endpoints) {
                w.enqueue(name, json.as_bytes());
            }
        }
    }

    fn defined(&self, name: &[u8], endpoints: &[Vec<u8>]) {
        if let Some(w) = self.webhooks.read().as_ref() {
            self.ensure(w, name, endpoints);
        }
    }

    fn removed(&self, name: &[u8]) {
        if let Some(w) = self.webhooks.read().as_ref() {
            self.known.lock().remove(name);
            w.del_hook(name);
        }
    }
}

/// Opens `server`'s webhook delivery, installs it as the engine's
/// [`HookSink`] and defines the hooks the engine already has.
pub fn start(server: &Arc<Server>) -> std::io::Result<()> {
    let delivery = Arc::new(HookDelivery::open(
        Arc::downgrade(server),
        &server.opts.dir,
    )?);
    let _ = server.webhooks.set(delivery.clone());
    server.fences.set_hook_sink(delivery.clone());
    delivery.sync(server.fences.hooks());
    Ok(())
}
