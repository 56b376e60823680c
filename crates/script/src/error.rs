//! Script errors as Tile38 words them: gopher-lua's message with its stack
//! traceback (`f_<sha>:<line>: <message>\nstack traceback:\n\t…`), newlines
//! made literal `\n` for EVAL (`makeSafeErr`: an error reply is one line).
//!
//! The interpreter is Lua 5.1, not gopher-lua: the position prefix and the
//! traceback of an error raised in the script's main chunk are rebuilt in
//! gopher-lua's form, and "attempt to call … (a nil value)" reads as
//! gopher-lua's "attempt to call a non-function object"; other messages
//! (syntax errors above all) are Lua 5.1's own.

/// Whether `e` is the memory cap's error.
pub fn is_memory(e: &mlua::Error) -> bool {
    match e {
        mlua::Error::MemoryError(_) => true,
        mlua::Error::CallbackError { cause, .. } => is_memory(cause),
        _ => false,
    }
}

/// The message of a Lua error, without mlua's decorations.
fn message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::RuntimeError(m) | mlua::Error::SyntaxError { message: m, .. } => m.clone(),
        mlua::Error::MemoryError(_) => "not enough memory".into(),
        mlua::Error::CallbackError { cause, .. } => message(cause),
        other => other.to_string(),
    }
}

/// A syntax error of script `sha` (one line, as EVAL answers it).
pub fn syntax(e: &mlua::Error, _sha: &str) -> String {
    safe(&message(e))
}

/// EVAL's `makeSafeErr`.
pub fn safe(text: &str) -> String {
    text.replace('\n', "\\n")
}

/// How the sandbox saw the error come about.
pub struct Origin {
    /// Raised by `tile38.call` (a command's error).
    pub call: bool,
    /// Raised by the globals' guard (`attempt to create global variable`).
    pub global: bool,
}

/// A runtime error of script `sha` with gopher-lua's traceback.
pub fn runtime(e: &mlua::Error, sha: &str, origin: Origin) -> String {
    let mut msg = message(e);
    if let Some(i) = msg.find("\nstack traceback:") {
        msg.truncate(i);
    }
    let chunk = format!("f_{sha}:");
    // `return tile38.call(…)` is a tail call: Lua 5.1 has no position for
    // the frame it replaced (gopher-lua does; a one-line script's is 1).
    if origin.call && !msg.starts_with(&chunk) && msg.starts_with("ERR ") {
        msg = format!("{chunk}1: {msg}");
    }
    let line = msg
        .strip_prefix(&chunk)
        .and_then(|rest| rest.split_once(':'))
        .and_then(|(n, _)| n.parse::<u32>().ok())
        .unwrap_or(1);
    if msg.starts_with(&chunk) && msg.contains("attempt to call") && msg.ends_with("(a nil value)")
    {
        msg = format!("{chunk}{line}: attempt to call a non-function object");
    }
    let mut out = msg;
    out.push_str("\nstack traceback:\n\t");
    if origin.call {
        out.push_str("[G]: in function 'call'\n\t");
    } else if origin.global {
        out.push_str("[G]: in function (anonymous)\n\t");
    }
    out.push_str(&format!("{chunk}{line}: in main chunk\n\t[G]: ?"));
    out
}
