"""Invariants of failover.enabled (README "Automatic failover"): one StatefulSet of electing
members, the Lease and the only RBAC they get, the Services on the labels the servers set,
the budget, probes, network policy and the exclusivity with the fixed topology; and, with
the mode off, the fixed topology rendered byte for byte as before it existed."""
from __future__ import annotations

import json
import os

import pytest

import golden
from chartlib import (CHART, env_of, install_dry_run, pod_labels, pod_spec, render, selects,
                      server_container)
from test_render import FN, pod_roles

CI = os.path.join(CHART, "ci", "failover-values.yaml")
ON = {"failover": {"enabled": True}, "follower": {"replicaCount": 0}}
STS = f"{FN}-server"
LEASE = f"{FN}-leader"


@pytest.fixture(scope="module")
def plain():
    return render(values=ON)


@pytest.fixture(scope="module")
def ci():
    return render([CI])


def arg(args, flag):
    return args[args.index(flag) + 1]


# ----------------------------------------------------------------------------- mode off
def test_fixed_topology_renders_as_before():
    with open(golden.DIGESTS) as fh:
        recorded = json.load(fh)
    assert golden.current() == recorded, \
        "the fixed topology's rendering changed: review it, then tests/chart/golden.py --write"


def test_failover_values_are_inert_when_off():
    tuned = {"failover": {"enabled": False, "replicas": 7, "leaseDurationSeconds": 30,
                          "minFollowersToWrite": 2, "pdb": {"enabled": False}}}
    off, base = render(values=tuned), render()
    strip = lambda r: [d for d in r.all() if d["kind"] != "Secret"]  # noqa: E731 (random password)
    assert len(strip(off)) == len(strip(base))
    for d in off.all():
        text = json.dumps(d)
        assert "--elect" not in text and "tile38.io/role" not in text and d["kind"] != "Lease"


# ----------------------------------------------------------------------------- workload
def test_one_statefulset_of_members(plain):
    assert [d["metadata"]["name"] for d in plain.kind("StatefulSet")] == [STS]
    sts = plain.get("StatefulSet", STS)
    assert sts["spec"]["replicas"] == 3
    assert sts["spec"]["podManagementPolicy"] == "Parallel"
    headless = plain.get("Service", sts["spec"]["serviceName"])
    assert headless["metadata"]["name"] == f"{FN}-server-headless"
    assert headless["spec"]["clusterIP"] == "None" and headless["spec"]["publishNotReadyAddresses"]
    assert selects(headless["spec"]["selector"], pod_labels(sts))
    # the role labels are the servers' to set, never the template's
    assert "tile38.io/role" not in pod_labels(sts) and "tile38.io/caught-up" not in pod_labels(sts)
    assert render(values={**ON, "failover": {"enabled": True, "replicas": 2}}).get(
        "StatefulSet", STS)["spec"]["replicas"] == 2


def test_members_elect_and_advertise_their_stable_name(plain):
    c = server_container(plain.get("StatefulSet", STS))
    args = c["args"]
    assert "--follow" not in args
    assert arg(args, "--elect") == f"kubernetes://ns/{LEASE}"
    # $(POD_NAME) is expanded by the kubelet from the container's env (downward API)
    assert arg(args, "--advertise") == f"$(POD_NAME).{FN}-server-headless.ns.svc.cluster.local:9851"
    assert arg(args, "--failover-lease-duration") == "10"
    assert arg(args, "--failover-max-lag") == "1048576"
    env = env_of(c)
    assert env["POD_NAME"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert env["POD_NAMESPACE"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    assert env["TILE38_LEADERAUTH"]["secretKeyRef"]["key"] == "leaderauth"  # any may follow
    assert env["TILE38_CONFIG_MIN_FOLLOWERS_TO_WRITE"] == "0"
    assert env["TILE38_CONFIG_MIN_FOLLOWERS_MAX_LAG"] == "10"
    assert env["TILE38_CONFIG_MAXMEMORY"] == "1536mb"  # config still applies
    assert pod_spec(plain.get("StatefulSet", STS))["automountServiceAccountToken"] is True


def test_ci_values_reach_the_server(ci):
    c = server_container(ci.get("StatefulSet", STS))
    args, env = c["args"], env_of(c)
    assert arg(args, "--failover-lease-duration") == "15"
    assert arg(args, "--failover-max-lag") == "4194304"
    assert env["TILE38_CONFIG_MIN_FOLLOWERS_TO_WRITE"] == "1"
    # TLS: members advertise the TLS port and follow each other over TLS with the pods' CA
    assert arg(args, "--advertise").endswith(":9852")
    assert arg(args, "--leader-tls") == "yes"
    assert arg(args, "--leader-tls-ca-cert-file") == "/tls/ca.crt"
    names = ci.get("Certificate", f"{FN}-tls")["spec"]["dnsNames"]
    assert f"*.{FN}-server-headless.ns.svc.cluster.local" in names
    assert f"{FN}-leader.ns.svc.cluster.local" in names and f"{FN}-follower.ns.svc" in names


def test_probes_follow_the_elected_role(plain):
    c = server_container(plain.get("StatefulSet", STS))
    assert c["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "tile38"}
    assert c["livenessProbe"]["exec"]["command"][-1] == "PING"
    assert c["startupProbe"]["exec"]["command"][-1] == "PING"
    assert c["readinessProbe"]["periodSeconds"] * c["readinessProbe"]["failureThreshold"] <= 5


# ----------------------------------------------------------------------------- services
def test_services_select_what_the_servers_label(plain):
    pods = pod_roles(plain)
    write = plain.get("Service", f"{FN}-leader")
    read = plain.get("Service", f"{FN}-follower")
    assert write["spec"]["selector"]["tile38.io/role"] == "leader"
    assert read["spec"]["selector"]["tile38.io/caught-up"] == "true"
    assert {r for r, labels in pods.items() if selects(write["spec"]["selector"], labels)} == {"leader"}
    assert {r for r, labels in pods.items() if selects(read["spec"]["selector"], labels)} == {"follower"}
    assert write["metadata"]["annotations"]["tile38.io/access"] == "read-write"
    assert read["metadata"]["annotations"]["tile38.io/access"] == "read-only"
    assert not plain.has("Service", f"{FN}-leader-headless")
    assert not plain.has("Service", f"{FN}-follower-headless")


def test_pdb_takes_one_member_at_a_time(plain):
    [pdb] = plain.kind("PodDisruptionBudget")
    assert pdb["metadata"]["name"] == f"{FN}-server" and pdb["spec"]["maxUnavailable"] == 1
    assert selects(pdb["spec"]["selector"]["matchLabels"], pod_labels(plain.get("StatefulSet", STS)))


def test_network_policy_lets_members_follow_each_other(ci):
    members = pod_labels(ci.get("StatefulSet", STS))
    policy = ci.get("NetworkPolicy", f"{FN}-server")
    assert selects(policy["spec"]["podSelector"]["matchLabels"], members)
    # egress stays open: the members must reach the API server (README "Network policy")
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    peers = [p["podSelector"]["matchLabels"] for rule in policy["spec"]["ingress"]
             for p in rule.get("from") or [] if "podSelector" in p]
    assert any(selects(p, members) for p in peers)
    assert not ci.has("NetworkPolicy", f"{FN}-leader")


# ----------------------------------------------------------------------------- lease and RBAC
def test_lease_and_role_name_every_object():
    r = render(values={**ON, "failover": {"enabled": True, "replicas": 5,
                                          "leaseDurationSeconds": 12}})
    lease = r.get("Lease", LEASE)
    assert lease["apiVersion"] == "coordination.k8s.io/v1"
    assert lease["spec"] == {"leaseDurationSeconds": 12}  # the holder is the servers' business
    role = r.get("Role", f"{FN}-elector")
    assert role["rules"] == [
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
         "resourceNames": [LEASE], "verbs": ["get", "update", "patch"]},
        {"apiGroups": [""], "resources": ["pods"],
         "resourceNames": [f"{STS}-{i}" for i in range(5)], "verbs": ["get", "patch"]}]
    binding = r.get("RoleBinding", f"{FN}-elector")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                  "name": f"{FN}-elector"}
    sts = r.get("StatefulSet", STS)
    assert binding["subjects"] == [{"kind": "ServiceAccount", "namespace": "ns",
                                    "name": pod_spec(sts)["serviceAccountName"]}]
    assert not r.kind("ClusterRole") and not r.kind("ClusterRoleBinding")


def test_existing_service_account_is_bound():
    r = render(values={**ON, "serviceAccount": {"create": False, "name": "tile38-runner"}})
    assert r.get("RoleBinding", f"{FN}-elector")["subjects"][0]["name"] == "tile38-runner"
    assert not r.kind("ServiceAccount")


# ----------------------------------------------------------------------------- the rest
def test_helm_tests_check_every_member(plain):
    job = plain.get("Job", f"{FN}-test-followers")
    spec = job["spec"]["template"]["spec"]
    hosts = [c["command"][2] for c in spec["initContainers"]]
    assert hosts == [f"{STS}-{i}.{FN}-server-headless" for i in range(3)]
    assert [c["command"][-1] for c in spec["initContainers"]] == ["HEALTHZ"] * 3
    write = plain.get("Pod", f"{FN}-test-write")["spec"]["initContainers"][0]["command"]
    assert write[2] == f"{FN}-leader"  # the write Service, on the elected leader


def test_alerts_and_backup_name_the_members(ci):
    rules = {r["alert"]: r["expr"] for r in ci.kind("PrometheusRule")[0]["spec"]["groups"][0]["rules"]
             if "alert" in r}
    assert f'pod=~"{STS}-[0-9]+", role="leader"' in rules["Tile38LeaderDown"]
    assert f"{FN}-leader-" not in json.dumps(rules)
    backup = json.dumps(ci.get("CronJob", f"{FN}-backup"))
    assert f"data-{STS}-1" in backup and f"{STS}-1" in backup
    monitor = ci.kind("PodMonitor")[0]["spec"]["podMetricsEndpoints"][0]
    assert monitor["relabelings"][0]["sourceLabels"] == ["__meta_kubernetes_pod_label_tile38_io_role"]


@pytest.mark.parametrize("values, match", [
    ({"failover": {"enabled": True}}, "follower.replicaCount=0"),
    ({**ON, "follower": {"replicaCount": 0, "externalLeader": {"host": "db.example"}}},
     "externalLeader"),
    ({**ON, "leader": {"existingClaim": "old-leader"}}, "existingClaim"),
    ({**ON, "backup": {"enabled": True, "sourceFollower": 3}}, "failover.replicas"),
])
def test_fixed_topology_and_failover_are_exclusive(values, match):
    with pytest.raises(Exception, match=match):
        render(values=values)


@pytest.mark.parametrize("bad", [{"replicas": 0}, {"leaseDurationSeconds": 1},
                                 {"maxLag": -1}, {"minFollowersToWrite": "one"},
                                 {"bogus": True}])
def test_schema_rejects(bad):
    with pytest.raises(Exception):
        install_dry_run({**ON, "failover": {"enabled": True, **bad}})


def test_schema_accepts_the_ci_values():
    install_dry_run({**ON, "failover": {"enabled": True, "replicas": 4, "maxLag": 0}})
