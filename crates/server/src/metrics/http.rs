//! The metrics listener's HTTP/1.1: `/metrics` (any method) gets the
//! exposition, chunked, gzipped when the request accepts gzip; every other
//! path gets Tile38's small HTML page (never a 404). Connections are kept
//! alive between scrapes, as Prometheus expects. With `metrics-tls yes`
//! each connection's TLS handshake runs first (`crate::tls::handshake`).

use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tile38_tls::reload::Reloading;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

use super::text::CONTENT_TYPE;
use crate::server::Server;
use crate::VERSION;

/// Largest request head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// An idle keep-alive connection is closed after this long.
const IDLE: Duration = Duration::from_secs(120);

pub async fn accept_loop(server: Arc<Server>, listener: TcpListener, tls: Option<Arc<Reloading>>) {
    loop {
        match listener.accept().await {
            Ok((stream, addr)) => {
                let (server, tls) = (server.clone(), tls.clone());
                tokio::spawn(async move {
                    match tls {
                        None => serve(server, stream).await,
                        Some(tls) => {
                            if let Some(s) =
                                crate::tls::handshake(&server, &tls, stream, addr).await
                            {
                                serve(server, s).await;
                            }
                        }
                    }
                });
            }
            Err(e) => {
                tracing::warn!("metrics accept: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// What the response depends on.
struct Request {
    metrics: bool,
    head_only: bool,
    gzip: bool,
    close: bool,
    /// Bytes taken by the head and body.
    consumed: usize,
}

/// Parses one request at the start of `buf`: `Ok(None)` if incomplete.
fn parse(buf: &[u8]) -> Result<Option<Request>, ()> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    let head_len = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() <= MAX_HEAD => return Ok(None),
        _ => return Err(()),
    };
    let path = req.path.unwrap_or("/");
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let mut r = Request {
        metrics: path == "/metrics",
        head_only: req.method == Some("HEAD"),
        gzip: false,
        close: req.version == Some(0),
        consumed: head_len,
    };
    for h in req.headers.iter() {
        let value = String::from_utf8_lossy(h.value).to_ascii_lowercase();
        if h.name.eq_ignore_ascii_case("accept-encoding") {
            r.gzip = value.split(',').any(|e| {
                let mut parts = e.split(';');
                let name = parts.next().unwrap_or("").trim();
                let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00"));
                name == "gzip" && !refused
            });
        } else if h.name.eq_ignore_ascii_case("connection") {
            if value.contains("close") {
                r.close = true;
            } else if value.contains("keep-alive") {
                r.close = false;
            }
        } else if h.name.eq_ignore_ascii_case("content-length") {
            let len: usize = value.trim().parse().map_err(|_| ())?;
            r.consumed = r.consumed.checked_add(len).ok_or(())?;
        }
    }
    Ok(Some(r))
}

/// Tile38's index page (130 bytes for version 1.37.0).
fn index_page() -> String {
    format!(
        "<html><head>\n<title>Tile38 {VERSION}</title></head>\n<body><h1>Tile38 {VERSION}</h1>\n\
         <p><a href='/metrics'>Metrics</a></p>\n</body></html>"
    )
}

fn respond(server: &Server, req: &Request, out: &mut Vec<u8>) {
    let date = httpdate::fmt_http_date(SystemTime::now());
    if !req.metrics {
        let page = index_page();
        let _ = write!(
            out,
            "HTTP/1.1 200 OK\r\nDate: {date}\r\nContent-Length: {}\r\n\
             Content-Type: text/html; charset=utf-8\r\n\r\n",
            page.len()
        );
        if !req.head_only {
            out.extend_from_slice(page.as_bytes());
        }
        return;
    }
    let text = super::scrape(server);
    let body = if req.gzip {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let _ = gz.write_all(text.as_bytes());
        gz.finish().unwrap_or_default()
    } else {
        text.into_bytes()
    };
    let encoding = if req.gzip {
        "Content-Encoding: gzip\r\n"
    } else {
        ""
    };
    let _ = write!(
        out,
        "HTTP/1.1 200 OK\r\n{encoding}Content-Type: {CONTENT_TYPE}\r\nDate: {date}\r\n\
         Transfer-Encoding: chunked\r\n\r\n"
    );
    if !req.head_only {
        if !body.is_empty() {
            let _ = write!(out, "{:x}\r\n", body.len());
            out.extend_from_slice(&body);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
    }
}

async fn serve(server: Arc<Server>, mut stream: impl AsyncRead + AsyncWrite + Unpin) {
    let mut buf = Vec::with_capacity(4096);
    let mut out = Vec::new();
    loop {
        let req = loop {
            match parse(&buf) {
                Ok(Some(req)) if buf.len() >= req.consumed => break req,
                Ok(_) => {}
                Err(()) => {
                    let _ = stream
                        .write_all(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
                        .await;
                    return;
                }
            }
            let mut chunk = [0u8; 4096];
            match tokio::time::timeout(IDLE, stream.read(&mut chunk)).await {
                Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                _ => return,
            }
        };
        buf.drain(..req.consumed);
        out.clear();
        respond(&server, &req, &mut out);
        if stream.write_all(&out).await.is_err() || req.close {
            let _ = stream.shutdown().await;
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_page_is_tile38s() {
        assert_eq!(index_page().len(), 130);
    }

    #[test]
    fn requests() {
        let r = parse(b"GET /metrics?x=1 HTTP/1.1\r\nAccept-Encoding: br, gzip\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(r.metrics && r.gzip && !r.close && !r.head_only);
        let r = parse(b"POST /nope HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc")
            .unwrap()
            .unwrap();
        assert!(!r.metrics && !r.gzip && r.close);
        assert_eq!(r.consumed, 45);
        let r = parse(b"GET /metrics HTTP/1.1\r\nAccept-Encoding: gzip;q=0\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(!r.gzip);
        assert!(parse(b"GET /metrics HTTP/1.1\r\nHost: x")
            .unwrap()
            .is_none());
        assert!(parse(b"\x01\x02 garbage\r\n\r\n").is_err());
    }
}
