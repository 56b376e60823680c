"""The rendered chart with TLS (tls.*, follower.externalLeader.tls, metrics.tls): off by
default, the TLS port everywhere clients connect, every name a client dials carried by
the cert-manager Certificate, and the refusals of inconsistent values."""
from __future__ import annotations

import fnmatch
import os

import pytest

from chartlib import CHART, containers, install_dry_run, render, server_container
from test_render import FN, role_pods

TLS_FILE = os.path.join(CHART, "ci", "tls-values.yaml")
MULTIREGION = os.path.join(CHART, "ci", "multiregion-values.yaml")
CERT_MANAGER = {"tls": {"enabled": True, "certManager": {"enabled": True,
                                                         "issuerRef": {"name": "ca"}}}}


def mounts(c):
    return {m["mountPath"]: m for m in c.get("volumeMounts") or []}


def test_off_by_default():
    r = render()
    assert not r.kind("Certificate")
    for d in role_pods(r, "leader") + role_pods(r, "follower"):
        c = server_container(d)
        assert [p["name"] for p in c["ports"]] == ["tile38", "metrics"]
        assert "/tls" not in mounts(c) and not any("tls" in a for a in c["args"])
    for s in r.kind("Service"):
        assert "tile38-tls" not in [p["name"] for p in s["spec"]["ports"]]


def test_tls_only_everywhere_clients_connect():
    r = render([TLS_FILE])
    for s in r.kind("Service"):
        if s["metadata"]["name"] != f"{FN}-metrics":
            assert [(p["name"], p["port"]) for p in s["spec"]["ports"]] == [("tile38-tls", 9852)]
    for np in r.kind("NetworkPolicy"):
        for rule in np["spec"].get("ingress") or []:
            assert {"port": "tile38"} not in [{"port": p["port"]} for p in rule["ports"]]
    for d in role_pods(r, "leader") + role_pods(r, "follower"):
        c = server_container(d)
        assert mounts(c)["/tls"]["readOnly"] is True
        vol = next(v for v in d["spec"]["template"]["spec"]["volumes"] if v["name"] == "tls")
        assert vol["secret"]["secretName"] == "tile38-tls"
    for h in r.hooks:
        for c in containers(h):
            cmd = c["command"]
            assert cmd[cmd.index("-p") + 1] == "9852" and "--cacert" in cmd, cmd
            assert "/tls" in mounts(c)


def test_plain_port_kept():
    r = render(values={**CERT_MANAGER, "tls": {**CERT_MANAGER["tls"], "plainPort": True}})
    c = server_container(r.get("StatefulSet", f"{FN}-leader"))
    assert c["args"][c["args"].index("-p") + 1] == "9851"
    assert c["args"][c["args"].index("--tls-port") + 1] == "9852"
    assert [p["name"] for p in c["ports"]][:2] == ["tile38", "tile38-tls"]
    assert c["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "tile38-tls",
                                              "scheme": "HTTPS"}
    assert "--tls" in c["livenessProbe"]["exec"]["command"]
    svc = r.get("Service", f"{FN}-leader")
    assert [p["name"] for p in svc["spec"]["ports"]] == ["tile38", "tile38-tls"]


def dialled_hosts(r) -> set[str]:
    """Every host a TLS client of the release dials: tests, followers."""
    hosts = set()
    for h in r.hooks:
        for c in containers(h):
            hosts.add(c["command"][c["command"].index("-h") + 1])
    for d in role_pods(r, "follower"):
        args = server_container(d)["args"]
        hosts.add(args[args.index("--follow") + 1].rsplit(":", 1)[0])
    return hosts


@pytest.mark.parametrize("values", [CERT_MANAGER, {**CERT_MANAGER, "follower": {
    "replicaCount": 0}}], ids=["followers", "leader-only"])
def test_certificate_carries_every_dialled_name(values):
    r = render(values=values)
    spec = r.get("Certificate", f"{FN}-tls")["spec"]
    assert spec["secretName"] == f"{FN}-tls" and "client auth" in spec["usages"]
    for host in dialled_hosts(r):
        # a wildcard stands for exactly one label
        assert any(n == host or (n.startswith("*.") and host.split(".", 1)[1] == n[2:]
                                 and fnmatch.fnmatch(host, n)) for n in spec["dnsNames"]), host
    c = server_container(r.get("StatefulSet", f"{FN}-leader"))
    vol = next(v for v in r.get("StatefulSet", f"{FN}-leader")["spec"]["template"]["spec"][
        "volumes"] if v["name"] == "tls")
    assert vol["secret"]["secretName"] == f"{FN}-tls" and "/tls" in mounts(c)


def test_multiregion_follows_over_tls():
    r = render([MULTIREGION])
    assert not role_pods(r, "leader") and r.has("Certificate", f"{FN}-tls")
    (f,) = role_pods(r, "follower")
    args = server_container(f)["args"]
    assert args[args.index("--follow") + 1] == "203.0.113.10:9852"
    assert args[args.index("--leader-tls") + 1] == "yes"
    assert mounts(server_container(f))["/leader-tls"]["readOnly"] is True
    names = r.get("Certificate", f"{FN}-tls")["spec"]["dnsNames"]
    assert "tile38.eu-west.example.com" in names and not any("leader" in n for n in names)
    (pm,) = r.kind("PodMonitor")
    ep = pm["spec"]["podMetricsEndpoints"][0]
    assert ep["scheme"] == "https" and ep["tlsConfig"]["ca"]["secret"]["name"] == f"{FN}-tls"


@pytest.mark.parametrize("values,match", [
    ({"tls": {"enabled": True}}, "exactly one"),
    ({"tls": {"enabled": True, "existingSecret": "s", "certManager": {"enabled": True}}},
     "exactly one"),
    ({"tls": {"enabled": True, "certManager": {"enabled": True}}}, "issuerRef"),
    ({"metrics": {"tls": True}}, "metrics.tls"),
    ({"tls": {"enabled": True, "existingSecret": "s", "plainPort": True, "port": 9851}},
     "differ"),
])
def test_inconsistent_values_fail(values, match):
    with pytest.raises(Exception, match=match):
        render(values=values)


@pytest.mark.parametrize("bad", [{"tls": {"authClients": True}}, {"tls": {"bogus": 1}},
                                 {"tls": {"protocols": "SSLv3"}},
                                 {"follower": {"externalLeader": {"tls": {"x": 1}}}}])
def test_schema_rejects(bad):
    with pytest.raises(Exception):
        install_dry_run(bad)
