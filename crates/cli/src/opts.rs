//! `tile38-cli [-h host] [-p port] [-a password] [--resp|--json|--raw]
//! [--pretty] [--noprompt] [-x] [--tls [--cacert file] [--cert file --key
//! file] [--insecure]] [cmd [arg ...]]`
//!
//! Parsed the way Tile38's cli parses them: options come first, the first
//! word not starting with `-` begins the command, and every later word
//! belongs to it (so `NEARBY fleet POINT -33 112` keeps its negative
//! numbers). `-h` alone is help, as `-h`/`-p` without a value are.

/// The Tile38 release whose cli this one mirrors (shown in help).
pub const TILE38_VERSION: &str = "1.37.0";

/// Reply rendering chosen at start; `OUTPUT json|resp` typed at the prompt
/// changes it for the rest of the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Json,
    Resp,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Json => "json",
            Mode::Resp => "resp",
        }
    }
}

/// Everything the options decide.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opts {
    pub host: String,
    pub port: u16,
    pub password: Option<String>,
    pub mode: Mode,
    /// `--raw`: print reply bytes as received.
    pub raw: bool,
    /// `--pretty`: indent JSON replies (an extension).
    pub pretty: bool,
    pub noprompt: bool,
    /// `-x`: the last argument is read from stdin.
    pub stdin_arg: bool,
    /// `--tls` and what it trusts and presents (redis-cli's flags).
    pub tls: Option<tile38_tls::ClientFiles>,
    /// The one-shot command; empty for a session.
    pub command: Vec<String>,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            host: "127.0.0.1".into(),
            port: 9851,
            password: None,
            mode: Mode::Json,
            raw: false,
            pretty: false,
            noprompt: false,
            stdin_arg: false,
            tls: None,
            command: Vec::new(),
        }
    }
}

impl Opts {
    pub fn addr(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    Run(Opts),
    Help,
    Version,
    /// An unknown option or a bad value; holds the offending word.
    Bad(String),
}

/// Parses the arguments after the program name. `env_password` is
/// `TILE38_PASSWORD`, used when `-a` is absent.
pub fn parse(args: &[String], env_password: Option<String>) -> Parsed {
    let mut o = Opts {
        password: env_password.filter(|p| !p.is_empty()),
        ..Opts::default()
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if !arg.starts_with('-') {
            o.command.push(arg.clone());
            o.command.extend(it.cloned());
            break;
        }
        match arg.as_str() {
            "--help" | "-?" => return Parsed::Help,
            "--version" => return Parsed::Version,
            "--raw" => o.raw = true,
            "--noprompt" => o.noprompt = true,
            "--resp" => o.mode = Mode::Resp,
            "--json" => o.mode = Mode::Json,
            "--pretty" => o.pretty = true,
            "-x" => o.stdin_arg = true,
            "--tls" => {
                o.tls.get_or_insert_with(Default::default);
            }
            "--insecure" => o.tls.get_or_insert_with(Default::default).insecure = true,
            "--cacert" | "--cert" | "--key" => {
                let Some(value) = it.next() else {
                    return Parsed::Bad(arg.clone());
                };
                let files = o.tls.get_or_insert_with(Default::default);
                let slot = match arg.as_str() {
                    "--cacert" => &mut files.ca,
                    "--cert" => &mut files.cert,
                    _ => &mut files.key,
                };
                *slot = Some(value.into());
            }
            "-h" | "-p" | "-a" => {
                let Some(value) = it.next() else {
                    return Parsed::Help;
                };
                match arg.as_str() {
                    "-h" => o.host = value.clone(),
                    "-p" => match value.parse() {
                        Ok(p) => o.port = p,
                        Err(_) => return Parsed::Bad(arg.clone()),
                    },
                    _ => o.password = Some(value.clone()),
                }
            }
            _ => return Parsed::Bad(arg.clone()),
        }
    }
    if o.stdin_arg && o.command.is_empty() {
        return Parsed::Bad("-x".into());
    }
    Parsed::Run(o)
}

/// The `--help` text.
pub fn usage() -> String {
    format!(
        "tile38-cli {TILE38_VERSION} (tile38-rs {})

Usage: tile38-cli [OPTIONS] [cmd [arg [arg ...]]]
 --raw              Use raw formatting for replies
 --noprompt         Do not display a prompt
 --resp             Use RESP output formatting (default is JSON output)
 --json             Use JSON output formatting (default is JSON output)
 --pretty           Indent JSON replies
 -h <hostname>      Server hostname (default: 127.0.0.1)
 -p <port>          Server port (default: 9851)
 -a <password>      Password for AUTH (default: $TILE38_PASSWORD)
 -x                 Read last argument from STDIN.
 --tls              Connect over TLS (implied by the options below)
 --cacert <file>    CA certificate (PEM) to verify the server with
                    (default: the public web roots)
 --cert <file>      Client certificate (PEM), for mutual TLS
 --key <file>       Private key (PEM) of the client certificate
 --insecure         Accept any server certificate
 --version          Print the version and exit

Exit status: 0 ok reply, 1 error reply, 2 connection error or bad option.

",
        env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Opts {
        match parse(
            &args.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            None,
        ) {
            Parsed::Run(o) => o,
            other => panic!("{other:?}"),
        }
    }

    fn parsed(args: &[&str]) -> Parsed {
        parse(
            &args.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            None,
        )
    }

    #[test]
    fn options_then_command() {
        let o = run(&[
            "-h",
            "db",
            "-p",
            "9999",
            "--resp",
            "--noprompt",
            "SET",
            "f",
            "t",
            "POINT",
            "-33",
            "112",
        ]);
        assert_eq!(o.addr(), "db:9999");
        assert_eq!(o.mode, Mode::Resp);
        assert!(o.noprompt && !o.raw);
        assert_eq!(o.command, ["SET", "f", "t", "POINT", "-33", "112"]);
        assert_eq!(run(&[]).addr(), "127.0.0.1:9851");
        assert_eq!(run(&["--resp", "--json"]).mode, Mode::Json);
    }

    #[test]
    fn password_from_flag_or_env() {
        assert_eq!(run(&["-a", "pw", "PING"]).password.as_deref(), Some("pw"));
        let env = parse(&["PING".to_string()], Some("envpw".into()));
        assert!(matches!(env, Parsed::Run(o) if o.password.as_deref() == Some("envpw")));
        let both = parse(&["-a".into(), "flag".into()], Some("envpw".into()));
        assert!(matches!(both, Parsed::Run(o) if o.password.as_deref() == Some("flag")));
        assert!(matches!(parse(&[], Some(String::new())), Parsed::Run(o) if o.password.is_none()));
    }

    #[test]
    fn help_version_and_bad_options() {
        assert_eq!(parsed(&["--help"]), Parsed::Help);
        assert_eq!(parsed(&["-h"]), Parsed::Help);
        assert_eq!(parsed(&["-p"]), Parsed::Help);
        assert_eq!(parsed(&["--version"]), Parsed::Version);
        assert_eq!(parsed(&["--bogus", "PING"]), Parsed::Bad("--bogus".into()));
        assert_eq!(parsed(&["-p", "notaport"]), Parsed::Bad("-p".into()));
        assert_eq!(parsed(&["-p", "70000"]), Parsed::Bad("-p".into()));
        assert_eq!(parsed(&["-x"]), Parsed::Bad("-x".into()));
        assert!(usage().contains(" -a <password> "));
    }

    #[test]
    fn tls_options() {
        assert_eq!(run(&["PING"]).tls, None);
        let o = run(&[
            "--tls", "--cacert", "ca.pem", "--cert", "c.pem", "--key", "k.pem", "PING",
        ]);
        let files = o.tls.unwrap();
        assert_eq!(files.ca.as_deref(), Some(std::path::Path::new("ca.pem")));
        assert!(files.cert.is_some() && files.key.is_some() && !files.insecure);
        assert!(run(&["--insecure"]).tls.unwrap().insecure);
        assert_eq!(parsed(&["--cacert"]), Parsed::Bad("--cacert".into()));
    }
}
