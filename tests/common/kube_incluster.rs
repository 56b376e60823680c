//! Running `tile38-server` as a pod would (issue 20, in-cluster
//! credentials), with no test-only switch in the product: the member runs
//! in a user and mount namespace of its own (`unshare -Urm`, util-linux; no
//! privileges needed) where a scratch directory is bind-mounted on
//! `/var/run`, holding `secrets/kubernetes.io/serviceaccount/{token,
//! ca.crt,namespace}` as the kubelet mounts them, and
//! `KUBERNETES_SERVICE_HOST`/`_PORT` name the API server, so the elector
//! reads the real `SA_DIR` (`crates/elect/src/kubeconfig.rs`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use tile38::{temp_dir, TestServer};

/// What a pod's container finds under `/var/run`.
pub struct PodFiles {
    /// Mounted on `/var/run` inside the member's namespace.
    pub run: PathBuf,
}

/// Where a pod finds its service account, relative to `/var/run`.
const SA: &str = "secrets/kubernetes.io/serviceaccount";

/// Whether this machine lets an unprivileged process mount in a namespace
/// of its own; otherwise a loud "skipped" line.
pub fn unshare_works() -> bool {
    let probe = temp_dir("unshare-probe");
    std::fs::write(probe.join("probe"), "ok").unwrap();
    let ok = Command::new("unshare")
        .args([
            "-Urm",
            "sh",
            "-c",
            "mount --bind \"$0\" /var/run && test -f /var/run/probe",
        ])
        .arg(&probe)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let _ = std::fs::remove_dir_all(&probe);
    if !ok {
        eprintln!(
            "SKIPPED: `unshare -Urm` cannot bind-mount /var/run here (util-linux missing or user \
             namespaces disabled); in-cluster credentials not tested"
        );
    }
    ok
}

impl PodFiles {
    /// A service-account mount holding `token`, the CA file `ca` and the
    /// namespace `ns`.
    pub fn new(tag: &str, token: &str, ca: &Path, ns: &str) -> PodFiles {
        let run = temp_dir(tag);
        let sa = run.join(SA);
        std::fs::create_dir_all(&sa).unwrap();
        std::fs::write(sa.join("token"), token).unwrap();
        std::fs::copy(ca, sa.join("ca.crt")).unwrap();
        std::fs::write(sa.join("namespace"), ns).unwrap();
        PodFiles { run }
    }

    /// Starts a member on `data` as pod `pod` of namespace `ns`, the API
    /// server at `127.0.0.1:api_port` (the pod's downward API gives
    /// `POD_NAME`/`POD_NAMESPACE`, as the chart renders them).
    pub fn start(
        &self,
        data: &Path,
        api_port: u16,
        (ns, pod): (&str, &str),
        flags: &[String],
    ) -> TestServer {
        let run = format!("SA_RUN={}", self.run.display());
        let port = format!("KUBERNETES_SERVICE_PORT={api_port}");
        let (pod, ns) = (format!("POD_NAME={pod}"), format!("POD_NAMESPACE={ns}"));
        // env, unshare and sh each exec the next: the server keeps the
        // pid the harness signals.
        let wrapper = [
            "env",
            "-u",
            "KUBECONFIG",
            "KUBERNETES_SERVICE_HOST=127.0.0.1",
            &port,
            &pod,
            &ns,
            &run,
            "unshare",
            "-Urm",
            "sh",
            "-c",
            "mount --bind \"$SA_RUN\" /var/run && exec \"$0\" \"$@\"",
        ];
        let f: Vec<&str> = flags.iter().map(String::as_str).collect();
        TestServer::start_under(&wrapper, data, &f)
    }
}

impl Drop for PodFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.run);
    }
}
