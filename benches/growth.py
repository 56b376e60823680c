#!/usr/bin/env python3
"""Cost as work grows (issue 18, item 4): SET, GET, NEARBY limit 1/10/100 and
WITHIN circle 1 km, RSS and restart time, at several key sizes, for our
server and the reference, one size at a time, alternating A, B.

For each size and server: a fresh server in a temporary directory;
`tile38-benchmark --preload N` (ours: it SETs N random points in
`key:bench`, the key every search test of the benchmark reads); RSS; the
reference's own `tile38-benchmark -P 16` for the tests (the searches
first, on the preloaded points alone, then SET and GET); then the server
is stopped (SIGTERM) and started again on the same directory, and the
restart time is from exec until `SCAN key:bench COUNT` answers the count
it had. Prints one Markdown table row per size and server.

    python3 benches/growth.py --ours target/release/tile38-server \\
        --ref ../shared/oracle/tile38-server \\
        --bench ../shared/oracle/tile38-benchmark \\
        --preloader target/release/tile38-benchmark \\
        --sizes 10000 100000 1000000 5000000
"""
import argparse
import os
import re
import signal
import socket
import subprocess
import tempfile
import time

TESTS = ["SET (point)", "GET (point)", "NEARBY (limit 1)", "NEARBY (limit 10)",
         "NEARBY (limit 100)", "WITHIN (within-circle 1km)"]


def cmd(port, *args, timeout=600):
    """One RESP command; the raw reply."""
    payload = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode()
        payload += b"$%d\r\n%s\r\n" % (len(a), a)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(payload)
        data = b""
        while not data.endswith(b"\r\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


def count(port):
    try:
        m = re.match(rb":(\d+)", cmd(port, "SCAN", "key:bench", "COUNT", timeout=5))
        return int(m.group(1)) if m else -1
    except OSError:
        return -1


def start(binary, port, d):
    p = subprocess.Popen([binary, "-q", "-h", "127.0.0.1", "-p", str(port), "-d", d],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    while time.time() < deadline:
        try:
            if cmd(port, "PING", timeout=2).startswith(b"+PONG"):
                return p
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"{binary} did not start")


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return -1


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=120)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def rates(bench, port, requests):
    """The searches first, on the preloaded points alone; then SET (which
    adds 4 × requests objects) and GET (which reads what SET wrote)."""
    got = {}
    for tests in ("NEARBY,WITHIN", "SET,GET"):
        out = subprocess.run(
            [bench, "-p", str(port), "-q", "-n", str(requests), "-P", "16", "--csv",
             "-t", tests],
            capture_output=True, text=True, timeout=1800).stdout
        for line in out.splitlines():
            m = re.match(r'"([^"]+)","([\d.]+)"', line)
            if m:
                got[m.group(1)] = float(m.group(2))
    return got


def measure(binary, args, size, port):
    d = tempfile.mkdtemp(prefix="growth-")
    p = start(binary, port, d)
    subprocess.run([args.preloader, "-p", str(port), "-q", "--preload", str(size),
                    "-t", "NONE"], check=True, capture_output=True, timeout=3600)
    rss = rss_mib(p.pid)
    r = rates(args.bench, port, args.requests)
    n = count(port)
    stop(p)
    t0 = time.time()
    p = start(binary, port, d)
    while count(port) != n and time.time() - t0 < 600:
        time.sleep(0.01)
    restart = time.time() - t0
    stop(p)
    subprocess.run(["rm", "-rf", d])
    return rss, r, restart


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", required=True)
    ap.add_argument("--ref", required=True)
    ap.add_argument("--bench", required=True, help="the reference tile38-benchmark")
    ap.add_argument("--preloader", required=True, help="our tile38-benchmark (--preload)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000, 1000000, 5000000])
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--port", type=int, default=23600)
    args = ap.parse_args()
    print("| points | server | " + " | ".join(TESTS) + " | RSS MiB | restart s |")
    print("|---" * (len(TESTS) + 4) + "|")
    for size in args.sizes:
        for name, binary in (("ours", args.ours), ("Tile38", args.ref)):
            rss, r, restart = measure(binary, args, size, args.port)
            cells = [f"{r.get(t, 0):,.0f}" for t in TESTS]
            print(f"| {size:,} | {name} | " + " | ".join(cells) +
                  f" | {rss:,.0f} | {restart:.2f} |", flush=True)


if __name__ == "__main__":
    main()
