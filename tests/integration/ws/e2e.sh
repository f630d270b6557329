# WebSocket end to end (issue 15): a real python3-websockets chat server and
# client. The client's session goes through aiotest-capture --proxy (CONNECT
# and TLS interception: wss) and the recording holds every message both ways,
# byte for byte; aiotest-convert makes it a ws step; aiotest-replay runs it
# with 5 users over wss and the server counts, per connection, the messages
# the recorded session sent, with 0 failures; the session id the server gives
# each connection comes back in that connection's "say" (correlated by the
# converter: an extractor on the join, a template in the say). Then the server is killed in the
# middle of a run: the sessions it cut count as ws_closed, the reconnects that
# follow as ws_handshake, the run completes and its gate fails (exit 1).
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
PY=/usr/bin/python3
$PY -c 'import websockets' 2>/dev/null || t_skip "python3-websockets is not installed"
t_need openssl
D="$AIOTEST_SRC/tests/integration/ws"
t_selfsigned ws
SPORT=$(t_port)
t_bg chat $PY "$D/chatserver.py" "$SPORT" "$T_DIR/counts" "$T_DIR/ws.crt" "$T_DIR/ws.key"
SRV=$T_LAST_PID
t_wait_port "$SPORT" 20
URL="wss://localhost:$SPORT/chat?room=lobby"

# ---- record through the forward proxy
CA="$T_DIR/ca"
"$T_CAPTURE" --init-ca "$CA" >/dev/null || t_fail "--init-ca"
CPORT=$(t_port)
t_bg capture "$T_CAPTURE" --proxy ":$CPORT" -o "$T_DIR/rec.mp" --ca "$CA" --upstream-ca "$T_DIR/ws.crt" \
    --connect-ports "$SPORT"
CAP=$T_LAST_PID
t_wait_port "$CPORT"
t_eq "the client's session through the proxy" ok \
    "$(timeout 60 $PY "$D/chatclient.py" "$URL" "http://127.0.0.1:$CPORT" "$CA/ca.pem" "$T_DIR/client.log")"
kill -INT "$CAP"; wait "$CAP" || t_fail "capture exit status"
"$T_CONVERT" --dump "$T_DIR/rec.mp" >"$T_DIR/rec.json" || t_fail "--dump"
t_check "the recording holds every data message both ways, byte-exact" $PY - "$T_DIR/rec.json" "$T_DIR/client.log" <<'PY'
import base64, json, sys
x = [x for x in json.load(open(sys.argv[1]))["exchanges"] if x["status"] == 101]
assert len(x) == 1, len(x)
def raw(v):
    return base64.b64decode(v["base64"]) if isinstance(v, dict) else v.encode()
got = [(m["dir"], "text" if m["op"] == 1 else "binary", raw(m.get("data", "")).hex())
       for m in x[0]["ws"] if m["op"] in (1, 2)]
want = [tuple(l.split()) for l in open(sys.argv[2])]
assert got == want, (got, want)
PY

# ---- convert
: >"$T_DIR/counts"
"$T_CONVERT" "$T_DIR/rec.mp" -o "$T_DIR/scn.mp" 2>"$T_DIR/convert.log" || t_fail "convert: $(cat "$T_DIR/convert.log")"
r_clean "$T_DIR/convert.log"
t_check "the summary counts the session" grep -q '1 WebSocket session(s) -> ws steps, 3 message(s)' "$T_DIR/convert.log"
t_check "the session id is correlated" grep -q ' 1 correlated' "$T_DIR/convert.log"
"$T_CONVERT" --dump "$T_DIR/scn.mp" >"$T_DIR/scn.json" || t_fail "--dump scenario"
t_eq "one ws step: the URL, the subprotocol, the awaits (presence + joined, said, the echo)" \
    "$URL chat.v1 2,1,1" "$($PY -c '
import json, sys
w = json.load(open(sys.argv[1]))["classes"][0]["tasks"][0]["ws"]
print(w["url"], w["subprotocol"], ",".join(str(m["await"]["count"]) for m in w["messages"]))' "$T_DIR/scn.json")"

# ---- replay: 5 users, 2 iterations each
r_replay "$T_DIR/scn.mp" -u 5 --iterations 2 --ca "$T_DIR/ws.crt" --timeout 10s --report "$T_DIR/r.json"
t_eq "replay exit status" 0 "$R_RC"
t_eq "the server saw 10 sessions, each with join, say (with its own sid) and the binary message" "10 join say binary" \
    "$($PY -c '
import collections, sys
c = collections.defaultdict(list)
for l in open(sys.argv[1]):
    k, op, n = l.split()
    c[k].append(op)
kinds = set(" ".join(v) for v in c.values())
print(len(c), *kinds)' "$T_DIR/counts")"
t_eq "report: 10 connects and 10 of each message, 0 failures" "10 10 10 10 0" \
    "$(r_json "$T_DIR/r.json" '" ".join(str(x) for x in [e["count"] for e in r["entries"] if e["method"] == "WS"] + [sum(e.get("failures", 0) for e in r["entries"])])')"

# ---- timed replay of the recording itself: the session is a ws step, due at its offset
: >"$T_DIR/counts"
r_replay "$T_DIR/rec.mp" --timed --speed 2 --ca "$T_DIR/ws.crt" --timeout 10s --report "$T_DIR/rt.json"
t_eq "timed replay exit status" 0 "$R_RC"
t_eq "timed: the server saw the session with join, say (its own sid) and the binary message" \
    "1 join say binary" "$($PY -c '
import collections, sys
c = collections.defaultdict(list)
for l in open(sys.argv[1]):
    k, op, n = l.split()
    c[k].append(op)
print(len(c), *set(" ".join(v) for v in c.values()))' "$T_DIR/counts")"
t_eq "timed: report: 1 connect and 1 of each message, 0 failures, 1 step on schedule" "1 1 1 1 0 1" \
    "$(r_json "$T_DIR/rt.json" '" ".join(str(x) for x in [e["count"] for e in r["entries"] if e["method"] == "WS"] + [sum(e.get("failures", 0) for e in r["entries"]), r["schedule"]["steps"]])')"

# ---- the server dies mid-run
: >"$T_DIR/counts"
t_bg replay2 "$T_REPLAY" "$T_DIR/scn.mp" -u 5 --duration 5s --ca "$T_DIR/ws.crt" --timeout 3s \
    --report "$T_DIR/r2.json" --fail-on 'errors<1%'
RP=$T_LAST_PID
# Every user joined: each session now waits out its recorded 0.3 s before "say".
for _ in $(seq 400); do [ "$(grep -c join "$T_DIR/counts")" -ge 5 ] && break; sleep 0.02; done
[ "$(grep -c join "$T_DIR/counts")" -ge 5 ] || t_fail "the replay did not start sessions: $(cat "$T_DIR/replay2.log")"
kill -9 "$SRV"
rc=0; wait "$RP" || rc=$?
r_clean "$T_DIR/replay2.log"
t_eq "the run completes and its gate fails" 1 "$rc"
t_check "the summary was printed" grep -q 'Aggregated' "$T_DIR/replay2.log"
t_check "sessions cut by the server count as ws_closed" \
    test "$(r_json "$T_DIR/r2.json" 'sum(e.get("fail", {}).get("ws_closed", 0) for e in r["entries"])')" -ge 1
t_check "reconnects to the dead server count as ws_handshake" \
    test "$(r_json "$T_DIR/r2.json" 'sum(e.get("fail", {}).get("ws_handshake", 0) for e in r["entries"] if e["name"].endswith(" connect"))')" -ge 1
