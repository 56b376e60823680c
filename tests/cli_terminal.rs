//! `tile38-cli`'s interactive prompt through a pseudo-terminal, against
//! the real server: JSON and RESP output, error replies, line editing and
//! history (in Tile38's cli's file and format), `quit`, Ctrl-C, and a home
//! directory that cannot be written.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::FromRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tile38::{temp_dir, wait_until, TestServer};

const CLI: &str = env!("CARGO_BIN_EXE_tile38-cli");

/// The cli on a pseudo-terminal, as a person would run it.
struct Pty {
    master: File,
    child: Child,
    seen: Arc<Mutex<Vec<u8>>>,
}

impl Pty {
    fn spawn(args: &[&str], home: &std::path::Path) -> Pty {
        let (mut master, mut slave) = (0, 0);
        let size = libc::winsize {
            ws_row: 40,
            ws_col: 200,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: plain libc calls on fds this function owns from here on.
        let slave = unsafe {
            let rc = libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &size,
            );
            assert_eq!(rc, 0, "openpty");
            // Other tests spawn processes concurrently: keep these fds out.
            libc::fcntl(master, libc::F_SETFD, libc::FD_CLOEXEC);
            libc::fcntl(slave, libc::F_SETFD, libc::FD_CLOEXEC);
            File::from_raw_fd(slave)
        };
        let master = unsafe { File::from_raw_fd(master) };
        let mut cmd = Command::new(CLI);
        cmd.args(args)
            .env("HOME", home)
            .env("TERM", "xterm")
            .env_remove("TILE38_PASSWORD")
            .stdin(slave.try_clone().unwrap())
            .stdout(slave.try_clone().unwrap())
            .stderr(slave.try_clone().unwrap());
        // SAFETY: setsid and ioctl are async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                libc::ioctl(0, libc::TIOCSCTTY, 0);
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawn tile38-cli on a pty");
        drop(slave);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut reader = master.try_clone().unwrap();
        let sink = seen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Pty {
            master,
            child,
            seen,
        }
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.seen.lock().unwrap()).into_owned()
    }

    /// Waits until `text` has appeared `times` times in the output.
    fn expect(&self, text: &str, times: usize) {
        let ok = wait_until(Duration::from_secs(10), || {
            self.screen().matches(text).count() >= times
        });
        assert!(ok, "never saw {text:?} x{times} in:\n{}", self.screen());
    }

    fn type_keys(&mut self, keys: &str) {
        self.master.write_all(keys.as_bytes()).unwrap();
        self.master.flush().unwrap();
    }

    fn exit_code(&mut self) -> Option<i32> {
        let child = &mut self.child;
        let mut status = None;
        wait_until(Duration::from_secs(10), || {
            status = child.try_wait().unwrap();
            status.is_some()
        });
        status.expect("cli did not exit").code()
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn interactive_prompt_on_a_terminal() {
    let s = TestServer::start(&[]);
    let home = temp_dir("cli-home");
    // Tile38's cli's history file and format: one entry per line.
    std::fs::write(home.join(".liner_example_history"), "KEYS *\n").unwrap();
    let port = s.port.to_string();
    let mut pty = Pty::spawn(&["-p", &port, "--pretty"], &home);
    let prompt = format!("127.0.0.1:{port}> ");
    pty.expect(&prompt, 1);
    pty.type_keys("SET fleet truck1 POINT 33 -112\r");
    pty.expect("\"ok\": true", 1);
    pty.type_keys("GET fleet truck1\r");
    pty.expect("\"coordinates\": [-112, 33]", 1);
    pty.type_keys("GET fleet nope\r");
    pty.expect("(error) id not found", 1);
    pty.type_keys("OUTPUT resp\r");
    pty.expect("\r\nOK\r\n", 1);
    pty.type_keys("GET fleet truck1\r");
    pty.expect(r#""{"type":"Point","coordinates":[-112,33]}""#, 1);
    // Line editing: a typo fixed with backspace, then the history's last
    // line again with the up arrow.
    pty.type_keys("PINX\x7fG\r");
    pty.expect("PONG", 1);
    pty.type_keys("\x1b[A\r");
    pty.expect("PONG", 2);
    pty.type_keys("quit\r");
    assert_eq!(pty.exit_code(), Some(0), "{}", pty.screen());
    let history = std::fs::read_to_string(home.join(".liner_example_history")).unwrap();
    let entries: Vec<&str> = history.lines().collect();
    assert_eq!(
        entries[..3],
        [
            "KEYS *",
            "SET fleet truck1 POINT 33 -112",
            "GET fleet truck1"
        ]
    );
    assert_eq!(entries.last(), Some(&"quit"));
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn terminal_without_a_writable_home_and_ctrl_c() {
    let s = TestServer::start(&[]);
    let dir = temp_dir("cli-nohome");
    let not_a_dir = dir.join("file");
    std::fs::write(&not_a_dir, "").unwrap();
    let port = s.port.to_string();
    let mut pty = Pty::spawn(&["-p", &port], &not_a_dir.join("home"));
    pty.expect(&format!("127.0.0.1:{port}> "), 1);
    pty.type_keys("PING\r");
    pty.expect("\"ping\":\"pong\"", 1);
    pty.type_keys("\x03");
    assert_eq!(pty.exit_code(), Some(130), "{}", pty.screen());
    let _ = std::fs::remove_dir_all(&dir);
}
