//! Tile38 wire framing, free of I/O and of tokio.
//!
//! * [`request`]: splits a byte buffer into commands. One port carries RESP
//!   arrays, telnet lines, Tile38's native `$n payload` messages, HTTP and
//!   WebSocket; every message is classified by its first bytes.
//! * [`http`]: HTTP request heads, URL decoding, WebSocket frames.
//! * [`resp`]: RESP2 reply encoding (and RESP command encoding for the AOF).
//! * [`fmt`]: Go-compatible float, JSON string and duration formatting.

pub mod args;
pub mod fmt;
pub mod http;
pub mod request;
pub mod resp;

pub use args::Args;
pub use request::{parse_next, Frame, Framing, Limits, ProtoError};
