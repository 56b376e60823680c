#!/usr/bin/env bash
# Checks the Helm chart in deploy/chart:
#   1. tools/chart/check-chart.sh deploy/chart: Helm SDK lint and render,
#      Kubernetes 1.31 strict schemas, API-server rules, CRD schemas, checkov, yamllint,
#      for the chart defaults and every deploy/chart/ci/*values.yaml;
#   2. pytest tests/chart: unit tests on the rendered manifests, the rehearsal that runs
#      the rendered pods as local processes against target/ci/tile38-server and tile38-cli
#      (build them first: cargo build --profile ci --workspace --bins), and failover.enabled
#      applied to a real kube-apiserver when ../shared/k8s has one (-rs prints skip reasons).
# Installs what it needs, idempotently, under ~/.cache (check-chart's venv, and pytest
# beside it; node and npm, when present, add check-chart's CRD step). TILE38_SHARED=DIR
# takes check-chart from DIR/tools/chart instead of the repository's tools/chart. Each
# stage ends with a cargo-style "test result:" line, which scripts/test.sh's closing tally
# counts. Exit status 1 if anything failed.
# Usage: scripts/chart-tests.sh [pytest arguments, e.g. -k rehearsal]
set -uo pipefail
cd "$(dirname "$0")/.."

if [ -n "${TILE38_SHARED:-}" ]; then CHART_TOOLS="$TILE38_SHARED/tools/chart"; else CHART_TOOLS=tools/chart; fi
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}"
export CHART_TOOLS_VENV="${CHART_TOOLS_VENV:-$CACHE/chart-tools}"
PYTEST_VERSION=9.2.0
# pytest lives outside check-chart's venv: its dependencies must not move checkov's pins.
PYTEST_DIR="$CACHE/chart-tests/pytest-$PYTEST_VERSION"
mkdir -p target
status=0

result_line() { # passed failed skipped label
    local verdict=ok
    [ "$2" = 0 ] || verdict=FAILED
    echo "test result: $verdict. $1 passed; $2 failed; $3 ignored; 0 measured; 0 filtered out ($4)"
}

# 1. check-chart (installs its venv on first use)
"$CHART_TOOLS/check-chart.sh" deploy/chart 2>&1 | tee target/chart-check.txt
[ "${PIPESTATUS[0]}" = 0 ] || status=1
read -r passed failed skipped < <(awk '/^TOTAL:/ { p = $2; f = $4; s = $6 }
    END { print p + 0, f + 0, s + 0 }' target/chart-check.txt)
[ "$status" = 0 ] || [ "$failed" != 0 ] || failed=1 # it stopped before its summary
result_line "$passed" "$failed" "$skipped" "check-chart deploy/chart"

# 2. pytest: render unit tests and the rehearsal
PY="$CHART_TOOLS_VENV/bin/python"
if [ ! -d "$PYTEST_DIR/pytest-$PYTEST_VERSION.dist-info" ]; then
    echo "chart-tests: installing pytest $PYTEST_VERSION into $PYTEST_DIR" >&2
    if ! "$PY" -m pip install -q --disable-pip-version-check --target "$PYTEST_DIR" \
        "pytest==$PYTEST_VERSION" >target/chart-pytest-install.log 2>&1; then
        cat target/chart-pytest-install.log >&2
        result_line 0 1 0 "pytest install"
        exit 1
    fi
fi
rm -f target/chart-pytest.xml
PYTHONPATH="$PYTEST_DIR" PYTHONDONTWRITEBYTECODE=1 "$PY" -m pytest tests/chart -q -rs \
    -p no:cacheprovider --junitxml=target/chart-pytest.xml "$@" || status=1
read -r passed failed skipped < <("$PY" - <<'PYEOF'
import xml.etree.ElementTree as ET
try:
    root = ET.parse("target/chart-pytest.xml").getroot()
except (OSError, ET.ParseError):
    print(0, 1, 0)
else:
    s = root if root.tag == "testsuite" else root.find("testsuite")
    n, f, e, k = (int(s.get(a, 0)) for a in ("tests", "failures", "errors", "skipped"))
    print(n - f - e - k, f + e, k)
PYEOF
)
result_line "$passed" "$failed" "$skipped" "pytest tests/chart"
exit "$status"
