#!/usr/bin/env bash
# Refreshes the repository's copies of the Tile38 test data and test tools
# from a `shared/` directory (default ../shared beside the checkout; set
# TILE38_SHARED to use another). The tests only read the repository copies,
# so a newer shared/ comes in through this script, deliberately, as a diff:
#
#   shared/conformance/      -> tests/data/conformance/  recorded replies of a real Tile38 1.37
#   shared/fixtures/         -> tests/data/fixtures/     data directories written by it
#   shared/tools/conformance/ -> tools/conformance/      replay.py, fence_replay.py
#   shared/tools/chart/      -> tools/chart/             check-chart.sh and its helpers
#
# Each target directory is replaced by an exact copy of its source (files
# gone from shared/ go here too). Prints `git status --short` of the targets
# at the end: review it, run the tests, commit.
# Usage: scripts/refresh-test-data.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SHARED="${TILE38_SHARED:-../shared}"
if [ ! -d "$SHARED" ]; then
    echo "refresh-test-data: no $SHARED here; nothing to refresh (the tests use the copies in tests/data and tools)" >&2
    exit 1
fi

pairs=(
    conformance:tests/data/conformance
    fixtures:tests/data/fixtures
    tools/conformance:tools/conformance
    tools/chart:tools/chart
)
for pair in "${pairs[@]}"; do
    if [ ! -d "$SHARED/${pair%%:*}" ]; then
        echo "refresh-test-data: $SHARED/${pair%%:*} is missing; nothing changed" >&2
        exit 1
    fi
done
for pair in "${pairs[@]}"; do
    src="$SHARED/${pair%%:*}" dst="${pair#*:}"
    rm -rf "$dst"
    mkdir -p "$dst"
    cp -R "$src/." "$dst/"
    # shared/ is read-only; the copies must stay editable and readable.
    chmod -R u+w,go+r "$dst"
    echo "refresh-test-data: $dst <- $src ($(find "$dst" -type f | wc -l) files)"
done

targets=()
for pair in "${pairs[@]}"; do targets+=("${pair#*:}"); done
changes="$(git status --short -- "${targets[@]}")"
if [ -z "$changes" ]; then
    echo "refresh-test-data: no changes"
else
    echo "$changes"
fi
