#!/usr/bin/env python3
"""Two builds of a server side by side, benchmark runs alternating (issue 18).

Both servers run at once on their own ports and data dirs, each loaded as
`pair.py` loads its servers (N points in `fleet`, one field each) and then
given the benchmark's SET rows at P1 (so that the P16 SET rows move
existing ids, as in pair.py's run). Then `tile38-benchmark -t ROWS -P P`
runs against A and B in turn, `--reps` times (the order flips each
round), and the medians per row are printed with B/A. On a noisy shared
machine this compares two builds of ours far better than two pair.py
runs minutes apart: the drift hits both alike. Each run also reads the
server's CPU time (user + system, `/proc/PID/stat`) before and after: CPU
microseconds per request, the server's own cost, moves far less with the
machine's load than requests per second do.

    python3 benches/alt.py --a /tmp/before/tile38-server \\
        --b target/release/tile38-server \\
        --bench ../shared/oracle/tile38-benchmark --rows SET --reps 16

With our `tile38-benchmark` a row may be named in full (`--rows
"WITHIN (within-circle 1km),GET (point)"`), one run per row, which adds
the CPU columns, and `--vary-seed` gives each round its own coordinates
(so that a SET row moves its objects every time). A and B need not be
builds of ours: `--b ../shared/oracle/tile38-server` puts the server CPU
per request of Tile38 beside ours (the table at the top of
`benches/README.md`).
"""
import argparse
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import tempfile

# RESP encoding and waiting for a port, as the fence benchmark does them.
from fence import resp, wait_port


def load(port, n, batch=1000):
    """pair.py's points (same seed, same commands); each reply is `+OK`."""
    rnd = random.Random(38)
    with socket.create_connection(("127.0.0.1", port)) as s:
        for start in range(0, n, batch):
            count = min(n, start + batch) - start
            cmds = []
            for i in range(start, start + count):
                lat, lon = rnd.uniform(-85, 85), rnd.uniform(-180, 180)
                cmds.append(resp("SET", "fleet", f"truck{i}", "FIELD", "speed", i % 100,
                                 "POINT", f"{lat:.6f}", f"{lon:.6f}"))
            s.sendall(b"".join(cmds))
            want, got = b"+OK\r\n" * count, b""
            while len(got) < len(want):
                got += s.recv(1 << 16)
            if got != want:
                raise RuntimeError(f"load: {got[:80]!r}")


def bench(tool, port, rows, pipeline, requests, seed=None):
    extra = [] if seed is None else ["--seed", str(seed)]
    out = subprocess.run([tool, "-p", str(port), "-q", "-n", str(requests), "-c", "50",
                          "-P", str(pipeline), "-t", rows] + extra,
                         capture_output=True, text=True, timeout=600).stdout
    return {m.group(1): float(m.group(2))
            for m in re.finditer(r"([A-Z]+ \([^)]*\)):\s*([\d.]+) requests per second", out)}


def cpu_seconds(pid):
    """User + system CPU time of a process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--a", required=True, help="server binary A")
    ap.add_argument("--b", required=True, help="server binary B")
    ap.add_argument("--bench", required=True, help="tile38-benchmark")
    ap.add_argument("--rows", default="SET")
    ap.add_argument("--pipeline", type=int, default=16)
    ap.add_argument("--requests", type=int, default=30000)
    ap.add_argument("--points", type=int, default=200000)
    # pair.py's state: its SET rows at P1 with its request count, whatever
    # --requests the measured runs use.
    ap.add_argument("--setup-requests", type=int, default=30000)
    ap.add_argument("--reps", type=int, default=16)
    # Our benchmark's coordinates repeat with its seed: a SET row run twice
    # with one seed puts every id where it already is (no index move).
    # With this flag each round passes `--seed <round + 2>` (our benchmark
    # only), so that every SET moves its object, as pair.py's P16 rows do.
    ap.add_argument("--vary-seed", action="store_true")
    # Below the ephemeral range (32768–60999 here): a port there may be
    # held by a benchmark client's TIME_WAIT.
    ap.add_argument("--port", type=int, default=29880)
    args = ap.parse_args()
    servers, dirs = [], []
    try:
        for i, binary in enumerate((args.a, args.b)):
            port, d = args.port + i, tempfile.mkdtemp(prefix="alt-")
            dirs.append(d)
            servers.append(subprocess.Popen([binary, "-q", "-h", "127.0.0.1", "-p", str(port),
                                             "-d", d]))
            wait_port(port)
            load(port, args.points)
            bench(args.bench, port, "SET", 1, args.setup_requests)
        res, cpu = [{}, {}], [{}, {}]
        rows = args.rows.split(",")
        for r in range(args.reps):
            for i in ((0, 1) if r % 2 == 0 else (1, 0)):
                for row in rows:
                    before = cpu_seconds(servers[i].pid)
                    seed = r + 2 if args.vary_seed else None
                    got = bench(args.bench, args.port + i, row, args.pipeline, args.requests, seed)
                    used = cpu_seconds(servers[i].pid) - before
                    for k, v in got.items():
                        res[i].setdefault(k, []).append(v)
                        # One row per run: its CPU time is this row's.
                        if len(got) == 1:
                            cpu[i].setdefault(k, []).append(used * 1e6 / args.requests)
        print(f"{'row':36} {'A median':>10} {'B median':>10} {'B/A':>6}"
              f" {'A µs/req':>9} {'B µs/req':>9} {'B/A':>6}")
        for k in res[0]:
            a, b = statistics.median(res[0][k]), statistics.median(res[1].get(k, [0]))
            line = f"{k:36} {a:10.0f} {b:10.0f} {b / a:6.3f}"
            if k in cpu[0] and k in cpu[1]:
                ca, cb = statistics.median(cpu[0][k]), statistics.median(cpu[1][k])
                line += f" {ca:9.2f} {cb:9.2f} {cb / ca:6.3f}"
            print(line)
    finally:
        for p in servers:
            p.terminate()
            p.wait()
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
