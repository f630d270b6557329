"""Checks a recording's JSON view (aiotest-convert --dump) of grpcclient.py's
three calls: te: trailers kept, the response trailers with grpc-status 0 for
Unary and Stream, the length-prefixed messages as bytes, and grpc-status 14
(UNAVAILABLE) for Down, in the trailers or a trailers-only response.
usage: grpcrec.py DUMP.json LABEL"""
import json
import sys

text = open(sys.argv[1]).read()
dec = json.JSONDecoder()
objs, i = [], 0
while i < len(text):
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    o, i = dec.raw_decode(text, i)
    objs.append(o)
xs = []
for o in objs:
    if isinstance(o, dict) and "exchanges" in o:
        xs += o["exchanges"]
    elif isinstance(o, dict) and "method" in o:
        xs.append(o)
by = {x["target"]: x for x in xs}


def hv(hs, n):
    return [v for k, v in hs if k.lower() == n]


u = by["/aiotest.Echo/Unary"]
assert u["status"] == 200, u
assert hv(u["req_headers"], "te") == ["trailers"], ("te recorded", u["req_headers"])
assert hv(u["req_headers"], "content-type") == ["application/grpc"], u["req_headers"]
assert u["req_body"] == "\u0000\u0000\u0000\u0000\u0002hi", u.get("req_body")
assert hv(u.get("resp_trailers", []), "grpc-status") == ["0"], ("unary trailers", u.get("resp_trailers"))
assert u["resp_body"] == "\u0000\u0000\u0000\u0000\u0007echo:hi", u["resp_body"]
s = by["/aiotest.Echo/Stream"]
assert hv(s.get("resp_trailers", []), "grpc-status") == ["0"], s.get("resp_trailers")
assert s["resp_body"].count("part") == 3, s["resp_body"]
d = by["/aiotest.Echo/Down"]
st = hv(d.get("resp_trailers", []), "grpc-status") + hv(d["resp_headers"], "grpc-status")
assert st == ["14"], ("Down status", d)
print(sys.argv[2], "ok:", len(xs), "exchanges, trailers and grpc-status recorded")
