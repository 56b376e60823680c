//! `http://` and `https://` endpoints: Tile38's `http.Post` (spec §9.1).
//! `POST <url as given>` with, in Go's order and casing, `Host`,
//! `User-Agent: Go-http-client/1.1`, `Content-Length`, `Content-Type:
//! application/json`, `Accept-Encoding: gzip`; the body is the message
//! bytes; 200, 201 and 202 are success; the caller bounds it at 5 s.
//!
//! Built on hyper 1 and hyper-util's pooled client (keep-alive, one pool
//! for every hook) rather than reqwest, which is the same stack plus an
//! `Accept: */*` header it always adds (Tile38 sends none) and features we
//! would not use. HTTPS uses rustls with the `ring` provider (no cmake or
//! C++ toolchain, unlike aws-lc-rs) and the bundled Mozilla roots
//! (webpki-roots: the Docker image has no system CA store) plus
//! [`crate::Config::ca_file`] for private CAs.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderValue, ACCEPT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, HOST, USER_AGENT};
use hyper::{Request, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use super::{chain, SendError};

pub(crate) struct HttpClient {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

/// The bundled roots plus the PEM certificates of `ca_file`.
fn tls_config(ca_file: Option<&Path>) -> io::Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = ca_file {
        let certs = CertificateDer::pem_file_iter(path).map_err(io::Error::other)?;
        for cert in certs {
            roots
                .add(cert.map_err(io::Error::other)?)
                .map_err(io::Error::other)?;
        }
    }
    // rustls deprecates ring's provider in favour of aws-lc-rs (post-quantum
    // key exchange); aws-lc-rs needs cmake and a long C build, which CI on
    // two cores cannot afford for a webhook client.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

impl HttpClient {
    pub fn new(ca_file: Option<&Path>) -> io::Result<HttpClient> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config(ca_file)?)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .http1_title_case_headers(true)
            .pool_idle_timeout(Duration::from_secs(30))
            .build(https);
        Ok(HttpClient { client })
    }

    pub async fn post(&self, url: &str, body: &Bytes) -> Result<(), SendError> {
        let uri: Uri = url.parse()?;
        // Go's Host is the URL's host[:port], without user info.
        let authority = uri.authority().map_or("", |a| a.as_str());
        let host = authority.rsplit('@').next().unwrap_or(authority);
        let req = Request::post(uri.clone())
            .header(HOST, HeaderValue::from_str(host)?)
            .header(USER_AGENT, "Go-http-client/1.1")
            .header(CONTENT_LENGTH, body.len())
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT_ENCODING, "gzip")
            .body(Full::new(body.clone()))?;
        let resp = self.client.request(req).await.map_err(|e| chain(&e))?;
        let status = resp.status().as_u16();
        // Read the body out so the connection goes back to the pool.
        resp.into_body().collect().await?;
        match status {
            200..=202 => Ok(()),
            s => Err(SendError::Failed(format!("status {s}"))),
        }
    }
}
