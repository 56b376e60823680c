//! TLS for Tile38's wire protocol: settings (file paths, client
//! authentication, protocol versions) turned into rustls configurations.
//!
//! One crate so that the server (its TLS client port and the follower's
//! dial to its leader), `tile38-cli` and `tile38-benchmark` read
//! certificates, check key pairs and word their errors the same way.
//! No async runtime: callers wrap sockets with `tokio-rustls` (server,
//! benchmark) or `rustls::StreamOwned` (cli).
//!
//! * [`server_config`]: certificate chain + key, optional client
//!   verification against a CA (`tls-auth-clients yes|optional|no`),
//!   protocol versions (`tls-protocols "TLSv1.2 TLSv1.3"`).
//! * [`client_config`]: trust a CA file (else the public web roots), or
//!   nothing (`--insecure`); optionally present a client certificate.
//! * [`reload::Reloading`]: the server configuration, rebuilt when the
//!   files change on disk (a rotated Kubernetes Secret), checked at most
//!   once a second, on new connections only.
//!
//! The crypto provider is `ring`, as the webhook crate's HTTPS client uses.

pub mod reload;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use rustls;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};
use rustls::{SupportedProtocolVersion, ALL_VERSIONS};

/// The one crypto provider every configuration is built with: `ring`,
/// as webhook delivery's (deprecated in rustls 0.23.48 for lacking
/// post-quantum key exchange; aws-lc-rs would add a C/cmake build).
#[allow(deprecated)]
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Every certificate in a PEM file (a chain: leaf first).
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate in the file", path.display()));
    }
    Ok(certs)
}

/// The first private key (PKCS#8, PKCS#1 or SEC1) in a PEM file.
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// A trust store holding every certificate of a CA file.
fn roots(ca: &Path) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    for cert in load_certs(ca)? {
        store
            .add(cert)
            .map_err(|e| format!("{}: {e}", ca.display()))?;
    }
    Ok(store)
}

/// Redis's `tls-protocols`: versions separated by spaces or commas
/// (`"TLSv1.2 TLSv1.3"`); empty means both.
pub fn parse_protocols(text: &str) -> Result<Vec<&'static SupportedProtocolVersion>, String> {
    let mut out: Vec<&'static SupportedProtocolVersion> = Vec::new();
    for word in text.split([' ', ',']).filter(|w| !w.is_empty()) {
        let v = match word.to_ascii_lowercase().as_str() {
            "tlsv1.2" => &rustls::version::TLS12,
            "tlsv1.3" => &rustls::version::TLS13,
            _ => {
                return Err(format!(
                    "unsupported TLS protocol '{word}' (TLSv1.2, TLSv1.3)"
                ))
            }
        };
        if !out.iter().any(|o| o.version == v.version) {
            out.push(v);
        }
    }
    Ok(if out.is_empty() {
        ALL_VERSIONS.to_vec()
    } else {
        out
    })
}

/// `tls-auth-clients`: whether a client must present a certificate signed
/// by `tls-ca-cert-file`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    No,
    /// A certificate is verified when sent, not required.
    Optional,
    Yes,
}

impl ClientAuth {
    pub fn parse(text: &str) -> Option<ClientAuth> {
        match text.to_ascii_lowercase().as_str() {
            "no" => Some(ClientAuth::No),
            "optional" => Some(ClientAuth::Optional),
            "yes" => Some(ClientAuth::Yes),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ClientAuth::No => "no",
            ClientAuth::Optional => "optional",
            ClientAuth::Yes => "yes",
        }
    }
}

/// What the TLS client port serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Verifies client certificates; required unless `auth` is `No`.
    pub ca: Option<PathBuf>,
    pub auth: ClientAuth,
    pub protocols: String,
}

impl ServerFiles {
    /// The files whose change on disk means a reload.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        [Some(&self.cert), Some(&self.key), self.ca.as_ref()]
            .into_iter()
            .flatten()
            .map(PathBuf::as_path)
    }
}

/// Builds the server side; errors name the setting or file at fault.
pub fn server_config(files: &ServerFiles) -> Result<Arc<ServerConfig>, String> {
    let versions = parse_protocols(&files.protocols)?;
    let builder = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&versions)
        .map_err(|e| format!("tls-protocols: {e}"))?;
    let builder = match (files.auth, &files.ca) {
        (ClientAuth::No, _) => builder.with_no_client_auth(),
        (_, None) => {
            return Err("tls-auth-clients yes|optional needs tls-ca-cert-file".into());
        }
        (auth, Some(ca)) => {
            let verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots(ca)?), provider());
            let verifier = match auth {
                ClientAuth::Optional => verifier.allow_unauthenticated(),
                _ => verifier,
            };
            builder.with_client_cert_verifier(
                verifier
                    .build()
                    .map_err(|e| format!("tls-ca-cert-file: {e}"))?,
            )
        }
    };
    let config = builder
        .with_single_cert(load_certs(&files.cert)?, load_key(&files.key)?)
        .map_err(|e| format!("tls-cert-file/tls-key-file: {e}"))?;
    Ok(Arc::new(config))
}

/// What a client (a follower, the cli, the benchmark) trusts and presents.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientFiles {
    /// The CA the server's certificate must chain to; `None`: the public
    /// web roots.
    pub ca: Option<PathBuf>,
    /// A client certificate and its key, for mutual TLS.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// Accept any server certificate (tests, `tile38-cli --insecure`).
    pub insecure: bool,
}

/// Builds the client side.
pub fn client_config(files: &ClientFiles) -> Result<Arc<ClientConfig>, String> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let builder = if files.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyServer(provider())))
    } else {
        let store = match &files.ca {
            Some(ca) => roots(ca)?,
            None => RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            },
        };
        builder.with_root_certificates(store)
    };
    let config = match (&files.cert, &files.key) {
        (Some(cert), Some(key)) => builder
            .with_client_auth_cert(load_certs(cert)?, load_key(key)?)
            .map_err(|e| format!("client certificate: {e}"))?,
        (None, None) => builder.with_no_client_auth(),
        _ => return Err("a client certificate needs both its file and its key".into()),
    };
    Ok(Arc::new(config))
}

/// [`client_config`] from PEM bytes instead of files (a kubeconfig's
/// `certificate-authority-data`, `client-certificate-data` and
/// `client-key-data`): trust `ca` (else the public web roots) or anything
/// (`insecure`), present `cert_key` if given.
pub fn client_config_pem(
    ca: Option<&[u8]>,
    cert_key: Option<(&[u8], &[u8])>,
    insecure: bool,
) -> Result<Arc<ClientConfig>, String> {
    let certs = |pem: &[u8]| {
        CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("certificate: {e}"))
    };
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let builder = match (insecure, ca) {
        (true, _) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyServer(provider()))),
        (false, Some(ca)) => {
            let mut store = RootCertStore::empty();
            for cert in certs(ca)? {
                store
                    .add(cert)
                    .map_err(|e| format!("CA certificate: {e}"))?;
            }
            builder.with_root_certificates(store)
        }
        (false, None) => builder.with_root_certificates(RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        }),
    };
    let config = match cert_key {
        Some((cert, key)) => {
            let key = PrivateKeyDer::from_pem_slice(key).map_err(|e| format!("client key: {e}"))?;
            builder
                .with_client_auth_cert(certs(cert)?, key)
                .map_err(|e| format!("client certificate: {e}"))?
        }
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// The name a server's certificate is checked against (a DNS name or an
/// IP address).
pub fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(host.to_string()).map_err(|_| format!("invalid TLS server name '{host}'"))
}

/// `--insecure`: no chain or name check, signatures still verified (the
/// handshake itself stays sound).
#[derive(Debug)]
struct AnyServer(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyServer {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols() {
        assert_eq!(parse_protocols("").unwrap().len(), 2);
        let one = parse_protocols("TLSv1.3").unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].version, rustls::ProtocolVersion::TLSv1_3);
        assert_eq!(parse_protocols("tlsv1.2,TLSv1.3 TLSv1.2").unwrap().len(), 2);
        assert!(parse_protocols("TLSv1.1").unwrap_err().contains("TLSv1.1"));
    }

    #[test]
    fn auth_and_missing_files() {
        assert_eq!(ClientAuth::parse("OPTIONAL"), Some(ClientAuth::Optional));
        assert_eq!(ClientAuth::parse("maybe"), None);
        let files = ServerFiles {
            cert: "/nonexistent/cert.pem".into(),
            key: "/nonexistent/key.pem".into(),
            ca: None,
            auth: ClientAuth::Yes,
            protocols: String::new(),
        };
        assert!(server_config(&files)
            .unwrap_err()
            .contains("tls-ca-cert-file"));
        let files = ServerFiles {
            auth: ClientAuth::No,
            ..files
        };
        assert!(server_config(&files)
            .unwrap_err()
            .contains("/nonexistent/cert.pem"));
        let half = ClientFiles {
            cert: Some("c.pem".into()),
            ..Default::default()
        };
        assert!(client_config(&half).is_err());
        assert!(client_config(&ClientFiles::default()).is_ok());
        assert!(server_name("10.0.0.1").is_ok() && server_name("[::1]").is_ok());
    }
}
