//! What a command asks of the runtime that owns the engine: the things
//! that need sockets, tasks or threads (following a leader, the AOF
//! rewrite, running a long command off an async worker). The server crate
//! implements [`Runtime`]; an in-process engine (tests, benches, fuzzing)
//! has [`NoRuntime`].

/// The runtime around an [`crate::Engine`].
pub trait Runtime: Send + Sync {
    /// `FOLLOW host port`: connects to the would-be leader and checks it
    /// answers as one (blocking the calling thread; Tile38 checks before
    /// it answers `OK`). The error is the reply's text.
    fn check_leader(&self, host: &str, port: u16) -> Result<(), String>;

    /// (Re)starts the follow loop for `target` (`None`: `FOLLOW no one`).
    fn start_following(&self, target: Option<tile38_repl::Target>) -> Result<(), String>;

    /// `AOFSHRINK`: asks the background rewrite to start.
    fn request_shrink(&self);

    /// Runs `f`, which may take long (parsing megabytes), where it does not
    /// stall other clients: off the async worker.
    fn run_blocking(&self, f: &mut dyn FnMut()) {
        f()
    }

    /// Webhook events waiting for delivery (SERVER `pending_events`).
    fn pending_events(&self) -> u64 {
        0
    }
}

/// The runtime of an in-process engine: nothing to follow or rewrite.
pub struct NoRuntime;

impl Runtime for NoRuntime {
    fn check_leader(&self, _host: &str, _port: u16) -> Result<(), String> {
        Err("cannot follow: no runtime".into())
    }

    fn start_following(&self, _target: Option<tile38_repl::Target>) -> Result<(), String> {
        Err("cannot follow".into())
    }

    fn request_shrink(&self) {}
}
