#!/usr/bin/env python3
"""NaN-focused differential fuzzing of spatial tests against Tile38.

Random small keys (points, BOUNDS, lines, polygons, MultiPoint,
MultiPolygon, Features, points with z), with NaN/inf/-inf in POINT and
BOUNDS coordinates, tested against random areas (BOUNDS, CIRCLE, POINT,
OBJECT polygons, GET of a stored object; NaN/inf sides and radii) by
`TEST obj op area`, `TEST area op obj` and `WITHIN|INTERSECTS key IDS`.
Prints each difference with the key's objects (as the reference stores
them) and a summary line. Each key is FLUSHDB'd first: use servers nobody
else uses.

    python3 tools/nanfuzz.py OURS_PORT REFERENCE_PORT SEED KEYS
"""
import json
import random
import socket
import sys


class C:
    """A minimal RESP client: replies as str/int/list, errors as "ERR:…"."""

    def __init__(s, port):
        s.s = socket.create_connection(("127.0.0.1", port)); s.f = s.s.makefile("rb")
    def cmd(s, *a):
        a = [str(x).encode() for x in a]
        s.s.sendall(b"*%d\r\n" % len(a) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in a))
        return s.read()
    def read(s):
        l = s.f.readline().rstrip(b"\r\n"); t = l[:1]; r = l[1:]
        if t in (b"+",): return r.decode()
        if t == b"-": return "ERR:" + r.decode()
        if t == b":": return int(r)
        if t == b"$":
            n = int(r)
            if n < 0: return None
            d = s.f.read(n + 2)[:-2]; return d.decode()
        if t == b"*":
            n = int(r); return [s.read() for _ in range(n)]
        raise Exception(l)

u, o = C(int(sys.argv[1])), C(int(sys.argv[2]))
seed = int(sys.argv[3]); n = int(sys.argv[4])
rnd = random.Random(seed)
SPECIAL = ["nan", "inf", "-inf"]
def num(base, spread, special=0.15):
    if rnd.random() < special: return rnd.choice(SPECIAL)
    return round(base + rnd.uniform(-spread, spread), rnd.choice([2, 3, 6]))
def fnum():
    return round(rnd.uniform(-0.03, 0.03), rnd.choice([2,3]))
def pt(): return [round(-112.01 + fnum(), 4), round(33.01 + fnum(), 4)]
def ring(k):
    pts = [pt() for _ in range(k)]
    return pts + [pts[0]]
def obj():
    t = rnd.randrange(9)
    if t == 0: return ["POINT", num(33.01, 0.02), num(-112.01, 0.02)]
    if t == 1: return ["BOUNDS", num(33.0, 0.02), num(-112.02, 0.02), num(33.02, 0.02), num(-112.0, 0.02)]
    if t == 2: return ["OBJECT", json.dumps({"type": "LineString", "coordinates": [pt() for _ in range(rnd.randint(2, 4))]})]
    if t in (3, 4): return ["OBJECT", json.dumps({"type": "Polygon", "coordinates": [ring(rnd.randint(3, 6))]})]
    if t == 5: return ["OBJECT", json.dumps({"type": "MultiPoint", "coordinates": [pt() for _ in range(rnd.randint(1, 3))]})]
    if t == 6: return ["OBJECT", json.dumps({"type": "MultiPolygon", "coordinates": [[ring(3)], [ring(4)]]})]
    if t == 7: return ["OBJECT", json.dumps({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [pt(), pt()]}, "properties": {}})]
    return ["POINT", num(33.01, 0.02), num(-112.01, 0.02), num(5, 5)]
def area(ids):
    t = rnd.randrange(5)
    if t == 0: return ["BOUNDS", num(33.0, 0.02, .3), num(-112.02, 0.02, .3), num(33.02, 0.02, .3), num(-112.0, 0.02, .3)]
    if t == 1: return ["CIRCLE", num(33.01, 0.02, .3), num(-112.01, 0.02, .3), rnd.choice([num(1500, 1500, .2), 0, 1e7])]
    if t == 2: return ["POINT", num(33.01, 0.02, .3), num(-112.01, 0.02, .3)]
    if t == 3: return ["OBJECT", json.dumps({"type": "Polygon", "coordinates": [ring(rnd.randint(3, 5))]})]
    return ["GET", "k", rnd.choice(ids)]
diff = tot = 0
for it in range(n):
    for c in (o, u): c.cmd("FLUSHDB")
    ids = []
    for i in range(rnd.randint(1, 6)):
        spec = obj(); ids.append("o%d" % i)
        for c in (o, u):
            c.cmd("SET", "k", "o%d" % i, *spec)
    for _ in range(8):
        a = area(ids); op = rnd.choice(["WITHIN", "INTERSECTS"])
        x = rnd.choice(ids)
        cmds = [("TEST", "GET", "k", x, op, *a), ("TEST", *a, op, "GET", "k", x), (op, "k", "IDS", *a)]
        for cm in cmds:
            ro = o.cmd(*cm); ru = u.cmd(*cm); tot += 1
            if isinstance(ro, list) and isinstance(ru, list) and len(ro) == 2 and isinstance(ro[1], list) and isinstance(ru[1], list):
                ro = [ro[0], sorted(ro[1])]; ru = [ru[0], sorted(ru[1])]
            if ro != ru:
                diff += 1
                if diff <= 30:
                    print("DIFF", " ".join(map(str, cm)), "| oracle", ro, "ours", ru)
                    for i in ids: print("   ", i, o.cmd("GET", "k", i))
print("seed", seed, "diff", diff, "of", tot)
