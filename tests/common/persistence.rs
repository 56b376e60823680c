//! Shared by `persistence.rs` and `persistence_journal.rs`: where a data
//! directory keeps its AOF, and a graceful stop that must succeed.

use std::path::{Path, PathBuf};

use tile38::TestServer;

/// The AOF of the data directory `dir`.
pub fn aof(dir: &Path) -> PathBuf {
    dir.join("appendonly.aof")
}

/// Stops the server gracefully and checks it exits with status 0.
pub fn stop(srv: TestServer) {
    let status = srv.terminate();
    assert!(status.success(), "SIGTERM must exit 0, got {status:?}");
}
