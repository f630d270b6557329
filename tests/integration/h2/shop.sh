# The example shop scenario (login token, session cookie, CSRF value taken from
# a page, JSON bodies, a parallel step) over h2 end to end: nginx over TLS with
# http2 in front of aiotest-target, --http2 overriding the scenario's "h1".
# No failure, the target counted what the report says, nginx saw only HTTP/2.0.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
. "$AIOTEST_SRC/tests/integration/h2/lib-h2.sh"
t_target --quiet
NPORT=$(t_port)
h2_nginx "
    server {
        listen 127.0.0.1:$NPORT ssl http2;
        ssl_certificate $T_DIR/srv.crt;
        ssl_certificate_key $T_DIR/srv.key;
        access_log $T_DIR/n.log proto;
        location / { proxy_pass $TARGET_URL; }
    }"
t_wait_port "$NPORT"
r_replay "$AIOTEST_SRC/scenarios/examples/shop.json" --host "https://localhost:$NPORT" \
    --ca "$T_DIR/srv.crt" --http2 -u 4 --iterations 3 --think-scale 0 --report "$T_DIR/r.json"
t_eq "exit status" 0 "$R_RC"
N=$(r_json "$T_DIR/r.json" 'r["total"]["count"]')
t_check "requests ran ($N)" test "$N" -gt 40
t_eq "no failure" 0 "$(r_json "$T_DIR/r.json" 'r["total"]["failures"]')"
t_eq "report: all over h2" "$N" "$(h2_proto_count "$T_DIR/r.json" h2)"
t_eq "nginx: all over HTTP/2.0" "$N" "$(h2_count "$T_DIR/n.log" ' 200 HTTP/2.0$')"
t_eq "the target counted them" "$N" \
    "$(curl -s "$TARGET_URL/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')"
t_eq "orders placed (cookie and CSRF value carried over h2)" \
    "$(r_entry "$T_DIR/r.json" "POST POST /api/order" count)" \
    "$(curl -s "$TARGET_URL/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["endpoints"]["POST /api/order"])')"
