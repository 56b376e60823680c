//! Kubernetes API credentials and the HTTPS client that uses them.
//! [`KubeCredentials::Infer`] takes, in order: in-cluster (the pod's
//! service account: `KUBERNETES_SERVICE_HOST`/`_PORT`, the token and CA
//! under [`SA_DIR`]); the kubeconfig file `KUBECONFIG` names (the first of
//! a `:` list); `~/.kube/config`. A kubeconfig's current context gives the
//! server, its CA (`certificate-authority[-data]`) or
//! `insecure-skip-tls-verify`, and a bearer token (`token`, `tokenFile`) or
//! a client certificate (`client-certificate[-data]`, `client-key[-data]`);
//! exec and auth-provider plugins are not supported. Token files are read
//! again on every request: a projected service-account token rotates.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use bytes::Bytes;
use http_body_util::Full;
use hyper::StatusCode;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use yaml_rust2::{Yaml, YamlLoader};

use crate::{http, KubeCredentials};

/// Where Kubernetes mounts the pod's service-account credentials.
pub const SA_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

#[derive(Clone, Debug)]
enum Token {
    None,
    Fixed(String),
    File(PathBuf),
}

/// An authenticated client of one API server.
#[derive(Clone)]
pub struct ApiClient {
    base: String,
    token: Token,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

/// TLS and authentication read from the credentials.
struct Parts {
    base: String,
    ca: Option<Vec<u8>>,
    insecure: bool,
    cert_key: Option<(Vec<u8>, Vec<u8>)>,
    token: Token,
}

impl ApiClient {
    pub fn new(creds: &KubeCredentials) -> Result<ApiClient, String> {
        let parts = match creds {
            KubeCredentials::InCluster => in_cluster()?,
            KubeCredentials::Kubeconfig(path) => kubeconfig(path)?,
            KubeCredentials::Infer => infer()?,
        };
        let cert_key = parts
            .cert_key
            .as_ref()
            .map(|(c, k)| (c.as_slice(), k.as_slice()));
        let tls = tile38_tls::client_config_pem(parts.ca.as_deref(), cert_key, parts.insecure)
            .map_err(|e| format!("kubernetes credentials: {e}"))?;
        let mut connector = HttpConnector::new();
        connector.enforce_http(false);
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(std::time::Duration::from_secs(2)));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config((*tls).clone())
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        Ok(ApiClient {
            base: parts.base.trim_end_matches('/').to_string(),
            token: parts.token,
            client: Client::builder(TokioExecutor::new()).build(https),
        })
    }

    /// `method path` with an optional JSON body of content type `ctype`.
    pub async fn call(
        &self,
        method: hyper::Method,
        path: &str,
        body: Option<(&str, &Value)>,
    ) -> Result<(StatusCode, Value), String> {
        let token = match &self.token {
            Token::None => None,
            Token::Fixed(t) => Some(t.clone()),
            Token::File(p) => Some(read_text(p)?.trim().to_string()),
        };
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("authorization", a.as_str())).collect();
        let uri = format!("{}{path}", self.base);
        let body = body.map(|(ctype, v)| (ctype, v.to_string().into_bytes()));
        http::send(&self.client, method, &uri, &headers, body)
            .await
            .map_err(|e| format!("kubernetes {uri}: {e}"))
    }
}

fn read_text(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn infer() -> Result<Parts, String> {
    if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() {
        return in_cluster();
    }
    if let Some(list) = std::env::var_os("KUBECONFIG") {
        if let Some(first) = std::env::split_paths(&list).find(|p| !p.as_os_str().is_empty()) {
            return kubeconfig(&first);
        }
    }
    match std::env::var_os("HOME") {
        Some(home) => kubeconfig(&Path::new(&home).join(".kube/config")),
        None => Err("kubernetes credentials: not in a cluster, no KUBECONFIG, no HOME".into()),
    }
}

fn in_cluster() -> Result<Parts, String> {
    let host = std::env::var("KUBERNETES_SERVICE_HOST")
        .map_err(|_| "kubernetes in-cluster: KUBERNETES_SERVICE_HOST is not set")?;
    let port = std::env::var("KUBERNETES_SERVICE_PORT").unwrap_or_else(|_| "443".into());
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host
    };
    let dir = Path::new(SA_DIR);
    let ca = std::fs::read(dir.join("ca.crt")).map_err(|e| format!("{SA_DIR}/ca.crt: {e}"))?;
    read_text(&dir.join("token"))?;
    Ok(Parts {
        base: format!("https://{host}:{port}"),
        ca: Some(ca),
        insecure: false,
        cert_key: None,
        token: Token::File(dir.join("token")),
    })
}

/// The entry of `list` (`clusters`, `users`, `contexts`) named `name`.
fn named<'a>(doc: &'a Yaml, list: &str, key: &str, name: &str) -> Result<&'a Yaml, String> {
    doc[list]
        .as_vec()
        .and_then(|v| v.iter().find(|e| e["name"].as_str() == Some(name)))
        .map(|e| &e[key])
        .ok_or_else(|| format!("kubeconfig: no {list} entry named {name:?}"))
}

/// `FIELD-data` (base64) or the file `FIELD` names (relative to the
/// kubeconfig's directory).
fn data_or_file(entry: &Yaml, field: &str, dir: &Path) -> Result<Option<Vec<u8>>, String> {
    if let Some(b64) = entry[format!("{field}-data").as_str()].as_str() {
        return B64
            .decode(b64.trim())
            .map(Some)
            .map_err(|e| format!("kubeconfig {field}-data: {e}"));
    }
    match entry[field].as_str() {
        Some(p) => std::fs::read(dir.join(p))
            .map(Some)
            .map_err(|e| format!("kubeconfig {field} {p}: {e}")),
        None => Ok(None),
    }
}

fn kubeconfig(path: &Path) -> Result<Parts, String> {
    let text = read_text(path)?;
    let docs = YamlLoader::load_from_str(&text)
        .map_err(|e| format!("kubeconfig {}: {e}", path.display()))?;
    let doc = docs.first().ok_or("kubeconfig: empty")?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let current = doc["current-context"]
        .as_str()
        .ok_or("kubeconfig: no current-context")?;
    let ctx = named(doc, "contexts", "context", current)?;
    let cluster_name = ctx["cluster"]
        .as_str()
        .ok_or("kubeconfig: context without cluster")?;
    let cluster = named(doc, "clusters", "cluster", cluster_name)?;
    let user = match ctx["user"].as_str() {
        Some(u) => named(doc, "users", "user", u)?,
        None => &Yaml::BadValue,
    };
    let token = match (user["token"].as_str(), user["tokenFile"].as_str()) {
        (Some(t), _) => Token::Fixed(t.to_string()),
        (None, Some(f)) => Token::File(dir.join(f)),
        _ => Token::None,
    };
    let cert = data_or_file(user, "client-certificate", dir)?;
    let key = data_or_file(user, "client-key", dir)?;
    Ok(Parts {
        base: cluster["server"]
            .as_str()
            .ok_or("kubeconfig: cluster without server")?
            .to_string(),
        ca: data_or_file(cluster, "certificate-authority", dir)?,
        insecure: cluster["insecure-skip-tls-verify"].as_bool() == Some(true),
        cert_key: cert.zip(key),
        token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, extra: &[(&str, &[u8])]) -> Result<Parts, String> {
        let dir =
            std::env::temp_dir().join(format!("elect-kc-{}-{}", std::process::id(), text.len()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, data) in extra {
            std::fs::write(dir.join(name), data).unwrap();
        }
        std::fs::write(dir.join("config"), text).unwrap();
        let r = kubeconfig(&dir.join("config"));
        let _ = std::fs::remove_dir_all(&dir);
        r
    }

    #[test]
    fn reads_the_flow_style_of_up_sh() {
        let p = parse(
            "apiVersion: v1\nkind: Config\n\
             clusters: [{name: up, cluster: {server: \"https://127.0.0.1:6443\", insecure-skip-tls-verify: true}}]\n\
             users: [{name: admin, user: {token: \"abc\"}}]\n\
             contexts: [{name: up, context: {cluster: up, user: admin}}]\ncurrent-context: up\n",
            &[],
        )
        .unwrap();
        assert_eq!(p.base, "https://127.0.0.1:6443");
        assert!(p.insecure && p.ca.is_none() && p.cert_key.is_none());
        assert!(matches!(p.token, Token::Fixed(ref t) if t == "abc"));
    }

    #[test]
    fn reads_block_style_with_files_and_data() {
        let text = "clusters:\n- name: c\n  cluster:\n    server: https://k:443\n    certificate-authority: ca.pem\n\
                    users:\n- name: u\n  user:\n    tokenFile: tok\n    client-certificate-data: Y2VydA==\n    client-key-data: a2V5\n\
                    contexts:\n- name: other\n  context: {cluster: nope, user: u}\n- name: x\n  context:\n    cluster: c\n    user: u\n\
                    current-context: x\n";
        let p = parse(text, &[("ca.pem", b"CA"), ("tok", b"t0k\n")]).unwrap();
        assert_eq!(p.ca.as_deref(), Some(&b"CA"[..]));
        assert_eq!(p.cert_key, Some((b"cert".to_vec(), b"key".to_vec())));
        assert!(matches!(p.token, Token::File(ref f) if f.ends_with("tok")));
    }

    #[test]
    fn says_what_is_wrong() {
        let err = |t: &str| parse(t, &[]).err().unwrap();
        assert!(err("current-context: x\n").contains("no contexts entry named \"x\""));
        assert!(err("{").contains("kubeconfig"));
        assert!(err("contexts: []\n").contains("current-context"));
        let no_server = "clusters: [{name: c, cluster: {}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n";
        assert!(err(no_server).contains("without server"));
    }
}
