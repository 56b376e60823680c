"""Digests of the chart's fixed-topology renderings (failover off): the chart defaults and
every ci/*values.yaml but failover's, with a fixed password so that nothing is random.
test_render_failover.py compares them, so failover.enabled=false renders byte for byte what
the chart rendered before the failover mode existed. After a deliberate change to the fixed
topology's rendering, `python3 tests/chart/golden.py --write` (with check-chart's venv
python) records the new digests; review the rendered diff first (`--out DIR` writes it)."""
from __future__ import annotations

import glob
import hashlib
import json
import os
import sys

from chartlib import CHART, cc, helm

DIGESTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden", "fixed.json")
PASSWORD = {"auth": {"password": "golden-password"}}


def scenarios() -> dict[str, list[str]]:
    files = sorted(f for f in glob.glob(os.path.join(CHART, "ci", "*values.yaml"))
                   if not os.path.basename(f).startswith("failover"))
    return {"defaults": [], **{os.path.basename(f): [f] for f in files}}


def render_text(files: list[str]) -> dict[str, str]:
    """Raw template output by path, as Helm renders it (no parsing, no reformatting), without
    the templates that render nothing (Helm leaves those out of the release too)."""
    vals = cc.build_values(helm, [("-f", f) for f in files])
    cc.deep_merge(vals, json.loads(json.dumps(PASSWORD)))
    opts = {"release": "rel", "namespace": "ns", "kube_version": "1.31.0", "api_versions": []}
    out = cc.native_render(helm, CHART, vals, opts)
    return {path: text for path, text in out.items() if text.strip()}


def digest(files: list[str]) -> str:
    return text_digest(render_text(files))


def text_digest(out: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(sorted(out.items())).encode()).hexdigest()


def current() -> dict[str, str]:
    return {name: digest(files) for name, files in scenarios().items()}


if __name__ == "__main__":
    if "--out" in sys.argv:
        root = sys.argv[sys.argv.index("--out") + 1]
        for name, files in scenarios().items():
            for path, text in render_text(files).items():
                dest = os.path.join(root, name, path)
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                with open(dest, "w") as fh:
                    fh.write(text)
    if "--write" in sys.argv:
        with open(DIGESTS, "w") as fh:
            json.dump(current(), fh, indent=2, sort_keys=True)
            fh.write("\n")
    else:
        print(json.dumps(current(), indent=2, sort_keys=True))
