//! A tiny HTTP/1.1 server (tokio + httparse, keep-alive) that records
//! every request and answers with the status set for its path (200 by
//! default): the real network peer of the HTTP delivery tests.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

#[derive(Clone, Debug)]
pub struct Req {
    pub path: String,
    /// Header names as sent (case kept), in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Default)]
struct State {
    got: Vec<Req>,
    status: HashMap<String, u16>,
}

pub struct Receiver {
    pub port: u16,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    /// Listens on `port` (0: any).
    pub async fn start(port: u16) -> Receiver {
        Receiver::start_with(port, None).await
    }

    /// Listens on any port, over TLS with `tls`.
    pub async fn start_tls(tls: tokio_rustls::TlsAcceptor) -> Receiver {
        Receiver::start_with(0, Some(tls)).await
    }

    async fn start_with(port: u16, tls: Option<tokio_rustls::TlsAcceptor>) -> Receiver {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        let task = tokio::spawn(async move {
            let mut conns = JoinSet::new();
            loop {
                let (sock, _) = listener.accept().await.unwrap();
                let (st, tls) = (st.clone(), tls.clone());
                conns.spawn(async move {
                    match tls {
                        Some(tls) => {
                            if let Ok(s) = tls.accept(sock).await {
                                serve(s, st).await
                            }
                        }
                        None => serve(sock, st).await,
                    }
                });
            }
        });
        Receiver { port, state, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn set_status(&self, path: &str, status: u16) {
        self.state.lock().status.insert(path.to_string(), status);
    }

    pub fn requests(&self) -> Vec<Req> {
        self.state.lock().got.clone()
    }

    /// The bodies received on `path`, in arrival order.
    pub fn bodies(&self, path: &str) -> Vec<String> {
        let st = self.state.lock();
        st.got
            .iter()
            .filter(|r| r.path == path)
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .collect()
    }

    pub fn count(&self, path: &str) -> usize {
        self.state
            .lock()
            .got
            .iter()
            .filter(|r| r.path == path)
            .count()
    }
}

async fn serve(mut sock: impl AsyncRead + AsyncWrite + Unpin, state: Arc<Mutex<State>>) {
    let mut buf = Vec::new();
    loop {
        let Some((req, used)) = parse(&buf) else {
            let mut chunk = [0u8; 8192];
            match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
            continue;
        };
        buf.drain(..used);
        let status = {
            let mut st = state.lock();
            let status = st.status.get(&req.path).copied().unwrap_or(200);
            st.got.push(req);
            status
        };
        let reply = format!("HTTP/1.1 {status} X\r\nContent-Length: 2\r\n\r\nok");
        if sock.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// One complete request at the start of `buf`, and its length.
fn parse(buf: &[u8]) -> Option<(Req, usize)> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut req = httparse::Request::new(&mut headers);
    let httparse::Status::Complete(head) = req.parse(buf).ok()? else {
        return None;
    };
    let headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, v)| v.parse().unwrap());
    if buf.len() < head + len {
        return None;
    }
    let r = Req {
        path: req.path.unwrap_or("").to_string(),
        headers,
        body: buf[head..head + len].to_vec(),
    };
    Some((r, head + len))
}

/// Runs `openssl` with the words of `cmd` in `dir`.
fn openssl(dir: &std::path::Path, cmd: &str) {
    let st = std::process::Command::new("openssl")
        .args(cmd.split(' '))
        .current_dir(dir)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(st.success(), "openssl {cmd}");
}

/// A CA and a `localhost`/127.0.0.1 certificate it signed, made with the
/// openssl command line in `dir`; returns the acceptor and the CA file.
pub fn tls_setup(dir: &std::path::Path) -> (tokio_rustls::TlsAcceptor, std::path::PathBuf) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    openssl(
        dir,
        &format!("req -x509 {ec} -keyout ca.key -out ca.pem -days 1 -subj /CN=t38-test-ca"),
    );
    openssl(
        dir,
        &format!("req {ec} -keyout leaf.key -out leaf.csr -subj /CN=localhost"),
    );
    std::fs::write(
        dir.join("ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .unwrap();
    openssl(dir, "x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out leaf.pem -days 1 -extfile ext");
    let certs: Vec<CertificateDer> = CertificateDer::pem_file_iter(dir.join("leaf.pem"))
        .unwrap()
        .map(|c| c.unwrap())
        .collect();
    let key = PrivateKeyDer::from_pem_file(dir.join("leaf.key")).unwrap();
    #[allow(deprecated)] // ring's provider, as the client uses (see send/http.rs)
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    (
        tokio_rustls::TlsAcceptor::from(Arc::new(cfg)),
        dir.join("ca.pem"),
    )
}
