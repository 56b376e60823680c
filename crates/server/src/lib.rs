//! The Tile38-compatible server (the only crate that uses tokio).
//!
//! * [`startup`]: `tile38-server` flags, startup and shutdown.
//! * [`conn`] / [`http`]: connections, framing dispatch, reply framing.
//! * [`cmd`]: the command table; one struct per command.
//! * [`server`]: shared state; [`config`]: CONFIG and the config file.
//! * [`background`]: expiry sweep, AOF fsync, memory checks.
//! * [`gate`]: what refuses a write before it runs (AOF errors,
//!   `maxmemory`); [`alloc`]: the heap counter it reads.
//! * [`metrics`]: the Prometheus endpoint (`--metrics-addr`).
//! * [`load`]: the AOF load at startup.

pub mod alloc;
pub mod background;
pub mod cmd;
pub mod config;
pub mod conn;
pub mod error;
pub mod gate;
mod http;
pub mod load;
pub mod metrics;
pub mod repl;
pub mod reply;
pub mod server;
pub mod shrink;
pub mod startup;

pub use startup::run_cli;

/// The Tile38 version whose protocol this server speaks (reported by
/// SERVER/INFO so clients that gate on it keep working).
pub const VERSION: &str = "1.37.0";
