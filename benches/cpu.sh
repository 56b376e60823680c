#!/usr/bin/env bash
# Server CPU per request of one benchmark row (issue 18): the server's user
# + system time (/proc/PID/stat, 100 Hz ticks) around one run of our
# tile38-benchmark against a server already running on PORT.
#
#   benches/cpu.sh PORT "WITHIN (within-bounds 1km)" [REQUESTS] [PIPELINE]
#
# Two builds alive at once, loaded alike, alternating runs of this script
# compare them far better than requests per second on a noisy machine.
# SEED=N passes `--seed N` to our benchmark: a SET row run again with the
# same seed puts every object where it already is (no index move).
set -euo pipefail
port=$1 row=$2 n=${3:-200000} pipeline=${4:-16}
bench=${BENCH:-target/release/tile38-benchmark}
pid=$(pgrep -f -- "-p $port -d" | head -1)
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
t0=$(ticks)
out=$("$bench" -p "$port" -q -n "$n" -c 50 -P "$pipeline" -t "$row" ${SEED:+--seed "$SEED"} 2>&1 | tr '\r' '\n' | grep -v '^$' | tail -1)
t1=$(ticks)
echo "$out | server µs/req $(python3 -c "print(round(($t1 - $t0) * 10000 / $n, 2))")"
