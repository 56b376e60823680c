//! TLS on the client port and on the replication link, against the real
//! binaries: `redis-cli --tls` (Debian's redis-tools) and `curl` (https)
//! as clients, mutual TLS, certificate reload, a follower over TLS and
//! the certificates it refuses. Certificates are made by each test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use tile38::probe::free_port;
use tile38::{temp_dir, wait_until, TestServer};

mod common {
    pub mod certs;
    pub mod replication;
}
use common::certs::{Ca, Leaf};
use common::replication::{cmd, converge, follow, pipeline, set_points, WAIT};

/// A CA and a server certificate for 127.0.0.1 and localhost.
struct Pki {
    dir: PathBuf,
    ca: Ca,
    cert: PathBuf,
    key: PathBuf,
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn pki() -> Pki {
    let dir = temp_dir("tls");
    let ca = Ca::new(&dir, "main");
    let (cert, key) = ca.issue("server", &["127.0.0.1", "localhost"], Leaf::Server);
    Pki { dir, ca, cert, key }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Flags serving a TLS port beside the plain one.
fn tls_flags<'a>(port: &'a str, p: &'a Pki) -> Vec<&'a str> {
    vec![
        "--tls-port",
        port,
        "--tls-cert-file",
        s(&p.cert),
        "--tls-key-file",
        s(&p.key),
    ]
}

/// `redis-cli --tls -p port <tls args> <command>`.
fn redis_cli(port: u16, tls: &[&str], command: &[&str]) -> Output {
    Command::new("redis-cli")
        .args(["--tls", "-h", "127.0.0.1", "-p", &port.to_string()])
        .args(tls)
        .args(command)
        .output()
        .expect("redis-cli (Debian's redis-tools) with TLS")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn logged(server: &TestServer, what: &str) -> bool {
    wait_until(Duration::from_secs(10), || {
        server.logs().iter().any(|l| l.contains(what))
    })
}

#[test]
fn redis_cli_and_https_over_tls_beside_the_plain_port() {
    let p = pki();
    let port = free_port().to_string();
    let server = TestServer::start(&tls_flags(&port, &p));
    let tls = port.parse().unwrap();
    assert!(logged(
        &server,
        &format!("Ready to accept TLS connections at 127.0.0.1:{port}")
    ));
    let ca = ["--cacert", s(p.ca.file().as_path())].map(str::to_string);
    let ca: Vec<&str> = ca.iter().map(String::as_str).collect();
    let set = redis_cli(
        tls,
        &ca,
        &["SET", "fleet", "truck1", "POINT", "33.5", "-112.25"],
    );
    assert_eq!(text(&set).trim(), "OK", "{}", text(&set));
    let get = redis_cli(tls, &ca, &["GET", "fleet", "truck1", "POINT"]);
    assert_eq!(text(&get).trim(), "33.5\n-112.25");
    // The plain port is unchanged and sees the same data.
    assert_eq!(
        cmd(&server, &["GET", "fleet", "truck1", "POINT"]),
        "*2\r\n$4\r\n33.5\r\n$7\r\n-112.25\r\n"
    );
    // HTTP over the same TLS port.
    let out = Command::new("curl")
        .args(["-sS", "--cacert", s(&p.ca.file())])
        .arg(format!("https://localhost:{port}/GET+fleet+truck1+POINT"))
        .output()
        .unwrap();
    let body = text(&out);
    assert!(
        body.contains(r#""point":{"lat":33.5,"lon":-112.25}"#),
        "{body}"
    );
    // Settings read back by name, not listed among Tile38's.
    assert_eq!(
        cmd(&server, &["CONFIG", "GET", "tls-port"]),
        format!("*2\r\n$8\r\ntls-port\r\n${}\r\n{port}\r\n", port.len())
    );
    assert!(!cmd(&server, &["CONFIG", "GET", "*"]).contains("tls-"));
    let bad = cmd(&server, &["CONFIG", "SET", "tls-auth-clients", "maybe"]);
    assert!(bad.contains("Invalid argument 'maybe'"), "{bad}");
}

#[test]
fn a_stalled_or_plaintext_handshake_affects_no_one_else() {
    let p = pki();
    let port = free_port();
    let server = TestServer::start(&tls_flags(&port.to_string(), &p));
    // One client connects and says nothing; another speaks plain RESP.
    let _silent = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut plain = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    std::io::Write::write_all(&mut plain, b"*1\r\n$4\r\nPING\r\n").unwrap();
    assert!(logged(&server, "tls: handshake with 127.0.0.1:"));
    let ping = redis_cli(port, &["--cacert", s(&p.ca.file())], &["PING"]);
    assert_eq!(text(&ping).trim(), "PONG");
}

#[test]
fn tls_settings_from_the_environment() {
    let p = pki();
    let port = free_port().to_string();
    let env = [
        ("TILE38_CONFIG_TLS_PORT", port.as_str()),
        ("TILE38_CONFIG_TLS_CERT_FILE", s(&p.cert)),
        ("TILE38_CONFIG_TLS_KEY_FILE", s(&p.key)),
    ];
    let _server = TestServer::start_with_env(&env, &[]);
    let ping = redis_cli(
        port.parse().unwrap(),
        &["--cacert", s(&p.ca.file())],
        &["PING"],
    );
    assert_eq!(text(&ping).trim(), "PONG");
}

/// `tile38-cli --tls <tls args> -p port PING`.
fn tile38_cli(port: u16, tls: &[&str]) -> Output {
    Command::new(tile38::bin_path("tile38-cli"))
        .args([
            "--tls",
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "--resp",
        ])
        .args(tls)
        .arg("PING")
        .output()
        .unwrap()
}

/// Mutual TLS: a client with no certificate, or one from another CA, is
/// refused, the client says why and the server logs it. With TLS 1.3 the
/// client learns it only when it reads after its handshake (redis-cli
/// then just reports a closed connection; tile38-cli names the alert);
/// with TLS 1.2 inside the handshake (redis-cli names the alert).
#[test]
fn mutual_tls_refuses_a_missing_or_foreign_client_certificate() {
    let p = pki();
    let (cert, key) = p.ca.issue("client", &["client"], Leaf::Client);
    let other = Ca::new(&p.dir, "other");
    let (bad_cert, bad_key) = other.issue("stranger", &["stranger"], Leaf::Client);
    let ca = p.ca.file();
    let with = |c: &Path, k: &Path| [s(&ca), s(c), s(k)].map(str::to_string);
    let (good, foreign) = (with(&cert, &key), with(&bad_cert, &bad_key));
    let args = |f: &[String; 3]| {
        [
            "--cacert".into(),
            f[0].clone(),
            "--cert".into(),
            f[1].clone(),
            "--key".into(),
            f[2].clone(),
        ]
    };
    for protocols in ["TLSv1.3", "TLSv1.2"] {
        let port = free_port();
        let ps = port.to_string();
        let mut flags = tls_flags(&ps, &p);
        flags.extend(["--tls-auth-clients", "yes", "--tls-ca-cert-file", s(&ca)]);
        flags.extend(["--tls-protocols", protocols]);
        let server = TestServer::start(&flags);
        let (good, foreign) = (args(&good), args(&foreign));
        let good: Vec<&str> = good.iter().map(String::as_str).collect();
        let foreign: Vec<&str> = foreign.iter().map(String::as_str).collect();
        assert_eq!(text(&redis_cli(port, &good, &["PING"])).trim(), "PONG");
        assert_eq!(text(&tile38_cli(port, &good)).trim(), "PONG");

        let none = &["--cacert", s(&ca)];
        let (r, t) = (redis_cli(port, none, &["PING"]), tile38_cli(port, none));
        assert!(!text(&r).contains("PONG"), "{}", text(&r));
        assert!(text(&t).contains("CertificateRequired"), "{}", text(&t));
        assert_eq!(t.status.code(), Some(2));
        if protocols == "TLSv1.2" {
            assert!(
                text(&r).contains("alert certificate required"),
                "{}",
                text(&r)
            );
        }
        assert!(logged(&server, "failed: peer sent no certificates"));

        let (r, t) = (
            redis_cli(port, &foreign, &["PING"]),
            tile38_cli(port, &foreign),
        );
        assert!(!text(&r).contains("PONG"), "{}", text(&r));
        assert!(text(&t).contains("UnknownCA"), "{}", text(&t));
        if protocols == "TLSv1.2" {
            assert!(text(&r).contains("alert unknown ca"), "{}", text(&r));
        }
        assert!(logged(&server, "invalid peer certificate: UnknownIssuer"));
    }
}

#[test]
fn a_certificate_replaced_on_disk_is_served_without_a_restart() {
    let p = pki();
    let port = free_port();
    let _server = TestServer::start(&tls_flags(&port.to_string(), &p));
    let next = Ca::new(&p.dir, "next");
    let trusts_next = || {
        let ping = redis_cli(port, &["--cacert", s(&next.file())], &["PING"]);
        text(&ping).trim() == "PONG"
    };
    assert!(!trusts_next(), "the old certificate is not the next CA's");
    // Rotated in place, under the same names.
    next.issue("server", &["127.0.0.1"], Leaf::Server);
    assert!(wait_until(Duration::from_secs(10), trusts_next));
    let old = redis_cli(port, &["--cacert", s(&p.ca.file())], &["PING"]);
    assert_ne!(text(&old).trim(), "PONG");
}

/// A leader serving TLS on `tls_port` with `cert`/`key`.
fn leader(tls_port: u16, cert: &Path, key: &Path) -> TestServer {
    TestServer::start(&[
        "--tls-port",
        &tls_port.to_string(),
        "--tls-cert-file",
        s(cert),
        "--tls-key-file",
        s(key),
    ])
}

fn info_replication(s: &TestServer) -> String {
    cmd(s, &["INFO", "replication"])
}

#[test]
fn a_follower_catches_up_and_streams_over_tls() {
    let p = pki();
    let tls_port = free_port();
    let leader = leader(tls_port, &p.cert, &p.key);
    pipeline(&leader, &set_points("fleet", 0, 500));
    let ca = p.ca.file();
    let follower = TestServer::start(&["--leader-tls", "yes", "--leader-tls-ca-cert-file", s(&ca)]);
    follow(&follower, tls_port);
    converge(&leader, &follower);
    // Keeps streaming.
    pipeline(&leader, &set_points("fleet", 500, 200));
    converge(&leader, &follower);
    assert!(info_replication(&follower).contains("master_link_status:up"));
    assert_eq!(
        cmd(&follower, &["CONFIG", "GET", "leader-tls"]),
        "*2\r\n$10\r\nleader-tls\r\n$3\r\nyes\r\n"
    );
}

/// A follower streaming from its leader over TLS, whose leader comes
/// back with a certificate it must refuse: INFO and the log say why, and
/// so does FOLLOW.
fn refused(leaf: Leaf, names: &[&str], why: &str) {
    let p = pki();
    let tls_port = free_port();
    let dir = temp_dir("leader");
    let flags = |cert: &Path, key: &Path| {
        let v = [tls_port.to_string(), s(cert).into(), s(key).into()];
        let args = [
            "--tls-port",
            &v[0],
            "--tls-cert-file",
            &v[1],
            "--tls-key-file",
            &v[2],
        ];
        TestServer::start_in(&dir, &args)
    };
    let leader = flags(&p.cert, &p.key);
    pipeline(&leader, &set_points("fleet", 0, 50));
    let ca = p.ca.file();
    let follower = TestServer::start(&["--leader-tls", "yes", "--leader-tls-ca-cert-file", s(&ca)]);
    follow(&follower, tls_port);
    converge(&leader, &follower);
    leader.terminate();
    let (cert, key) = p.ca.issue("leader", names, leaf);
    let _leader = flags(&cert, &key);
    let mut info = String::new();
    let said = wait_until(WAIT, || {
        info = info_replication(&follower);
        info.contains("master_link_error:") && info.contains(why)
    });
    assert!(said, "{info}");
    assert!(info.contains("master_link_status:down"));
    assert!(logged(&follower, why));
    // A server that never followed it is refused by FOLLOW itself.
    let fresh = TestServer::start(&["--leader-tls", "yes", "--leader-tls-ca-cert-file", s(&ca)]);
    let refused = cmd(&fresh, &["FOLLOW", "127.0.0.1", &tls_port.to_string()]);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        refused.contains("cannot follow: tls handshake") && refused.contains(why),
        "{refused}"
    );
}

#[test]
fn a_follower_refuses_an_expired_leader_certificate() {
    refused(Leaf::ExpiredServer, &["127.0.0.1"], "expired");
}

#[test]
fn a_follower_refuses_a_certificate_for_another_host() {
    refused(Leaf::Server, &["elsewhere.example"], "not valid for name");
}

/// `tls-port` equal to `-p`: the one port speaks TLS only (the harness
/// always passes `-p 0`, so this server is started by hand).
#[test]
fn tls_port_equal_to_the_port_replaces_plain_tcp() {
    use std::io::{BufRead, BufReader, Read, Write};
    let p = pki();
    let port = free_port().to_string();
    let dir = temp_dir("tls-only");
    let mut child = Command::new(tile38::bin_path("tile38-server"))
        .args(["-h", "127.0.0.1", "-p", &port, "-d", s(&dir)])
        .args(tls_flags(&port, &p))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let ready = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|l| l.contains("Ready to accept connections"));
    assert!(ready);
    let ping = redis_cli(
        port.parse().unwrap(),
        &["--cacert", s(&p.ca.file())],
        &["PING"],
    );
    assert_eq!(text(&ping).trim(), "PONG");
    // Plain RESP gets no reply: the connection is closed.
    let mut plain = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    plain.write_all(b"*1\r\n$4\r\nPING\r\n").unwrap();
    let mut got = Vec::new();
    let _ = plain.read_to_end(&mut got);
    assert!(!String::from_utf8_lossy(&got).contains("PONG"), "{got:?}");
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `metrics-tls yes`: scrapes are https, with the client port's
/// certificate.
#[test]
fn metrics_over_https() {
    let p = pki();
    let (port, metrics) = (free_port().to_string(), free_port());
    let addr = format!("127.0.0.1:{metrics}");
    let mut flags = tls_flags(&port, &p);
    flags.extend(["--metrics-addr", &addr, "--metrics-tls", "yes"]);
    let server = TestServer::start(&flags);
    assert!(logged(
        &server,
        &format!("Metrics at https://{addr}/metrics")
    ));
    let scrape = Command::new("curl")
        .args(["-sS", "--cacert", s(&p.ca.file())])
        .arg(format!("https://{addr}/metrics"))
        .output()
        .unwrap();
    assert!(text(&scrape).contains("# TYPE "), "{}", text(&scrape));
    let plain = Command::new("curl")
        .arg(format!("http://{addr}/metrics"))
        .output()
        .unwrap();
    assert!(!text(&plain).contains("# TYPE "));
}
