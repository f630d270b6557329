#!/bin/bash
# Issue 20: HTTP/1.1 request pipelining (--pipeline D).
# 1. nginx logs `$pipe` ("p": the request was read from the bytes of the one
#    before it). A parallel step of 8 GETs with --pipeline 8 is one batch on
#    one connection: 7 of every 8 requests are pipelined, the report counts
#    the same 7 per iteration, every request answered, no failure. With
#    --pipeline 1 (the default) nginx sees no "p" and the report says nothing
#    was pipelined.
# 2. A python3 server that answers two responses of a pipeline and closes:
#    the requests behind are resent (retryable), the run still ends with every
#    request answered, and the report counts the resends.
# 3. A step that times out mid-pipeline (a server silent after two answers):
#    every request counted once, 2 ok and 6 timeouts.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
[ -x "$T_REPLAY" ] || t_skip "aiotest-replay is not built"
t_need nginx python3

ITER=5
mkdir -p "$T_DIR/doc" "$T_DIR/nginx-tmp"
for i in 1 2 3 4 5 6 7 8; do echo "item $i" >"$T_DIR/doc/i$i.txt"; done
HP=$(t_port)
cat >"$T_DIR/nginx.conf" <<NGX
daemon off;
master_process off;
worker_processes 1;
pid $T_DIR/nginx.pid;
error_log $T_DIR/nginx-error.log warn;
events { worker_connections 1024; }
http {
    client_body_temp_path $T_DIR/nginx-tmp/body;
    proxy_temp_path $T_DIR/nginx-tmp/proxy;
    fastcgi_temp_path $T_DIR/nginx-tmp/fastcgi;
    uwsgi_temp_path $T_DIR/nginx-tmp/uwsgi;
    scgi_temp_path $T_DIR/nginx-tmp/scgi;
    log_format pipe '\$connection \$connection_requests \$pipe \$request_uri \$status';
    keepalive_requests 10000;
    server {
        listen 127.0.0.1:$HP;
        access_log $T_DIR/access.log pipe;
        root $T_DIR/doc;
    }
}
NGX
t_bg nginx nginx -c "$T_DIR/nginx.conf" -e "$T_DIR/nginx-error.log"
t_wait_port "$HP"

# scenario: one parallel step of 8 GETs of the same origin
scenario() {
    python3 - "$1" "$2" <<'PY'
import json, sys
reqs = [{"name": "GET /i%d" % i, "method": "GET", "url": "/i%d.txt" % i,
         "check": {"status": [200], "body_contains": ["item %d" % i]}} for i in range(1, 9)]
json.dump({"format": "aiotest-scenario", "version": [1, 0],
           "hosts": [{"base_url": sys.argv[1]}],
           "classes": [{"name": "page", "weight": 1, "wait": {"kind": "none"},
                        "tasks": [{"parallel": True, "requests": reqs}]}]},
          open(sys.argv[2], "w"))
PY
}
scenario "http://127.0.0.1:$HP" "$T_DIR/s.json"

# --- 1a: --pipeline 8
: >"$T_DIR/access.log"
r_replay "$T_DIR/s.json" -u 1 --iterations $ITER --pipeline 8 --timeout 10s --report "$T_DIR/r8.json"
t_eq "pipeline 8: exit" 0 "$R_RC"
total=$((8 * ITER))
t_eq "pipeline 8: requests, failures" "$total 0" \
    "$(r_json "$T_DIR/r8.json" '"%d %d" % (r["total"]["count"], r["total"]["failures"])')"
t_eq "pipeline 8: nginx served every request" "$total" "$(grep -c ' 200$' "$T_DIR/access.log")"
p=$(awk '$3 == "p"' "$T_DIR/access.log" | wc -l)
t_eq "pipeline 8: nginx saw 7 of each 8 pipelined" $((7 * ITER)) "$p"
t_eq "pipeline 8: one connection" 1 "$(awk '{print $1}' "$T_DIR/access.log" | sort -u | wc -l)"
t_eq "pipeline 8: report pipeline" "{'depth': 8, 'pipelined': $((7 * ITER)), 'resent': 0}" \
    "$(r_json "$T_DIR/r8.json" 'r["pipeline"]')"
grep -q "^Pipelining (--pipeline 8): $((7 * ITER)) request(s) sent behind another" "$T_DIR/replay.out" ||
    { cat "$T_DIR/replay.out" >&2; t_fail "pipeline 8: no Pipelining line in the summary"; }

# --- 1b: --pipeline 1 (default): no pipelining, the step spreads over 6 connections
: >"$T_DIR/access.log"
r_replay "$T_DIR/s.json" -u 1 --iterations $ITER --pipeline 1 --timeout 10s --report "$T_DIR/r1.json"
t_eq "pipeline 1: exit" 0 "$R_RC"
t_eq "pipeline 1: requests, failures" "$total 0" \
    "$(r_json "$T_DIR/r1.json" '"%d %d" % (r["total"]["count"], r["total"]["failures"])')"
t_eq "pipeline 1: nginx saw no pipelined request" 0 "$(awk '$3 == "p"' "$T_DIR/access.log" | wc -l)"
t_eq "pipeline 1: nothing in the report" "None" "$(r_json "$T_DIR/r1.json" 'r.get("pipeline")')"
t_eq "pipeline 1: six connections" 6 "$(awk '{print $1}' "$T_DIR/access.log" | sort -u | wc -l)"

# --- 2: a server that closes its first connection after the 2nd response
# (the rest of that pipeline unanswered) and serves later ones normally
SP=$(t_port)
cat >"$T_DIR/closer.py" <<'PY'
import socket, sys, threading
port = int(sys.argv[1])
log = open(sys.argv[2], "a", buffering=1)
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(64)

lock = threading.Lock()
state = {"first": True}

def serve(c):
    buf, answered, limit = b"", 0, None
    try:
        while limit is None or answered < limit:
            d = c.recv(65536)
            if not d:
                return
            if not buf and answered == 0:
                with lock:  # the first connection that sends a request (not a port probe)
                    if state["first"]:
                        state["first"], limit = False, 2
            buf += d
            out = b""
            while b"\r\n\r\n" in buf and (limit is None or answered < limit):
                head, buf = buf.split(b"\r\n\r\n", 1)
                path = head.split(b" ")[1]
                body = b"item " + path[2:3]
                out += b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
                answered += 1
                log.write("%d %s\n" % (limit or 0, path.decode()))
            c.sendall(out)
    finally:
        c.close()  # the first connection: after two answers, whatever else was sent

while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
t_bg closer /usr/bin/python3 "$T_DIR/closer.py" "$SP" "$T_DIR/closer.log"
t_wait_port "$SP"
scenario "http://127.0.0.1:$SP" "$T_DIR/s2.json"
r_replay "$T_DIR/s2.json" -u 1 --iterations 1 --pipeline 8 --max-conns-per-host 1 --timeout 10s \
    --report "$T_DIR/r2.json"
# 8 requests in one batch: 2 answered, then the close; the 6 behind got no
# byte and are resent on a new connection, where all are answered.
t_eq "closer: exit" 0 "$R_RC"
t_eq "closer: requests, failures" "8 0" \
    "$(r_json "$T_DIR/r2.json" '"%d %d" % (r["total"]["count"], r["total"]["failures"])')"
t_eq "closer: answers on the first connection, on the second" "2 6" \
    "$(grep -c '^2 ' "$T_DIR/closer.log") $(grep -c '^0 ' "$T_DIR/closer.log")"
t_eq "closer: resent" 6 "$(r_json "$T_DIR/r2.json" 'r["pipeline"]["resent"]')"
grep -q ", 6 resent after a pipeline broke" "$T_DIR/replay.out" ||
    { cat "$T_DIR/replay.out" >&2; t_fail "closer: the summary does not count the resends"; }
# --- 3: a parallel step that times out mid-pipeline: a server that answers two
# requests of each connection and then stays silent. --timeout ends the step;
# every request is counted once (2 ok, 6 timeouts), nothing hangs or crashes.
QP=$(t_port)
cat >"$T_DIR/silent.py" <<'PY'
import socket, sys, threading, time
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1])))
srv.listen(64)
def serve(c):
    buf, answered = b"", 0
    while True:
        d = c.recv(65536)
        if not d:
            return
        buf += d
        while b"\r\n\r\n" in buf and answered < 2:
            head, buf = buf.split(b"\r\n\r\n", 1)
            body = b"item " + head.split(b" ")[1][2:3]
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            answered += 1
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
t_bg silent /usr/bin/python3 "$T_DIR/silent.py" "$QP"
t_wait_port "$QP"
scenario "http://127.0.0.1:$QP" "$T_DIR/s3.json"
r_replay "$T_DIR/s3.json" -u 1 --iterations 1 --pipeline 8 --max-conns-per-host 1 --timeout 2s \
    --report "$T_DIR/r3.json"
t_eq "silent: requests, failures, timeouts" "8 6 6" \
    "$(r_json "$T_DIR/r3.json" '"%d %d %d" % (r["total"]["count"], r["total"]["failures"], r["total"]["fail"].get("timeout", 0))')"

t_log "ok: nginx saw $p pipelined of $total; a broken pipeline resent 6 and answered all"
