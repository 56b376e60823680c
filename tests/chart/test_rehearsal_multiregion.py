"""Rehearsal of the multi-region scenario (deploy/chart/ci/multiregion-values.yaml): a
follower-only release whose followers follow, over TLS, the leader of another cluster.

That leader is a tile38-server started here with a certificate for its name only
(tile38-leader.us-east.example.com, signed by its own CA), reached at the address the
values give (203.0.113.10:9852, mapped to its local port): the followers catch up only if
they trust its CA from the Secret and check the name `serverName` gives. The followers
serve their own clients over TLS with a certificate from another CA (what cert-manager
would put in <fullname>-tls for the Certificate the chart renders).
"""
from __future__ import annotations

import os
import subprocess

import pytest

from certs import make_ca, make_cert, tls_secret
from chartlib import CHART, render
from rehearsal import Cluster, free_port, missing_binaries, wait_until
from test_rehearsal import BIN_DIR, reply

RELEASE, NS = "mr", "ns"
FN = f"{RELEASE}-tile38"
FILES = [os.path.join(CHART, "ci", "multiregion-values.yaml")]
LEADER_NAME = "tile38-leader.us-east.example.com"
PASSWORD = "multi-region-secret"
REMOTE = ["-h", "203.0.113.10", "-p", "9852", "--tls", "--insecure"]


@pytest.fixture(scope="module")
def cl(tmp_path_factory):
    if missing_binaries(BIN_DIR):
        pytest.fail(missing_binaries(BIN_DIR), pytrace=False)
    work = str(tmp_path_factory.mktemp("rehearsal-multiregion"))
    certs = os.path.join(work, "certs")
    r = render(FILES, release=RELEASE, namespace=NS)
    spec = r.get("Certificate", f"{FN}-tls")["spec"]
    make_ca(certs, "remote-ca")
    remote = make_cert(certs, "remote-ca", "remote-leader", [LEADER_NAME])
    make_ca(certs, "local-ca")
    local = make_cert(certs, "local-ca", "local", spec["dnsNames"], spec["ipAddresses"])
    # the other cluster's leader, with its password and TLS port
    port = free_port()
    os.makedirs(os.path.join(work, "remote-leader"))
    log = open(os.path.join(work, "remote-leader.log"), "ab")
    leader = subprocess.Popen(
        [os.path.join(BIN_DIR, "tile38-server"), "-h", "127.0.0.1", "-p", str(port),
         "--tls-port", str(port), "--tls-cert-file", os.path.join(certs, "remote-leader.crt"),
         "--tls-key-file", os.path.join(certs, "remote-leader.key"),
         "-d", os.path.join(work, "remote-leader")],
        env={"PATH": os.environ.get("PATH", ""), "TILE38_REQUIREPASS": PASSWORD},
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    log.close()
    c = Cluster(r, BIN_DIR, work, NS, external={("203.0.113.10", 9852): port}, secrets={
        "tile38-leader-ca": {"ca.crt": remote.ca},
        f"{FN}-tls": tls_secret(local),
        "tile38-leader-auth": {"requirepass": PASSWORD, "leaderauth": PASSWORD}})
    yield c
    c.shutdown()
    leader.kill()
    leader.wait()


def test_no_leader_is_rendered_and_followers_verify_the_remote_name(cl):
    assert cl.role("leader") == [] and len(cl.role("follower")) == 3
    args = cl.role("follower")[0].container()["args"]
    assert args[args.index("--follow") + 1] == "203.0.113.10:9852"
    assert args[args.index("--leader-tls-server-name") + 1] == LEADER_NAME
    assert args[args.index("--leader-tls-ca-cert-file") + 1] == "/leader-tls/ca.crt"


def test_followers_catch_up_with_the_remote_leader_over_tls(cl):
    f0 = cl.role("follower")[0]
    # HEALTHZ, not PING: a server answers PING while it still loads its AOF
    wait_until("the remote leader loaded", lambda: cl.cli(f0, *REMOTE, "HEALTHZ").rc == 0,
               timeout=20)
    res = cl.cli(f0, *REMOTE, "SET", "fleet", "truck1", "POINT", "33.5", "-112.2")
    assert res.rc == 0, res
    for f in cl.role("follower"):
        cl.start(f)
    for f in cl.role("follower"):
        cl.wait_probe(f, "startupProbe")
        cl.wait_probe(f, "readinessProbe", timeout=30)
        assert f.container()["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"
    res = cl.cli(f0, *REMOTE, "SET", "fleet", "truck2", "POINT", "33.4", "-112.1")
    assert res.rc == 0, res
    for f in cl.role("follower"):
        host = f"{f.name}.{FN}-follower-headless.{NS}.svc.cluster.local"
        wait_until(f"truck2 on {f.name}", lambda host=host: reply(cl.cli(
            f0, "-h", host, "-p", "9852", "--cacert", "/tls/ca.crt", "GET", "fleet",
            "truck2")).get("ok"), timeout=10)


def test_the_read_service_serves_tls_with_the_local_certificate(cl):
    f0 = cl.role("follower")[0]
    host = f"{FN}-follower.{NS}.svc"
    res = cl.cli(f0, "-h", host, "-p", "9852", "--cacert", "/tls/ca.crt", "GET", "fleet",
                 "truck1")
    assert res.rc == 0 and reply(res)["object"]["coordinates"] == [-112.2, 33.5], res
    # the remote leader's CA does not vouch for the local certificate
    res = cl.cli(f0, "-h", host, "-p", "9852", "--cacert", "/leader-tls/ca.crt", "PING")
    assert res.rc == 2, res


def test_liveness_probes_pass(cl):
    for f in cl.role("follower"):
        ok, detail = cl.probe(f, "livenessProbe")
        assert ok, f"{f.name}: {detail}"


def test_helm_test_hooks_pass(cl):
    assert len(cl.r.hooks) == 3
    assert cl.helm_test() == []


def test_sigterm_stops_every_follower_cleanly(cl):
    assert cl.stop_cleanly(cl.role("follower")) == []
