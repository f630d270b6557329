#!/bin/bash
# Response bytes that no request waits for (HTTP/1.1) are counted and named,
# never dropped in silence. A python3 server on loopback answers:
#   /tail   its response and, in the same write, a second "HTTP/1.1 200 OK"
#           response nobody asked for (bytes after the last response in flight);
#   /idle   its response, then 0.1 s later that same unsolicited response,
#           while the user thinks for 2 s (bytes on an idle connection);
#   /plain  its response only.
# Then the same after the last answer of a pipelined batch (--pipeline 2).
# One user, 2 iterations of /tail, /idle (think 2 s), /plain: every request is
# answered and counted once with its own bytes only; the report's
# "unsolicited" says 4 events and 4 x the extra response's bytes, the summary
# prints the same line, and each time the connection was closed (what
# follows on it could not be told from the next answer): the server sees the
# request after /tail and after /idle on a new connection, and /tail reuse
# the connection of the /plain before it.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
[ -x "$T_REPLAY" ] || t_skip "aiotest-replay is not built"
t_need python3 curl

PORT=$(t_port)
cat >"$T_DIR/server.py" <<'PY'
import socket, sys, threading, time
port = int(sys.argv[1])
log = open(sys.argv[2], "a", buffering=1)
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(16)
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
EXTRA = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nextra"
ids = iter(range(1, 1000000))

def serve(c, cid):
    buf = b""
    try:
        while True:
            d = c.recv(65536)
            if not d:
                return
            buf += d
            while b"\r\n\r\n" in buf:
                head, buf = buf.split(b"\r\n\r\n", 1)
                path = head.split(b" ")[1].decode()
                log.write("%d %s\n" % (cid, path))
                if path == "/tail":
                    c.sendall(ANSWER + EXTRA)
                elif path == "/idle":
                    c.sendall(ANSWER)
                    time.sleep(0.1)
                    c.sendall(EXTRA)
                else:
                    c.sendall(ANSWER)
    except OSError:
        pass
    finally:
        c.close()

while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c, next(ids)), daemon=True).start()
PY
: >"$T_DIR/server.log"
t_bg server /usr/bin/python3 "$T_DIR/server.py" "$PORT" "$T_DIR/server.log"
t_wait_port "$PORT"

cat >"$T_DIR/s.json" <<JSON
{"format": "aiotest-scenario", "version": [1, 0],
 "hosts": [{"base_url": "http://127.0.0.1:$PORT"}],
 "classes": [{"name": "u", "weight": 1, "wait": {"kind": "recorded"},
   "tasks": [{"name": "GET /tail", "method": "GET", "url": "/tail"},
             {"requests": [{"name": "GET /idle", "method": "GET", "url": "/idle"}], "think_us": 2000000},
             {"name": "GET /plain", "method": "GET", "url": "/plain"}]}]}
JSON
answer=$(python3 -c 'print(len(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))')
extra=$(python3 -c 'print(len(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nextra"))')

r_replay_scraped "$T_DIR/r.prom" "$T_DIR/r.json" "$T_DIR/s.json" -u 1 --iterations 2 --threads 1 --timeout 10s \
    --html "$T_DIR/r.html"
t_eq "exit" 0 "$R_RC"
t_eq "requests, failures" "6 0" \
    "$(r_json "$T_DIR/r.json" '"%d %d" % (r["total"]["count"], r["total"]["failures"])')"
for e in "GET /tail" "GET /idle" "GET /plain"; do
    t_eq "$e: count" 2 "$(r_entry "$T_DIR/r.json" "GET $e" count)"
    t_eq "$e: bytes received (its own response only)" $((2 * answer)) \
        "$(r_entry "$T_DIR/r.json" "GET $e" bytes_received)"
done
t_eq "report: unsolicited" "{'events': 4, 'bytes': $((4 * extra))}" \
    "$(r_json "$T_DIR/r.json" 'r.get("unsolicited")')"
want="Unsolicited response bytes: 4 time(s) a server sent bytes that no request waited for ($((4 * extra)) bytes, dropped; the connection was closed each time)"
grep -qF "$want" "$T_DIR/replay.out" ||
    { cat "$T_DIR/replay.out" >&2; t_fail "summary: no line '$want'"; }
t_log "ok: the summary names them"
# The HTML report and /metrics say the same (a reader of either alone sees them).
t_eq "html: note" "$want" "$(r_html_note "$T_DIR/r.html" unsolicited)"
t_eq "metrics: events" 4 "$(r_sample "$T_DIR/r.prom" aiotest_unsolicited_events_total)"
t_eq "metrics: bytes" $((4 * extra)) "$(r_sample "$T_DIR/r.prom" aiotest_unsolicited_bytes_total)"
t_eq "metrics: nothing pipelined" 0 "$(r_sample "$T_DIR/r.prom" aiotest_pipelined_requests_total)"
t_log "ok: the HTML report and /metrics name them"

# The server's view: 6 requests; after /tail and after /idle a new connection
# (numbers count accepts, the port probe's too: compared with the line before).
t_eq "server saw every request once" 6 "$(wc -l <"$T_DIR/server.log")"
t_eq "connection of /tail /idle /plain /tail /idle /plain" "new new new same new new" \
    "$(awk '{printf "%s%s", (NR > 1 ? " " : ""), ($1 == prev ? "same" : "new"); prev = $1}' "$T_DIR/server.log")"

# Pipelined (--pipeline 2): a parallel step of /plain and /tail on one
# connection; the stray response after the last answer of each batch is
# counted, both requests answered.
cat >"$T_DIR/pp.json" <<JSON
{"format": "aiotest-scenario", "version": [1, 0],
 "hosts": [{"base_url": "http://127.0.0.1:$PORT"}],
 "classes": [{"name": "u", "weight": 1, "wait": {"kind": "none"},
   "tasks": [{"parallel": true, "requests": [
               {"name": "GET /plain", "method": "GET", "url": "/plain"},
               {"name": "GET /tail", "method": "GET", "url": "/tail"}]}]}]}
JSON
r_replay_scraped "$T_DIR/pp.prom" "$T_DIR/pp.r" "$T_DIR/pp.json" -u 1 --iterations 2 --threads 1 --pipeline 2 \
    --max-conns-per-host 1 --timeout 10s --html "$T_DIR/pp.html"
t_eq "pipelined: exit" 0 "$R_RC"
t_eq "pipelined: requests, failures, pipelined" "4 0 2" \
    "$(r_json "$T_DIR/pp.r" '"%d %d %d" % (r["total"]["count"], r["total"]["failures"], r["pipeline"]["pipelined"])')"
t_eq "pipelined: unsolicited" "{'events': 2, 'bytes': $((2 * extra))}" "$(r_json "$T_DIR/pp.r" 'r.get("unsolicited")')"
t_eq "pipelined: html note" "Pipelining (--pipeline 2): 2 request(s) sent behind another on their HTTP/1.1 connection, 0 resent after a pipeline broke" \
    "$(r_html_note "$T_DIR/pp.html" pipeline)"
t_eq "pipelined: metrics" "2 0 2" "$(r_sample "$T_DIR/pp.prom" aiotest_pipelined_requests_total) $(r_sample "$T_DIR/pp.prom" aiotest_pipeline_resent_total) $(r_sample "$T_DIR/pp.prom" aiotest_unsolicited_events_total)"

# A run without stray bytes says nothing of them, and reports zeros.
cat >"$T_DIR/p.json" <<JSON
{"format": "aiotest-scenario", "version": [1, 0],
 "hosts": [{"base_url": "http://127.0.0.1:$PORT"}],
 "classes": [{"name": "u", "weight": 1, "wait": {"kind": "none"},
   "tasks": [{"name": "GET /plain", "method": "GET", "url": "/plain"}]}]}
JSON
r_replay "$T_DIR/p.json" -u 1 --iterations 3 --threads 1 --timeout 10s --report "$T_DIR/p.json.r" \
    --html "$T_DIR/p.html"
t_eq "plain: exit" 0 "$R_RC"
t_eq "plain: unsolicited" "{'events': 0, 'bytes': 0}" "$(r_json "$T_DIR/p.json.r" 'r.get("unsolicited")')"
if grep -q "Unsolicited" "$T_DIR/replay.out"; then t_fail "plain: the summary names unsolicited bytes"; fi
if grep -q 'id="notes"' "$T_DIR/p.html"; then t_fail "plain: the HTML report has notes"; fi

# --merge adds them up.
r_replay --merge "$T_DIR/r.json" "$T_DIR/r.json" --report "$T_DIR/m.json"
t_eq "merge: exit" 0 "$R_RC"
t_eq "merge: unsolicited" "{'events': 8, 'bytes': $((8 * extra))}" "$(r_json "$T_DIR/m.json" 'r.get("unsolicited")')"

t_log "ok: 4 unsolicited responses counted and named, 6 requests answered"
