#!/usr/bin/env python3
"""Flamegraphs of the release server under one benchmark row (issue 18, item 1).

A fresh release server gets pair.py's state (200 000 points in `fleet`, then
the reference benchmark's SET tests at P1, 30 000 requests, which fill
`key:bench`, the key every search row reads); `perf record` (DWARF call
graphs, 999 Hz) follows the server while our `tile38-benchmark -t "<row>"`
drives that one row; `inferno` folds the stacks and draws the SVG.

    cargo install inferno --root /tmp/inferno        # once
    python3 benches/flame.py --name nearby-limit-100 --row "NEARBY (limit 100)"
    python3 benches/flame.py --name set-point-move --row "SET (point)" --requests 30000 --repeat 10

Needs `perf` (Debian's linux-perf) and the shared tools' `pair.py` and the
reference benchmark (`--shared`, default `../shared`).
"""
import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import shutil


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True, help="output: benches/flamegraphs/<name>.svg")
    ap.add_argument("--row", required=True, help='one benchmark row, e.g. "SET (point)"')
    ap.add_argument("--pipeline", default="16")
    ap.add_argument("--requests", default="300000")
    # A SET row over more ids than the set-up's 30 000 inserts new ids
    # (those past 30 000 for SET point); `pair.py`'s P16 SET rows move
    # existing ones. `--requests 30000 --repeat 10` moves the same ids ten
    # times, each run with its own coordinates (`--seed 2`, `3`, …).
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--shared", default="../shared")
    ap.add_argument("--inferno", default="/tmp/inferno/bin")
    ap.add_argument("--port", type=int, default=9880)
    ap.add_argument("--folded", help="also keep the folded stacks here (self-time tables)")
    a = ap.parse_args()
    sys.path.insert(0, os.path.join(a.shared, "tools/perf"))
    import pair

    d = tempfile.mkdtemp(prefix="flame-")
    p = pair.start("target/release/tile38-server -q -h 127.0.0.1 -p {port} -d {dir}", a.port, d)
    pair.wait_port(a.port)
    pair.load_points(a.port, 200000)
    pair.bench(os.path.join(a.shared, "oracle/tile38-benchmark"), a.port, "SET", 30000, 50, 1)
    # No automatic AOF rewrite while profiling: pair.py's runs never reach
    # its 64 MiB, a long SET row would.
    with socket.create_connection(("127.0.0.1", a.port)) as s:
        s.sendall(pair.resp_cmd("CONFIG", "SET", "auto-aof-rewrite-min-size", "1gb"))
        s.recv(64)
    data = os.path.join(d, "perf.data")
    perf = subprocess.Popen(
        ["perf", "record", "-o", data, "--call-graph", "dwarf,16384", "-F", "999",
         "-p", str(pair.server_pid(p))],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    for i in range(a.repeat):
        seed = ["--seed", str(i + 2)] if a.repeat > 1 else []
        subprocess.run(["target/release/tile38-benchmark", "-p", str(a.port), "-q",
                        "-n", a.requests, "-P", a.pipeline, "-t", a.row] + seed, check=True)
    perf.send_signal(2)
    perf.wait()
    pair.stop(p)
    script = subprocess.run(["perf", "script", "-i", data], capture_output=True, text=True).stdout
    folded = subprocess.run([os.path.join(a.inferno, "inferno-collapse-perf")], input=script,
                            capture_output=True, text=True).stdout
    if a.folded:
        with open(a.folded, "w") as f:
            f.write(folded)
    svg = subprocess.run([os.path.join(a.inferno, "inferno-flamegraph"), "--minwidth", "0.5",
                          "--title", f"tile38-server: {a.row} -P {a.pipeline}"],
                         input=folded, capture_output=True, text=True).stdout
    os.makedirs("benches/flamegraphs", exist_ok=True)
    with open(f"benches/flamegraphs/{a.name}.svg", "w") as f:
        f.write(svg)
    shutil.rmtree(d, ignore_errors=True)
    print(f"benches/flamegraphs/{a.name}.svg: {len(svg)} bytes")


if __name__ == "__main__":
    main()
