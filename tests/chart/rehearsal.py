"""A kubelet stand-in for the rehearsal: runs the pods of a rendered chart as local processes.

It takes every container's command, args and env, every probe and every helm test hook
from the rendered manifests, and changes only what differs between a cluster and one
machine: image binaries /usr/local/bin/X become the workspace's target/<profile>/X, each
pod gets its own loopback ports (container port -> free local port), each volume a local
directory, and cluster DNS names (Services, <pod>.<headless service>) resolve to the
local ports of the pods behind them. Probes run as the kubelet runs them (exec in the
container's environment, HTTP GET on the mapped port), with shorter polling periods.

Secrets the release expects to exist (TLS certificates, an existing auth Secret) come from
`secrets` ({name: {key: text}}); Secret volumes become directories holding those files.
Addresses outside the release (an external leader) resolve through `external`
({(host, port): local port}). A follower's leader address becomes 127.0.0.1, so with
`--leader-tls yes` the rehearsal names the original host as `--leader-tls-server-name`
(unless the chart gives one): the leader's certificate is still checked for the name the
follower dials in the cluster.

failover.enabled is not rehearsed: its members elect through a Kubernetes Lease, which needs
an API server rather than a kubelet stand-in; test_apiserver_failover.py applies that mode's
objects to a real kube-apiserver and checks its RBAC there.
"""
from __future__ import annotations

import http.client
import os
import ssl
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field

from chartlib import Rendered, pod_labels, pod_spec, selects

BIND_ALL = {"0.0.0.0", "::", ""}
LOOPBACK = {"127.0.0.1", "localhost"}
PORT_FLAGS = {"-p", "--tls-port"}  # server flags whose value is a container port


def missing_binaries(bin_dir: str) -> str:
    """Why the rehearsal cannot run ("" when tile38-server and tile38-cli are built)."""
    missing = [b for b in ("tile38-server", "tile38-cli")
               if not os.path.exists(os.path.join(bin_dir, b))]
    return f"{bin_dir}/{missing[0]} missing: build it with cargo build --profile ci " \
        "--workspace --bins" if missing else ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what: str, cond, timeout: float = 30.0, interval: float = 0.1):
    """Polls cond() until it returns a truthy value; fails with `what` after timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = cond()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


@dataclass
class Pod:
    name: str
    spec: dict
    labels: dict
    hostname: str = ""
    subdomain: str = ""
    dir: str = ""
    ports: dict[int, int] = field(default_factory=dict)      # containerPort -> local port
    named: dict[str, int] = field(default_factory=dict)      # port name -> containerPort
    volumes: dict[str, str] = field(default_factory=dict)    # volume name -> local dir
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def container(self, name: str = "tile38") -> dict:
        return next(c for c in self.spec["containers"] if c["name"] == name)


@dataclass
class Result:
    rc: int
    out: str
    err: str

    def __str__(self) -> str:
        return f"exit {self.rc}, stdout {self.out.strip()!r}, stderr {self.err.strip()[-400:]!r}"


class Cluster:
    def __init__(self, rendered: Rendered, bin_dir: str, workdir: str, namespace: str,
                 domain: str = "cluster.local", secrets: dict | None = None,
                 external: dict | None = None):
        self.r, self.bin_dir, self.workdir = rendered, bin_dir, workdir
        self.ns, self.domain = namespace, domain
        self.secrets = secrets or {}
        self.external = external or {}
        self.pods: dict[str, Pod] = {}
        self.closed_port = free_port()  # nothing listens here: "no ready endpoint"
        for sts in rendered.kind("StatefulSet"):
            for i in range(sts["spec"].get("replicas", 1)):
                self._add_pod(sts, i)

    # ------------------------------------------------------------------ pods
    def _add_pod(self, sts: dict, ordinal: int) -> None:
        name = f"{sts['metadata']['name']}-{ordinal}"
        pod = Pod(name, pod_spec(sts), pod_labels(sts), hostname=name,
                  subdomain=sts["spec"]["serviceName"], dir=os.path.join(self.workdir, name))
        for c in pod.spec["containers"]:
            for p in c.get("ports") or []:
                pod.ports[p["containerPort"]] = free_port()
                if p.get("name"):
                    pod.named[p["name"]] = p["containerPort"]
        claims = [t["metadata"]["name"] for t in sts["spec"].get("volumeClaimTemplates") or []]
        self._volumes(pod, claims)
        self.pods[name] = pod

    def _volumes(self, pod: Pod, claims: list[str] = ()) -> None:
        """A directory per volume; a Secret volume holds the Secret's keys as files."""
        for v in list(pod.spec.get("volumes") or []) + [{"name": c} for c in claims]:
            path = pod.volumes[v["name"]] = os.path.join(pod.dir, "volumes", v["name"])
            os.makedirs(path, exist_ok=True)
            if "secret" in v:
                name = v["secret"]["secretName"]
                assert name in self.secrets, f"{pod.name}: Secret {name} does not exist"
                for key, text in self.secrets[name].items():
                    with open(os.path.join(path, key), "w") as fh:
                        fh.write(text)
        os.makedirs(os.path.join(pod.dir, "home"), exist_ok=True)

    def role(self, role: str) -> list[Pod]:
        return [p for p in self.pods.values()
                if p.labels.get("app.kubernetes.io/component") == role]

    def start(self, pod: Pod) -> None:
        """Init containers one after another to success, then the pod's containers."""
        for c in pod.spec.get("initContainers") or []:
            res = self.run(pod, c, c["command"] + c.get("args", []), timeout=60)
            assert res.rc == 0, f"{pod.name} init container {c['name']}: {res}"
        for c in pod.spec["containers"]:
            argv = self.translate(pod, c, c["command"] + c.get("args", []))
            log = open(os.path.join(pod.dir, f"{c['name']}.log"), "ab")
            pod.procs[c["name"]] = subprocess.Popen(
                argv, env=self.env(pod, c), cwd=pod.dir, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            log.close()

    def stop(self, pod: Pod, sig: int = signal.SIGTERM) -> dict[str, int | None]:
        """Sends `sig` and waits terminationGracePeriodSeconds; returns exit codes."""
        grace = pod.spec.get("terminationGracePeriodSeconds", 30)
        codes: dict[str, int | None] = {}
        for name, p in pod.procs.items():
            if p.poll() is None:
                p.send_signal(sig)
        for name, p in pod.procs.items():
            try:
                codes[name] = p.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                codes[name] = None
        pod.procs.clear()
        return codes

    def shutdown(self) -> None:
        for pod in self.pods.values():
            for p in pod.procs.values():
                if p.poll() is None:
                    p.kill()
                    p.wait()
            pod.procs.clear()

    def log(self, pod: Pod, container: str = "tile38") -> str:
        try:
            with open(os.path.join(pod.dir, f"{container}.log"), errors="replace") as fh:
                return fh.read()[-3000:]
        except OSError:
            return ""

    def alive(self, pod: Pod) -> bool:
        return bool(pod.procs) and all(p.poll() is None for p in pod.procs.values())

    # ------------------------------------------------------------------ translation
    def binary(self, path: str) -> str:
        if path.startswith("/usr/local/bin/"):
            local = os.path.join(self.bin_dir, os.path.basename(path))
            assert os.path.exists(local), f"{path}: {local} is not built"
            return local
        raise AssertionError(f"no local stand-in for {path}")

    def env(self, pod: Pod, c: dict) -> dict[str, str]:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "HOME": os.path.join(pod.dir, "home")}
        for e in c.get("env") or []:
            if "value" in e:
                env[e["name"]] = re.sub(r"\$\((\w+)\)", lambda m: env.get(m[1], m[0]),
                                        str(e["value"]))
                continue
            src = e.get("valueFrom") or {}
            if "secretKeyRef" in src:
                ref = src["secretKeyRef"]
                given = self.secrets.get(ref["name"], {})
                env[e["name"]] = given[ref["key"]] if ref["key"] in given else \
                    self.r.secret_value(ref["name"], ref["key"])
            elif "fieldRef" in src:
                env[e["name"]] = {"metadata.name": pod.name, "metadata.namespace": self.ns,
                                  "status.podIP": "127.0.0.1"}[src["fieldRef"]["fieldPath"]]
            else:
                raise AssertionError(f"{pod.name}: unsupported env source {e}")
        return env

    def translate(self, pod: Pod, c: dict, argv: list[str]) -> list[str]:
        """A container command as it runs here: binaries, ports, hosts and paths mapped."""
        prog = os.path.basename(argv[0])
        mounts = {m["mountPath"]: pod.volumes[m["name"]] for m in c.get("volumeMounts") or []}
        out = [self.binary(argv[0])]
        args = [self.local_path(a, mounts) for a in argv[1:]]
        if prog == "tile38-cli":
            host, port = "127.0.0.1", 9851
            rest = []
            i = 0
            while i < len(args):
                if args[i] in ("-h", "-p") and i + 1 < len(args):
                    if args[i] == "-h":
                        host = args[i + 1]
                    else:
                        port = int(args[i + 1])
                    i += 2
                    continue
                rest.append(args[i])
                i += 1
            h, p = self.resolve(host, port, pod)
            return out + ["-h", h, "-p", str(p)] + rest
        i = 0
        while i < len(args):
            a = args[i]
            if a == "-h" and i + 1 < len(args):
                out += ["-h", "127.0.0.1" if args[i + 1] in BIND_ALL else args[i + 1]]
                i += 2
                continue
            if a in PORT_FLAGS and i + 1 < len(args):
                out += [a, str(pod.ports[int(args[i + 1])])]
                i += 2
                continue
            m = re.fullmatch(r"(.*):(\d+)", a)
            if m and not a.startswith("/"):
                h, p = self.resolve(m[1], int(m[2]), pod)
                out.append(f"{h}:{p}")
                if out[-2:-1] == ["--follow"] and "--leader-tls" in args and \
                        "--leader-tls-server-name" not in args:
                    out += ["--leader-tls-server-name", m[1]]
            else:
                out.append(a)
            i += 1
        return out

    @staticmethod
    def local_path(a: str, mounts: dict[str, str]) -> str:
        for mp, local in mounts.items():
            if a == mp or a.startswith(mp.rstrip("/") + "/"):
                return local + a[len(mp):]
        return a

    def resolve(self, host: str, port: int, pod: Pod | None) -> tuple[str, int]:
        """A cluster address as seen from `pod`, mapped to a local address."""
        if (host, port) in self.external:
            return "127.0.0.1", self.external[(host, port)]
        if host in BIND_ALL or host in LOOPBACK:
            assert pod is not None and port in pod.ports, f"{host}:{port} in {pod and pod.name}"
            return "127.0.0.1", pod.ports[port]
        for suffix in (f".{self.ns}.svc.{self.domain}", f".{self.ns}.svc", f".{self.ns}"):
            if host.endswith(suffix):
                host = host[: -len(suffix)]
                break
        if "." in host:  # <pod>.<headless service>
            name, svc = host.split(".", 1)
            target = self.pods.get(name)
            assert target and target.subdomain == svc, f"unknown pod address {host}"
            return "127.0.0.1", target.ports[port]
        svc = next((s for s in self.r.kind("Service") if s["metadata"]["name"] == host), None)
        assert svc is not None, f"unknown host {host!r}: not a Service of the release"
        sp = next((p for p in svc["spec"]["ports"] if p["port"] == port), None)
        assert sp is not None, f"Service {host} has no port {port}"
        for target in self.endpoints(svc):
            tp = sp.get("targetPort", port)
            cport = target.named[tp] if isinstance(tp, str) else tp
            return "127.0.0.1", target.ports[cport]
        return "127.0.0.1", self.closed_port

    def endpoints(self, svc: dict) -> list[Pod]:
        """The running pods behind a Service: only ready ones unless it publishes all."""
        pods = [p for p in self.pods.values()
                if self.alive(p) and selects(svc["spec"]["selector"], p.labels)]
        if svc["spec"].get("publishNotReadyAddresses"):
            return pods
        return [p for p in pods if self.probe(p, "readinessProbe")[0]]

    # ------------------------------------------------------------------ running
    def run(self, pod: Pod, c: dict, argv: list[str], timeout: float = 30,
            env: dict | None = None) -> Result:
        try:
            p = subprocess.run(self.translate(pod, c, argv), env=env or self.env(pod, c),
                               cwd=pod.dir, capture_output=True, text=True, timeout=timeout,
                               stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            return Result(-1, str(e.stdout or ""), f"timeout after {timeout}s")
        return Result(p.returncode, p.stdout, p.stderr)

    def cli(self, pod: Pod, *args: str, env: dict | None = None) -> Result:
        """`kubectl exec <pod> -- tile38-cli args...` (the server container's env)."""
        c = pod.container()
        return self.run(pod, c, ["/usr/local/bin/tile38-cli", *args], env=env)

    def probe(self, pod: Pod, kind: str, container: str = "tile38") -> tuple[bool, str]:
        c = pod.container(container)
        p = c.get(kind)
        if p is None:
            return True, "no probe"
        timeout = p.get("timeoutSeconds", 1)
        if "exec" in p:
            res = self.run(pod, c, p["exec"]["command"], timeout=timeout)
            return res.rc == 0, str(res)
        if "httpGet" in p:
            g = p["httpGet"]
            port = g["port"]
            local = pod.ports[pod.named[port] if isinstance(port, str) else port]
            try:
                if g.get("scheme") == "HTTPS":  # the kubelet does not verify certificates
                    conn = http.client.HTTPSConnection(
                        "127.0.0.1", local, timeout=timeout,
                        context=ssl._create_unverified_context())  # noqa: S323
                else:
                    conn = http.client.HTTPConnection("127.0.0.1", local, timeout=timeout)
                conn.request("GET", g.get("path", "/"))
                resp = conn.getresponse()
                body = resp.read().decode(errors="replace")
                conn.close()
            except OSError as e:
                return False, f"GET {g.get('path')}: {e}"
            return 200 <= resp.status < 400, f"{resp.status} {body.strip()}"
        if "tcpSocket" in p:
            port = p["tcpSocket"]["port"]
            try:
                socket.create_connection(("127.0.0.1", pod.ports[
                    pod.named[port] if isinstance(port, str) else port]), timeout).close()
                return True, "connected"
            except OSError as e:
                return False, str(e)
        raise AssertionError(f"{pod.name}: unsupported probe {p}")

    def wait_probe(self, pod: Pod, kind: str, timeout: float = 60) -> str:
        """Polls a probe to success within `timeout` seconds, and for a startup probe
        within its failureThreshold x periodSeconds budget, after which the kubelet would
        restart the container; the process must stay alive meanwhile."""
        p = pod.container().get(kind) or {}
        budget = p.get("failureThreshold", 3) * p.get("periodSeconds", 10) \
            if kind == "startupProbe" else timeout
        last = ""

        def ok():
            nonlocal last
            assert self.alive(pod), f"{pod.name} exited:\n{self.log(pod)}"
            good, last = self.probe(pod, kind)
            return good
        try:
            wait_until(f"{kind} of {pod.name}", ok, min(budget, timeout), 0.2)
        except AssertionError as e:
            raise AssertionError(f"{e}; last probe: {last}\n{self.log(pod)}") from None
        return last

    def run_hook(self, hook: dict) -> list[tuple[str, Result]]:
        """A helm test hook (Pod or Job): init containers in order, then its containers;
        stops at the first failure, as the pod would."""
        spec = pod_spec(hook)
        pod = Pod(hook["metadata"]["name"], spec, pod_labels(hook),
                  dir=os.path.join(self.workdir, hook["metadata"]["name"]))
        self._volumes(pod)
        results = []
        for c in (spec.get("initContainers") or []) + spec["containers"]:
            res = self.run(pod, c, c["command"] + c.get("args", []), timeout=60)
            results.append((c["name"], res))
            if res.rc != 0:
                break
        return results

    def helm_test(self) -> list[str]:
        """`helm test`: the hooks by weight, then name; returns the failed steps."""
        hooks = sorted(self.r.hooks, key=lambda h: (int(h["metadata"]["annotations"].get(
            "helm.sh/hook-weight", "0")), h["metadata"]["name"]))
        return [f"helm test {h['metadata']['name']}, step {step}: {res}"
                for h in hooks for step, res in self.run_hook(h) if res.rc != 0]

    def stop_cleanly(self, pods: list[Pod]) -> list[str]:
        """SIGTERM each pod in turn; returns the pods that did not exit 0."""
        bad = []
        for pod in pods:
            codes = self.stop(pod)
            if codes != {"tile38": 0}:
                bad.append(f"{pod.name}: exit codes {codes}\n{self.log(pod)}")
        return bad
