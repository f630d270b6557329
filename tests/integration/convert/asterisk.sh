#!/bin/bash
# OPTIONS * (asterisk-form request target, RFC 9112 3.2.4) through the whole
# chain: curl sends it through aiotest-capture --reverse to a python3 server
# that logs its request lines; the recording converts (the converter refused
# its own OPTIONS * before: "url: expected a path starting with /"), the
# scenario says url "*", and the replay sends "OPTIONS * HTTP/1.1" to a fresh
# server, beside the recorded GET, with no failure. A "*" with another method
# stays refused by the scenario's validation.
. "$AIOTEST_SRC/tests/integration/lib.sh"
for b in "$T_CAPTURE" "$T_REPLAY"; do
    [ -x "$b" ] || t_skip "$(basename "$b") is not built yet"
done
t_need curl /usr/bin/python3

# server LOG: a python3 HTTP/1.1 server that writes each request line to LOG; sets SRV_PORT, SRV_PID.
server() {
    SRV_PORT=$(t_port)
    t_bg "server-$SRV_PORT" /usr/bin/python3 -c '
import http.server, sys
log = open(sys.argv[2], "a", buffering=1)
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def answer(self, code, headers):
        log.write(self.requestline + "\n")
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def do_OPTIONS(self):
        self.answer(200 if self.path == "*" else 404, [("Allow", "GET, OPTIONS")])
    def do_GET(self):
        self.answer(200, [])
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
' "$SRV_PORT" "$1"
    SRV_PID=$T_LAST_PID
    t_wait_port "$SRV_PORT"
}

# ---- record
server "$T_DIR/rec-server.log"
CP=$(t_port)
t_bg capture "$T_CAPTURE" --reverse "http://127.0.0.1:$SRV_PORT" --proxy "127.0.0.1:$CP" -o "$T_DIR/rec.mp"
CAPTURE_PID=$T_LAST_PID
t_wait_port "$CP"
code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -X OPTIONS --request-target '*' "http://127.0.0.1:$CP/") ||
    t_fail "OPTIONS * through the capture"
t_eq "OPTIONS * through the capture" 200 "$code"
sleep 0.2
curl -sS -f --max-time 10 -o /dev/null "http://127.0.0.1:$CP/page" || t_fail "GET /page through the capture"
kill "$CAPTURE_PID"
wait "$CAPTURE_PID" 2>/dev/null
kill "$SRV_PID"
grep -qx 'OPTIONS \* HTTP/1.1' "$T_DIR/rec-server.log" || t_fail "the server did not see OPTIONS *: $(cat "$T_DIR/rec-server.log")"
"$T_CONVERT" --dump "$T_DIR/rec.mp" | grep -q '"target": "\*"' || t_fail "the recording does not hold target *"

# ---- convert: accepted, url "*", method OPTIONS
"$T_CONVERT" "$T_DIR/rec.mp" -o "$T_DIR/scn.mp" 2>"$T_DIR/convert.log" ||
    t_fail "convert refused the recording: $(cat "$T_DIR/convert.log")"
"$T_CONVERT" --dump "$T_DIR/scn.mp" >"$T_DIR/scn.json"
/usr/bin/python3 - "$T_DIR/scn.json" <<'PY' || t_fail "the scenario does not hold OPTIONS * and GET /page: $(cat "$T_DIR/scn.json")"
import json, sys
d = json.load(open(sys.argv[1]))
reqs = []
def walk(steps):
    for s in steps:
        reqs.extend((r["method"], r["url"]) for r in s.get("requests", [s] if "method" in s else []))
for c in d["classes"]:
    for sec in ("on_start", "tasks", "on_stop"):
        walk(c.get(sec, []))
assert ("OPTIONS", "*") in reqs and ("GET", "/page") in reqs, reqs
PY
t_log "ok: converted to url \"*\""

# ---- replay: the fresh server sees OPTIONS * and GET /page, no failure
server "$T_DIR/replay-server.log"
"$T_REPLAY" "$T_DIR/scn.mp" --host "http://127.0.0.1:$SRV_PORT" -u 1 --iterations 1 --think-scale 0 --timeout 10s \
    --report "$T_DIR/run.json" -q >"$T_DIR/replay.out" 2>&1 || t_fail "replay exit $?: $(tail -3 "$T_DIR/replay.out")"
kill "$SRV_PID"
t_eq "OPTIONS * replayed" 1 "$(grep -cx 'OPTIONS \* HTTP/1.1' "$T_DIR/replay-server.log")"
t_eq "GET /page replayed" 1 "$(grep -cx 'GET /page HTTP/1.1' "$T_DIR/replay-server.log")"
t_eq "replay failures" 0 "$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["total"]["failures"])' "$T_DIR/run.json")"

# ---- timed replay of the recording itself sends it too
server "$T_DIR/timed-server.log"
"$T_REPLAY" "$T_DIR/rec.mp" --timed --host "http://127.0.0.1:$SRV_PORT" --timeout 10s \
    --report "$T_DIR/timed.json" -q >"$T_DIR/timed.out" 2>&1 || t_fail "timed replay exit $?: $(tail -3 "$T_DIR/timed.out")"
kill "$SRV_PID"
t_eq "OPTIONS * in the timed replay" 1 "$(grep -cx 'OPTIONS \* HTTP/1.1' "$T_DIR/timed-server.log")"

# ---- "*" is the asterisk-form of OPTIONS only
sed 's/"method": "OPTIONS"/"method": "GET"/' "$T_DIR/scn.json" >"$T_DIR/bad.json"
rc=0
"$T_CONVERT" --from-json "$T_DIR/bad.json" -o "$T_DIR/bad.mp" 2>"$T_DIR/bad.log" || rc=$?
t_eq "url \"*\" with GET refused" 2 "$rc"
grep -q 'url' "$T_DIR/bad.log" || t_fail "the refusal does not name the url: $(cat "$T_DIR/bad.log")"
t_log "ok: $(cat "$T_DIR/bad.log")"
