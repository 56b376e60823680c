#!/usr/bin/env bash
# Runs every test: unit and property tests of each crate, the integration
# tests against the real binaries, the Tile38 conformance corpus replay and
# fixtures (tests/data, replayed with tools/conformance), the Docker check
# and the chart checks (tools/chart, tests/chart).
# Needs only this checkout (cargo, and apt for what is missing): installs
# what the tests need, idempotently, first; the pinned Python tools go under
# ~/.cache (scripts/chart-tests.sh, scripts/docker-check.sh).
# Usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v redis-cli >/dev/null 2>&1 || need_apt+=(redis-tools)
# tests/tls.rs: https through the TLS port.
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
# The brokers crates/webhook's tests deliver to (they start their own).
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
have redis-server || need_apt+=(redis-server)
have nats-server || need_apt+=(nats-server)
have mosquitto || need_apt+=(mosquitto)
have rabbitmq-server || need_apt+=(rabbitmq-server)
# crates/elect's lock store tests (they start their own etcd; /usr/bin/etcd),
# and ../shared/k8s/up.sh's kube-apiserver backing store.
[ -x /usr/bin/etcd ] || need_apt+=(etcd-server)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
if ! command -v python3 >/dev/null 2>&1; then
    need_apt+=(python3 python3-venv python3-pip)
else
    # Debian/Ubuntu split these out: check-chart makes a venv, docker-check uses pip.
    python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need_apt+=(python3-venv)
    python3 -m pip --version >/dev/null 2>&1 || need_apt+=(python3-pip)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "installing: ${need_apt[*]}"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    # Another apt (a second clone's test run, unattended upgrades) may hold
    # the lock for a while: wait for it rather than fail. The timeout covers
    # dpkg's lock only; `update` fails at once on the lists' lock, so it is
    # tried again while that lock is what stops it (up to 10 minutes).
    apt=(apt-get -o DPkg::Lock::Timeout=600)
    for try in $(seq 120); do
        out=$($SUDO "${apt[@]}" update -qq 2>&1) && break
        if [ "$try" = 120 ] || ! grep -q "Could not get lock" <<<"$out"; then
            echo "$out" >&2
            exit 1
        fi
        sleep 5
    done
    DEBIAN_FRONTEND=noninteractive $SUDO "${apt[@]}" install -y -qq "${need_apt[@]}" >/dev/null
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
