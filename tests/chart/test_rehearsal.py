"""Rehearsal: the rendered chart run as local processes against the real binaries.

Renders the chart (two followers, auth from the generated Secret, metrics on), starts the
followers before their leader, then the leader, and checks what a cluster would show:
followers not ready until caught up and ready after, every write readable on every
follower, the Secret's password enforced, probes passing, the helm test hooks passing, a
restarted follower catching up again, and a clean SIGTERM shutdown.

Binaries: $TILE38_BIN_DIR (default target/ci), built by scripts/test.sh. The tests run in
file order and share one set of processes.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import signal
import time

import pytest

from chartlib import ROOT, render
from rehearsal import Cluster, missing_binaries, wait_until

BIN_DIR = os.environ.get("TILE38_BIN_DIR", os.path.join(ROOT, "target", "ci"))
RELEASE, NS = "rh", "ns"
FN = f"{RELEASE}-tile38"
VALUES = {
    "follower": {"replicaCount": 2},
    "config": {"maxmemory": "2gb", "appendfsync": "always"},
    "metrics": {"enabled": True},
}
TRUCK1 = {"type": "Point", "coordinates": [-112.2693, 33.5123]}
TRUCK2 = {"type": "Point", "coordinates": [-112.1, 33.4]}


@pytest.fixture(scope="module")
def cl(tmp_path_factory):
    if missing_binaries(BIN_DIR):
        pytest.fail(missing_binaries(BIN_DIR), pytrace=False)
    c = Cluster(render(values=VALUES, release=RELEASE, namespace=NS), BIN_DIR,
                str(tmp_path_factory.mktemp("rehearsal")), NS)
    yield c
    c.shutdown()


def leader(cl):
    (p,) = cl.role("leader")
    return p


def reply(res) -> dict:
    """The JSON reply tile38-cli printed (its default output mode)."""
    line = res.out.strip().splitlines()[-1] if res.out.strip() else ""
    try:
        return json.loads(line)
    except json.JSONDecodeError:
        raise AssertionError(f"not a JSON reply: {res}") from None


def get_object(cl, pod, host, key, oid):
    res = cl.cli(pod, "-h", host, "-p", "9851", "GET", key, oid)
    return reply(res).get("object") if res.rc == 0 else None


def scrape(cl, pod) -> str:
    """GET /metrics on the pod's metrics port (tile38-server --metrics-addr)."""
    port = pod.ports[pod.named["metrics"]]
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/metrics")
        resp = conn.getresponse()
        body = resp.read().decode()
    except OSError as e:
        raise AssertionError(f"{pod.name}: no metrics served on its metrics port ({e}); "
                             f"log:\n{cl.log(pod)[-600:]}") from None
    assert resp.status == 200, body
    return body


def replication_info(text: str) -> dict:
    m = re.search(r"^tile38_replication_info\{([^}]*)\} 1$", text, re.M)
    assert m, "tile38_replication_info missing"
    return dict(re.findall(r'(\w+)="([^"]*)"', m[1]))


# ------------------------------------------------------------------------------ scenario
def test_followers_start_without_a_leader_and_stay_unready(cl):
    for f in cl.role("follower"):
        cl.start(f)
    for f in cl.role("follower"):
        cl.wait_probe(f, "startupProbe")  # the process is up and answers PING
    # PING answers while the AOF still loads; HEALTHZ then says LOADING (not
    # ready either, as in Tile38): wait for the load to end, never ready meanwhile
    for f in cl.role("follower"):
        deadline = time.monotonic() + 10
        while True:
            ready, detail = cl.probe(f, "readinessProbe")
            assert not ready, f"{f.name} ready without a leader: {detail}"
            if "LOADING" not in detail or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    # no leader yet: the followers keep retrying by themselves and are not ready
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        for f in cl.role("follower"):
            ready, detail = cl.probe(f, "readinessProbe")
            assert not ready, f"{f.name} ready without a leader: {detail}"
            assert detail.startswith("500") and "catching up to leader" in detail, detail
        time.sleep(0.2)
    # reads are refused until the first catch-up, and the read Service has no endpoint
    res = cl.cli(cl.role("follower")[0], "GET", "fleet", "truck1")
    assert res.rc == 1 and "catching up" in res.out + res.err, res
    assert cl.cli(cl.role("follower")[0], "-h", f"{FN}-follower", "PING").rc == 2


def test_leader_starts_ready(cl):
    ld = leader(cl)
    cl.start(ld)
    cl.wait_probe(ld, "startupProbe")
    cl.wait_probe(ld, "readinessProbe", timeout=10)
    res = cl.cli(ld, "-h", f"{FN}-leader", "-p", "9851", "SET", "fleet", "truck1", "POINT",
                 "33.5123", "-112.2693")
    assert res.rc == 0 and reply(res)["ok"] is True, res


def test_followers_ready_once_caught_up(cl):
    for f in cl.role("follower"):
        cl.wait_probe(f, "readinessProbe", timeout=30)
        assert cl.probe(f, "readinessProbe")[1].startswith("200")


def test_write_on_leader_readable_on_every_follower(cl):
    ld = leader(cl)
    for f in cl.role("follower"):
        assert get_object(cl, ld, f"{f.name}.{FN}-follower-headless", "fleet", "truck1") == TRUCK1
    res = cl.cli(ld, "-h", f"{FN}-leader.{NS}.svc.cluster.local", "-p", "9851", "SET", "fleet",
                 "truck2", "POINT", "33.4", "-112.1")
    assert res.rc == 0, res
    for f in cl.role("follower"):
        wait_until(f"truck2 on {f.name}", lambda f=f: get_object(
            cl, ld, f"{f.name}.{FN}-follower-headless.{NS}.svc", "fleet", "truck2") == TRUCK2,
            timeout=10)
    assert get_object(cl, ld, f"{FN}-follower", "fleet", "truck2") == TRUCK2  # read Service


def test_followers_refuse_writes(cl):
    for f in cl.role("follower"):
        res = cl.cli(f, "SET", "fleet", "truck3", "POINT", "1", "1")
        assert res.rc == 1 and "not the leader" in res.out + res.err, res


def test_password_comes_from_the_secret(cl):
    ld = leader(cl)
    password = cl.r.secret_value(f"{FN}-auth", "requirepass")
    env = cl.env(ld, ld.container())
    assert env["TILE38_PASSWORD"] == password and len(password) == 32
    for pod in [ld] + cl.role("follower"):
        anonymous = {k: v for k, v in cl.env(pod, pod.container()).items()
                     if k != "TILE38_PASSWORD"}
        res = cl.cli(pod, "GET", "fleet", "truck1", env=anonymous)
        assert res.rc == 1, f"{pod.name} served a client without the password: {res}"
        res = cl.cli(pod, "-a", password, "GET", "fleet", "truck1", env=anonymous)
        assert res.rc == 0, res


def test_config_properties_from_env(cl):
    ld = leader(cl)
    for prop, want in (("maxmemory", "2gb"), ("appendfsync", "always")):
        res = cl.cli(ld, "CONFIG", "GET", prop)
        assert res.rc == 0 and reply(res)["properties"][prop] == want, res


def test_liveness_probes_pass(cl):
    for pod in cl.pods.values():
        ok, detail = cl.probe(pod, "livenessProbe")
        assert ok, f"{pod.name}: {detail}"


def test_metrics_show_roles_and_lag(cl):
    info = replication_info(scrape(cl, leader(cl)))
    assert info["role"] == "leader", info
    for f in cl.role("follower"):
        text = scrape(cl, f)
        info = replication_info(text)
        assert (info["role"], info["caught_up"]) == ("follower", "true"), info
        assert info["following"].endswith(f":{leader(cl).ports[9851]}"), info
        for metric in ("tile38_replication_lag_bytes", "tile38_replication_offset_bytes"):
            assert re.search(rf"^{metric}(\{{[^}}]*\}})? ", text, re.M), metric


def test_helm_test_hooks_pass(cl):
    hooks = sorted(cl.r.hooks, key=lambda h: (
        int(h["metadata"]["annotations"].get("helm.sh/hook-weight", "0")), h["metadata"]["name"]))
    assert [h["metadata"]["name"] for h in hooks] == [
        f"{FN}-test-ping", f"{FN}-test-write", f"{FN}-test-followers"]
    for h in hooks:
        for step, res in cl.run_hook(h):
            assert res.rc == 0, f"helm test {h['metadata']['name']}, step {step}: {res}"
    for f in cl.role("follower"):
        assert get_object(cl, leader(cl), f"{f.name}.{FN}-follower-headless", "helm-test",
                          f"{RELEASE}-r1") == {"type": "Point",
                                               "coordinates": [-112.2693, 33.5123]}


def test_restarted_follower_catches_up_from_its_volume(cl):
    ld, f = leader(cl), cl.role("follower")[0]
    codes = cl.stop(f)
    assert codes == {"tile38": 0}, f"SIGTERM exit codes {codes}\n{cl.log(f)}"
    res = cl.cli(ld, "SET", "fleet", "truck4", "POINT", "33.3", "-112.3")
    assert res.rc == 0, res
    cl.start(f)
    cl.wait_probe(f, "startupProbe")
    cl.wait_probe(f, "readinessProbe", timeout=30)
    host = f"{f.name}.{FN}-follower-headless"
    assert get_object(cl, ld, host, "fleet", "truck1") == TRUCK1
    wait_until("truck4 on the restarted follower",
               lambda: get_object(cl, ld, host, "fleet", "truck4") is not None, timeout=10)


def test_sigterm_stops_every_pod_cleanly(cl):
    for pod in cl.role("follower") + cl.role("leader"):
        codes = cl.stop(pod, signal.SIGTERM)
        assert codes == {"tile38": 0}, f"{pod.name}: exit codes {codes}\n{cl.log(pod)}"
