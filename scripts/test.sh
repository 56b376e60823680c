#!/usr/bin/env bash
# Runs every test: unit and property tests of each crate, the integration
# tests against the real binaries, and the Tile38 conformance corpus replay.
# Installs what the tests need (idempotently) first. Usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v redis-cli >/dev/null 2>&1 || need_apt+=(redis-tools)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "installing: ${need_apt[*]}"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -d "${TILE38_SHARED:-../shared}/conformance" ]; then
    echo "error: ../shared (the Tile38 spec, corpus and fixtures) must sit beside this checkout" >&2
    exit 1
fi

export CARGO_TERM_COLOR=never
cargo build --profile ci --workspace --bins
status=0
cargo test --profile ci --workspace --no-fail-fast 2>&1 | tee target/test-output.txt || status=$?
scripts/docker-check.sh || status=$?
scripts/chart-tests.sh 2>&1 | tee -a target/test-output.txt || status=$?

# One closing line for the whole run (cargo's last line is a doc-test summary).
awk '/^test result:/ { p += $4; f += $6; i += $8 }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, i }' target/test-output.txt
exit "$status"
