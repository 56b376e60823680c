#!/usr/bin/env python3
"""Geofencing cost, two servers side by side (issue 15).

For each scenario and round, each server starts fresh, gets the scenario's
channels (SETCHAN c<i> WITHIN key:bench FENCE DETECT enter,exit BOUNDS over
1°x1° cells spread over the globe) and optional subscribers, then is driven by
`tile38-benchmark -q -c 50 -P 16 -t SET` (which draws points over the whole
globe into key:bench). Servers alternate A B A B so drift hits both alike.

Scenarios: `0`, `1000`, `10000`, `100000` channels nobody hears, and
`1000sub`: 1000 channels each with a subscriber connection (drained by this
script), with a probe measuring event delivery latency under the load: a SET
moving probe objects in and out of channel c0's cell, timed from the send to
the event's arrival at c0's subscriber.

    python3 benches/fence.py --a "target/release/tile38-server -q -p {port} -d {dir}" \
        --b "../shared/oracle/tile38-server -q -p {port} -d {dir}" \
        --bench ../shared/oracle/tile38-benchmark --rounds 3
"""
import argparse, os, selectors, shutil, signal, socket, statistics, subprocess, sys
import tempfile, threading, time


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def wait_port(port, timeout=60):
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(64):
                    return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"server on {port} did not answer")


def read_lines(sock, n):
    """Reads n single-line replies (':1', '+OK')."""
    buf = b""
    while buf.count(b"\r\n") < n:
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise RuntimeError("closed")
        buf += chunk


def cell(i, n):
    c = i * (180 * 360) // n
    lat, lon = c // 360 - 90, c % 360 - 180
    return lat, lon, lat + 1, lon + 1


def make_channels(port, n):
    with socket.create_connection(("127.0.0.1", port)) as s:
        for start in range(0, n, 1000):
            batch = [resp("SETCHAN", f"c{i}", "WITHIN", "key:bench", "FENCE", "DETECT",
                          "enter,exit", "BOUNDS", *cell(i, n)) for i in range(start, min(n, start + 1000))]
            s.sendall(b"".join(batch))
            read_lines(s, len(batch))


class Subscribers:
    """n connections, each subscribed to one channel, drained in a thread;
    arrivals of probe events on c0 are timestamped."""

    def __init__(self, port, n):
        self.sel = selectors.DefaultSelector()
        self.socks = []
        self.arrivals = []
        self.stop = False
        for i in range(n):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(resp("SUBSCRIBE", f"c{i}"))
            s.recv(256)
            s.setblocking(False)
            self.sel.register(s, selectors.EVENT_READ, i)
            self.socks.append(s)
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            for key, _ in self.sel.select(0.1):
                try:
                    data = key.fileobj.recv(1 << 20)
                except BlockingIOError:
                    continue
                if key.data == 0 and b'"id":"probe' in data:
                    now = time.perf_counter()
                    self.arrivals.extend([now] * data.count(b'"id":"probe'))

    def close(self):
        self.stop = True
        self.thread.join()
        for s in self.socks:
            s.close()


def probe(port, subs, samples, stop):
    """Moves probe objects into c0's cell (an enter event each), timing each
    until its event arrives."""
    lat, lon, _, _ = cell(0, 1000)
    lat_ms = []
    with socket.create_connection(("127.0.0.1", port)) as s:
        for k in range(samples):
            if stop.is_set():
                break
            seen = len(subs.arrivals)
            t0 = time.perf_counter()
            s.sendall(resp("SET", "key:bench", f"probe{k}", "POINT", lat + 0.5, lon + 0.5))
            read_lines(s, 1)
            while len(subs.arrivals) == seen and time.perf_counter() - t0 < 5:
                time.sleep(0.0002)
            if len(subs.arrivals) > seen:
                lat_ms.append((subs.arrivals[seen] - t0) * 1000)
            time.sleep(0.005)
    return lat_ms


def bench(bench_bin, port, n):
    out = subprocess.run([bench_bin, "-h", "127.0.0.1", "-p", str(port), "-q", "-n", str(n),
                          "-c", "50", "-P", "16", "-t", "SET"], capture_output=True, text=True,
                         timeout=900).stdout
    res = {}
    for line in out.replace("\r", "\n").splitlines():
        if "requests per second" in line and ":" in line:
            name, rest = line.rsplit(":", 1)
            res[name.strip()] = float(rest.split()[0])
    return res


def start(template, port, d):
    return subprocess.Popen(template.format(port=port, dir=d), shell=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, preexec_fn=os.setsid)


def stop(p, port):
    try:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait(timeout=20)
    except Exception:
        pass
    # Until the port is free again for the next server.
    t0 = time.time()
    while time.time() - t0 < 30:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            time.sleep(0.05)
        except OSError:
            return


def one(template, scenario, args):
    d = tempfile.mkdtemp(prefix="fence-")
    p = start(template, args.port, d)
    fig = {}
    try:
        wait_port(args.port)
        subs = None
        if scenario == "1000sub":
            make_channels(args.port, 1000)
            subs = Subscribers(args.port, 1000)
        elif int(scenario):
            make_channels(args.port, int(scenario))
        stop_probe = threading.Event()
        lat, th = [], None
        if subs:
            th = threading.Thread(target=lambda: lat.extend(probe(args.port, subs, 10**6, stop_probe)))
            th.start()
        fig = bench(args.bench, args.port, args.requests)
        if subs:
            stop_probe.set()
            th.join()
            subs.close()
            if lat:
                lat.sort()
                fig["latency p50 ms"] = lat[len(lat) // 2]
                fig["latency p99 ms"] = lat[min(len(lat) - 1, len(lat) * 99 // 100)]
                fig["latency samples"] = len(lat)
    finally:
        stop(p, args.port)
        shutil.rmtree(d, ignore_errors=True)
    return fig


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--a", required=True)
    ap.add_argument("--b", help="server B; without it only A is measured")
    ap.add_argument("--bench", required=True)
    ap.add_argument("--scenarios", default="0,1000,10000,100000,1000sub")
    ap.add_argument("--requests", type=int, default=100000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--port", type=int, default=49861)
    args = ap.parse_args()
    scenarios = args.scenarios.split(",")
    servers = [("A", args.a)] + ([("B", args.b)] if args.b else [])
    figs = {(sc, name): [] for sc in scenarios for name, _ in servers}
    # Rounds outermost, then scenarios, then servers: drift hits all alike.
    for r in range(args.rounds):
        for scenario in scenarios:
            for name, t in servers:
                figs[scenario, name].append(one(t, scenario, args))
                print(f"{scenario} round {r} {name}: {figs[scenario, name][-1]}", file=sys.stderr, flush=True)
    med = lambda fs, k: statistics.median(f.get(k, float("nan")) for f in fs)
    for scenario in scenarios:
        a_figs, b_figs = figs[scenario, "A"], figs.get((scenario, "B"))
        print(f"\n## {scenario}\n{'figure':22} {'A median':>12} {'B median':>12} {'A/B':>7}", flush=True)
        for k in a_figs[0]:
            a = med(a_figs, k)
            b = med(b_figs, k) if b_figs else float("nan")
            print(f"{k:22} {a:12.1f} {b:12.1f} {a / b if b else float('nan'):7.2f}", flush=True)
    # Each scenario against the first, per server (A: ours, typically "0").
    base = scenarios[0]
    for name, _ in servers:
        for k in figs[base, name][0]:
            row = [f"{med(figs[sc, name], k) / med(figs[base, name], k):.2f}" for sc in scenarios]
            print(f"{name} {k:22} vs {base}: " + " ".join(f"{sc}={v}" for sc, v in zip(scenarios, row)))


if __name__ == "__main__":
    main()
