//! Every error a command can answer, and its exact Tile38 wire text.
//!
//! The text is the JSON `err` member; RESP adds `ERR ` unless the first word
//! is all capitals, and rewrites the arity error to Redis's wording.

use tile38_geo::GeoJsonError;

#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// `invalid number of arguments`; RESP: `ERR wrong number of arguments for '<cmd>' command`.
    Arity,
    /// `invalid argument '<arg>'`.
    InvalidArg(Vec<u8>),
    /// `duplicate argument '<ARG>'`.
    Duplicate(String),
    KeyNotFound,
    IdNotFound,
    IdAlreadyExists,
    PathNotFound,
    KeyHasHooks,
    KeyHasChannels,
    /// `unknown command '<original words>'`.
    UnknownCommand(Vec<u8>),
    AuthRequired,
    InvalidPassword,
    ReadOnly,
    NotLeader,
    CatchingUp,
    NotCaughtUp,
    Loading,
    Oom,
    Timeout,
    TimeoutNotSupported(String),
    Eof,
    AofDisabled,
    /// `MISCONF Errors writing to the AOF file: <OS error text>` (Redis's
    /// refusal while the AOF cannot be written; `crate::gate`).
    AofWrite(String),
    PosTooBig,
    /// `not enough good followers to write`: `min-followers-to-write` is
    /// set and too few followers acked within `min-followers-max-lag`
    /// (Redis's `NOREPLICAS Not enough good replicas to write.`).
    NoFollowers,
    GeoJson(GeoJsonError),
    /// Any other exact message (`Unsupported CONFIG parameter: x`, …).
    Message(String),
}

impl Error {
    pub fn invalid_arg(arg: &[u8]) -> Error {
        Error::InvalidArg(arg.to_vec())
    }

    /// The message text (JSON `err`, and the base of the RESP error).
    pub fn message(&self) -> String {
        match self {
            Error::Arity => "invalid number of arguments".into(),
            Error::InvalidArg(a) => format!("invalid argument '{}'", String::from_utf8_lossy(a)),
            Error::Duplicate(a) => format!("duplicate argument '{a}'"),
            Error::KeyNotFound => "key not found".into(),
            Error::IdNotFound => "id not found".into(),
            Error::IdAlreadyExists => "id already exists".into(),
            Error::PathNotFound => "path not found".into(),
            Error::KeyHasHooks => "key has hooks set".into(),
            Error::KeyHasChannels => "key has channels set".into(),
            Error::UnknownCommand(c) => format!("unknown command '{}'", String::from_utf8_lossy(c)),
            Error::AuthRequired => "authentication required".into(),
            Error::InvalidPassword => "invalid password".into(),
            Error::ReadOnly => "read only".into(),
            Error::NotLeader => "not the leader".into(),
            Error::CatchingUp => "catching up to leader".into(),
            Error::NotCaughtUp => "not caught up".into(),
            Error::Loading => "LOADING Tile38 is loading the dataset in memory".into(),
            Error::Oom => "OOM command not allowed when used memory > 'maxmemory'".into(),
            Error::Timeout => "timeout".into(),
            Error::TimeoutNotSupported(c) => format!("timeout not supported for '{c}'"),
            Error::Eof => "EOF".into(),
            Error::AofDisabled => "aof disabled".into(),
            Error::AofWrite(e) => format!("MISCONF Errors writing to the AOF file: {e}"),
            Error::PosTooBig => "pos is too big, must be less that the aof_size of leader".into(),
            Error::NoFollowers => "not enough good followers to write".into(),
            Error::GeoJson(e) => e.to_string(),
            Error::Message(m) => m.clone(),
        }
    }

    /// The RESP error line body (without `-` and CRLF) for a request whose
    /// first word is `cmd`.
    pub fn resp_text(&self, cmd: &[u8]) -> Vec<u8> {
        if *self == Error::Arity {
            let mut s = b"ERR wrong number of arguments for '".to_vec();
            s.extend(cmd.iter().map(u8::to_ascii_lowercase));
            s.extend_from_slice(b"' command");
            return s;
        }
        let msg = self.message();
        let first = msg.split(' ').next().unwrap_or("");
        if !first.is_empty() && first.bytes().all(|b| b.is_ascii_uppercase()) {
            msg.into_bytes()
        } else {
            format!("ERR {msg}").into_bytes()
        }
    }
}

impl From<GeoJsonError> for Error {
    fn from(e: GeoJsonError) -> Self {
        Error::GeoJson(e)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(e: Error, cmd: &str) -> String {
        String::from_utf8(e.resp_text(cmd.as_bytes())).unwrap()
    }

    #[test]
    fn wire_texts() {
        assert_eq!(
            resp(Error::Arity, "CONFIG"),
            "ERR wrong number of arguments for 'config' command"
        );
        assert_eq!(resp(Error::KeyNotFound, "GET"), "ERR key not found");
        assert_eq!(
            resp(Error::Oom, "SET"),
            "OOM command not allowed when used memory > 'maxmemory'"
        );
        assert_eq!(resp(Error::Eof, "AOFMD5"), "EOF");
        assert_eq!(
            resp(Error::AofWrite("No space left on device".into()), "SET"),
            "MISCONF Errors writing to the AOF file: No space left on device"
        );
        assert_eq!(
            resp(Error::Message("DESC is not allowed for NEARBY".into()), "x"),
            "DESC is not allowed for NEARBY"
        );
        assert_eq!(
            resp(Error::NoFollowers, "SET"),
            "ERR not enough good followers to write"
        );
        assert_eq!(
            resp(Error::invalid_arg(b"yyy"), "SET"),
            "ERR invalid argument 'yyy'"
        );
    }
}
