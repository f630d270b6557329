# 50 MiB downloads over h2 (nginx over TLS serving a file): flow control
# works, with two such streams sharing the connection window at once.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
. "$AIOTEST_SRC/tests/integration/h2/lib-h2.sh"
mkdir -p "$T_DIR/doc"
head -c $((50 * 1024 * 1024)) /dev/zero >"$T_DIR/doc/big.bin"
NPORT=$(t_port)
h2_nginx "
    server {
        listen 127.0.0.1:$NPORT ssl http2;
        ssl_certificate $T_DIR/srv.crt;
        ssl_certificate_key $T_DIR/srv.key;
        access_log $T_DIR/n.log proto;
        root $T_DIR/doc;
    }"
t_wait_port "$NPORT"
cat >"$T_DIR/d.json" <<JSON
{"format": "aiotest-scenario", "version": [1, 0],
 "hosts": [{"base_url": "https://localhost:$NPORT"}],
 "classes": [{"name": "dl", "weight": 1, "wait": {"kind": "none"},
   "tasks": [
     {"requests": [{"method": "GET", "url": "/big.bin", "check": {"status": [200]}}]},
     {"parallel": true, "requests": [
       {"name": "GET big 1", "method": "GET", "url": "/big.bin?1", "check": {"status": [200]}},
       {"name": "GET big 2", "method": "GET", "url": "/big.bin?2", "check": {"status": [200]}}]}]}]}
JSON
r_replay "$T_DIR/d.json" --ca "$T_DIR/srv.crt" -u 1 --iterations 1 --timeout 20s --report "$T_DIR/r.json"
t_eq "exit status" 0 "$R_RC"
t_eq "no failure" 0 "$(r_json "$T_DIR/r.json" 'r["total"]["failures"]')"
t_eq "over h2" 3 "$(h2_proto_count "$T_DIR/r.json" h2)"
t_check "50 MiB received alone" r_in 52428800 52600000 "$(r_entry "$T_DIR/r.json" "GET GET /big.bin" bytes_received)"
t_check "50 MiB received side by side (1)" r_in 52428800 52600000 "$(r_entry "$T_DIR/r.json" "GET GET big 1" bytes_received)"
t_check "50 MiB received side by side (2)" r_in 52428800 52600000 "$(r_entry "$T_DIR/r.json" "GET GET big 2" bytes_received)"
t_eq "nginx sent them over HTTP/2.0" 3 "$(h2_count "$T_DIR/n.log" '^GET /big.bin 200 HTTP/2.0$')"
t_log "took $(r_json "$T_DIR/r.json" 'r["duration_s"]') s"
