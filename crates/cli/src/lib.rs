//! `tile38-cli`: Tile38's command-line client, a drop-in for the one that
//! ships with Tile38.
//!
//! * `tile38-cli SET fleet truck1 POINT 33 -112` runs one command, prints
//!   the reply (JSON by default, `--resp` redis-cli style, `--raw` bytes as
//!   received) and exits 0 on an ok reply, 1 on an error reply (RESP `-ERR`
//!   or JSON `"ok":false`), 2 when it cannot connect or an option is bad.
//! * `tile38-cli` alone opens the `127.0.0.1:9851> ` prompt, with line
//!   editing and history on a terminal; from a pipe it reads one command per
//!   line (`--noprompt` drops the prompts) and exits with the worst status.
//! * `-a password` or `TILE38_PASSWORD` sends `AUTH` on every connection.
//!
//! Differences from Tile38's cli, on purpose: arguments reach the server
//! intact (its cli cuts JSON at the first space and does not re-quote shell
//! words, see [`client`]), the exit status tells errors apart (its cli
//! exits 0 on error replies and bad options), a line starting with `"` does
//! not crash, `-x` accepts any text, and live-fence messages go to stdout.

pub mod client;
pub mod help;
pub mod line;
pub mod opts;
pub mod render;
pub mod reply;
pub mod session;
pub mod terminal;

use std::io::{IsTerminal, Read, Write};

use opts::{Parsed, TILE38_VERSION};
use session::{Session, View, EXIT_NO_CONNECTION};

pub(crate) fn stderr_is_tty() -> bool {
    std::io::stderr().is_terminal()
}

/// Entry point of the `tile38-cli` binary; returns the exit status.
pub fn main() -> i32 {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let opts = match opts::parse(&args, std::env::var("TILE38_PASSWORD").ok()) {
        Parsed::Run(o) => o,
        Parsed::Help => return say(&opts::usage()),
        Parsed::Version => {
            return say(&format!(
                "tile38-cli {TILE38_VERSION} (tile38-rs {})\n",
                env!("CARGO_PKG_VERSION")
            ))
        }
        Parsed::Bad(word) => {
            eprintln!("Unrecognized option or bad number of args for: '{word}'");
            return EXIT_NO_CONNECTION;
        }
    };
    let mut command = opts.command.clone();
    if command
        .first()
        .is_some_and(|c| c.eq_ignore_ascii_case("help"))
    {
        return say(&opts::usage());
    }
    if opts.stdin_arg {
        let mut input = Vec::new();
        if let Err(e) = std::io::stdin().read_to_end(&mut input) {
            eprintln!("Invalid STDIN: {e}");
            return EXIT_NO_CONNECTION;
        }
        let text = String::from_utf8_lossy(&input);
        let text = text.strip_suffix('\n').unwrap_or(&text);
        command.push(text.strip_suffix('\r').unwrap_or(text).to_string());
    }
    let mut client = client::Client::new(opts.addr(), opts.password.clone(), opts.mode);
    if let Some(files) = &opts.tls {
        if let Err(e) = client.use_tls(files, &opts.host) {
            eprintln!("TLS: {e}");
            return EXIT_NO_CONNECTION;
        }
    }
    let mut session = Session {
        client,
        view: View {
            raw: opts.raw,
            pretty: opts.pretty,
            lines: command.is_empty(),
        },
        noprompt: opts.noprompt,
        status: 0,
    };
    if !command.is_empty() {
        return session.run(&command);
    }
    if std::io::stdin().is_terminal() {
        interactive(&mut session)
    } else {
        let mut src = terminal::Piped::new(std::io::stdin().lock());
        match session.run_lines(&mut src) {
            Ok(()) => session.status,
            Err(e) => {
                eprintln!("Error reading line: {e}");
                session.status.max(1)
            }
        }
    }
}

/// Prints `text`; a closed stdout (`| head -1`) is not worth a panic.
fn say(text: &str) -> i32 {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    0
}

/// A prompt on a terminal: exits 0 at `quit`, `exit` or Ctrl-D whatever the
/// replies were; Ctrl-C ends it with the shell's status for SIGINT (130).
fn interactive(session: &mut Session) -> i32 {
    let mut term = match terminal::Terminal::new() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("Error opening the terminal: {e}");
            return 1;
        }
    };
    let result = session.run_lines(&mut term);
    term.save_history();
    match result {
        Ok(()) => 0,
        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => 130,
        Err(e) => {
            eprintln!("Error reading line: {e}");
            1
        }
    }
}
