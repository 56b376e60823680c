//! The server's TLS configuration, rebuilt when its files change.
//!
//! Kubernetes rotates a mounted Secret by swapping a symlink to a new
//! directory, cert-manager renews certificates well before they expire,
//! and an operator may `CONFIG SET tls-cert-file` to a new path: each must
//! take effect without a restart. [`Reloading::get`] is called once per
//! accepted TLS connection; at most once a second it compares the files'
//! identity (inode, size, modification time, following symlinks) and the
//! settings with those of the configuration in use, and rebuilds on a
//! difference. Connections already open keep the configuration they
//! started with. A rebuild that fails (a certificate written before its
//! key, a typo in a new path) keeps the previous configuration and is
//! logged once per distinct state of the files.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use rustls::ServerConfig;

use crate::{server_config, ServerFiles};

/// How often the files are looked at, at most.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);

/// A file's identity: a replaced or rewritten file differs in one of these.
type Stamp = Option<(u64, u64, SystemTime)>;

fn stamp(path: &Path) -> Stamp {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some((m.ino(), m.len(), m.modified().ok()?))
}

fn stamps(files: &ServerFiles) -> Vec<Stamp> {
    files.paths().map(stamp).collect()
}

struct State {
    files: ServerFiles,
    stamps: Vec<Stamp>,
    config: Arc<ServerConfig>,
    checked: Instant,
    /// The files' state whose rebuild failed (logged once).
    failed: Option<(ServerFiles, Vec<Stamp>)>,
}

/// The configuration in use, and what it was built from.
pub struct Reloading(Mutex<State>);

impl Reloading {
    /// Builds the first configuration: a failure here is a startup error.
    pub fn new(files: ServerFiles) -> Result<Reloading, String> {
        let stamps = stamps(&files);
        let config = server_config(&files)?;
        Ok(Reloading(Mutex::new(State {
            files,
            stamps,
            config,
            checked: Instant::now(),
            failed: None,
        })))
    }

    /// The configuration for a new connection, given the settings now in
    /// force.
    pub fn get(&self, files: &ServerFiles) -> Arc<ServerConfig> {
        let mut st = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if st.files == *files && st.checked.elapsed() < CHECK_EVERY {
            return st.config.clone();
        }
        st.checked = Instant::now();
        let now = stamps(files);
        if st.files == *files && st.stamps == now {
            return st.config.clone();
        }
        let state = Some((files.clone(), now.clone()));
        if st.failed == state {
            return st.config.clone();
        }
        match server_config(files) {
            Ok(config) => {
                tracing::info!("tls: certificate reloaded from {}", files.cert.display());
                st.files = files.clone();
                st.stamps = now;
                st.config = config;
                st.failed = None;
            }
            Err(e) => {
                tracing::warn!("tls: reload failed, serving the previous certificate: {e}");
                st.failed = state;
            }
        }
        st.config.clone()
    }
}
