# Time values in requests stay current: a recording made 3 days ago that asks
# for "the last hour" (fractional-second start/end in the query, seconds in a
# form body, milliseconds in a JSON body) is converted into time templates with
# the offsets kept, and the replay sends values near now, the same hour apart.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || t_skip "$PY is missing"

PORT=$(t_port)
# Logs "PATH BODY" per request, one JSON line each.
t_bg timesrv "$PY" -c '
import http.server, json, sys
log = open(sys.argv[2], "a", buffering=1)
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def handle_one(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode() if n else ""
        log.write(json.dumps({"path": self.path, "body": body}) + "\n")
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers()
        self.wfile.write(b"ok")
    do_GET = do_POST = handle_one
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
' "$PORT" "$T_DIR/wire.log"
t_wait_port "$PORT"

# The recording, written as its JSON view: recorded 3 days ago at T.
"$PY" - "$PORT" "$T_DIR/rec.json" <<'PY'
import json, sys, time
port, out = int(sys.argv[1]), sys.argv[2]
T = int(time.time()) - 3 * 86400
us = T * 1000000 + 500000
def x(i, method, target, body=None, ctype=None):
    e = {"client": "127.0.0.1:40000", "conn": 1, "t_start_us": us + i * 1000,
         "t_first_byte_us": us + i * 1000 + 300, "t_end_us": us + i * 1000 + 400,
         "scheme": "http", "authority": "127.0.0.1:%d" % port, "method": method, "target": target,
         "http_version": "HTTP/1.1", "req_headers": [["Host", "127.0.0.1:%d" % port]],
         "status": 200, "resp_headers": [["Content-Type", "text/plain"]], "resp_body": "ok"}
    if body is not None:
        e["req_body"] = body
        e["req_headers"].append(["Content-Type", ctype])
    return e
rec = {"header": {"format": "aiotest-recording", "version": [1, 0], "created_us": us,
                  "source": "proxy", "tool": "test"},
       "exchanges": [
           x(0, "GET", "/api/query?start=%d.123&end=%d.456&step=15" % (T - 3600, T)),
           x(1, "POST", "/api/form", "from=%d&to=%d&n=5" % (T - 600, T), "application/x-www-form-urlencoded"),
           x(2, "POST", "/api/event", json.dumps({"at": T * 1000 + 250, "later": (T + 300) * 1000}),
             "application/json"),
           x(3, "GET", "/api/old?d=%d" % (T - 5 * 86400))]}
json.dump(rec, open(out, "w"))
PY
timeout 60 "$T_CONVERT" --from-json "$T_DIR/rec.json" -o "$T_DIR/rec.mp" || t_fail "recording view refused"
timeout 60 "$T_CONVERT" "$T_DIR/rec.mp" --json -o "$T_DIR/scn.json" 2>"$T_DIR/convert.err" || t_fail "convert failed"
t_check "convert: says how many timestamps ($(grep timestamp "$T_DIR/convert.err"))" \
    grep -q "6 timestamp(s) near the request time" "$T_DIR/convert.err"
t_check "convert: the query's hour kept" grep -q 'start={{now_s.3 -3600}}&end={{now_s.3}}&step=15' "$T_DIR/scn.json"
t_check "convert: the form's 10 minutes kept" grep -q 'from={{now_s -600}}&to={{now_s}}&n=5' "$T_DIR/scn.json"
t_check "convert: ms in JSON" grep -q '{{now_ms}}' "$T_DIR/scn.json"
t_check "convert: ms offset in JSON" grep -q '{{now_ms +300000}}' "$T_DIR/scn.json"

before=$(date +%s.%N)
r_replay "$T_DIR/scn.json" -u 1 --iterations 2 -q --report "$T_DIR/run.json"
after=$(date +%s.%N)
t_eq "replay: exit status" 0 "$R_RC"
t_eq "replay: no failures" 0 "$(r_json "$T_DIR/run.json" 'r["total"]["failures"]')"
"$PY" - "$T_DIR/wire.log" "$before" "$after" <<'PY' || t_fail "values on the wire are not near now"
import json, sys, urllib.parse
lines = [json.loads(l) for l in open(sys.argv[1])]
lo, hi = float(sys.argv[2]) - 1, float(sys.argv[3]) + 1
seen = 0
for l in lines:
    p = urllib.parse.urlsplit(l["path"])
    q = dict(urllib.parse.parse_qsl(p.query))
    if p.path == "/api/query":
        s, e = q["start"], q["end"]
        assert len(s.split(".")[1]) == 3 and len(e.split(".")[1]) == 3, (s, e)
        s, e = float(s), float(e)
        assert lo <= e <= hi, ("end", e, lo, hi)
        assert abs((e - s) - 3600) < 0.0015, ("hour", e - s)
        seen += 1
    elif p.path == "/api/form":
        f = dict(urllib.parse.parse_qsl(l["body"]))
        assert lo <= int(f["to"]) <= hi and int(f["to"]) - int(f["from"]) == 600, f
        seen += 1
    elif p.path == "/api/event":
        b = json.loads(l["body"])
        assert lo * 1000 <= b["at"] <= hi * 1000 and b["later"] - b["at"] == 300000, b
        seen += 1
    elif p.path == "/api/old":
        assert q["d"] != "" and int(q["d"]) < lo - 4 * 86400, ("a 5-day-old date must stay", q)
        seen += 1
assert seen == 8, ("requests seen", seen, lines)
print("checked", seen, "requests")
PY
t_log "ok: values near now, offsets kept, the old date kept"
