"""Rendering the chart for the tests, with the Helm SDK library that check-chart.sh installs
(no helm binary): the same calls as tools/chart/check_chart.py, which is imported from there
(or from $TILE38_SHARED/tools/chart when set) so that the tests and the checker render
identically."""
from __future__ import annotations

import base64
import os
import sys
from dataclasses import dataclass, field
from typing import Any

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CHART = os.path.join(ROOT, "deploy", "chart")
SHARED = os.environ.get("TILE38_SHARED")  # a shared/ directory to take the tools from instead
TOOLS = os.path.join(SHARED, "tools") if SHARED else os.path.join(ROOT, "tools")
sys.path.insert(0, os.path.abspath(os.path.join(TOOLS, "chart")))

import check_chart as cc  # noqa: E402  (the checker's own render path)
import helm_python as helm  # noqa: E402

HOOK = "helm.sh/hook"


@dataclass
class Rendered:
    """One render of the chart: the release's objects, its hooks and NOTES.txt."""

    docs: list[dict]
    hooks: list[dict]
    notes: str
    values: dict = field(default_factory=dict)

    def all(self) -> list[dict]:
        return self.docs + self.hooks

    def kind(self, kind: str) -> list[dict]:
        return [d for d in self.all() if d["kind"] == kind]

    def get(self, kind: str, name: str) -> dict:
        for d in self.all():
            if d["kind"] == kind and d["metadata"]["name"] == name:
                return d
        raise KeyError(f"{kind}/{name} not rendered; have "
                       f"{sorted(ident(d) for d in self.all())}")

    def has(self, kind: str, name: str) -> bool:
        return any(d["kind"] == kind and d["metadata"]["name"] == name for d in self.all())

    def secret_value(self, name: str, key: str) -> str:
        s = self.get("Secret", name)
        if key in (s.get("stringData") or {}):
            return s["stringData"][key]
        return base64.b64decode(s["data"][key]).decode()


def ident(d: dict) -> str:
    return f"{d['kind']}/{d['metadata']['name']}"


def render(files: list[str] | None = None, values: dict | None = None, release: str = "rel",
           namespace: str = "ns") -> Rendered:
    """Renders with `-f files...` then `values` merged over them (like --set)."""
    vals = cc.build_values(helm, [("-f", f) for f in files or []])
    cc.deep_merge(vals, values or {})
    opts = {"release": release, "namespace": namespace, "kube_version": "1.31.0",
            "api_versions": []}
    out = cc.native_render(helm, CHART, vals, opts)
    docs, hooks, notes = [], [], ""
    for path, text in sorted(out.items()):
        if path.endswith("NOTES.txt"):
            notes = text
            continue
        for _, body in cc.split_docs(text, path):
            d = cc.load_doc(body)
            if not isinstance(d, dict):
                continue
            annotations = (d.get("metadata") or {}).get("annotations") or {}
            (hooks if HOOK in annotations else docs).append(d)
    return Rendered(docs, hooks, notes, vals)


def install_dry_run(values: dict, release: str = "rel", namespace: str = "ns") -> dict:
    """`helm install --dry-run=client`: validates values against values.schema.json."""
    opts = {"release": release, "namespace": namespace, "kube_version": "1.31.0",
            "api_versions": []}
    return cc.native_install_dry_run(helm, CHART, values, opts)


def pod_spec(d: dict) -> dict:
    return cc.pod_spec_of(d)[1]


def pod_labels(d: dict) -> dict:
    return (cc.pod_spec_of(d)[0] or {}).get("labels") or {}


def containers(d: dict, init: bool = True) -> list[dict]:
    spec = pod_spec(d)
    return ((spec.get("initContainers") or []) if init else []) + spec["containers"]


def server_container(d: dict) -> dict:
    return next(c for c in pod_spec(d)["containers"] if c["name"] == "tile38")


def env_of(c: dict) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in c.get("env") or []}


def selects(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def workloads(r: Rendered) -> list[dict]:
    return [d for d in r.all() if d["kind"] in cc.WORKLOAD_KINDS]
