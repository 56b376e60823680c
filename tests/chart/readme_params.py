"""The README's parameter table, generated from values.yaml and its `# --` comments (the
helm-docs convention). `python3 tests/chart/readme_params.py --write` refreshes the table
in deploy/chart/README.md; test_render.py fails when the README and values.yaml differ."""
from __future__ import annotations

import json
import os
import re
import sys

import yaml

CHART = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy", "chart")
# Values shown as one row (their keys are tunables of one thing).
GROUPED = ("Probe", "retentionPolicy", "for", "resources", "SecurityContext", "labels",
           "secretKeys", "service", "pdb", "image", "topologySpread", "issuerRef", "privateKey")
HEADER = "## Parameters\n"


def comments(text: str) -> dict[str, str]:
    """`# --` comment blocks, by the dotted path of the key below them."""
    out, stack, block = {}, [], None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("# --"):
            block = [stripped[4:].strip()]
            continue
        if stripped.startswith("# ") and block is not None:
            block.append(stripped[2:])
            continue
        m = re.match(r"^(\s*)([A-Za-z0-9_-]+):", line)
        if m:
            indent = len(m[1])
            while stack and stack[-1][0] >= indent:
                stack.pop()
            stack.append((indent, m[2]))
            if block:
                out[".".join(k for _, k in stack)] = " ".join(block)
        block = None
    return out


def rows(values: dict, docs: dict[str, str], path: str = ""):
    if isinstance(values, dict) and values and not path.endswith(GROUPED) and path != "config":
        for k, v in values.items():
            yield from rows(v, docs, f"{path}.{k}" if path else k)
    else:
        yield path, values, docs.get(path, "")


def table() -> str:
    with open(os.path.join(CHART, "values.yaml")) as fh:
        text = fh.read()
    lines = ["| key | default | description |", "|---|---|---|"]
    for key, value, doc in rows(yaml.safe_load(text), comments(text)):
        default = json.dumps(value, separators=(", ", ": ")).replace("|", "\\|")
        lines.append(f"| `{key}` | `{default}` | {doc.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def readme_table() -> str:
    with open(os.path.join(CHART, "README.md")) as fh:
        text = fh.read()
    return text[text.index(HEADER) + len(HEADER):].lstrip("\n")


if __name__ == "__main__":
    path = os.path.join(CHART, "README.md")
    with open(path) as fh:
        text = fh.read()
    head = text[: text.index(HEADER) + len(HEADER)]
    if "--write" in sys.argv:
        with open(path, "w") as fh:
            fh.write(head + "\n" + table())
    else:
        print(table(), end="")
