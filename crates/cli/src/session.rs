//! Running commands and showing their replies: one command from the command
//! line, or a stream of typed lines (`quit`/`exit` end it, `help` is answered
//! locally, an empty line checks the connection, `OUTPUT json|resp` switches
//! the rendering). Live geofences, SUBSCRIBE and `AOF pos` keep printing what
//! the server pushes until it closes.

use std::io::{self, Write};

use crate::client::{Client, Failure};
use crate::line;
use crate::opts::Mode;
use crate::render::{json_text, outcome, pretty_json, term_resp, Outcome};
use crate::reply::Reply;

/// Exit status: the reply was an error.
pub const EXIT_ERROR_REPLY: i32 = 1;
/// Exit status: no connection, or a bad option.
pub const EXIT_NO_CONNECTION: i32 = 2;

/// How replies are printed.
#[derive(Clone, Copy, Debug, Default)]
pub struct View {
    /// Reply bytes as received, then a newline.
    pub raw: bool,
    /// Indent JSON.
    pub pretty: bool,
    /// Reading lines (not one command from argv): a JSON error becomes
    /// `(error) <err>` on stderr, as in Tile38's cli.
    pub lines: bool,
}

/// Prints `reply` in `mode`; returns whether it was an error.
pub fn show(
    reply: &Reply,
    mode: Mode,
    view: View,
    out: &mut impl Write,
    err: &mut impl Write,
) -> io::Result<Outcome> {
    let result = outcome(&reply.value);
    if view.raw {
        out.write_all(&reply.raw)?;
        out.write_all(b"\n")?;
    } else if let (Mode::Json, Some(text)) = (mode, json_text(&reply.value).or(pushed(reply))) {
        let text = String::from_utf8_lossy(text);
        match &result {
            Outcome::Error(e) if view.lines => writeln!(err, "(error) {e}")?,
            _ if view.pretty => writeln!(out, "{}", pretty_json(&text))?,
            _ => writeln!(out, "{text}")?,
        }
    } else {
        writeln!(out, "{}", term_resp(&reply.value))?;
    }
    out.flush()?;
    Ok(result)
}

/// A JSON-mode message that is not an object: a PUBLISHed payload Tile38
/// sends as a JSON string, number or array (`"hello"`, `12`), shown as is
/// like Tile38's cli does.
fn pushed(reply: &Reply) -> Option<&[u8]> {
    match &reply.value {
        crate::reply::Value::Bulk(Some(b)) => Some(b),
        _ => None,
    }
}

/// Where typed lines come from.
pub trait LineSource {
    /// The next line without its newline; `None` at end of input.
    fn read_line(&mut self, prompt: &str) -> io::Result<Option<String>>;
    /// Remembers a line for history (no-op without a terminal).
    fn add_history(&mut self, _line: &str) {}
}

/// A connection plus how to show replies; the exit status accumulates the
/// worst result seen.
pub struct Session {
    pub client: Client,
    pub view: View,
    pub noprompt: bool,
    pub status: i32,
}

impl Session {
    /// Runs one command and prints its reply (and, for live commands, all
    /// that follows); returns its exit status.
    pub fn run(&mut self, args: &[String]) -> i32 {
        let status = match self.client.call(args) {
            Err(Failure::Connect(msg)) => {
                eprintln!("{msg}");
                EXIT_NO_CONNECTION
            }
            Err(Failure::Refused(reply)) => self.print(&reply),
            Ok(reply) => {
                let ok = matches!(outcome(&reply.value), Outcome::Ok);
                let name = args[0].to_ascii_lowercase();
                if ok && name == "output" && args.len() == 2 {
                    match args[1].to_ascii_lowercase().as_str() {
                        "json" => self.client.set_mode(Mode::Json),
                        "resp" => self.client.set_mode(Mode::Resp),
                        _ => {}
                    }
                }
                if ok && name == "aof" {
                    // The server streams raw AOF bytes after its `+OK`.
                    return match self.client.copy_stream(&mut io::stdout().lock()) {
                        Ok(()) => 0,
                        Err(e) => self.lost(&e),
                    };
                }
                let status = self.print(&reply);
                if ok && is_live(args, &reply) {
                    return self.follow();
                }
                status
            }
        };
        self.status = self.status.max(status);
        status
    }

    fn print(&self, reply: &Reply) -> i32 {
        let shown = show(
            reply,
            self.client.mode(),
            self.view,
            &mut io::stdout().lock(),
            &mut io::stderr().lock(),
        );
        match shown {
            Ok(Outcome::Ok) => 0,
            Ok(Outcome::Error(_)) => EXIT_ERROR_REPLY,
            // stdout closed (`| head`): nothing more to say.
            Err(_) => EXIT_ERROR_REPLY,
        }
    }

    /// Prints pushed messages until the server closes the connection.
    fn follow(&mut self) -> i32 {
        loop {
            match self.client.next_message() {
                Ok(msg) => {
                    if self.print(&msg) != 0 && !self.view.lines {
                        return EXIT_ERROR_REPLY;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return 0,
                Err(e) => return self.lost(&e),
            }
        }
    }

    fn lost(&self, e: &io::Error) -> i32 {
        eprintln!("{}", self.client.refused(e));
        EXIT_NO_CONNECTION
    }

    fn prompt(&self) -> String {
        if self.noprompt || self.view.raw {
            String::new()
        } else if self.client.is_connected() {
            format!("{}> ", self.client.addr())
        } else {
            "not connected> ".into()
        }
    }

    /// Reads and runs lines until end of input or `quit`/`exit`.
    pub fn run_lines(&mut self, src: &mut dyn LineSource) -> io::Result<()> {
        if let Err(e) = self.client.connect() {
            self.report(e);
        }
        while let Some(input) = src.read_line(&self.prompt())? {
            let command = input.trim();
            if command.is_empty() {
                self.check_connection();
                continue;
            }
            // A leading blank keeps a line out of history, as in shells.
            if !input.starts_with(' ') {
                src.add_history(command);
            }
            let args = match line::split(command) {
                Ok(args) => args,
                Err(e) => {
                    eprintln!("(error) {e}");
                    self.status = self.status.max(EXIT_ERROR_REPLY);
                    continue;
                }
            };
            let name = args[0].to_ascii_lowercase();
            match name.as_str() {
                "quit" | "exit" if args.len() == 1 => break,
                "help" => {
                    let topic = args[1..].join(" ");
                    eprint!("{}", crate::help::help(&topic, crate::stderr_is_tty()));
                }
                _ => {
                    self.run(&args);
                }
            }
        }
        Ok(())
    }

    /// An empty line: a silent `PING` that notices a lost connection.
    fn check_connection(&mut self) {
        if self.client.is_connected() {
            if let Err(e) = self.client.call(&["pInG"]) {
                self.report(e);
            }
        }
    }

    fn report(&mut self, failure: Failure) {
        let status = match failure {
            Failure::Connect(msg) => {
                eprintln!("{msg}");
                EXIT_NO_CONNECTION
            }
            Failure::Refused(reply) => self.print(&reply),
        };
        self.status = self.status.max(status);
    }
}

/// Whether the server has switched the connection to pushing messages: a
/// JSON `"live":true` reply, or an accepted FENCE search or SUBSCRIBE in
/// RESP mode (which answers a plain `+OK` or a subscribe array).
fn is_live(args: &[String], reply: &Reply) -> bool {
    if json_text(&reply.value).is_some_and(|t| t.starts_with(br#"{"ok":true,"live":true"#)) {
        return true;
    }
    let name = args[0].to_ascii_lowercase();
    match name.as_str() {
        "subscribe" | "psubscribe" => true,
        "nearby" | "within" | "intersects" => args.iter().any(|a| a.eq_ignore_ascii_case("fence")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::Value;

    fn reply(raw: &[u8]) -> Reply {
        crate::reply::read_reply(&mut &raw[..]).unwrap()
    }

    fn bulk(text: &str) -> Reply {
        reply(format!("${}\r\n{text}\r\n", text.len()).as_bytes())
    }

    fn shown(r: &Reply, mode: Mode, view: View) -> (String, String, Outcome) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let o = show(r, mode, view, &mut out, &mut err).unwrap();
        (
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
            o,
        )
    }

    #[test]
    fn json_mode_messages_that_are_not_objects() {
        for text in [r#""hello""#, "12", "[1,2]"] {
            let (out, _, o) = shown(&bulk(text), Mode::Json, View::default());
            assert_eq!((out, o), (format!("{text}\n"), Outcome::Ok));
        }
    }

    #[test]
    fn json_mode() {
        let ok = bulk(r#"{"ok":true,"elapsed":"1.324µs"}"#);
        let (out, err, o) = shown(&ok, Mode::Json, View::default());
        assert_eq!(
            (out.as_str(), err.as_str(), o),
            ("{\"ok\":true,\"elapsed\":\"1.324µs\"}\n", "", Outcome::Ok)
        );
        let bad = bulk(r#"{"ok":false,"err":"id not found","elapsed":"1s"}"#);
        let (out, _, o) = shown(&bad, Mode::Json, View::default());
        assert!(out.starts_with("{\"ok\":false"));
        assert_eq!(o, Outcome::Error("id not found".into()));
        let lines = View {
            lines: true,
            ..View::default()
        };
        let (out, err, _) = shown(&bad, Mode::Json, lines);
        assert_eq!((out.as_str(), err.as_str()), ("", "(error) id not found\n"));
        let pretty = View {
            pretty: true,
            ..View::default()
        };
        assert_eq!(
            shown(&ok, Mode::Json, pretty).0,
            "{\n  \"ok\": true,\n  \"elapsed\": \"1.324µs\"\n}\n"
        );
    }

    #[test]
    fn resp_and_raw_modes() {
        let nil = reply(b"$-1\r\n");
        assert_eq!(shown(&nil, Mode::Resp, View::default()).0, "(nil)\n");
        let e = reply(b"-ERR unknown command 'BADCMD'\r\n");
        let (out, _, o) = shown(&e, Mode::Resp, View::default());
        assert_eq!(out, "(error) ERR unknown command 'BADCMD'\n");
        assert!(matches!(o, Outcome::Error(_)));
        let raw = View {
            raw: true,
            ..View::default()
        };
        assert_eq!(shown(&nil, Mode::Json, raw).0, "$-1\r\n\n");
        // A non-JSON reply in JSON mode (e.g. `+OK` after `OUTPUT resp`).
        assert_eq!(
            shown(&reply(b"+OK\r\n"), Mode::Json, View::default()).0,
            "OK\n"
        );
    }

    #[test]
    fn live_detection() {
        let args = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        let live = bulk(r#"{"ok":true,"live":true}"#);
        assert!(is_live(&args("NEARBY fleet FENCE POINT 1 2 3"), &live));
        let ok = Reply {
            raw: b"+OK\r\n".to_vec(),
            value: Value::Simple(b"OK".to_vec()),
        };
        assert!(is_live(&args("within fleet fence circle 1 2 3"), &ok));
        assert!(!is_live(&args("NEARBY fleet POINT 1 2 3"), &ok));
        assert!(is_live(&args("SUBSCRIBE ch"), &ok));
    }
}
