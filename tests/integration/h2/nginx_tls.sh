# h2 over TLS against nginx (listen ... ssl http2): every request of serial and
# parallel steps goes over h2 (nginx's $server_protocol and the report agree),
# counts match exactly, extractors of a parallel step feed the next step, and
# nginx's GOAWAY after keepalive_requests costs no request. --http1 forces
# HTTP/1.1; a server without h2 gets HTTP/1.1 through ALPN.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
. "$AIOTEST_SRC/tests/integration/h2/lib-h2.sh"
PORT=$(t_port)
PORT1=$(t_port)
LOCS="
        location = /page { return 200 'page'; }
        location = /a { return 200 'alpha'; }
        location = /b { return 200 'beta'; }
        location = /tok { default_type application/json; return 200 '{\"token\": \"t0k3n\"}'; }
        location = /p { return 200 'posted'; }
        location /echo/ { return 200 'echo'; }
        location = /rst { return 444; }"
h2_nginx "
    server {
        listen 127.0.0.1:$PORT ssl http2;
        ssl_certificate $T_DIR/srv.crt;
        ssl_certificate_key $T_DIR/srv.key;
        keepalive_requests 7;
        access_log $T_DIR/h2.log proto;
$LOCS
    }
    server {
        listen 127.0.0.1:$PORT1 ssl;
        ssl_certificate $T_DIR/srv.crt;
        ssl_certificate_key $T_DIR/srv.key;
        access_log $T_DIR/h1.log proto;
$LOCS
    }"
t_wait_port "$PORT"
t_wait_port "$PORT1"
cat >"$T_DIR/s.json" <<JSON
{"format": "aiotest-scenario", "version": [1, 0],
 "hosts": [{"base_url": "https://localhost:$PORT"}],
 "classes": [{"name": "page", "weight": 1, "wait": {"kind": "none"},
   "tasks": [
     {"requests": [{"method": "GET", "url": "/page", "check": {"status": [200], "body_contains": ["page"]}}]},
     {"parallel": true, "requests": [
       {"method": "GET", "url": "/a", "check": {"body_contains": ["alpha"]}},
       {"method": "GET", "url": "/b", "check": {"body_contains": ["beta"]}},
       {"method": "GET", "url": "/tok", "extract": [{"var": "token", "kind": "json", "expr": "\$.token"}]},
       {"method": "POST", "url": "/p", "headers": [["Content-Type", "text/plain"]], "body": "hello h2"}]},
     {"requests": [{"name": "GET /echo/{token}", "method": "GET", "url": "/echo/{{token}}"}]}]}]}
JSON

r_replay "$T_DIR/s.json" --ca "$T_DIR/srv.crt" -u 3 --iterations 10 --report "$T_DIR/h2.json"
t_eq "exit status" 0 "$R_RC"
t_eq "requests in the report" 180 "$(r_json "$T_DIR/h2.json" 'r["total"]["count"]')"
t_eq "no failure" 0 "$(r_json "$T_DIR/h2.json" 'r["total"]["failures"]')"
t_eq "report: every request over h2" 180 "$(h2_proto_count "$T_DIR/h2.json" h2)"
t_eq "nginx: every request over HTTP/2.0" 180 "$(h2_count "$T_DIR/h2.log" ' 200 HTTP/2.0$')"
t_eq "nginx: nothing over HTTP/1.1" 0 "$(h2_count "$T_DIR/h2.log" 'HTTP/1')"
for u in /page /a /b /tok /p /echo/t0k3n; do
    t_eq "nginx: $u" 30 "$(h2_count "$T_DIR/h2.log" "^[A-Z]+ $u 200 ")"
done
t_eq "report: POST /p" 30 "$(r_entry "$T_DIR/h2.json" "POST POST /p" count)"
t_eq "report: the extracted token reached the next step" 30 \
    "$(r_entry "$T_DIR/h2.json" "GET GET /echo/{token}" count)"

: >"$T_DIR/h2.log"
r_replay "$T_DIR/s.json" --ca "$T_DIR/srv.crt" --http1 -u 2 --iterations 3 --report "$T_DIR/f1.json"
t_eq "--http1: no failure" 0 "$(r_json "$T_DIR/f1.json" 'r["total"]["failures"]')"
t_eq "--http1: report says http/1.1" 36 "$(h2_proto_count "$T_DIR/f1.json" http/1.1)"
t_eq "--http1: nginx saw HTTP/1.1" 36 "$(h2_count "$T_DIR/h2.log" ' 200 HTTP/1.1$')"

r_replay "$T_DIR/s.json" --ca "$T_DIR/srv.crt" --host "https://localhost:$PORT1" -u 2 --iterations 3 \
    --report "$T_DIR/fb.json"
t_eq "no h2 on the server: no failure" 0 "$(r_json "$T_DIR/fb.json" 'r["total"]["failures"]')"
t_eq "no h2 on the server: ALPN falls back to HTTP/1.1" 36 "$(h2_count "$T_DIR/h1.log" ' 200 HTTP/1.1$')"
t_eq "no h2 on the server: report says http/1.1" 36 "$(h2_proto_count "$T_DIR/fb.json" http/1.1)"

# A stream the server resets (nginx 'return 444' over h2 is RST_STREAM) fails
# that request only, counted as h2_rst; its siblings of the step are fine.
cat >"$T_DIR/rst.json" <<JSON
{"format": "aiotest-scenario", "version": [1, 0],
 "hosts": [{"base_url": "https://localhost:$PORT"}],
 "classes": [{"name": "rst", "weight": 1, "wait": {"kind": "none"},
   "tasks": [{"parallel": true, "requests": [
       {"method": "GET", "url": "/a"}, {"method": "GET", "url": "/rst"}, {"method": "GET", "url": "/b"}]}]}]}
JSON
r_replay "$T_DIR/rst.json" --ca "$T_DIR/srv.crt" -u 2 --iterations 5 --report "$T_DIR/rst.out.json"
# The reset requests failed: exit 1 without --fail-on (issue 12).
t_eq "RST_STREAM: the run goes on, exit 1" 1 "$R_RC"
t_eq "RST_STREAM: counted as h2_rst" 10 "$(r_entry "$T_DIR/rst.out.json" "GET GET /rst" fail | python3 -c 'import ast,sys; print(ast.literal_eval(sys.stdin.read()).get("h2_rst", 0))')"
t_eq "RST_STREAM: the other streams are fine" 00 \
    "$(r_entry "$T_DIR/rst.out.json" "GET GET /a" failures)$(r_entry "$T_DIR/rst.out.json" "GET GET /b" failures)"
