# A parallel step of 5 requests to an endpoint delayed by 200 ms: about 200 ms
# per iteration over HTTP/1.1 with the default 6 connections and over h2
# (streams of one connection, through nginx in front of aiotest-target), about
# 1 s with --max-conns-per-host 1. Timed from the report (run length over
# iterations, and the requests' latencies), with generous bounds.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
. "$AIOTEST_SRC/tests/integration/h2/lib-h2.sh"
t_target --delay-ms 200 --threads 8 --quiet
NPORT=$(t_port)
TPORT=$(t_port)
h2_nginx "
    server {
        listen 127.0.0.1:$TPORT ssl;
        ssl_certificate $T_DIR/srv.crt;
        ssl_certificate_key $T_DIR/srv.key;
        access_log $T_DIR/t.log proto;
        location / { proxy_pass $TARGET_URL; }
    }
    server {
        listen 127.0.0.1:$NPORT ssl http2;
        ssl_certificate $T_DIR/srv.crt;
        ssl_certificate_key $T_DIR/srv.key;
        access_log $T_DIR/n.log proto;
        location / { proxy_pass $TARGET_URL; }
    }"
t_wait_port "$NPORT"
t_wait_port "$TPORT"
cat >"$T_DIR/p.json" <<JSON
{"format": "aiotest-scenario", "version": [1, 0],
 "hosts": [{"base_url": "$TARGET_URL"}],
 "classes": [{"name": "burst", "weight": 1, "wait": {"kind": "none"},
   "tasks": [{"parallel": true, "requests": [
       {"method": "GET", "url": "/api/item/1", "check": {"status": [200]}},
       {"method": "GET", "url": "/api/item/2", "check": {"status": [200]}},
       {"method": "GET", "url": "/api/item/3", "check": {"status": [200]}},
       {"method": "GET", "url": "/api/item/4", "check": {"status": [200]}},
       {"method": "GET", "url": "/api/item/5", "check": {"status": [200]}}]}]}]}
JSON
maxlat() { r_json "$1" 'max(e["max_ms"] for e in r["entries"])'; }

r_replay "$T_DIR/p.json" -u 1 --iterations 4 --report "$T_DIR/h1.json"
t_eq "HTTP/1.1: no failure" 0 "$(r_json "$T_DIR/h1.json" 'r["total"]["failures"]')"
t_eq "HTTP/1.1: every request" 20 "$(h2_proto_count "$T_DIR/h1.json" http/1.1)"
t_check "HTTP/1.1, 6 connections: ~200 ms per iteration ($(h2_per_iteration "$T_DIR/h1.json") s)" \
    r_in 0.19 0.45 "$(h2_per_iteration "$T_DIR/h1.json")"
t_check "HTTP/1.1, 6 connections: no request waited for another ($(maxlat "$T_DIR/h1.json") ms)" \
    r_in 195 400 "$(maxlat "$T_DIR/h1.json")"

r_replay "$T_DIR/p.json" -u 1 --iterations 1 --max-conns-per-host 1 --report "$T_DIR/one.json"
t_eq "one connection: no failure" 0 "$(r_json "$T_DIR/one.json" 'r["total"]["failures"]')"
t_check "HTTP/1.1, 1 connection: ~1 s per iteration ($(h2_per_iteration "$T_DIR/one.json") s)" \
    r_in 0.95 1.6 "$(h2_per_iteration "$T_DIR/one.json")"
t_check "HTTP/1.1, 1 connection: the last request waited for four ($(maxlat "$T_DIR/one.json") ms)" \
    r_in 950 1600 "$(maxlat "$T_DIR/one.json")"

r_replay "$T_DIR/p.json" --host "https://localhost:$NPORT" --ca "$T_DIR/srv.crt" -u 1 --iterations 4 \
    --report "$T_DIR/h2.json"
t_eq "h2: no failure" 0 "$(r_json "$T_DIR/h2.json" 'r["total"]["failures"]')"
t_eq "h2: every request over h2" 20 "$(h2_proto_count "$T_DIR/h2.json" h2)"
t_eq "h2: nginx saw HTTP/2.0" 20 "$(h2_count "$T_DIR/n.log" ' 200 HTTP/2.0$')"
t_check "h2, one connection: ~200 ms per iteration ($(h2_per_iteration "$T_DIR/h2.json") s)" \
    r_in 0.19 0.45 "$(h2_per_iteration "$T_DIR/h2.json")"
t_check "h2: no request waited for another ($(maxlat "$T_DIR/h2.json") ms)" \
    r_in 195 400 "$(maxlat "$T_DIR/h2.json")"
# HTTPS without h2: the first step goes to one connection in the hope of h2;
# once ALPN said http/1.1 it is spread over 6 connections before anything is sent.
r_replay "$T_DIR/p.json" --host "https://localhost:$TPORT" --ca "$T_DIR/srv.crt" -u 1 --iterations 1 \
    --report "$T_DIR/tls1.json"
t_eq "TLS HTTP/1.1: no failure" 0 "$(r_json "$T_DIR/tls1.json" 'r["total"]["failures"]')"
t_eq "TLS HTTP/1.1: over http/1.1" 5 "$(h2_proto_count "$T_DIR/tls1.json" http/1.1)"
t_check "TLS HTTP/1.1, first contact: no request waited for another ($(maxlat "$T_DIR/tls1.json") ms)" \
    r_in 195 450 "$(maxlat "$T_DIR/tls1.json")"

t_eq "the target served them all" 50 \
    "$(curl -s "$TARGET_URL/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["endpoints"]["GET /api/item/{id}"])')"

# One --timeout covers a whole parallel step: the slow requests time out, the
# fast ones of the same step succeed, and back-to-back steps count each once.
cat >"$T_DIR/t.json" <<JSON
{"format": "aiotest-scenario", "version": [1, 0],
 "hosts": [{"base_url": "$TARGET_URL"}],
 "classes": [{"name": "steps", "weight": 1, "wait": {"kind": "none"},
   "tasks": [
     {"parallel": true, "requests": [{"method": "GET", "url": "/api/item/7"}, {"method": "GET", "url": "/health"}]},
     {"parallel": true, "requests": [{"method": "GET", "url": "/api/item/8"}, {"method": "GET", "url": "/static/app.js"}]}]}]}
JSON
r_replay "$T_DIR/t.json" -u 2 --iterations 3 --timeout 100ms --report "$T_DIR/t.out.json"
# Timed-out requests failed: exit 1 without --fail-on (issue 12).
t_eq "timeouts: exit status" 1 "$R_RC"
t_eq "timeouts: the slow ones" "6 6" "$(r_json "$T_DIR/t.out.json" \
    '" ".join(str(e["fail"].get("timeout", 0)) for e in r["entries"] if "item" in e["name"])')"
t_eq "timeouts: the fast ones of the same steps" "6 0 6 0" "$(r_json "$T_DIR/t.out.json" \
    '" ".join(str(e[k]) for e in r["entries"] if "item" not in e["name"] for k in ("count", "failures"))')"
