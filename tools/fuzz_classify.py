#!/usr/bin/env python3
"""Sorts difffuzz mismatches into the documented class and the rest.

Each mismatch file difffuzz writes (`--out DIR`) holds one shrunk case:
`setup` commands and the failing `steps`. This replays the setup on a
fresh reference (Tile38 1.37) and reads STATS of the key the last step
searches. A mismatch on a key holding more than 64 spatial objects is in
the class the issue allows and `docs/compatibility.md` documents ("Result
order of WITHIN/INTERSECTS on keys over 64 objects may stay our index's
own": pages, SPARSE picks and NEARBY ties then follow Tile38's R-tree node
layout, which we do not copy). Everything else is printed for a look.

    python3 tools/fuzz_classify.py REFERENCE_PORT DIR/*/*.jsonl

Uses FLUSHDB on the reference: give it a server nobody else uses.
"""
import collections
import json
import socket
import sys

LEAF = 64


def enc(args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def read(f):
    line = f.readline()
    kind, rest = line[:1], line[1:-2]
    if kind in b"+-:":
        return rest.decode()
    if kind == b"$":
        n = int(rest)
        return None if n < 0 else f.read(n + 2)[:-2].decode(errors="replace")
    if kind == b"*":
        return [read(f) for _ in range(max(int(rest), 0))]
    raise ValueError(line)


def spatial_objects(port, case):
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rb")
    for cmd in [["FLUSHDB"]] + case["setup"]:
        s.sendall(enc(cmd))
        read(f)
    key = case["steps"][-1]["cmd"][1]
    s.sendall(enc(["STATS", key]))
    stats = read(f)
    s.close()
    if not (isinstance(stats, list) and stats and isinstance(stats[0], list)):
        return None
    m = dict(zip(stats[0][::2], stats[0][1::2]))
    return int(m.get("num_objects", 0)) - int(m.get("num_strings", 0))


def main():
    port, files = int(sys.argv[1]), sys.argv[2:]
    classes = collections.Counter()
    rest = []
    for path in files:
        case = json.loads(open(path).readline())
        n = spatial_objects(port, case)
        note = case.get("note", "").split("reference's): ")[-1]
        if n is not None and n > LEAF:
            classes["over %d spatial objects (documented)" % LEAF] += 1
        else:
            classes["other"] += 1
            rest.append((path, n, note[:160]))
    print(json.dumps(dict(classes)))
    for path, n, note in rest:
        print("%s: %s spatial objects: %s" % (path, n, note))
    return 1 if rest else 0


if __name__ == "__main__":
    sys.exit(main())
