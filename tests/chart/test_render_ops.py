"""Invariants of the rendered chart, operations side: pod security, resources,
scheduling, storage, names, disruption budgets, network policy, monitoring objects, helm
test hooks, backups, the README's parameter table and the image the chart runs."""
from __future__ import annotations

import json
import os
import re

import pytest
import yaml

import readme_params
from chartlib import (CHART, containers, env_of, pod_labels, pod_spec, render, selects,
                      server_container, workloads)
from test_render import FN, SCENARIOS, role_pods


@pytest.fixture(scope="module", params=SCENARIOS, ids=[s[0] for s in SCENARIOS])
def scenario(request):
    return render(request.param[1])


@pytest.fixture(scope="module")
def defaults():
    return render()


# ----------------------------------------------------------------------------- pod security
def test_every_container_is_locked_down(scenario):
    for d in workloads(scenario):
        spec = pod_spec(d)
        where = d["metadata"]["name"]
        # only a failover member talks to the API server (its Lease, its pod's labels)
        elects = d["kind"] == "StatefulSet" and where.endswith("-server")
        assert spec["automountServiceAccountToken"] is elects, where
        psc = spec["securityContext"]
        assert psc["runAsNonRoot"] is True and psc["seccompProfile"]["type"] == "RuntimeDefault"
        chart_made = [c for c in containers(d) if c["name"] not in
                      {x["name"] for x in (scenario.values.get("sidecars") or [])
                       + (scenario.values.get("initContainers") or [])}]
        for c in chart_made:
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True, (where, c["name"])
            assert sc["allowPrivilegeEscalation"] is False, (where, c["name"])
            assert sc["runAsNonRoot"] is True and sc["runAsUser"] == 10001
            assert sc["capabilities"]["drop"] == ["ALL"] and "add" not in sc["capabilities"]
            assert sc["seccompProfile"]["type"] == "RuntimeDefault"
            assert c["resources"]["limits"] and c["resources"]["requests"], (where, c["name"])
    for sa in scenario.kind("ServiceAccount"):
        assert sa["automountServiceAccountToken"] is False


def test_default_resources(defaults):
    for role in ("leader", "follower"):
        res = server_container(defaults.get("StatefulSet", f"{FN}-{role}"))["resources"]
        assert res == {"requests": {"cpu": "250m", "memory": "512Mi"},
                       "limits": {"cpu": "1", "memory": "2Gi"}}
    env = env_of(server_container(defaults.get("StatefulSet", f"{FN}-leader")))
    assert env["TILE38_CONFIG_MAXMEMORY"] == "1536mb"  # 75% of the 2Gi limit


def test_role_resources_override():
    r = render(values={"follower": {"resources": {"limits": {"memory": "1Gi"}}}})
    assert server_container(r.get("StatefulSet", f"{FN}-follower"))["resources"] == \
        {"limits": {"memory": "1Gi"}}
    assert server_container(r.get("StatefulSet", f"{FN}-leader"))["resources"]["limits"][
        "memory"] == "2Gi"


def test_scheduling_presets(defaults):
    for role in ("leader", "follower"):
        spec = pod_spec(defaults.get("StatefulSet", f"{FN}-{role}"))
        soft = spec["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
        assert soft[0]["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
        tsc = spec["topologySpreadConstraints"][0]
        assert tsc["whenUnsatisfiable"] == "ScheduleAnyway"
        assert tsc["labelSelector"]["matchLabels"]["app.kubernetes.io/component"] == role
    hard = render(values={"podAntiAffinityPreset": "hard"})
    spec = pod_spec(hard.get("StatefulSet", f"{FN}-follower"))
    assert "requiredDuringSchedulingIgnoredDuringExecution" in spec["affinity"]["podAntiAffinity"]


# ----------------------------------------------------------------------------- storage
def test_persistence(defaults):
    for role in ("leader", "follower"):
        d = defaults.get("StatefulSet", f"{FN}-{role}")
        (claim,) = d["spec"]["volumeClaimTemplates"]
        assert claim["metadata"]["name"] == "data"
        assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
        assert claim["spec"]["resources"]["requests"]["storage"] == "10Gi"
        assert d["spec"]["persistentVolumeClaimRetentionPolicy"] == {
            "whenDeleted": "Retain", "whenScaled": "Retain"}
        mounts = {m["name"]: m["mountPath"] for m in server_container(d)["volumeMounts"]}
        assert mounts["data"] == "/data"
        args = server_container(d)["args"]
        assert args[args.index("-d") + 1] == "/data"


def test_existing_claim_and_no_persistence():
    r = render(values={"leader": {"existingClaim": "old-data"}})
    leader = r.get("StatefulSet", f"{FN}-leader")
    assert "volumeClaimTemplates" not in leader["spec"]
    vols = {v["name"]: v for v in pod_spec(leader)["volumes"]}
    assert vols["data"]["persistentVolumeClaim"]["claimName"] == "old-data"
    assert r.get("StatefulSet", f"{FN}-follower")["spec"]["volumeClaimTemplates"]
    r = render(values={"persistence": {"enabled": False}})
    for d in r.kind("StatefulSet"):
        assert "volumeClaimTemplates" not in d["spec"]
        assert {v["name"]: v for v in pod_spec(d)["volumes"]}["data"] == {
            "name": "data", "emptyDir": {}}


# ----------------------------------------------------------------------------- names
def test_longest_release_name_fits():
    release = "r" * 53
    r = render(release=release)
    for d in r.all():
        name = d["metadata"]["name"]
        assert len(name) <= (52 if d["kind"] == "StatefulSet" else 63), name
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name), name
        for k in (d["metadata"].get("labels") or {}):
            assert len(k.rpartition("/")[2]) <= 63, k
    (leader,), (follower,) = role_pods(r, "leader"), role_pods(r, "follower")
    args = server_container(follower)["args"]
    assert args[args.index("--follow") + 1].split(".")[0] == leader["metadata"]["name"] + "-0"


# ----------------------------------------------------------------------------- disruptions
def test_disruption_budgets(defaults):
    pdb = defaults.get("PodDisruptionBudget", f"{FN}-follower")
    assert pdb["spec"]["maxUnavailable"] == 1 and "minAvailable" not in pdb["spec"]
    assert not defaults.has("PodDisruptionBudget", f"{FN}-leader")
    r = render(values={"leader": {"pdb": {"enabled": True}},
                       "follower": {"pdb": {"maxUnavailable": "", "minAvailable": 2}}})
    assert r.get("PodDisruptionBudget", f"{FN}-leader")["spec"]["maxUnavailable"] == 0
    spec = r.get("PodDisruptionBudget", f"{FN}-follower")["spec"]
    assert spec["minAvailable"] == 2 and "maxUnavailable" not in spec


# ----------------------------------------------------------------------------- network
def ingress_rules(r, role):
    return r.get("NetworkPolicy", f"{FN}-{role}")["spec"]["ingress"]


def test_network_policy_closed():
    r = render(values={"networkPolicy": {"allowExternal": False, "metricsFrom": [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]}})
    client = {f"{FN}-client": "true"}
    follower_labels = pod_labels(r.get("StatefulSet", f"{FN}-follower"))
    for role in ("leader", "follower"):
        rules = ingress_rules(r, role)
        by_port = {}
        for rule in rules:
            for p in rule["ports"]:
                by_port.setdefault(p["port"], []).extend(rule["from"])
        assert set(by_port) == {"tile38", "metrics"}
        selectors = [p.get("podSelector", {}).get("matchLabels") for p in by_port["tile38"]]
        assert client in selectors
        assert any(s and selects(s, follower_labels) for s in selectors) == (role == "leader")
        assert by_port["metrics"] == [{"namespaceSelector": {"matchLabels": {
            "kubernetes.io/metadata.name": "monitoring"}}}]
    # helm test pods are clients
    for h in r.hooks:
        assert selects(client, pod_labels(h))
    # every pod of the chart is covered by a policy
    for w in workloads(r):
        assert any(selects(np["spec"]["podSelector"]["matchLabels"], pod_labels(w))
                   for np in r.kind("NetworkPolicy")), w["metadata"]["name"]


def test_network_policy_open_by_default(defaults):
    rules = ingress_rules(defaults, "follower")
    assert rules[0] == {"ports": [{"port": "tile38", "protocol": "TCP"}]}  # any client


# ----------------------------------------------------------------------------- monitoring
@pytest.fixture(scope="module")
def monitored():
    return render([os.path.join(CHART, "ci", "ha-auth-metrics-values.yaml")])


def test_metrics_port_and_monitors(monitored):
    for d in monitored.kind("StatefulSet"):
        c = server_container(d)
        assert {p["name"]: p["containerPort"] for p in c["ports"]}["metrics"] == 4321
        assert c["args"][c["args"].index("--metrics-addr") + 1] == "0.0.0.0:4321"
    sm = monitored.kind("ServiceMonitor")[0]
    svc = next(s for s in monitored.kind("Service") if selects(
        sm["spec"]["selector"]["matchLabels"], s["metadata"]["labels"]))
    assert svc["metadata"]["name"] == f"{FN}-metrics"
    assert sm["spec"]["endpoints"][0]["port"] == svc["spec"]["ports"][0]["name"] == "metrics"
    pm = monitored.kind("PodMonitor")[0]
    for d in monitored.kind("StatefulSet"):
        assert selects(pm["spec"]["selector"]["matchLabels"], pod_labels(d))


def test_alerts(monitored):
    rules = {r["alert"]: r for r in monitored.kind("PrometheusRule")[0]["spec"]["groups"][0]["rules"]}
    for name in ("Tile38LeaderDown", "Tile38FollowerDown", "Tile38FollowerNotCaughtUp",
                 "Tile38ReplicationLag", "Tile38ReplicationLagBytes", "Tile38AofSizeHigh",
                 "Tile38MemoryNearMaxmemory", "Tile38MemoryNearLimit", "Tile38TooManyClients"):
        assert name in rules, name
    assert f'pod=~"{FN}-leader-[0-9]+"' in rules["Tile38LeaderDown"]["expr"]
    assert 'caught_up!="true"' in rules["Tile38FollowerNotCaughtUp"]["expr"]
    # 70% of the 50Gi volume; 0.9 of the 4Gi limit
    assert rules["Tile38AofSizeHigh"]["expr"].endswith(f"> {int(50 * 2**30 * 0.7)}")
    assert f"> 0.9 * {4 * 2**30}" in rules["Tile38MemoryNearLimit"]["expr"]


def test_dashboard(monitored):
    cm = monitored.get("ConfigMap", f"{FN}-dashboard")
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert cm["metadata"]["namespace"] == "monitoring"
    dash = json.loads(cm["data"]["tile38.json"])
    exprs = " ".join(t["expr"] for p in dash["panels"] for t in p.get("targets", []))
    for metric in ("tile38_replication_lag_seconds", "tile38_aof_size_bytes",
                   "tile38_cmd_duration_seconds_count", "process_resident_memory_bytes"):
        assert metric in exprs


# ----------------------------------------------------------------------------- helm test
def test_helm_test_hooks(defaults):
    hooks = sorted(defaults.hooks, key=lambda h: int(
        h["metadata"]["annotations"]["helm.sh/hook-weight"]))
    assert [h["metadata"]["name"] for h in hooks] == [
        f"{FN}-test-ping", f"{FN}-test-write", f"{FN}-test-followers"]
    for h in hooks:
        assert h["metadata"]["annotations"]["helm.sh/hook"] == "test"
    write = hooks[1]["spec"]
    (set_step,), (get_step,) = write["initContainers"], write["containers"]
    assert set_step["command"][1:5] == ["-h", f"{FN}-leader", "-p", "9851"]
    assert set_step["command"][5:] == ["SET", "helm-test", "rel-r1", "EX", "3600",
                                       "POINT", "33.5123", "-112.2693"]
    assert get_step["command"][5:] == ["GET", "helm-test", "rel-r1"]
    followers = pod_spec(hooks[2])
    hosts = [c["command"][2] for c in followers["containers"]]
    assert hosts == [f"{FN}-follower-{i}.{FN}-follower-headless" for i in range(2)]
    assert [c["command"][5] for c in followers["initContainers"]] == ["HEALTHZ"] * 2
    assert all(c["command"][5:] == ["GET", "helm-test", "rel-r1"] for c in followers["containers"])


# ----------------------------------------------------------------------------- backup
def test_backup_copies_a_follower_volume():
    r = render([os.path.join(CHART, "ci", "extras-values.yaml")])
    cj = r.get("CronJob", f"{FN}-backup")
    spec = pod_spec(cj)
    term = spec["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]
    assert term["labelSelector"]["matchLabels"] == {
        "statefulset.kubernetes.io/pod-name": f"{FN}-follower-0"}
    vols = {v["name"]: v for v in spec["volumes"]}
    assert vols["source"]["persistentVolumeClaim"] == {
        "claimName": f"data-{FN}-follower-0", "readOnly": True}
    assert vols["backup"]["persistentVolumeClaim"]["claimName"] == f"{FN}-backup"
    assert r.get("PersistentVolumeClaim", f"{FN}-backup")["metadata"]["annotations"][
        "helm.sh/resource-policy"] == "keep"
    (copy,), (upload,) = spec["initContainers"], spec["containers"]
    assert "/source/appendonly.aof" in copy["command"][2]
    assert "s3://$S3_BUCKET/$S3_PREFIX/$name" in upload["command"][2]
    assert vols["s3-credentials"]["secret"]["secretName"] == "tile38-s3"
    with pytest.raises(Exception, match="persistence"):
        render(values={"backup": {"enabled": True}, "persistence": {"enabled": False}})


# ----------------------------------------------------------------------------- docs
def test_readme_parameter_table_matches_values():
    """Every value documented, with its current default (refresh the table with
    python3 tests/chart/readme_params.py --write)."""
    assert readme_params.readme_table() == readme_params.table()
    assert "|  |" not in readme_params.table(), "a value lacks its # -- comment"


def test_chart_matches_the_image():
    """The binaries, user and data directory the chart relies on are the Dockerfile's."""
    with open(os.path.join(CHART, "..", "..", "Dockerfile")) as fh:
        dockerfile = fh.read()
    copied = re.search(r"^COPY --from=\S+ (.+) /usr/local/bin/$", dockerfile, re.M)
    assert copied, "Dockerfile no longer copies the binaries to /usr/local/bin/"
    shipped = {os.path.basename(p) for p in copied[1].split()}
    assert {"tile38-server", "tile38-cli"} <= shipped
    uid = re.search(r"^USER (\d+)(?::(\d+))?$", dockerfile, re.M)
    values = yaml.safe_load(open(os.path.join(CHART, "values.yaml")))
    assert int(uid[1]) == values["podSecurityContext"]["runAsUser"] == \
        values["containerSecurityContext"]["runAsUser"]
    assert re.search(r'^VOLUME \["/data"\]$', dockerfile, re.M)
    r = render()
    for d in workloads(r):
        for c in containers(d):
            if c["image"].startswith(values["image"]["repository"]):
                assert os.path.basename(c["command"][0]) in shipped, c["command"]
