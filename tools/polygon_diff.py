#!/usr/bin/env python3
"""Big-polygon searches, our server against the oracle (issue 18, by hand).

Each trial draws a jagged polygon of 40 to 900 vertices (long enough that a
prepared area indexes its rings: y-bands and the segment hierarchy of
`crates/geo/src/predicate/segtree.rs`), fills key `k` on both servers with
400 random LineStrings, BOUNDS, points and triangles around its outline
(some sharing its vertices), and compares the ID sets of
`WITHIN k LIMIT 100000 IDS OBJECT <polygon>` and the same INTERSECTS. Sets,
not lists: over 64 objects our order is our index's (docs/compatibility.md).

    python3 tools/polygon_diff.py OURS_PORT ORACLE_PORT [SEED] [TRIALS]

Prints one line per trial and `mismatches N`; exit status 1 if N > 0.
Stdlib only.
"""
import json, math, random, socket, sys
def resp(*a):
    out = b"*%d\r\n" % len(a)
    for x in a:
        x = x if isinstance(x, bytes) else str(x).encode()
        out += b"$%d\r\n%s\r\n" % (len(x), x)
    return out
def reply(s):
    buf = b""
    while True:
        buf += s.recv(1 << 20)
        if buf.startswith(b"$"):
            n = int(buf[1:buf.index(b"\r\n")]); h = buf.index(b"\r\n") + 2
            if len(buf) >= h + n + 2: return buf[h:h+n]
        elif buf.endswith(b"\r\n"): return buf
def conn(port):
    s = socket.create_connection(("127.0.0.1", port)); s.sendall(resp("OUTPUT", "json")); reply(s); return s
A, B = conn(int(sys.argv[1])), conn(int(sys.argv[2]))
rnd = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
bad = 0
for trial in range(int(sys.argv[4]) if len(sys.argv) > 4 else 20):
    n = rnd.choice([40, 120, 300, 900])
    cx, cy = rnd.uniform(-100, 100), rnd.uniform(-50, 50)
    ring = []
    for i in range(n):
        a = i / n * 2 * math.pi; r = rnd.uniform(2, 5) if rnd.random() < 0.5 else 4
        ring.append([round(cx + r * math.cos(a), 5), round(cy + r * math.sin(a), 5)])
    ring.append(ring[0])
    area = json.dumps({"type": "Polygon", "coordinates": [ring]})
    for s in (A, B): s.sendall(resp("DROP", "k")); reply(s)
    cmds = []
    for i in range(400):
        x, y = cx + rnd.uniform(-6, 6), cy + rnd.uniform(-6, 6)
        k = rnd.random()
        if k < 0.4:
            pts = [[round(x + rnd.uniform(-3, 3), 5), round(y + rnd.uniform(-3, 3), 5)] for _ in range(rnd.randint(2, 4))]
            if rnd.random() < 0.3: pts = [ring[rnd.randrange(n)], pts[0]]
            cmds.append(resp("SET", "k", f"l{i}", "OBJECT", json.dumps({"type": "LineString", "coordinates": pts})))
        elif k < 0.7:
            w, h = rnd.uniform(0, 2), rnd.uniform(0, 2)
            cmds.append(resp("SET", "k", f"b{i}", "BOUNDS", round(y, 5), round(x, 5), round(y + h, 5), round(x + w, 5)))
        elif k < 0.85:
            p = ring[rnd.randrange(n)] if rnd.random() < 0.3 else [round(x, 5), round(y, 5)]
            cmds.append(resp("SET", "k", f"p{i}", "POINT", p[1], p[0]))
        else:
            q = [[round(x, 5), round(y, 5)], [round(x + rnd.uniform(0, 2), 5), round(y, 5)], [round(x, 5), round(y + rnd.uniform(0, 2), 5)]]
            q.append(q[0])
            cmds.append(resp("SET", "k", f"q{i}", "OBJECT", json.dumps({"type": "Polygon", "coordinates": [q]})))
    for s in (A, B):
        for c in cmds: s.sendall(c); reply(s)
    for op in ("WITHIN", "INTERSECTS"):
        got = []
        for s in (A, B):
            s.sendall(resp(op, "k", "LIMIT", 100000, "IDS", "OBJECT", area))
            r = json.loads(reply(s))
            if "ids" not in r: print(r); sys.exit(2)
            got.append(sorted(r["ids"]))
        if got[0] != got[1]:
            bad += 1
            print("MISMATCH", trial, op, n, set(got[0]) ^ set(got[1]))
    print(trial, n, "ok" if bad == 0 else "bad", len(got[1]), flush=True)
print("mismatches", bad)
sys.exit(1 if bad else 0)
