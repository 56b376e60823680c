#!/usr/bin/env bash
# Restart benchmark (issue 4): time from exec of tile38-server to serving
# every object of an AOF of N point SETs with one field each
# (`SET fleet truckN FIELD speed N POINT lat lon`, RESP-encoded).
#
#   benches/restart.sh [N ...]          default: 200000 1000000
#   RUNS=7 BIN=path/to/server benches/restart.sh 200000
#   NICE=-20 benches/restart.sh   # as root: the server outranks other load
#
# The AOFs are generated deterministically (a fixed LCG) into
# ${DATA:-/tmp/tile38-restart-bench}/N/appendonly.aof, once. Each run starts
# the server on that data dir, waits (blocked on its log, so as not to take
# CPU from it) for "Ready to accept connections", then checks that
# `SCAN fleet COUNT` answers N; the time is measured from just before exec
# to that answer.
# Prints each run and the median, and the CPU time the server used until
# then (user + system, 10 ms ticks: steadier on a busy machine). Build first:
#   cargo build --release --bin tile38-server
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/tile38-server}
DATA=${DATA:-/tmp/tile38-restart-bench}
RUNS=${RUNS:-5}
PORT=${PORT:-9871}
NICE=${NICE:-}
[ -x "$BIN" ] || { echo "build first: cargo build --release --bin tile38-server" >&2; exit 1; }
[ $# -gt 0 ] || set -- 200000 1000000

exec python3 - "$BIN" "$DATA" "$RUNS" "$PORT" "$NICE" "$@" <<'PY'
import os, socket, statistics, subprocess, sys, time

bin_, data, runs, port = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
nice = int(sys.argv[5]) if sys.argv[5] else None

def gen(n, path):
    """N SETs, coordinates from a 64-bit LCG (Knuth's MMIX constants)."""
    state = 42
    def unit():
        nonlocal state
        state = (state * 6364136223846793005 + 1442695040888963407) & (2**64 - 1)
        return (state >> 11) / float(1 << 53)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        out = []
        for i in range(n):
            lat = "%.5f" % (unit() * 180.0 - 90.0)
            lon = "%.5f" % (unit() * 360.0 - 180.0)
            args = [b"SET", b"fleet", b"truck%d" % i, b"FIELD", b"speed",
                    b"%d" % (i % 100), b"POINT", lat.encode(), lon.encode()]
            out.append(b"*%d\r\n" % len(args))
            for a in args:
                out.append(b"$%d\r\n%s\r\n" % (len(a), a))
            if len(out) > 100000:
                f.write(b"".join(out)); out.clear()
        f.write(b"".join(out))
    os.replace(tmp, path)

def cpu_seconds(pid):
    """User + system CPU time of a process so far (less noisy than wall
    time on a busy machine)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def serving(proc, n, deadline):
    """Waits (blocked, taking no CPU from the server) for the server's
    "Ready to accept connections" log line, then polls `SCAN fleet COUNT`
    until it answers n; returns the time it did."""
    for line in proc.stderr:
        if b"Ready to accept connections" in line:
            break
    else:
        raise SystemExit("server exited before it was ready")
    want = b":%d\r\n" % n
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while time.monotonic() < deadline:
            sock.sendall(b"*3\r\n$4\r\nSCAN\r\n$5\r\nfleet\r\n$5\r\nCOUNT\r\n")
            reply = sock.recv(4096)
            if reply == want:
                return time.monotonic()
            if not reply.startswith(b"-"):
                raise SystemExit("unexpected reply %r" % reply)
            time.sleep(0.001)
    raise SystemExit("server not serving %d objects in time" % n)

for n in map(int, sys.argv[6:]):
    d = os.path.join(data, str(n))
    os.makedirs(d, exist_ok=True)
    aof = os.path.join(d, "appendonly.aof")
    if not os.path.exists(aof):
        print("generating %s" % aof, flush=True)
        gen(n, aof)
    size = os.path.getsize(aof)
    times, cpus = [], []
    for r in range(runs):
        t0 = time.monotonic()
        # With NICE the server sets its own priority between fork and exec.
        prio = (lambda: os.nice(nice)) if nice is not None else None
        p = subprocess.Popen([bin_, "-p", str(port), "-d", d], preexec_fn=prio,
                             stderr=subprocess.PIPE, env=dict(os.environ, TILE38_LOG="info"))
        try:
            t1 = serving(p, n, t0 + 120)
            cpu = cpu_seconds(p.pid)
        finally:
            p.terminate()
            p.wait()
        if os.path.getsize(aof) != size:
            raise SystemExit("the AOF changed size: the benchmark must not write")
        times.append(t1 - t0)
        cpus.append(cpu)
        print("%d points, run %d: %.3f s (server CPU %.2f s)" % (n, r + 1, t1 - t0, cpu),
              flush=True)
    print("%d points: median %.3f s of %d runs (min %.3f, max %.3f); server CPU median %.2f s"
          % (n, statistics.median(times), runs, min(times), max(times),
             statistics.median(cpus)), flush=True)
PY
