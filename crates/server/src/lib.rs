//! The Tile38-compatible server runtime (the engine's only async user).
//!
//! The commands, the search engine, configuration and every error's wire
//! text are in `tile38_engine`; this crate gives them sockets, tasks and
//! threads:
//!
//! * [`startup`]: `tile38-server` flags, startup and shutdown.
//! * [`conn`] / [`http`]: connections, framing dispatch, reply framing.
//! * [`server`]: the engine plus runtime state; it is the engine's
//!   `Runtime` (FOLLOW, AOFSHRINK, offloading big commands).
//! * [`background`]: expiry sweep, AOF fsync, memory checks.
//! * [`elect`]: automatic failover (`--elect`): obeys the elector.
//! * [`hooks`]: webhook delivery (the engine's `HookSink`).
//! * [`metrics`]: the Prometheus endpoint (`--metrics-addr`).
//! * [`load`]: the AOF load at startup; [`shrink`]: the AOF rewrite;
//!   [`repl`]: replication I/O (leader streams, the follow loop).

pub mod background;
pub mod conn;
pub mod elect;
pub mod hooks;
mod http;
pub mod hugepages;
pub mod load;
pub mod metrics;
pub mod repl;
pub mod server;
pub mod shrink;
pub mod startup;
pub mod tls;

pub use startup::run_cli;
pub use tile38_engine::VERSION;
