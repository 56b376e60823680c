//! The registry of connected clients (`CLIENT LIST|KILL|GETNAME|SETNAME`,
//! INFO's `connected_clients`). A connection registers itself and is told
//! of a `CLIENT KILL` through the callback it installs
//! ([`ClientInfo::on_kill`]; a connection turned replication stream
//! installs a second one), so the registry needs no async runtime.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;

use crate::engine::Engine;

type Wake = Box<dyn Fn() + Send + Sync>;

/// A connected client.
pub struct ClientInfo {
    pub id: u64,
    pub addr: SocketAddr,
    pub name: Mutex<Vec<u8>>,
    pub created: Instant,
    /// Milliseconds since server start of the last command.
    pub last_active_ms: AtomicU64,
    pub killed: AtomicBool,
    wakers: Mutex<Vec<Wake>>,
}

impl ClientInfo {
    /// Installs what wakes the connection when it is killed; called at
    /// once if it was killed already.
    pub fn on_kill(&self, wake: impl Fn() + Send + Sync + 'static) {
        let mut wakers = self.wakers.lock();
        if self.killed.load(Ordering::Acquire) {
            wake();
        }
        wakers.push(Box::new(wake));
    }

    /// `CLIENT KILL`, shutdown: marks the client killed and wakes its
    /// connection.
    pub fn kill(&self) {
        let wakers = self.wakers.lock();
        self.killed.store(true, Ordering::Release);
        for wake in wakers.iter() {
            wake();
        }
    }
}

impl Engine {
    pub fn register_client(&self, addr: SocketAddr) -> Arc<ClientInfo> {
        let id = self.next_client_id.fetch_add(1, Ordering::Relaxed);
        let info = Arc::new(ClientInfo {
            id,
            addr,
            name: Mutex::new(Vec::new()),
            created: Instant::now(),
            last_active_ms: AtomicU64::new(self.started.elapsed().as_millis() as u64),
            killed: AtomicBool::new(false),
            wakers: Mutex::new(Vec::new()),
        });
        self.clients.lock().insert(id, info.clone());
        self.stats.connected_clients.fetch_add(1, Ordering::Relaxed);
        self.stats.total_connections.fetch_add(1, Ordering::Relaxed);
        info
    }

    pub fn unregister_client(&self, id: u64) {
        self.repl.forget(id);
        if self.clients.lock().remove(&id).is_some() {
            self.stats.connected_clients.fetch_sub(1, Ordering::Relaxed);
        }
    }
}
