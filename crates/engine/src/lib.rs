//! Tile38's commands, runnable without a socket or an async runtime.
//!
//! * [`engine`]: the shared state ([`Engine`]: database lock, config, AOF,
//!   hooks, counters, replication state) and the journal seam
//!   ([`Engine::journal`]); [`journal`]: what a write did ([`journal::Change`])
//!   and who subscribes to it ([`journal::ChangeSink`]).
//! * [`ahead`]: a batch's updates looked up before the first is applied.
//! * [`session`]: one client's state and the one path that runs a command
//!   (gates, parse with no lock, apply under the lock, journal).
//! * [`cmd`]: the command table; one struct per command.
//! * [`search`]: areas, search options, filters and result writers.
//! * [`error`] / [`reply`]: every error's Tile38 wire text; reply building.
//! * [`config`]: CONFIG properties and the config file.
//! * [`refusal`]: what refuses a write before it runs (AOF errors,
//!   `maxmemory`); [`alloc`]: the heap counter it reads.
//! * [`clients`]: the client registry; [`output_limit`]:
//!   `client-output-buffer-limit`.
//! * [`pubsub`]: the subscriber registry, PUBLISH delivery, subscription
//!   mode and the per-connection outbox.
//! * [`elect`]: the elected role (`--elect`) as the gates and ROLE/INFO see it.
//! * [`runtime`]: what commands ask of the runtime around the engine.

pub mod ahead;
pub mod alloc;
pub mod clients;
pub mod cmd;
pub mod config;
pub mod cursor;
pub mod elect;
pub mod engine;
pub mod error;
pub mod fence;
pub mod journal;
pub mod monitor;
pub mod output_limit;
pub mod pubsub;
pub mod refusal;
pub mod reply;
pub mod runtime;
pub mod script;
pub mod search;
pub mod session;

pub use clients::ClientInfo;
pub use engine::{now_nanos, Engine, Options, Stats};
pub use error::{Error, Result};
pub use reply::Reply;
pub use runtime::Runtime;
pub use session::Session;

/// The Tile38 version whose protocol this server speaks (reported by
/// SERVER/INFO so clients that gate on it keep working).
pub const VERSION: &str = "1.37.0";
