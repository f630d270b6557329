"""Checks a recording's JSON view (aiotest-convert --dump) of wsclient.py's
session on PATH: the 101, then every message both ways in order, byte-exact,
with times that grow from the handshake, and the closes with code 1000.
usage: wsrec.py DUMP.json PATH LABEL"""
import base64
import json
import sys

doc = json.load(open(sys.argv[1]))
xs = [x for x in doc["exchanges"] if x["target"] == sys.argv[2]]
assert len(xs) == 1, ("one exchange for", sys.argv[2], [x["target"] for x in doc["exchanges"]])
x = xs[0]
assert x["status"] == 101, x["status"]
assert "tunnel" not in x.get("flags", []), x.get("flags")


def raw(v):
    if isinstance(v, dict):
        return base64.b64decode(v["base64"])
    return v.encode("utf-8")


want = [("up", 1, b"hello"), ("down", 1, b"hello"),
        ("up", 2, b"\x00\xff\x80\x7f binary"), ("down", 2, b"\x00\xff\x80\x7f binary"),
        ("up", 1, b"x" * 70000), ("down", 1, b"x" * 70000),
        ("up", 8, b"done"), ("down", 8, b"done")]
got = [(m["dir"], m["op"], raw(m.get("data", ""))) for m in x.get("ws", [])]
assert len(got) == len(want), ("messages", [(d, o, len(p)) for d, o, p in got])
for g, w in zip(got, want):
    assert g == w, ("message", g[:2], g[2][:20], "want", w[:2], w[2][:20])
closes = [m.get("close_code") for m in x["ws"] if m["op"] == 8]
assert closes == [1000, 1000], closes
ts = [m.get("t_us", 0) for m in x["ws"]]
assert ts == sorted(ts) and ts[-1] > 0, ts
print(sys.argv[3], "ok:", len(got), "messages byte-exact, closes", closes)
