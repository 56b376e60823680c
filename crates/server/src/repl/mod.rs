//! Replication over Tile38's protocol.
//!
//! * [`leader`]: serves `AOF pos` streams, reading the AOF file itself so
//!   that a slow follower costs the leader nothing but a file read (no
//!   per-follower buffer grows); the stream ends when the file is replaced
//!   (AOFSHRINK, truncation) and the follower reconnects.
//! * [`follower`]: `FOLLOW host port`, the follow loop (handshake, resume
//!   position, live stream applied in order and mirrored byte for byte into
//!   the local AOF), reconnects with backoff, lag polling.
//! * [`ack`]: the follower's acknowledgements to a leader of ours (a
//!   side connection; a Tile38 leader gets none), for `WAIT` and
//!   `min-followers-to-write`.
//! * [`client`]: the small RESP client the follower talks to its leader
//!   with.
//!
//! State shared with INFO, ROLE, SERVER and metrics lives in
//! [`tile38_repl::ReplState`] (`Server::repl`).

pub mod ack;
pub mod client;
pub mod follower;
pub mod leader;
