#!/usr/bin/env python3
"""Writes the seeds of the `command_args` fuzz target and its dictionary.

    python3 fuzz/tools/command_args_seeds.py    # from the repository root

Seed format (see fuzz_targets/command_args.rs): byte 0 = flags (bit 0 JSON,
bit 1 no fixture, bit 2 broadcast, bit 3 one pipelined batch, bit 4 HTTP), then one
command per line (`\\n`), arguments separated by NUL.

Writes:
* fuzz/seeds/command_args/<name>: the hand-written seeds below, against the
  fixture of the target (keys fleet, props, docs, strs, areas; hooks h1-h4,
  channels c1-c3);
* fuzz/seeds/command_args/conf-<group>-<case>: every case of the Tile38
  conformance corpus (tests/data/conformance/*.jsonl) that is made of
  commands, on an empty server (flag bit 1), at most 8 steps;
* fuzz/dict/command_args.dict: the hand-written entries below, every
  command name, and the keyword-like arguments of the corpus.

Existing files of those names are overwritten; other files are left alone
(delete fuzz/seeds/command_args/ first to drop seeds removed here).
"""

import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEEDS = os.path.join(ROOT, "fuzz", "seeds", "command_args")
DICT = os.path.join(ROOT, "fuzz", "dict", "command_args.dict")
CONFORMANCE = os.path.join(ROOT, "tests", "data", "conformance")

JSON, NOFIX, BROADCAST, PIPELINE, HTTP = 1, 2, 4, 8, 16
MAX_LINES = 8

POLY = '{"type":"Polygon","coordinates":[[[-112.1,32.9],[-111.9,32.9],[-111.9,33.1],[-112.1,33.1],[-112.1,32.9]]]}'
MPOLY = '{"type":"MultiPolygon","coordinates":[[[[-112,33],[-111.9,33],[-111.9,33.1],[-112,33]]],[[[0,0],[1,0],[1,1],[0,0]]]]}'
LINE = '{"type":"LineString","coordinates":[[-112.2,32.9],[-111.8,33.2]]}'
CIRCLE = '{"type":"Feature","geometry":{"type":"Point","coordinates":[-112,33]},"properties":{"type":"Circle","radius":500}}'
FEATURE = '{"type":"Feature","id":"f1","geometry":{"type":"Point","coordinates":[-112,33]},"properties":{"name":"x","n":[1,{"a":2}]},"extra":{"k":"v"}}'
GC = '{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]},{"type":"GeometryCollection","geometries":[{"type":"LineString","coordinates":[[1,2],[3,4]]}]}]}'
FC = '{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{}}]}'

# name -> (flags, [command, ...]); a command is a list of arguments.
SEEDS_BY_NAME = {
    # --- SET / GET and the other key/object commands -------------------
    "set_point": (0, [["SET", "fleet", "truck9", "POINT", "33", "-112"], ["GET", "fleet", "truck9", "WITHFIELDS", "POINT"]]),
    "set_fields": (0, [["SET", "w", "a", "FIELD", "speed", "50", "FIELD", "name", '"x"', "FIELD", "obj", '{"a":[1,2]}', "EX", "10", "NX", "POINT", "1", "2", "3"], ["FGET", "w", "a", "obj"], ["FEXISTS", "w", "a", "nope"]]),
    "set_return": (JSON, [["SET", "fleet", "truck1", "RETURN", "WITHFIELDS", "HASH", "5", "POINT", "10", "20"]]),
    "set_object": (0, [["SET", "w", "o1", "OBJECT", LINE], ["SET", "w", "o2", "OBJECT", GC], ["SET", "w", "o3", "OBJECT", FC], ["SET", "w", "o4", "OBJECT", FEATURE], ["GET", "w", "o4", "BOUNDS"], ["GET", "w", "o2", "HASH", "12"]]),
    "set_bounds_hash": (0, [["SET", "w", "b", "BOUNDS", "1", "2", "3", "4"], ["SET", "w", "h", "HASH", "9q8yy"], ["SET", "w", "s", "STRING", "v"], ["TYPE", "w"], ["BOUNDS", "w"]]),
    "set_xx_ex": (0, [["SET", "fleet", "t3", "XX", "EX", "0.5", "POINT", "33", "-112"], ["TTL", "fleet", "t3"], ["PERSIST", "fleet", "t3"], ["TTL", "fleet", "t3"]]),
    "get_forms": (0, [["GET", "fleet", "truck2", "WITHFIELDS", "POINT"], ["GET", "fleet", "truck1", "HASH", "7"], ["GET", "fleet", "poly", "BOUNDS"], ["GET", "fleet", "str", "OBJECT"], ["GET", "fleet", "gc"]]),
    "get_json": (JSON, [["GET", "fleet", "feat", "WITHFIELDS"], ["GET", "fleet", "fc", "POINT"], ["GET", "fleet", "t5", "WITHFIELDS", "HASH", "9"]]),
    "inf_poly": (0, [["SET", "w", "x", "OBJECT", '{"type":"Polygon","coordinates":[[[-1e999,-1e999],[1e999,-1e999],[1e999,1e999],[-1e999,-1e999]]]}']]),
    "nan_bounds": (0, [["SET", "w", "x", "BOUNDS", "nan", "1", "2", "nan"]]),
    "fset": (0, [["FSET", "fleet", "truck1", "XX", "speed", "1.5e3", "name", '{"a":[1,2]}'], ["FSET", "fleet", "t1", "RETURN", "speed", "0"], ["FGET", "fleet", "truck1", "name"]]),
    "del_pdel": (0, [["DEL", "fleet", "t1", "ERRON404"], ["PDEL", "fleet", "dup*"], ["PDEL", "fleet", "t?0"], ["SCAN", "fleet", "COUNT"]]),
    "drop_flush": (0, [["DROP", "props"], ["EXISTS", "props", "p1"], ["FLUSHDB"], ["KEYS", "*"]]),
    "rename": (0, [["RENAME", "props", "fleet2"], ["RENAMENX", "fleet2", "fleet"], ["RENAME", "fleet", "x"], ["KEYS", "*"]]),
    "keys": (0, [["KEYS", "*"], ["KEYS", "fl*"], ["KEYS", "?ocs"], ["KEYS", "[a-f]*"]]),
    "stats": (JSON, [["STATS", "fleet", "props", "nokey"], ["BOUNDS", "fleet"], ["TYPE", "docs"]]),
    "expire": (0, [["EXPIRE", "fleet", "truck1", "0.5"], ["EXPIRE", "fleet", "t2", "-1"], ["TTL", "fleet", "truck1"], ["PERSIST", "fleet", "truck2"]]),
    # --- SCAN / SEARCH ---------------------------------------------------
    "scan": (JSON, [["SCAN", "fleet", "CURSOR", "1", "LIMIT", "2", "MATCH", "truck*", "WHERE", "speed", "0", "100", "NOFIELDS", "COUNT"]]),
    "scan_desc": (0, [["SCAN", "fleet", "DESC", "WHEREIN", "speed", "2", "90", "10", "IDS"]]),
    "scan_outputs": (0, [["SCAN", "fleet", "LIMIT", "5", "OBJECTS"], ["SCAN", "fleet", "LIMIT", "5", "POINTS"], ["SCAN", "fleet", "LIMIT", "5", "BOUNDS"], ["SCAN", "fleet", "LIMIT", "5", "HASHES", "6"], ["SCAN", "fleet", "MATCH", "t1*", "MATCH", "dup*", "ASC", "IDS"]]),
    "scan_where_ops": (0, [["SCAN", "fleet", "WHERE", "speed", ">", "50", "WHERE", "age", "<=", "3", "IDS"], ["SCAN", "fleet", "WHERE", "speed", "(10", "+inf", "WHERE", "name", "==", "v3", "COUNT"], ["SCAN", "fleet", "WHERE", "info", "!=", "0", "IDS"]]),
    "scan_where_expr": (0, [["SCAN", "fleet", "WHERE", "speed > 10 && age < 3 || name == 'v1'", "IDS"], ["SCAN", "fleet", "WHERE", "info.tags[1] == 'b2' && info.ok", "COUNT"], ["SCAN", "props", "WHERE", "properties.name =~ 'B.*' && properties.age >= 30", "OBJECTS"], ["SCAN", "fleet", "WHERE", "id.match('t1*') ? speed % 2 == 0 : false", "IDS"]]),
    "scan_where_expr2": (JSON, [["SCAN", "props", "WHERE", "properties.address?.city === 'Phoenix'", "IDS"], ["SCAN", "fleet", "WHERE", "(speed + age) * 2 / 3 - 1 > 0x10", "COUNT"], ["SCAN", "fleet", "WHERE", "type == 'Point' && this.coordinates[0] < -111.95", "IDS"], ["SCAN", "fleet", "WHERE", "name ?? 'none'", "IDS"]]),
    "scan_wherein": (0, [["SCAN", "fleet", "WHEREIN", "name", "3", "v1", "v2", "v3", "WHEREIN", "age", "1", "4", "IDS"], ["SCAN", "fleet", "WHEREIN", "speed", "0", "COUNT"]]),
    "search": (0, [["SEARCH", "strs", "MATCH", "a*", "IDS"], ["SEARCH", "strs", "DESC", "LIMIT", "3", "OBJECTS"], ["SEARCH", "strs", "WHERE", "n", "0", "5", "COUNT"], ["SEARCH", "fleet", "CURSOR", "1", "IDS"]]),
    # --- NEARBY / WITHIN / INTERSECTS ----------------------------------
    "nearby": (0, [["NEARBY", "fleet", "LIMIT", "10", "DISTANCE", "POINT", "33", "-112", "5000"], ["NEARBY", "fleet", "IDS", "POINT", "33.05", "-111.95"], ["NEARBY", "fleet", "SPARSE", "2", "POINTS", "POINT", "33", "-112", "20000"]]),
    "nearby_json": (JSON, [["NEARBY", "fleet", "CURSOR", "5", "LIMIT", "5", "MATCH", "t*", "WHERE", "speed", "0", "50", "DISTANCE", "HASHES", "5", "POINT", "33", "-112", "100000"], ["NEARBY", "fleet", "COUNT", "POINT", "0", "179.99", "1000"]]),
    "within_areas": (0, [
        ["WITHIN", "fleet", "IDS", "BOUNDS", "33", "-112.1", "33.1", "-111.9"],
        ["WITHIN", "fleet", "COUNT", "CIRCLE", "33", "-112", "2000"],
        ["WITHIN", "fleet", "IDS", "HASH", "9tbn"],
        ["WITHIN", "fleet", "IDS", "QUADKEY", "0231"],
        ["WITHIN", "fleet", "IDS", "TILE", "12", "24", "6"],
        ["WITHIN", "fleet", "IDS", "OBJECT", POLY],
        ["WITHIN", "fleet", "IDS", "GET", "areas", "poly1"],
        ["WITHIN", "fleet", "IDS", "SECTOR", "33", "-112", "5000", "0", "90"],
        ["WITHIN", "fleet", "IDS", "POINT", "33.05", "-111.95"],
    ]),
    "within_opts": (JSON, [["WITHIN", "fleet", "SPARSE", "3", "BOUNDS", "33", "-112.2", "33.2", "-111.8"], ["WITHIN", "fleet", "BUFFER", "100", "WHERE", "speed", "<", "20", "POINTS", "GET", "areas", "circ"], ["WITHIN", "fleet", "LIMIT", "3", "CURSOR", "2", "NOFIELDS", "OBJECTS", "OBJECT", MPOLY]]),
    "intersects_areas": (0, [
        ["INTERSECTS", "fleet", "IDS", "OBJECT", LINE],
        ["INTERSECTS", "fleet", "CLIP", "BOUNDS", "33", "-112.1", "33.1", "-111.9"],
        ["INTERSECTS", "fleet", "IDS", "GET", "areas", "box"],
        ["INTERSECTS", "fleet", "BOUNDS", "HASH", "9tbnt"],
        ["INTERSECTS", "fleet", "IDS", "BOUNDS", "33", "-112.1", "33.1", "-111.9", "CLIPBY", "BOUNDS", "33.05", "-112", "33.2", "-111", "CLIPBY", "TILE", "1", "1", "2"],
        ["INTERSECTS", "fleet", "IDS", "OBJECT", CIRCLE],
        ["INTERSECTS", "fleet", "HASHES", "4", "QUADKEY", "023"],
    ]),
    "intersects_json": (JSON, [["INTERSECTS", "fleet", "CLIP", "OBJECTS", "OBJECT", MPOLY], ["INTERSECTS", "fleet", "BUFFER", "1000", "COUNT", "GET", "fleet", "line"], ["INTERSECTS", "props", "WHERE", "properties.age > 1", "IDS", "SECTOR", "33.5", "-111.5", "100000", "180", "270"]]),
    "search_timeout": (0, [["TIMEOUT", "0", "SCAN", "fleet"], ["TIMEOUT", "0.5", "NEARBY", "fleet", "POINT", "33", "-112"], ["TIMEOUT", "1", "SET", "a", "b", "STRING", "c"], ["TIMEOUT", "1e300", "WITHIN", "fleet", "COUNT", "CIRCLE", "33", "-112", "9e9"]]),
    # --- TEST --------------------------------------------------------------
    "test": (0, [["TEST", "POINT", "33", "-112", "WITHIN", "BOUNDS", "32", "-113", "34", "-111"], ["TEST", "GET", "fleet", "poly", "INTERSECTS", "CLIP", "BOUNDS", "0", "0", "5", "5"], ["TEST", "(", "POINT", "1", "1", "OR", "NOT", "CIRCLE", "1", "1", "10", ")", "AND", "HASH", "s0", "WITHIN", "TILE", "0", "0", "0"]]),
    "test_json": (JSON, [["TEST", "OBJECT", POLY, "INTERSECTS", "CLIP", "OBJECT", MPOLY], ["TEST", "SECTOR", "33", "-112", "1000", "10", "100", "WITHIN", "NOT", "(", "QUADKEY", "0", ")"]]),
    # --- JSON documents ----------------------------------------------------
    "jset": (0, [["JSET", "docs", "d1", "a.b.c", "2"], ["JSET", "docs", "d1", "arr.-1", "true", "RAW"], ["JSET", "docs", "d1", "x", "y", "STR"], ["JSET", "docs", "d1", ":0.k", "1"], ["JGET", "docs", "d1"]]),
    "jget_paths": (0, [
        ["JGET", "docs", "friends", "friends.#.first"],
        ["JGET", "docs", "friends", 'friends.#(last=="Murphy")#.first'],
        ["JGET", "docs", "friends", "friends.#(nets.#(=\"fb\"))#.age"],
        ["JGET", "docs", "friends", "children|@reverse"],
        ["JGET", "docs", "friends", "children.@reverse.0"],
        ["JGET", "docs", "friends", "fav\\.movie"],
        ["JGET", "docs", "friends", "{name.first,age,\"c\":children.#}"],
        ["JGET", "docs", "friends", "[age,friends.1.nets.0]"],
        ["JGET", "docs", "friends", "@pretty:{\"indent\":\"\\t\",\"sortKeys\":true}"],
    ]),
    "jget_modifiers": (JSON, [
        ["JGET", "docs", "friends", "@this"],
        ["JGET", "docs", "friends", "friends|@flatten"],
        ["JGET", "docs", "friends", "name|@keys"],
        ["JGET", "docs", "friends", "name|@values"],
        ["JGET", "docs", "friends", "friends.0|@ugly", "RAW"],
        ["JGET", "docs", "friends", "@valid"],
        ["JGET", "docs", "friends", "friends.#.nets|@flatten:{\"deep\":true}|@join"],
        ["JGET", "docs", "friends", "friends.#(age>45)#|#"],
        ["JGET", "docs", "friends", "..0"],
    ]),
    "jget_deep": (0, [["JGET", "docs", "deep", "x" + ".d" * 24], ["JGET", "docs", "arr", "a.5.k.0"], ["JGET", "docs", "esc", "a\\.b", "RAW"], ["JGET", "docs", "arr", "a|@reverse|0"]]),
    "jset_geo": (0, [["JSET", "fleet", "feat", "properties.name", "Zed"], ["JSET", "fleet", "feat", "geometry.coordinates.0", "10"], ["JDEL", "fleet", "feat", "properties.tags.0"], ["JGET", "fleet", "feat", "properties"], ["JSET", "fleet", "truck1", "type", "Nope"]]),
    "jdel": (0, [["JDEL", "docs", "friends", "friends.1"], ["JDEL", "docs", "friends", "children.-1"], ["JDEL", "docs", "d1", "a.b"], ["JDEL", "docs", "nope", "x"]]),
    "jset_deep": (0, [["JSET", "docs", "new", ".".join(["k"] * 40), "1"], ["JSET", "docs", "new", "arr.5", "[1,[2,[3]]]", "RAW"], ["JGET", "docs", "new", "arr"]]),
    # --- hooks and channels -------------------------------------------------
    "sethook": (0, [
        ["SETHOOK", "w1", "http://127.0.0.1:8080/x", "NEARBY", "fleet", "FENCE", "POINT", "33", "-112", "1000"],
        ["SETHOOK", "w2", "https://h/p?q=1,redis://localhost:6379/ch", "META", "k", "v", "EX", "5", "WITHIN", "fleet", "FENCE", "DETECT", "inside,outside,enter,exit,cross", "COMMANDS", "set,del,drop", "OBJECT", POLY],
        ["SETHOOK", "w3", "kafka://b1:9092/topic?auth=sasl", "INTERSECTS", "fleet", "FENCE", "NODWELL", "BOUNDS", "33", "-112", "34", "-111"],
        ["HOOKS", "*"],
        ["HOOKS", "w*"],
    ]),
    "sethook_endpoints": (0, [
        ["SETHOOK", "e1", "amqp://guest:guest@localhost:5672/ns/queue?durable=true", "WITHIN", "fleet", "FENCE", "TILE", "1", "2", "3"],
        ["SETHOOK", "e2", "mqtt://localhost:1883/a/b?qos=1&retained=0", "WITHIN", "fleet", "FENCE", "QUADKEY", "023"],
        ["SETHOOK", "e3", "sqs://us-east-1:1234/queue?credpath=/x", "WITHIN", "fleet", "FENCE", "HASH", "9tbn"],
        ["SETHOOK", "e4", "nats://localhost:4222/topic?user=a&pass=b", "WITHIN", "fleet", "FENCE", "CIRCLE", "33", "-112", "100"],
        ["SETHOOK", "e5", "grpc://localhost:3000", "NEARBY", "fleet", "FENCE", "ROAM", "fleet", "t*", "500", "SCAN", "t1*"],
        ["SETHOOK", "e6", "disque://localhost:7711/q?replicate=2", "INTERSECTS", "fleet", "FENCE", "SECTOR", "33", "-112", "1000", "0", "180"],
        ["SETHOOK", "e7", "pubsub://project:topic?credpath=/a", "INTERSECTS", "fleet", "FENCE", "GET", "areas", "poly1"],
        ["SETHOOK", "e8", "Endpoint=sb://a.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=s;EntityPath=p", "WITHIN", "fleet", "FENCE", "BOUNDS", "0", "0", "1", "1"],
        ["SETHOOK", "e9", "cf-queue://account/queue?token=t", "WITHIN", "fleet", "FENCE", "BOUNDS", "0", "0", "1", "1"],
        ["SETHOOK", "e10", "https://sqs.us-east-1.amazonaws.com/123/q", "WITHIN", "fleet", "FENCE", "BOUNDS", "0", "0", "1", "1"],
        ["SETHOOK", "e11", "local://ch", "WITHIN", "fleet", "FENCE", "BOUNDS", "0", "0", "1", "1"],
    ]),
    "setchan": (JSON, [
        ["SETCHAN", "k1", "META", "a", "1", "EX", "100", "NEARBY", "fleet", "FENCE", "DETECT", "enter", "POINT", "33", "-112", "100", "CLIPBY", "BOUNDS", "32", "-113", "34", "-111"],
        ["SETCHAN", "k2", "INTERSECTS", "fleet", "FENCE", "CLIP", "BUFFER", "10", "IDS", "OBJECT", CIRCLE],
        ["SETCHAN", "h1", "WITHIN", "fleet", "FENCE", "BOUNDS", "0", "0", "1", "1"],
        ["CHANS", "*"],
        ["HOOKS", "h*"],
    ]),
    "delhooks": (0, [["DELHOOK", "h1"], ["DELCHAN", "c1"], ["PDELHOOK", "h*"], ["PDELCHAN", "*"], ["HOOKS", "*"], ["CHANS", "*"], ["RENAME", "fleet", "f2"]]),
    # --- replication ------------------------------------------------------
    "repl": (0, [["REPLCONF", "listening-port", "9851"], ["REPLCONF", "ip-address", "10.0.0.1"], ["ROLE"], ["INFO", "replication"], ["HEALTHZ"]]),
    "repl_json": (JSON, [["REPLCONF", "listening-port", "x"], ["ROLE"], ["AOFMD5", "0", "10"], ["AOF", "0"], ["AOF", "99999999999"], ["SERVER", "EXT"]]),
    "follow": (0, [["FOLLOW", "no", "one"], ["FOLLOW", "localhost", "9851"], ["FOLLOW", "127.0.0.1", "70000"], ["ROLE"]]),
    "aofshrink_gc": (0, [["AOFSHRINK"], ["GC"], ["AOFMD5", "18446744073709551615", "1"]]),
    # --- server / connection -------------------------------------------
    "server": (JSON, [["SERVER"], ["SERVER", "EXT"], ["INFO"], ["INFO", "all"], ["INFO", "server", "clients", "memory", "persistence", "stats", "cpu", "keyspace"]]),
    "config": (0, [["CONFIG", "GET", "*"], ["CONFIG", "SET", "maxmemory", "10mb"], ["CONFIG", "SET", "keepalive", "10"], ["CONFIG", "SET", "appendfsync", "always"], ["CONFIG", "GET", "appendfsync"], ["CONFIG", "REWRITE"]]),
    "config_oom": (0, [["CONFIG", "SET", "maxmemory", "1"], ["SET", "w", "a", "POINT", "1", "2"], ["FSET", "fleet", "t1", "a", "1"]]),
    "auth": (0, [["CONFIG", "SET", "requirepass", "pw"], ["GET", "fleet", "t1"], ["AUTH", "nope"], ["AUTH", "pw"], ["GET", "fleet", "t1"], ["CONFIG", "SET", "requirepass"]]),
    "http_auth": (HTTP, [["CONFIG", "SET", "requirepass", "pw"], ["GET", "fleet", "t1"], ["AUTH", "pw"], ["PING"], ["HEALTHZ"], ["TIMEOUT", "1", "PING"]]),
    "readonly": (0, [["READONLY", "yes"], ["SET", "fleet", "x", "POINT", "1", "2"], ["DEL", "fleet", "t1"], ["READONLY", "no"]]),
    "client": (0, [["CLIENT", "LIST"], ["CLIENT", "SETNAME", "me"], ["CLIENT", "GETNAME"], ["CLIENT", "KILL", "ID", "1"], ["CLIENT", "KILL", "ADDR", "127.0.0.1:1"], ["CLIENT", "KILL", "127.0.0.1:1"]]),
    "output": (0, [["OUTPUT", "json"], ["OUTPUT"], ["PING"], ["ECHO", "hi"], ["OUTPUT", "resp"], ["PING", "x"], ["ECHO"]]),
    "raw_timeout": (0, [["TIMEOUT", "0.5", "SCAN", "fleet"], ["ROLE"], ["TIMEOUT", "1", "SET", "a", "b"]]),
    "pipeline": (PIPELINE, [["SET", "w", "a", "POINT", "1", "2"], ["GET", "w", "a"], ["NEARBY", "w", "POINT", "1", "2"], ["DEL", "w", "a"], ["SCAN", "w"]]),
    "unknown": (0, [["NOPE"], ["evalro", "x"], [""], ["SUBSCRIBE", "c1"]]),
    "empty": (0, [[]]),
    # --- broadcast: one line through every command's parser ------------------
    "bc_key_id": (BROADCAST, [["fleet", "truck1"]]),
    "bc_key_id_point": (BROADCAST, [["fleet", "t9", "POINT", "33", "-112"]]),
    "bc_key_opts": (BROADCAST | JSON, [["fleet", "LIMIT", "3", "IDS", "BOUNDS", "33", "-112.1", "33.1", "-111.9"]]),
    "bc_docs": (BROADCAST, [["docs", "friends", "friends.#.age"]]),
    "bc_hook": (BROADCAST, [["h9", "http://x", "WITHIN", "fleet", "FENCE", "BOUNDS", "0", "0", "1", "1"]]),
    "bc_sub": (BROADCAST, [["GET", "*"], ["listening-port", "1"], ["0", "0"]]),
}

DICT_WORDS = [
    "\x00", "\n",
    # fixture keys, ids, hooks
    "fleet", "props", "docs", "strs", "areas", "truck1", "truck2", "poly", "str", "bnd", "gh", "p1", "p2", "p3",
    "d1", "friends", "deep", "arr", "esc", "poly1", "circ", "box", "t1", "t100", "dup0", "feat", "fc", "gc",
    "line", "mpoly", "holed", "circle", "h1", "h2", "c1", "c2", "speed", "age", "name", "info",
    # every command name
    "SET", "GET", "PING", "DEL", "FSET", "FGET", "FEXISTS", "EXISTS", "SCAN", "SEARCH", "NEARBY", "WITHIN",
    "INTERSECTS", "TEST", "PDEL", "DROP", "FLUSHDB", "RENAME", "RENAMENX", "KEYS", "TYPE", "BOUNDS", "STATS",
    "EXPIRE", "PERSIST", "TTL", "JSET", "JGET", "JDEL", "SETHOOK", "SETCHAN", "DELHOOK", "DELCHAN",
    "PDELHOOK", "PDELCHAN", "HOOKS", "CHANS", "ECHO", "OUTPUT", "AUTH", "HEALTHZ", "SERVER", "INFO", "ROLE",
    "CONFIG", "READONLY", "GC", "AOFSHRINK", "CLIENT", "AOFMD5", "AOF", "FOLLOW", "REPLCONF", "TIMEOUT",
    # SET / GET
    "POINT", "OBJECT", "BOUNDS", "HASH", "STRING", "FIELD", "EX", "NX", "XX", "RETURN", "WITHFIELDS", "ERRON404",
    # search options and outputs
    "CURSOR", "LIMIT", "MATCH", "WHERE", "WHEREIN", "WHEREEVAL", "NOFIELDS", "DISTANCE", "SPARSE", "BUFFER",
    "CLIP", "CLIPBY", "FENCE", "DETECT", "COMMANDS", "NODWELL", "ASC", "DESC", "COUNT", "IDS", "OBJECTS",
    "POINTS", "HASHES", "ROAM", "SCAN",
    # areas
    "CIRCLE", "QUADKEY", "TILE", "GET", "SECTOR", "AND", "OR", "NOT", "(", ")", "WITHIN", "INTERSECTS",
    # WHERE
    ">", ">=", "<", "<=", "==", "!=", "(1", "+inf", "-inf", "&&", "||", "===", "=~", "??", "?.", ".match('",
    "properties.", "this", "id", "type", "'", "true", "false", "null", "undefined", "NaN", "Infinity",
    # JSON paths
    "RAW", "STR", "a.b", "arr.-1", ":0", "#", ".#", "#(", ")#", "==\"", "%\"", "|", "@reverse", "@ugly",
    "@pretty", "@this", "@valid", "@flatten", "@join", "@keys", "@values", "@tostr", "@fromstr", "@group",
    "@dig", ":{\"deep\":true}", "..", "\\.", "*", "?", "{", "}", "[", "]", "friends.#.first",
    "children|@reverse", "d.d.d.d.d.d.d.d",
    # hooks
    "SETHOOK", "META", "http://", "https://", "redis://", "kafka://", "amqp://", "amqps://", "mqtt://",
    "sqs://", "nats://", "grpc://", "disque://", "pubsub://", "local://", "cf-queue://", "Endpoint=sb://",
    "inside", "outside", "enter", "exit", "cross", "set,del", "?qos=1", ":6379", "127.0.0.1",
    # replication
    "listening-port", "ip-address", "9851", "no", "one",
    # server / connection
    "JSON", "RESP", "SET", "REWRITE", "requirepass", "maxmemory", "protected-mode", "keepalive", "autogc",
    "appendfsync", "always", "leaderauth", "replica-priority", "LIST", "KILL", "ID", "ADDR", "SETNAME",
    "GETNAME", "EXT", "yes", "all", "replication", "server", "stats", "clients", "memory", "persistence",
    "keyspace", "cpu",
    # numbers
    "-1", "0", "0.5", "1.5", "1e400", "-inf", "NaN", "18446744073709551615", "9223372036854775807",
    "-9223372036854775808", "1e-320", "33", "-112", "89.99", "180", "-180", "90", "-90", "5000",
    # GeoJSON
    '{"type":"Point","coordinates":[1,2]}', '"type":"', '"coordinates":', "Polygon", "MultiPolygon",
    "LineString", "MultiPoint", "MultiLineString", "GeometryCollection", "Feature", "FeatureCollection",
    '"properties":', '"geometry":', '"features":', '"geometries":', '"radius":', '"Circle"', "9q8yy", "9tbnt",
]


def encode_seed(flags, cmds):
    lines = [b"\x00".join(a.encode() for a in c) for c in cmds]
    return bytes([flags]) + b"\n".join(lines)


def dict_entry(word):
    out = []
    for b in word.encode():
        if b in (0x22, 0x5C) or b < 0x20 or b > 0x7E:
            out.append("\\x%02x" % b)
        else:
            out.append(chr(b))
    return '"' + "".join(out) + '"'


def main():
    os.makedirs(SEEDS, exist_ok=True)
    written = 0
    for name, (flags, cmds) in SEEDS_BY_NAME.items():
        # The target reads at most MAX_LINES lines: longer lists are split.
        for part in range(0, len(cmds), MAX_LINES):
            file = name if part == 0 else "%s_%d" % (name, part // MAX_LINES + 1)
            with open(os.path.join(SEEDS, file), "wb") as f:
                f.write(encode_seed(flags, cmds[part : part + MAX_LINES]))
            written += 1

    words = list(DICT_WORDS)
    names = set()
    for path in sorted(os.listdir(CONFORMANCE)):
        if not path.endswith(".jsonl"):
            continue
        group = path[: -len(".jsonl")]
        for line in open(os.path.join(CONFORMANCE, path), encoding="utf-8"):
            case = json.loads(line)
            steps = [s["cmd"] for s in case["steps"] if "cmd" in s]
            steps = [s for s in steps if not any("\n" in a or "\x00" in a for a in s)]
            if not steps:
                continue
            name = "conf-%s-%s" % (group, re.sub(r"[^A-Za-z0-9_.-]", "_", case["name"]))
            assert name not in names, name
            names.add(name)
            with open(os.path.join(SEEDS, name), "wb") as f:
                f.write(encode_seed(NOFIX, steps[:MAX_LINES]))
            written += 1
            for s in steps:
                for a in s:
                    if re.fullmatch(r"[A-Za-z][A-Za-z0-9_:-]{1,23}", a):
                        words.append(a)
    seen = set()
    entries = []
    for w in words:
        key = w.lower() if w.isalpha() else w
        if key in seen:
            continue
        seen.add(key)
        entries.append(dict_entry(w))
    with open(DICT, "w") as f:
        f.write("# Written by fuzz/tools/command_args_seeds.py\n")
        f.write("\n".join(entries) + "\n")
    print("%d seeds, %d dictionary entries" % (written, len(entries)), file=sys.stderr)


if __name__ == "__main__":
    main()
