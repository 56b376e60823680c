//! A TCP relay for replication tests: followers dial the relay, the relay
//! dials the current leader. Tests retarget it (a leader restarted on a new
//! port), cut every link, refuse new ones, or throttle the leader→follower
//! direction to make catch-up observable.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
struct Shared {
    target: AtomicU16,
    refuse: AtomicBool,
    /// Bytes per second from leader to follower (0 = unlimited).
    throttle: AtomicU64,
    links: Mutex<Vec<TcpStream>>,
    accepted: AtomicU64,
}

/// A running relay on `127.0.0.1:port`.
pub struct Relay {
    pub port: u16,
    shared: Arc<Shared>,
}

impl Relay {
    /// Starts relaying to `127.0.0.1:target`.
    pub fn start(target: u16) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind relay");
        let port = listener.local_addr().expect("relay addr").port();
        let shared = Arc::new(Shared::default());
        shared.target.store(target, Ordering::SeqCst);
        let s = shared.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(client) = conn else { continue };
                s.accepted.fetch_add(1, Ordering::SeqCst);
                if s.refuse.load(Ordering::SeqCst) {
                    continue;
                }
                let target = s.target.load(Ordering::SeqCst);
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                {
                    let mut links = s.links.lock().unwrap();
                    links.push(client.try_clone().unwrap());
                    links.push(server.try_clone().unwrap());
                }
                pump(
                    client.try_clone().unwrap(),
                    server.try_clone().unwrap(),
                    None,
                );
                pump(server, client, Some(s.clone()));
            }
        });
        Relay { port, shared }
    }

    /// Points new connections at another leader port.
    pub fn retarget(&self, target: u16) {
        self.shared.target.store(target, Ordering::SeqCst);
    }

    /// Closes every open link (both sides see EOF).
    pub fn cut(&self) {
        for s in self.shared.links.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    /// Accept-and-close new connections (`true`) or relay them again.
    pub fn refuse(&self, on: bool) {
        self.shared.refuse.store(on, Ordering::SeqCst);
    }

    /// Limits leader→follower bytes per second on every link (0 = off).
    pub fn throttle(&self, bytes_per_sec: u64) {
        self.shared.throttle.store(bytes_per_sec, Ordering::SeqCst);
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> u64 {
        self.shared.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.refuse(true);
        self.cut();
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, throttled: Option<Arc<Shared>>) {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let limit = throttled
                .as_ref()
                .map_or(0, |s| s.throttle.load(Ordering::SeqCst));
            let want = if limit > 0 {
                (limit as usize / 20).clamp(1, buf.len())
            } else {
                buf.len()
            };
            let n = match from.read(&mut buf[..want]) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if to.write_all(&buf[..n]).is_err() {
                break;
            }
            if limit > 0 {
                std::thread::sleep(Duration::from_secs_f64(n as f64 / limit as f64));
            }
        }
        let _ = from.shutdown(Shutdown::Both);
        let _ = to.shutdown(Shutdown::Both);
    });
}
