"""failover.enabled against a real kube-apiserver (v1.32, `../shared/k8s/`; an optional tier:
skipped, saying so, when that binary is absent). Every object the chart renders in this mode
is created through the REST API with strict field validation (unknown or duplicate fields
are errors); then, with a token of the chart's ServiceAccount, the test checks that its
RBAC allows exactly what the elector needs: get/update/patch of the chart's Lease and
get/patch of the StatefulSet's own pods, and nothing else (403 for another Lease, creating
one, another pod, listing). Plain HTTP with the admin token that up.sh writes; no kubectl."""
from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import urllib.error
import urllib.request

import pytest

from chartlib import ROOT, ident, render

SHARED = os.environ.get("TILE38_SHARED") or os.path.join(ROOT, "..", "shared")
K8S = os.path.abspath(os.path.join(SHARED, "k8s"))
NS = "tile38-failover"
FN = "rel-tile38"
STS = f"{FN}-server"
LEASE = f"{FN}-leader"
VALUES = {"failover": {"enabled": True, "replicas": 3}, "follower": {"replicaCount": 0},
          "backup": {"enabled": True}, "networkPolicy": {"allowExternal": False}}


def _missing() -> str | None:
    if not os.access(os.path.join(K8S, "kube-apiserver"), os.X_OK):
        return f"{K8S}/kube-apiserver not found (optional tier; TILE38_SHARED=DIR names shared/)"
    for tool in ("etcd", "openssl", "curl"):
        if not shutil.which(tool) and not (tool == "etcd" and os.path.exists("/usr/bin/etcd")):
            return f"{tool} not installed (apt-get install -y etcd-server openssl curl)"
    return None


pytestmark = pytest.mark.skipif(_missing() is not None,
                                reason=f"skipped: kube-apiserver tier: {_missing()}")


def _free_port(pair: bool = False) -> int:
    """A free loopback port (and the next one free too, for etcd's peer port)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if not pair:
            return port
        with socket.socket() as s2:
            try:
                s2.bind(("127.0.0.1", port + 1))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port pair")


class Api:
    """The API server's REST interface as one bearer token sees it."""

    def __init__(self, base: str, token: str):
        self.base, self.token = base, token
        self.ctx = ssl.create_default_context()
        self.ctx.check_hostname = False
        self.ctx.verify_mode = ssl.CERT_NONE  # up.sh's self-signed serving certificate

    def call(self, method: str, path: str, body: dict | None = None,
             content_type: str = "application/json") -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": content_type,
            "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            text = e.read()
            try:
                return e.code, json.loads(text)
            except ValueError:
                return e.code, {"message": text.decode(errors="replace")}


@pytest.fixture(scope="module")
def admin():
    work = tempfile.mkdtemp(prefix="tile38-k8s-")
    ep, ap = _free_port(pair=True), _free_port()
    up = subprocess.run([os.path.join(K8S, "up.sh"), work, str(ep), str(ap)],
                        capture_output=True, text=True, timeout=120)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        with open(os.path.join(work, "token")) as fh:
            api = Api(f"https://127.0.0.1:{ap}", fh.read().strip())
        status, body = api.call("POST", "/api/v1/namespaces?fieldValidation=Strict",
                                {"apiVersion": "v1", "kind": "Namespace",
                                 "metadata": {"name": NS}})
        assert status == 201, body
        yield api
    finally:
        pids = os.path.join(work, "pids")
        if os.path.exists(pids):
            with open(pids) as fh:
                for pid in fh.read().split():
                    subprocess.run(["kill", pid], check=False)
        shutil.rmtree(work, ignore_errors=True)


def collection(api: Api, d: dict, cache: dict = {}) -> str:  # noqa: B006 (a discovery cache)
    """The namespaced collection path of an object's kind, from the server's discovery."""
    gv = d["apiVersion"]
    root = "/api/v1" if gv == "v1" else f"/apis/{gv}"
    if gv not in cache:
        status, body = api.call("GET", root)
        assert status == 200, body
        cache[gv] = {r["kind"]: r["name"] for r in body["resources"] if "/" not in r["name"]}
    return f"{root}/namespaces/{NS}/{cache[gv][d['kind']]}"


@pytest.fixture(scope="module")
def applied(admin):
    """Creates every rendered object (hooks too) with strict validation."""
    r = render(values=VALUES, namespace=NS)
    kinds = {d["kind"] for d in r.all()}
    assert {"StatefulSet", "Lease", "Role", "RoleBinding", "PodDisruptionBudget",
            "NetworkPolicy", "Service", "ServiceAccount"} <= kinds
    created = []
    for d in r.all():
        status, body = admin.call("POST", collection(admin, d) + "?fieldValidation=Strict", d)
        assert status == 201, f"{ident(d)} refused: {status} {body.get('message')}"
        assert not body.get("warnings"), body
        created.append(ident(d))
    return r, created


def test_every_rendered_object_is_accepted(applied, admin):
    r, created = applied
    assert len(created) == len(r.all())
    status, sts = admin.call("GET", f"/apis/apps/v1/namespaces/{NS}/statefulsets/{STS}")
    assert status == 200 and sts["spec"]["replicas"] == 3
    status, lease = admin.call("GET", f"/apis/coordination.k8s.io/v1/namespaces/{NS}/leases/{LEASE}")
    assert status == 200 and lease["spec"]["leaseDurationSeconds"] == 10


def test_strict_validation_is_on(admin):
    """The check above means something: an unknown field is refused."""
    bad = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
           "metadata": {"name": "strictness-probe"}, "spec": {"holder": "x"}}
    status, body = admin.call("POST", collection(admin, bad) + "?fieldValidation=Strict", bad)
    assert status == 400 and 'unknown field "spec.holder"' in body["message"], body


def pod(name: str, sa: str) -> dict:
    # an existing ServiceAccount: without a controller-manager there is no "default" one
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"a": "b"}},
            "spec": {"serviceAccountName": sa, "automountServiceAccountToken": False,
                     "containers": [{"name": "c", "image": "example.invalid/none:1"}]}}


@pytest.fixture(scope="module")
def elector(applied, admin):
    """The chart's ServiceAccount as the server sees it (a TokenRequest), and the Pod
    objects the StatefulSet would have (nothing runs them here)."""
    r, _ = applied
    sa = r.get("StatefulSet", STS)["spec"]["template"]["spec"]["serviceAccountName"]
    for name in (f"{STS}-0", f"{STS}-3", "someone-else"):
        status, body = admin.call("POST", f"/api/v1/namespaces/{NS}/pods", pod(name, sa))
        assert status == 201, body.get("message")
    other = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": "another-lease"}, "spec": {"leaseDurationSeconds": 5}}
    status, body = admin.call("POST", collection(admin, other), other)
    assert status == 201, body
    status, body = admin.call(
        "POST", f"/api/v1/namespaces/{NS}/serviceaccounts/{sa}/token",
        {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
         "spec": {"expirationSeconds": 600}})
    assert status == 201, body.get("message")
    return Api(admin.base, body["status"]["token"])


LEASES = f"/apis/coordination.k8s.io/v1/namespaces/{NS}/leases"
PODS = f"/api/v1/namespaces/{NS}/pods"
MERGE = "application/merge-patch+json"


def test_elector_can_hold_the_chart_lease(elector):
    status, lease = elector.call("GET", f"{LEASES}/{LEASE}")
    assert status == 200, lease
    lease["spec"].update({"holderIdentity": f"{STS}-0.{FN}-server-headless:9851",
                          "leaseTransitions": 1, "acquireTime": "2025-01-01T00:00:00.000000Z",
                          "renewTime": "2025-01-01T00:00:00.000000Z"})
    status, body = elector.call("PUT", f"{LEASES}/{LEASE}?fieldValidation=Strict", lease)
    assert status == 200, body
    assert body["spec"]["holderIdentity"].startswith(f"{STS}-0.")
    status, body = elector.call("PATCH", f"{LEASES}/{LEASE}",
                                {"spec": {"renewTime": "2025-01-01T00:00:03.000000Z"}}, MERGE)
    assert status == 200 and body["spec"]["renewTime"].startswith("2025-01-01T00:00:03"), body


def test_elector_can_label_its_own_pods(elector):
    labels = {"metadata": {"labels": {"tile38.io/role": "leader", "tile38.io/caught-up": "true"}}}
    status, body = elector.call("PATCH", f"{PODS}/{STS}-0", labels, MERGE)
    assert status == 200, body
    status, body = elector.call("GET", f"{PODS}/{STS}-0")
    assert status == 200 and body["metadata"]["labels"]["tile38.io/role"] == "leader"


@pytest.mark.parametrize("method, path, body, ctype", [
    ("POST", LEASES, {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                      "metadata": {"name": "a-new-lease"}}, "application/json"),
    ("PUT", f"{LEASES}/another-lease", {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                                        "metadata": {"name": "another-lease"},
                                        "spec": {"holderIdentity": "me"}}, "application/json"),
    ("PATCH", f"{LEASES}/another-lease", {"spec": {"holderIdentity": "me"}}, MERGE),
    ("GET", f"{LEASES}/another-lease", None, "application/json"),
    ("DELETE", f"{LEASES}/{LEASE}", None, "application/json"),
    ("GET", LEASES, None, "application/json"),
    ("PATCH", f"{PODS}/someone-else", {"metadata": {"labels": {"tile38.io/role": "leader"}}}, MERGE),
    ("PATCH", f"{PODS}/{STS}-3", {"metadata": {"labels": {"tile38.io/role": "leader"}}}, MERGE),
    ("GET", PODS, None, "application/json"),
    ("DELETE", f"{PODS}/{STS}-0", None, "application/json"),
    ("GET", f"/api/v1/namespaces/{NS}/secrets", None, "application/json"),
], ids=["create-lease", "update-other-lease", "patch-other-lease", "get-other-lease",
        "delete-lease", "list-leases", "patch-other-pod", "patch-pod-beyond-replicas",
        "list-pods", "delete-own-pod", "list-secrets"])
def test_elector_can_do_nothing_else(elector, method, path, body, ctype):
    status, reply = elector.call(method, path, body, ctype)
    assert status == 403, (status, reply)
