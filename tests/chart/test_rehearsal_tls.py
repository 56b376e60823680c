"""Rehearsal of the TLS scenario (deploy/chart/ci/tls-values.yaml): the rendered commands
and probes run against the real binaries, with a certificate made at test time for the
names the chart's own cert-manager Certificate would carry (plus 127.0.0.1: tile38-cli
has no option for the name to verify, and here every Service resolves to loopback).

TLS port only, mutual TLS: the leader and followers serve TLS, the followers follow over
TLS (verifying the leader's stable pod name against the certificate), the exec probes
present the certificate, the helm test hooks pass over TLS, metrics are served over https.
"""
from __future__ import annotations

import http.client
import os
import ssl

import pytest

from certs import make_ca, make_cert, tls_secret
from chartlib import CHART, render
from rehearsal import Cluster, missing_binaries, wait_until
from test_rehearsal import BIN_DIR, reply

RELEASE, NS = "rt", "ns"
FN = f"{RELEASE}-tile38"
FILES = [os.path.join(CHART, "ci", "tls-values.yaml")]
TLS = ["-p", "9852", "--cacert", "/tls/ca.crt", "--cert", "/tls/tls.crt", "--key", "/tls/tls.key"]


def certificate_names() -> tuple[list[str], list[str]]:
    """dnsNames and ipAddresses of the chart's Certificate for this release."""
    r = render(FILES, {"tls": {"existingSecret": "", "certManager": {
        "enabled": True, "issuerRef": {"name": "ca"}}}}, release=RELEASE, namespace=NS)
    spec = r.get("Certificate", f"{FN}-tls")["spec"]
    return spec["dnsNames"], spec["ipAddresses"]


@pytest.fixture(scope="module")
def cl(tmp_path_factory):
    if missing_binaries(BIN_DIR):
        pytest.fail(missing_binaries(BIN_DIR), pytrace=False)
    work = str(tmp_path_factory.mktemp("rehearsal-tls"))
    certs = os.path.join(work, "certs")
    make_ca(certs, "ca")
    dns, ips = certificate_names()
    secret = tls_secret(make_cert(certs, "ca", "server", dns, ips))
    c = Cluster(render(FILES, release=RELEASE, namespace=NS), BIN_DIR, work, NS,
                secrets={"tile38-tls": secret})
    yield c
    c.shutdown()


def leader(cl):
    (p,) = cl.role("leader")
    return p


def get_object(cl, pod, host, key, oid):
    res = cl.cli(pod, "-h", host, *TLS, "GET", key, oid)
    return reply(res).get("object") if res.rc == 0 else None


def test_probes_and_follow_speak_tls(cl):
    for pod in cl.pods.values():
        c = pod.container()
        for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
            cmd = c[kind]["exec"]["command"]
            assert cmd[1:5] == ["-p", "9852", "--tls", "--insecure"] and "--cert" in cmd, cmd
        assert c["args"][c["args"].index("-p") + 1] == "9852"
    f = cl.role("follower")[0].container()
    assert f["args"][f["args"].index("--leader-tls") + 1] == "yes"


def test_leader_serves_tls_only_with_client_certificates(cl):
    ld = leader(cl)
    cl.start(ld)
    cl.wait_probe(ld, "startupProbe")
    cl.wait_probe(ld, "readinessProbe", timeout=10)
    assert cl.probe(ld, "livenessProbe")[0]
    host = f"{FN}-leader.{NS}.svc.cluster.local"
    res = cl.cli(ld, "-h", host, *TLS, "SET", "fleet", "truck1", "POINT", "33.5", "-112.2")
    assert res.rc == 0 and reply(res)["ok"] is True, res
    plain = cl.cli(ld, "-h", host, "-p", "9852", "PING")
    assert plain.rc != 0, f"plain text accepted on the TLS port: {plain}"
    no_cert = cl.cli(ld, "-h", host, "-p", "9852", "--cacert", "/tls/ca.crt", "PING")
    assert no_cert.rc != 0, f"a client without a certificate was served: {no_cert}"


def test_followers_follow_the_leader_over_tls(cl):
    for f in cl.role("follower"):
        cl.start(f)
    for f in cl.role("follower"):
        cl.wait_probe(f, "startupProbe")
        cl.wait_probe(f, "readinessProbe", timeout=30)
    ld = leader(cl)
    for f in cl.role("follower"):
        host = f"{f.name}.{FN}-follower-headless.{NS}.svc.cluster.local"
        assert get_object(cl, ld, host, "fleet", "truck1") == {
            "type": "Point", "coordinates": [-112.2, 33.5]}
        info = cl.cli(f, *TLS, "INFO", "replication")
        assert info.rc == 0 and reply(info)["info"]["master_link_status"] == "up", info
        # the leader's certificate was checked for its stable name in the cluster
        argv = cl.translate(f, f.container(), f.container()["command"] + f.container()["args"])
        assert argv[argv.index("--leader-tls-server-name") + 1] == \
            f"{FN}-leader-0.{FN}-leader-headless.{NS}.svc.cluster.local", argv
    res = cl.cli(ld, *TLS, "SET", "fleet", "truck2", "POINT", "33.4", "-112.1")
    assert res.rc == 0, res
    for f in cl.role("follower"):
        wait_until(f"truck2 on {f.name}", lambda f=f: get_object(
            cl, ld, f"{f.name}.{FN}-follower-headless.{NS}.svc", "fleet", "truck2"), timeout=10)


def test_metrics_over_https_with_a_client_certificate(cl):
    ld = leader(cl)
    vol = ld.volumes["tls"]
    ctx = ssl.create_default_context(cafile=os.path.join(vol, "ca.crt"))
    ctx.load_cert_chain(os.path.join(vol, "tls.crt"), os.path.join(vol, "tls.key"))
    ctx.check_hostname = False  # served on 127.0.0.1; the chain is still verified
    conn = http.client.HTTPSConnection("127.0.0.1", ld.ports[4321], timeout=5, context=ctx)
    conn.request("GET", "/metrics")
    resp = conn.getresponse()
    assert resp.status == 200 and "tile38_replication_info" in resp.read().decode()
    plain = http.client.HTTPConnection("127.0.0.1", ld.ports[4321], timeout=5)
    with pytest.raises((OSError, http.client.HTTPException)):
        plain.request("GET", "/metrics")
        assert plain.getresponse().status != 200


def test_helm_test_hooks_pass_over_tls(cl):
    assert len(cl.r.hooks) == 3
    assert cl.helm_test() == []


def test_sigterm_stops_every_pod_cleanly(cl):
    assert cl.stop_cleanly(cl.role("follower") + cl.role("leader")) == []
