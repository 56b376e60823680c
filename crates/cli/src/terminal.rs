//! Where lines come from: a terminal (rustyline: line editing, history,
//! tab completion of command names and help topics) or a pipe (plain
//! lines; the prompt is still written unless `--noprompt`, as Tile38's cli
//! does).
//!
//! History lives in `~/.liner_example_history`, the file Tile38's cli
//! keeps (the name comes from the line-editing library it uses), in its
//! format (one entry per line, at most 1000), so both clients share it. A
//! missing or unwritable HOME only loses history.

use std::io::{self, BufRead, Write};
use std::path::PathBuf;

use rustyline::completion::Completer;
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::FileHistory;
use rustyline::validate::Validator;
use rustyline::{Config, Context, Editor, Helper};

use crate::session::LineSource;

/// Entries kept, as Tile38's cli keeps.
const HISTORY_LIMIT: usize = 1000;

/// The history file, if there is a home directory.
pub fn history_path() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    Some(PathBuf::from(home).join(".liner_example_history"))
}

/// Completion of command names and help topics.
struct Complete;

impl Completer for Complete {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        Ok(crate::help::complete(&line[..pos]))
    }
}

impl Hinter for Complete {
    type Hint = String;
}
impl Highlighter for Complete {}
impl Validator for Complete {}
impl Helper for Complete {}

/// Lines typed at a terminal.
pub struct Terminal {
    editor: Editor<Complete, FileHistory>,
    history: Option<PathBuf>,
}

impl Terminal {
    pub fn new() -> io::Result<Terminal> {
        let config = Config::builder()
            .max_history_size(HISTORY_LIMIT)
            .map_err(io::Error::other)?
            .build();
        let mut editor = Editor::with_config(config).map_err(io::Error::other)?;
        editor.set_helper(Some(Complete));
        let history = history_path();
        // Absent on first use; unreadable is no reason to refuse a prompt.
        if let Some(text) = history
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
        {
            for line in text.lines().filter(|l| !l.is_empty()) {
                let _ = editor.add_history_entry(line);
            }
        }
        Ok(Terminal { editor, history })
    }

    /// Writes the history file; failures are ignored (read-only HOME).
    pub fn save_history(&mut self) {
        let Some(path) = &self.history else { return };
        let text: String = self
            .editor
            .history()
            .iter()
            .map(|entry| format!("{entry}\n"))
            .collect();
        let _ = std::fs::write(path, text);
    }
}

impl LineSource for Terminal {
    fn read_line(&mut self, prompt: &str) -> io::Result<Option<String>> {
        match self.editor.readline(prompt) {
            Ok(line) => Ok(Some(line)),
            Err(ReadlineError::Eof) => Ok(None),
            Err(ReadlineError::Interrupted) => Err(io::ErrorKind::Interrupted.into()),
            Err(ReadlineError::Io(e)) => Err(e),
            Err(e) => Err(io::Error::other(e)),
        }
    }

    fn add_history(&mut self, line: &str) {
        let _ = self.editor.add_history_entry(line);
    }
}

/// Lines from a pipe or file.
pub struct Piped<R> {
    input: R,
}

impl<R: BufRead> Piped<R> {
    pub fn new(input: R) -> Self {
        Piped { input }
    }
}

impl<R: BufRead> LineSource for Piped<R> {
    fn read_line(&mut self, prompt: &str) -> io::Result<Option<String>> {
        if !prompt.is_empty() {
            let mut out = io::stdout().lock();
            out.write_all(prompt.as_bytes())?;
            out.flush()?;
        }
        let mut buf = Vec::new();
        if self.input.read_until(b'\n', &mut buf)? == 0 {
            return Ok(None);
        }
        let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        Ok(Some(String::from_utf8_lossy(line).into_owned()))
    }
}
