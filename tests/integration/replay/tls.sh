# HTTPS against nginx with a test certificate: works with --ca (and --insecure),
# fails clearly without; counts equal nginx's access log; TLS sessions resume
# across reconnects (nginx closes every connection after 5 requests here).
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
t_selfsigned srv
PORT=$(t_port)
t_nginx "
    log_format reused '\$request_method \$uri \$status \$ssl_session_reused';
    server {
        listen 127.0.0.1:$PORT ssl;
        ssl_certificate $T_DIR/srv.crt;
        ssl_certificate_key $T_DIR/srv.key;
        ssl_session_cache shared:s:1m;
        keepalive_requests 5;
        access_log $T_DIR/access.log reused;
        location / { return 200 'hello'; }
    }"
t_wait_port "$PORT"
cat >"$T_DIR/get.json" <<JSON
{"format": "aiotest-scenario", "version": [1, 0],
 "hosts": [{"base_url": "https://localhost:$PORT"}],
 "classes": [{"name": "get", "weight": 1, "wait": {"kind": "none"},
   "tasks": [{"requests": [{"method": "GET", "url": "/x", "check": {"status": [200], "body_contains": ["hello"]}}]}]}]}
JSON

r_replay "$T_DIR/get.json" --ca "$T_DIR/srv.crt" -u 2 --iterations 20 --report "$T_DIR/ok.json"
t_eq "with --ca: exit status" 0 "$R_RC"
t_eq "with --ca: every request answered" 40 "$(r_json "$T_DIR/ok.json" 'r["total"]["count"]')"
t_eq "with --ca: no failure" 0 "$(r_json "$T_DIR/ok.json" 'r["total"]["failures"]')"
t_eq "nginx saw every request" 40 "$(grep -c '^GET /x 200' "$T_DIR/access.log")"
# 2 users x 20 requests over connections of 5 requests: 8 connections, 6 of them reconnects.
t_check "TLS sessions resumed on reconnect" r_in 6 40 "$(grep -c ' r$' "$T_DIR/access.log")"

: >"$T_DIR/access.log"
r_replay "$T_DIR/get.json" -u 2 --iterations 3 --report "$T_DIR/bad.json"
t_eq "without --ca: exit status (no request succeeded)" 1 "$R_RC"
t_eq "without --ca: every request is a tls failure" 6 "$(r_json "$T_DIR/bad.json" 'r["total"]["fail"].get("tls", 0)')"
t_check "without --ca: the reason on stderr" grep -q "certificate verify failed.*--ca FILE" "$T_DIR/replay.err"
t_eq "without --ca: nothing reached nginx" 0 "$(grep -c . "$T_DIR/access.log")"

# The system store (here: OpenSSL's SSL_CERT_FILE) is loaded at the first
# handshake, not at start (issue 20): verification through it still works.
SSL_CERT_FILE="$T_DIR/srv.crt" r_replay "$T_DIR/get.json" -u 2 --iterations 3 --report "$T_DIR/sys.json"
t_eq "system store: exit status" 0 "$R_RC"
t_eq "system store: no failure" 0 "$(r_json "$T_DIR/sys.json" 'r["total"]["failures"]')"
t_eq "system store: every request answered" 6 "$(r_json "$T_DIR/sys.json" 'r["total"]["count"]')"
# A store that is only a hashed directory (the default file missing): the
# failed load of the file must not fail the handshake that triggered it.
mkdir "$T_DIR/certs" && cp "$T_DIR/srv.crt" "$T_DIR/certs/" && openssl rehash "$T_DIR/certs" 2>/dev/null \
    || t_fail "openssl rehash"
SSL_CERT_FILE="$T_DIR/none.pem" SSL_CERT_DIR="$T_DIR/certs" \
    r_replay "$T_DIR/get.json" -u 2 --iterations 3 --report "$T_DIR/dir.json"
t_eq "hashed directory store: exit status" 0 "$R_RC"
t_eq "hashed directory store: no failure" 0 "$(r_json "$T_DIR/dir.json" 'r["total"]["failures"]')"

r_replay "$T_DIR/get.json" --insecure -u 1 --iterations 3 --report "$T_DIR/ins.json"
t_eq "--insecure: no failure" 0 "$(r_json "$T_DIR/ins.json" 'r["total"]["failures"]')"
