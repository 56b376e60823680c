#!/usr/bin/env python3
"""Records regression cases from a real Tile38 (the oracle) in the corpus
format of tests/data/conformance (see its README), for the project's own
corpus in tests/data/regressions/<group>.jsonl.

Input: a JSON Lines file of cases without replies:

    {"name": "point_z_zero", "group": "set", "note": "...",
     "setup": [["SET", ...]], "steps": [{"cmd": ["SET", ...]}, {"cmd": [...], "order": "spatial"}],
     "modes": ["resp"], "teardown": [[...]]}

(`steps` may also be plain argument lists, `{"sleep": secs}`, or
`{"raw": "bytes"}`: sent as they are, the bytes read back recorded as they
are, with `normalize: elapsed` when they hold an elapsed time; replay.py
reads them as UTF-8, so WebSocket frames, which are not, belong in a Rust
test.) Each case runs as replay.py
runs it: FLUSHDB and setup on an admin connection, the steps on a fresh
one (JSON mode: after OUTPUT json), teardown on another. The replies are
stored as the corpus stores them: `resp` raw bytes, `json` parsed with the
top-level `elapsed` removed (`json_text` where the text is not the compact
serialisation of `json`, `json_resp` where the reply is not JSON), and
`closed` when the server closed the connection. Cases already in the output
file under the same group/name are replaced.

    python3 tools/record.py --port 9851 --out tests/data/regressions/set.jsonl cases.jsonl
"""
import argparse, json, os, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "conformance"))
from replay import Conn, compact_json, parse_resp, strip_elapsed_text  # noqa: E402


def run(conn_args, commands):
    c = Conn(*conn_args)
    try:
        for args in commands:
            c.command(args)
    finally:
        c.close()


def json_reply(step, raw):
    try:
        node, _ = parse_resp(raw)
        text = node[1].decode("utf-8")
        value = json.loads(text)
        if not isinstance(value, dict):
            raise ValueError
    except (ValueError, IndexError, TypeError, UnicodeDecodeError):
        step["json_resp"] = raw.decode("utf-8", "surrogateescape")
        if b'"elapsed"' in raw:  # invalid JSON (`+Inf`) that still reports it
            step["normalize"] = "elapsed"
        return
    value.pop("elapsed", None)
    step["json"] = value
    exact = strip_elapsed_text(text)
    if exact != compact_json(value):
        step["json_text"] = exact


def record_raw(conn, step, mode):
    """Sends a raw step's bytes; records what comes back (`resp`, or
    `json_resp` in JSON mode) and whether the server closed."""
    data = step["raw"].encode("utf-8", "surrogateescape")
    got, closed = conn.raw_exchange(data)
    step["resp" if mode == "resp" else "json_resp"] = got.decode("utf-8", "surrogateescape")
    if b'"elapsed"' in got:
        step["normalize"] = "elapsed"
    if closed:
        step["closed"] = True
    return closed


def record(case, conn_args):
    steps = [s if isinstance(s, dict) else {"cmd": s} for s in case["steps"]]
    for mode in case.get("modes", ["resp", "json"]):
        run(conn_args, [["FLUSHDB"]] + case.get("setup", []))
        c = Conn(*conn_args)
        try:
            if mode == "json":
                c.command(["OUTPUT", "json"])
            for step in steps:
                if "sleep" in step:
                    time.sleep(step["sleep"])
                    continue
                if "raw" in step:
                    closed = record_raw(c, step, mode)
                    if closed:
                        break
                    continue
                raw, closed = c.command(step["cmd"])
                if mode == "resp":
                    step["resp"] = raw.decode("utf-8", "surrogateescape")
                else:
                    json_reply(step, raw)
                if closed:
                    step["closed"] = True
                    break
        finally:
            c.close()
        run(conn_args, case.get("teardown", []))
    out = {k: v for k, v in case.items() if k != "steps"}
    out["steps"] = steps
    return out


def oracle_parser(**out):
    """The command line of a recorder: the oracle's address and `--out`
    (`out` holds its `help`, and `default` or `required`)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True, help="the oracle's port")
    ap.add_argument("--out", **out)
    return ap


def main():
    ap = oracle_parser(required=True, help="tests/data/regressions/<group>.jsonl")
    ap.add_argument("cases")
    args = ap.parse_args()
    conn_args = (args.host, args.port, 10)
    new = [record(json.loads(l), conn_args) for l in open(args.cases) if l.strip()]
    names = {(c["group"], c["name"]) for c in new}
    kept = []
    if os.path.exists(args.out):
        for line in open(args.out):
            if line.strip():
                old = json.loads(line)
                if (old["group"], old["name"]) not in names:
                    kept.append(old)
    with open(args.out, "w") as f:
        for c in kept + new:
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
    print(f"{len(new)} recorded, {len(kept) + len(new)} in {args.out}")


if __name__ == "__main__":
    main()
