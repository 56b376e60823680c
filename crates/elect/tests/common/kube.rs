//! A real kube-apiserver for the Lease backend's tests
//! (`../shared/k8s/up.sh`: its own etcd, an admin token, a kubeconfig),
//! admin calls through curl, and a ServiceAccount token limited by RBAC to
//! what the elector needs.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use super::{free_port, TempDir};

/// `../shared/k8s` (`TILE38_SHARED` overrides `../shared`), if its
/// kube-apiserver is there; otherwise a loud "skipped" line.
pub fn k8s_dir() -> Option<PathBuf> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let shared = std::env::var_os("TILE38_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("../shared"));
    let found = [shared.join("k8s"), PathBuf::from("/work/shared/k8s")]
        .into_iter()
        .find(|d| d.join("kube-apiserver").exists() && d.join("up.sh").exists());
    if found.is_none() {
        eprintln!("SKIPPED: no ../shared/k8s/kube-apiserver (set TILE38_SHARED); Lease backend not tested");
    }
    found
}

/// A running kube-apiserver (and its etcd), stopped when dropped.
pub struct Kube {
    pub dir: TempDir,
    pub api: String,
    pub port: u16,
    admin: String,
}

impl Kube {
    pub fn start() -> Option<Kube> {
        let k8s = k8s_dir()?;
        super::etcd_bin()?;
        let dir = TempDir::new("kube");
        // up.sh takes the etcd port and the next one (peers).
        let (etcd, api) = loop {
            let p = free_port();
            if std::net::TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
                break (p, free_port());
            }
        };
        let out = Command::new(k8s.join("up.sh"))
            .arg(&dir.0)
            .args([etcd.to_string(), api.to_string()])
            .output()
            .expect("run up.sh");
        let kube = Kube {
            admin: std::fs::read_to_string(dir.0.join("token"))
                .unwrap_or_default()
                .trim()
                .to_string(),
            dir,
            api: format!("https://127.0.0.1:{api}"),
            port: api,
        };
        assert!(
            out.status.success(),
            "up.sh: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(kube)
    }

    /// An admin request; returns the HTTP status and the JSON body.
    pub fn admin(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        curl(
            &self.api,
            &self.admin,
            method,
            path,
            body,
            "application/json",
        )
    }

    /// Creates `obj` at `path`, asserting success.
    pub fn create(&self, path: &str, obj: Value) {
        let (status, v) = self.admin("POST", path, Some(obj));
        assert!(status == 201, "POST {path}: {status} {v}");
    }

    /// Namespace `ns` with the Lease `lease` (no holder), a ServiceAccount
    /// bound to the elector's Role, pods `pods`; returns a kubeconfig for
    /// that account's token.
    pub fn setup(&self, ns: &str, lease: &str, pods: &[&str]) -> PathBuf {
        self.create("/api/v1/namespaces", json!({"metadata": {"name": ns}}));
        let base = format!("/api/v1/namespaces/{ns}");
        self.create(
            &format!("/apis/coordination.k8s.io/v1/namespaces/{ns}/leases"),
            json!({"metadata": {"name": lease}, "spec": {}}),
        );
        self.create(
            &format!("{base}/serviceaccounts"),
            json!({"metadata": {"name": "tile38"}}),
        );
        let rbac = format!("/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}");
        self.create(&format!("{rbac}/roles"), role(lease, pods));
        self.create(
            &format!("{rbac}/rolebindings"),
            json!({"metadata": {"name": "tile38-elector"},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "tile38-elector"},
                   "subjects": [{"kind": "ServiceAccount", "name": "tile38", "namespace": ns}]}),
        );
        for pod in pods {
            self.create(
                &format!("{base}/pods"),
                json!({"metadata": {"name": pod, "labels": {"app": "tile38"}},
                       "spec": {"serviceAccountName": "tile38", "automountServiceAccountToken": false,
                                "containers": [{"name": "tile38", "image": "tile38:test"}]}}),
            );
        }
        let token = self.token(ns, "tile38");
        let path = self.dir.0.join(format!("{ns}.kubeconfig"));
        std::fs::write(&path, kubeconfig(&self.api, &token)).unwrap();
        path
    }

    /// A fresh token (one hour) of the ServiceAccount `sa` in `ns`, as the
    /// kubelet projects into a pod.
    pub fn token(&self, ns: &str, sa: &str) -> String {
        let (status, v) = self.admin(
            "POST",
            &format!("/api/v1/namespaces/{ns}/serviceaccounts/{sa}/token"),
            Some(json!({"spec": {"expirationSeconds": 3600}})),
        );
        assert_eq!(status, 201, "token request: {v}");
        v["status"]["token"].as_str().unwrap().to_string()
    }

    /// The CA that signed the API server's serving certificate (up.sh's
    /// `apiserver.crt` holds the certificate and its CA; it names
    /// 127.0.0.1), what a pod finds in `ca.crt`.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.0.join("certs/apiserver.crt")
    }
}

/// The elector's RBAC exactly as the chart grants it
/// (`deploy/chart/templates/failover-rbac.yaml`): the one Lease (`get`,
/// `update`, `patch`) and the member pods by name (`get`, `patch`).
pub fn role(lease: &str, pods: &[&str]) -> Value {
    json!({"metadata": {"name": "tile38-elector"}, "rules": [
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
         "resourceNames": [lease], "verbs": ["get", "update", "patch"]},
        {"apiGroups": [""], "resources": ["pods"], "resourceNames": pods, "verbs": ["get", "patch"]},
    ]})
}

/// A copy of the kubeconfig `config` pointing at `127.0.0.1:port` (a
/// relay in front of the API server).
pub fn via_port(config: &Path, port: u16) -> PathBuf {
    let text = std::fs::read_to_string(config).unwrap();
    let server = text
        .lines()
        .find(|l| l.trim_start().starts_with("server:"))
        .unwrap();
    let moved = text.replace(server, &format!("    server: https://127.0.0.1:{port}"));
    let path = config.with_extension(format!("via{port}"));
    std::fs::write(&path, moved).unwrap();
    path
}

/// A copy of the kubeconfig `config` that verifies the API server against
/// the CA file `ca` instead of skipping verification.
pub fn with_ca(config: &Path, ca: &Path, tag: &str) -> PathBuf {
    let text = std::fs::read_to_string(config).unwrap().replace(
        "insecure-skip-tls-verify: true",
        &format!("certificate-authority: {}", ca.display()),
    );
    let path = config.with_extension(tag);
    std::fs::write(&path, text).unwrap();
    path
}

fn kubeconfig(server: &str, token: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: t\n  cluster:\n    server: {server}\n    \
         insecure-skip-tls-verify: true\nusers:\n- name: sa\n  user:\n    token: {token}\n\
         contexts:\n- name: t\n  context:\n    cluster: t\n    user: sa\ncurrent-context: t\n"
    )
}

fn curl(
    api: &str,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
    ctype: &str,
) -> (u16, Value) {
    let mut cmd = Command::new("curl");
    cmd.args(["-sk", "-m", "10", "-X", method, "-w", "\n%{http_code}"])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args(["-H", &format!("Content-Type: {ctype}")]);
    if let Some(b) = body {
        cmd.args(["--data-binary", &b.to_string()]);
    }
    let out = cmd.arg(format!("{api}{path}")).output().expect("curl");
    let text = String::from_utf8_lossy(&out.stdout);
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (
        code.trim().parse().unwrap_or(0),
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

impl Drop for Kube {
    fn drop(&mut self) {
        // Stop the two processes up.sh started for this test (their ids).
        let pids = std::fs::read_to_string(self.dir.0.join("pids")).unwrap_or_default();
        for pid in pids.split_whitespace() {
            let _ = Command::new("kill").arg(pid).status();
        }
    }
}
