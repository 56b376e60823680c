"""Invariants of the rendered chart, topology side: selectors, the follower's --follow
target, probes, Secret references, config properties and the values schema."""
from __future__ import annotations

import glob
import os

import pytest
import yaml

from chartlib import (CHART, containers, env_of, install_dry_run, pod_labels, render,
                      selects, server_container, workloads)

CI_FILES = sorted(glob.glob(os.path.join(CHART, "ci", "*values.yaml")))
SCENARIOS = [("defaults", [])] + [(os.path.basename(f), [f]) for f in CI_FILES]
FN = "rel-tile38"


@pytest.fixture(scope="module", params=SCENARIOS, ids=[s[0] for s in SCENARIOS])
def scenario(request):
    return render(request.param[1])


@pytest.fixture(scope="module")
def defaults():
    return render()


def pod_roles(r) -> dict[str, dict]:
    """The labels of a pod in each role. With failover.enabled a member's role is the label
    its server sets: the elected leader, a caught-up follower and one that is not."""
    pods = {pod_labels(d)["app.kubernetes.io/component"]: pod_labels(d)
            for d in r.kind("StatefulSet")}
    if not r.values.get("failover", {}).get("enabled"):
        return pods
    member = pods.pop("server")
    return {"leader": {**member, "tile38.io/role": "leader"},
            "follower": {**member, "tile38.io/role": "follower", "tile38.io/caught-up": "true"},
            "lagging": {**member, "tile38.io/role": "follower", "tile38.io/caught-up": "false"}}


def role_pods(r, role):
    return [d for d in r.kind("StatefulSet")
            if pod_labels(d).get("app.kubernetes.io/component") == role]


# ----------------------------------------------------------------------------- selectors
def test_workload_selectors_match_their_templates(scenario):
    for d in scenario.kind("StatefulSet"):
        sel = d["spec"]["selector"]["matchLabels"]
        assert selects(sel, pod_labels(d)), d["metadata"]["name"]
        roles = ("server",) if scenario.values.get("failover", {}).get("enabled") \
            else ("leader", "follower")
        assert sel["app.kubernetes.io/component"] in roles


def test_services_route_to_exactly_their_role(scenario):
    pods = pod_roles(scenario)
    for svc in scenario.kind("Service"):
        name, sel = svc["metadata"]["name"], svc["spec"]["selector"]
        hit = {role for role, labels in pods.items() if selects(sel, labels)}
        if name.endswith("-metrics") or name.endswith("-server-headless"):
            assert hit == set(pods), f"{name} must cover every server pod"
        else:
            role = "leader" if "-leader" in name else "follower"
            assert hit == {role}, f"{name} selects {hit}"
        # helm test and backup pods are never endpoints of a server Service
        for w in workloads(scenario):
            if w["kind"] != "StatefulSet":
                assert not selects(sel, pod_labels(w)), f"{name} selects {w['metadata']['name']}"


def test_statefulsets_use_their_headless_service(scenario):
    for d in scenario.kind("StatefulSet"):
        svc = scenario.get("Service", d["spec"]["serviceName"])
        assert svc["spec"]["clusterIP"] == "None"
        assert svc["spec"]["publishNotReadyAddresses"] is True
        assert selects(svc["spec"]["selector"], pod_labels(d))


def test_pdb_selects_followers_only(scenario):
    for pdb in scenario.kind("PodDisruptionBudget"):
        sel = pdb["spec"]["selector"]["matchLabels"]
        roles = {pod_labels(d)["app.kubernetes.io/component"]
                 for d in scenario.kind("StatefulSet") if selects(sel, pod_labels(d))}
        assert roles == {pdb["metadata"]["name"].rsplit("-", 1)[1]}


# ----------------------------------------------------------------------------- replication
def test_follower_follows_the_leaders_stable_name(defaults):
    leader = defaults.get("StatefulSet", f"{FN}-leader")
    follower = defaults.get("StatefulSet", f"{FN}-follower")
    args = server_container(follower)["args"]
    target = args[args.index("--follow") + 1]
    host, port = target.rsplit(":", 1)
    # <statefulset>-0.<its headless service>.<namespace>.svc.<domain>
    assert host == f"{leader['metadata']['name']}-0.{leader['spec']['serviceName']}.ns.svc.cluster.local"
    assert int(port) == server_container(leader)["ports"][0]["containerPort"] == 9851
    assert "--follow" not in server_container(leader)["args"]
    assert follower["spec"]["replicas"] == 2 and leader["spec"]["replicas"] == 1
    # no shell loop waiting for the leader: the server itself retries
    for c in containers(follower):
        assert c["command"] == ["/usr/local/bin/tile38-server"], c["command"]


def test_external_leader_renders_no_leader():
    r = render(values={"follower": {"externalLeader": {"host": "db.example", "port": 9999}}})
    assert not r.has("StatefulSet", f"{FN}-leader")
    assert not r.has("Service", f"{FN}-leader")
    args = server_container(r.get("StatefulSet", f"{FN}-follower"))["args"]
    assert args[args.index("--follow") + 1] == "db.example:9999"
    for name in ("ping", "write"):
        cmd = r.get("Pod", f"{FN}-test-{name}")["spec"]["containers"][0]["command"]
        assert cmd[1:5] == ["-h", "db.example", "-p", "9999"]
    alerts = [a["alert"] for a in r.kind("PrometheusRule")[0]["spec"]["groups"][0]["rules"]] \
        if r.kind("PrometheusRule") else []
    assert "Tile38LeaderDown" not in alerts


def test_external_leader_password_is_leaderauth():
    r = render(values={"follower": {"externalLeader": {"host": "db.example"}},
                       "auth": {"existingSecret": "ext", "secretKeys": {
                           "requirepass": "own", "leaderauth": "theirs"}}})
    key = lambda c: secret_refs(c)["TILE38_PASSWORD"]["key"]  # noqa: E731
    follower = r.get("StatefulSet", f"{FN}-follower")
    assert key(server_container(follower)) == "own"
    assert secret_refs(server_container(follower))["TILE38_LEADERAUTH"]["key"] == "theirs"
    ping = r.get("Pod", f"{FN}-test-ping")["spec"]["containers"]
    assert [key(c) for c in ping] == ["theirs", "own"]  # the leader, then the followers
    for c in containers(r.get("Pod", f"{FN}-test-write")):
        assert key(c) == "theirs"
    for c in containers(r.get("Job", f"{FN}-test-followers")):
        assert key(c) == "own"


def test_leader_only():
    r = render(values={"follower": {"replicaCount": 0}})
    assert not r.has("StatefulSet", f"{FN}-follower")
    assert not r.kind("PodDisruptionBudget")
    assert not r.has("Job", f"{FN}-test-followers")


# ----------------------------------------------------------------------------- probes
def test_probes(defaults):
    ping = ["/usr/local/bin/tile38-cli", "-p", "9851", "PING"]
    leader = server_container(defaults.get("StatefulSet", f"{FN}-leader"))
    follower = server_container(defaults.get("StatefulSet", f"{FN}-follower"))
    for c in (leader, follower):
        # ready = loaded (PING is answered while the AOF loads) and, on a follower, caught up
        assert c["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "tile38"}
        assert {p["name"]: p["containerPort"] for p in c["ports"]}["tile38"] == 9851
        # liveness and startup must not depend on the leader: a follower whose leader is
        # down keeps serving reads and must not be restarted
        assert c["livenessProbe"]["exec"]["command"] == ping
        assert c["startupProbe"]["exec"]["command"] == ping
        assert c["startupProbe"]["failureThreshold"] * c["startupProbe"]["periodSeconds"] >= 300
        assert "exec" not in c["readinessProbe"]


def test_probes_are_tunable():
    r = render(values={"follower": {"readinessProbe": {"periodSeconds": 7, "failureThreshold": 9},
                                    "livenessProbe": {"enabled": False}},
                       "leader": {"startupProbe": {"failureThreshold": 720}}})
    f = server_container(r.get("StatefulSet", f"{FN}-follower"))
    assert (f["readinessProbe"]["periodSeconds"], f["readinessProbe"]["failureThreshold"]) == (7, 9)
    assert "livenessProbe" not in f
    assert server_container(r.get("StatefulSet", f"{FN}-leader"))["startupProbe"][
        "failureThreshold"] == 720


# ----------------------------------------------------------------------------- secrets
def secret_refs(c):
    return {e["name"]: e["valueFrom"]["secretKeyRef"] for e in c.get("env") or []
            if "secretKeyRef" in (e.get("valueFrom") or {})}


def test_generated_secret_is_referenced(defaults):
    secret = defaults.get("Secret", f"{FN}-auth")
    assert set(secret["data"]) == {"requirepass", "leaderauth"}
    assert len(defaults.secret_value(f"{FN}-auth", "requirepass")) == 32
    assert defaults.secret_value(f"{FN}-auth", "leaderauth") == \
        defaults.secret_value(f"{FN}-auth", "requirepass")
    leader = secret_refs(server_container(defaults.get("StatefulSet", f"{FN}-leader")))
    follower = secret_refs(server_container(defaults.get("StatefulSet", f"{FN}-follower")))
    assert set(leader) == {"TILE38_REQUIREPASS", "TILE38_PASSWORD"}
    assert set(follower) == {"TILE38_REQUIREPASS", "TILE38_PASSWORD", "TILE38_LEADERAUTH"}
    for ref in list(leader.values()) + list(follower.values()):
        assert ref["name"] == f"{FN}-auth" and ref["key"] in secret["data"]
    assert follower["TILE38_LEADERAUTH"]["key"] == "leaderauth"
    # every test step authenticates with the same secret
    for h in defaults.hooks:
        for c in containers(h):
            assert secret_refs(c)["TILE38_PASSWORD"] == {"name": f"{FN}-auth", "key": "requirepass"}


@pytest.mark.parametrize("ci_file", ["ha-auth-metrics-values.yaml", "external-leader-values.yaml"])
def test_existing_secret(ci_file):
    scenario = render([os.path.join(CHART, "ci", ci_file)])
    auth = scenario.values["auth"]
    assert auth["existingSecret"] and not scenario.kind("Secret")
    keys = auth.get("secretKeys", {"requirepass": "requirepass", "leaderauth": "leaderauth"})
    for d in workloads(scenario):
        for c in containers(d):
            for ref in secret_refs(c).values():
                assert ref["name"] == auth["existingSecret"]
                assert ref["key"] in keys.values()


def test_password_never_outside_the_secret():
    pw = "s3cret-Value-42"
    r = render(values={"auth": {"password": pw}})
    for d in r.all():
        text = yaml.safe_dump(d)
        if d["kind"] == "Secret":
            assert pw not in text  # base64 only
        else:
            assert pw not in text, f"password leaked into {d['kind']}/{d['metadata']['name']}"
    assert r.secret_value(f"{FN}-auth", "requirepass") == pw
    assert not r.kind("ConfigMap")


def test_no_auth():
    r = render(values={"auth": {"enabled": False}})
    assert not r.kind("Secret")
    for d in workloads(r):
        for c in containers(d):
            assert not secret_refs(c)


def test_config_properties_become_env():
    r = render(values={"config": {"maxmemory": "3gb", "auto-aof-rewrite-min-size": "64mb",
                                  "appendfsync": ""}})
    env = env_of(server_container(r.get("StatefulSet", f"{FN}-leader")))
    assert env["TILE38_CONFIG_MAXMEMORY"] == "3gb"
    assert env["TILE38_CONFIG_AUTO_AOF_REWRITE_MIN_SIZE"] == "64mb"
    assert "TILE38_CONFIG_APPENDFSYNC" not in env


@pytest.mark.parametrize("bad", [{"config": {"requirepass": "x"}}, {"bogus": 1},
                                 {"follower": {"replicaCount": -1}},
                                 {"server": {"logLevel": "debug"}},
                                 {"follower": {"externalLeader": {"host": "a b"}}},
                                 {"persistence": {"size": "lots"}}])
def test_schema_rejects(bad):
    with pytest.raises(Exception):
        install_dry_run(bad)


def test_checksums_follow_config():
    a = render(values={"auth": {"password": "x"}})
    b = render(values={"auth": {"password": "x"}, "config": {"maxmemory": "1gb"}})
    c = render(values={"auth": {"password": "y"}})
    ann = lambda r: r.get("StatefulSet", f"{FN}-leader")["spec"]["template"]["metadata"]["annotations"]  # noqa: E731
    assert ann(a)["checksum/config"] != ann(b)["checksum/config"]
    assert ann(a)["checksum/secret"] == ann(b)["checksum/secret"]
    assert ann(a)["checksum/secret"] != ann(c)["checksum/secret"]
