#!/usr/bin/env python3
"""Two builds of a server side by side, benchmark runs alternating (issue 18).

Both servers run at once on their own ports and data dirs, each loaded as
`pair.py` loads its servers (N points in `fleet`, one field each) and then
given the benchmark's SET rows at P1 (so that the P16 SET rows move
existing ids, as in pair.py's run). Then `tile38-benchmark -t ROWS -P P`
runs against A and B in turn, `--reps` times (the order flips each
round), and the medians per row are printed with B/A. On a noisy shared
machine this compares two builds of ours far better than two pair.py
runs minutes apart: the drift hits both alike.

    python3 benches/alt.py --a /tmp/before/tile38-server \\
        --b target/release/tile38-server \\
        --bench ../shared/oracle/tile38-benchmark --rows SET --reps 16
"""
import argparse
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


def bench(tool, port, rows, pipeline, requests):
    out = subprocess.run([tool, "-p", str(port), "-q", "-n", str(requests), "-c", "50",
                          "-P", str(pipeline), "-t", rows],
                         capture_output=True, text=True, timeout=600).stdout
    return {m.group(1): float(m.group(2))
            for m in re.finditer(r"([A-Z]+ \([^)]*\)):\s*([\d.]+) requests per second", out)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--a", required=True, help="server binary A")
    ap.add_argument("--b", required=True, help="server binary B")
    ap.add_argument("--bench", required=True, help="tile38-benchmark")
    ap.add_argument("--rows", default="SET")
    ap.add_argument("--pipeline", type=int, default=16)
    ap.add_argument("--requests", type=int, default=30000)
    ap.add_argument("--points", type=int, default=200000)
    ap.add_argument("--reps", type=int, default=16)
    ap.add_argument("--port", type=int, default=49880)
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
            bench(args.bench, port, "SET", 1, args.requests)
        res = [{}, {}]
        for r in range(args.reps):
            for i in ((0, 1) if r % 2 == 0 else (1, 0)):
                got = bench(args.bench, args.port + i, args.rows, args.pipeline, args.requests)
                for k, v in got.items():
                    res[i].setdefault(k, []).append(v)
        print(f"{'row':36} {'A median':>10} {'B median':>10} {'B/A':>6}")
        for k in res[0]:
            a, b = statistics.median(res[0][k]), statistics.median(res[1].get(k, [0]))
            print(f"{k:36} {a:10.0f} {b:10.0f} {b / a:6.3f}")
    finally:
        for p in servers:
            p.terminate()
            p.wait()
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
