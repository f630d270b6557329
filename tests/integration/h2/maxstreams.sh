# A server that allows 2 concurrent streams (nginx http2_max_concurrent_streams 2)
# still serves a parallel step of 10, two at a time: no failure, no refused
# stream, and the step takes about 5 x the delay.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
. "$AIOTEST_SRC/tests/integration/h2/lib-h2.sh"
t_target --delay-ms 100 --threads 8 --quiet
NPORT=$(t_port)
h2_nginx "
    server {
        listen 127.0.0.1:$NPORT ssl http2;
        ssl_certificate $T_DIR/srv.crt;
        ssl_certificate_key $T_DIR/srv.key;
        http2_max_concurrent_streams 2;
        access_log $T_DIR/n.log proto;
        location / { proxy_pass $TARGET_URL; }
    }"
t_wait_port "$NPORT"
{
    printf '{"format": "aiotest-scenario", "version": [1, 0],\n'
    printf ' "hosts": [{"base_url": "https://localhost:%s"}],\n' "$NPORT"
    printf ' "classes": [{"name": "burst", "weight": 1, "wait": {"kind": "none"},\n'
    printf '   "tasks": [{"parallel": true, "requests": [\n'
    for i in 1 2 3 4 5 6 7 8 9 10; do
        sep=,; [ $i = 10 ] && sep=
        printf '     {"method": "GET", "url": "/api/item/%s", "check": {"status": [200]}}%s\n' $i $sep
    done
    printf ']}]}]}\n'
} >"$T_DIR/m.json"

r_replay "$T_DIR/m.json" --ca "$T_DIR/srv.crt" -u 2 --iterations 3 --report "$T_DIR/m.out.json"
t_eq "exit status" 0 "$R_RC"
t_eq "every request" 60 "$(r_json "$T_DIR/m.out.json" 'r["total"]["count"]')"
t_eq "no failure (no refused stream)" 0 "$(r_json "$T_DIR/m.out.json" 'r["total"]["failures"]')"
t_eq "over h2" 60 "$(h2_proto_count "$T_DIR/m.out.json" h2)"
t_eq "nginx answered each once over HTTP/2.0" 60 "$(h2_count "$T_DIR/n.log" '^GET /api/item/[0-9]+ 200 HTTP/2.0$')"
t_check "two at a time: ~500 ms per step ($(h2_per_iteration "$T_DIR/m.out.json" 2) s)" \
    r_in 0.48 1.0 "$(h2_per_iteration "$T_DIR/m.out.json" 2)"
t_check "the slowest request waited for four pairs ($(r_json "$T_DIR/m.out.json" 'max(e["max_ms"] for e in r["entries"])') ms)" \
    r_in 480 900 "$(r_json "$T_DIR/m.out.json" 'max(e["max_ms"] for e in r["entries"])')"
