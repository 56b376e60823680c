#!/usr/bin/env python3
"""Records the member names and value types of the replies whose values
vary from run to run (SERVER, SERVER EXT, INFO and its sections, CLIENT
LIST, ROLE, STATS), from a real Tile38 (the oracle), into
tests/data/members/tile38.json. `tests/members.rs` compares our server's
replies with it: same names, in the same order, with the same types.

    python3 tools/record_members.py --port 9851

The shape of a reply is a list of lines, in order of first appearance:

* JSON mode (after `OUTPUT json`, top-level `elapsed` removed):
  `path:kind` for every value, kind one of null bool number string array
  object; object members extend the path with `.name`, array elements
  with `[]` (each distinct line once).
* RESP mode, by the probe's `form`:
  * `map`: a flat array of name/value pairs: `name:T` with T the RESP type
    byte of the value (`$`, `:`, `*`, `+`, or `nil`);
  * `info`: INFO's text: `# Section` lines, and `name:int|float|text` by
    the value's spelling;
  * `clients`: CLIENT LIST's text: the `name=` fields of a line;
  * `tree`: the RESP type bytes: `path:T`, array elements as `[]`.

The same rules are implemented in tests/members.rs.
"""
import json, os, re, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "conformance"))
from replay import Conn, parse_resp  # noqa: E402
from record import oracle_parser  # noqa: E402

OBJECTS = [
    ["SET", "k", "a", "POINT", "1", "2"],
    ["SET", "k", "b", "POINT", "1", "2", "3"],
    ["SET", "k", "c", "STRING", "hello"],
    ["SET", "k", "d", "BOUNDS", "1", "2", "3", "4"],
    ["SET", "k", "e", "FIELD", "f", "1", "HASH", "9q8yy"],
    ["SET", "k", "f", "OBJECT", '{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,0]]]}'],
]

PROBES = [
    {"name": "server", "cmd": ["SERVER"], "form": "map"},
    {"name": "server_ext", "cmd": ["SERVER", "EXT"], "form": "map"},
    {"name": "server_with_objects", "setup": OBJECTS, "cmd": ["SERVER"], "form": "map"},
    {"name": "info", "cmd": ["INFO"], "form": "info"},
] + [
    {"name": "info_" + s, "cmd": ["INFO", s], "form": "info"}
    for s in ["server", "clients", "memory", "persistence", "stats", "replication",
              "cpu", "cluster", "keyspace", "all", "default", "everything"]
] + [
    {"name": "client_list", "cmd": ["CLIENT", "LIST"], "form": "clients"},
    {"name": "role", "cmd": ["ROLE"], "form": "tree"},
    {"name": "stats", "setup": OBJECTS, "cmd": ["STATS", "k", "none"], "form": "tree"},
]


def json_shape(v, path, out):
    kind = ("null" if v is None else "bool" if isinstance(v, bool)
            else "number" if isinstance(v, (int, float)) else "string" if isinstance(v, str)
            else "array" if isinstance(v, list) else "object")
    line = "%s:%s" % (path, kind)
    if line not in out:
        out.append(line)
    if kind == "object":
        for k, x in v.items():
            json_shape(x, path + "." + k, out)
    elif kind == "array":
        for x in v:
            json_shape(x, path + "[]", out)


def resp_kind(node):
    t = node[0]
    return "nil" if node[1] is None else t


def resp_tree(node, path, out):
    line = "%s:%s" % (path, resp_kind(node))
    if line not in out:
        out.append(line)
    if node[0] == "*" and node[1] is not None:
        for x in node[1]:
            resp_tree(x, path + "[]", out)


def number_kind(v):
    return "int" if re.fullmatch(r"-?\d+", v) else "float" if re.fullmatch(r"-?\d*\.\d+", v) else "text"


def resp_shape(raw, form):
    node, _ = parse_resp(raw)
    out = []
    if form == "map":
        items = node[1] or []
        for name, value in zip(items[::2], items[1::2]):
            out.append("%s:%s" % (name[1].decode(), resp_kind(value)))
    elif form == "info":
        for line in node[1].decode().split("\r\n"):
            if line.startswith("#") or not line:
                out.append(line) if line else None
            else:
                name, _, value = line.partition(":")
                out.append("%s:%s" % (name, number_kind(value)))
    elif form == "clients":
        first = node[1].decode().split("\n")[0]
        out = [f.split("=")[0] for f in first.split(" ")]
    else:
        resp_tree(node, "", out)
    return out


def shapes(conn_args, probe):
    got = {}
    for mode in ("resp", "json"):
        c = Conn(*conn_args)
        c.command(["FLUSHDB"])
        for cmd in probe.get("setup", []):
            c.command(cmd)
        if mode == "json":
            c.command(["OUTPUT", "json"])
        raw, _ = c.command(probe["cmd"])
        c.close()
        if mode == "resp":
            got["resp"] = resp_shape(raw, probe["form"])
        else:
            value = json.loads(parse_resp(raw)[0][1])
            value.pop("elapsed", None)
            out = []
            json_shape(value, "", out)
            got["json"] = out
    return got


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = oracle_parser(default=os.path.join(here, "..", "tests", "data", "members", "tile38.json"),
                       help="the data file")
    args = ap.parse_args()
    probes = []
    for p in PROBES:
        p = dict(p)
        p.update(shapes((args.host, args.port, 10), p))
        probes.append(p)
    with open(args.out, "w") as f:
        json.dump({"probes": probes}, f, indent=1)
        f.write("\n")
    print("%d probes in %s" % (len(probes), args.out))


if __name__ == "__main__":
    main()
