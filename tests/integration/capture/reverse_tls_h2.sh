#!/usr/bin/env bash
# The reverse proxy speaks TLS and HTTP/2 to its clients (issue 13 item 11):
# --reverse-tls CERT,KEY serves HTTPS with ALPN h2/http1.1 (curl --http2,
# curl --http1.1, nghttp); --reverse-tls NAME takes a certificate for NAME
# from the --ca DIR; the cleartext listener takes h2c with prior knowledge
# (curl --http2-prior-knowledge, nghttp). Every exchange is recorded with the
# service's authority, its HTTP version and the TLS flag.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
t_need curl nghttp openssl
t_target --quiet
t_selfsigned rev

# TLS with a given certificate.
REC="$T_DIR/tls.mp"
cap_start -o "$REC" --reverse "$TARGET_URL" --reverse-tls "$T_DIR/rev.crt,$T_DIR/rev.key"
base="https://localhost:$CAP_PORT"
out=$(curl -sS --cacert "$T_DIR/rev.crt" --http2 -o "$T_DIR/h2.out" -w '%{http_code} %{http_version}' "$base/api/search?q=h2") ||
    t_fail "curl --http2 over TLS"
t_eq "curl --http2 to the TLS listener" "200 2" "$out"
out=$(curl -sS --cacert "$T_DIR/rev.crt" --http1.1 -o /dev/null -w '%{http_code} %{http_version}' "$base/api/search?q=h1") ||
    t_fail "curl --http1.1 over TLS"
t_eq "curl --http1.1 to the TLS listener" "200 1.1" "$out"
nghttp -n -s "$base/health" >"$T_DIR/nghttp-tls.txt" 2>&1 || t_fail "nghttp over TLS: $(cat "$T_DIR/nghttp-tls.txt")"
t_log "ok: nghttp over TLS (h2)"
curl -sS -o /dev/null "$base/health" 2>/dev/null && t_fail "curl trusted the test certificate without --cacert"
cap_stop INT
# The port probe of cap_start sent no byte: not a failed handshake; curl's is.
grep -q ", 1 client TLS handshakes failed" "$CAP_LOG" || t_fail "failed handshakes miscounted: $(grep done: "$CAP_LOG")"
cap_dump "$REC" >"$T_DIR/tls.txt"
grep -qP "^GET\thttp://127.0.0.1:$TARGET_PORT/api/search\?q=h2\t200\t.*\ttls,h2\t.*\tHTTP/2$" "$T_DIR/tls.txt" ||
    t_fail "the h2 exchange is not recorded as HTTP/2 over TLS to the service: $(cat "$T_DIR/tls.txt")"
grep -qP "^GET\thttp://127.0.0.1:$TARGET_PORT/api/search\?q=h1\t200\t.*\ttls\t.*\tHTTP/1.1$" "$T_DIR/tls.txt" ||
    t_fail "the HTTP/1.1 exchange over TLS is not recorded: $(cat "$T_DIR/tls.txt")"
grep -qP "^GET\thttp://127.0.0.1:$TARGET_PORT/health\t200\t" "$T_DIR/tls.txt" || t_fail "nghttp's exchange not recorded"
t_log "ok: $(wc -l <"$T_DIR/tls.txt") exchanges recorded with the service's authority"

# A certificate for a name from the local CA.
"$T_CAPTURE" --init-ca "$T_DIR/ca" >/dev/null || t_fail "--init-ca"
cap_start -o "$T_DIR/ca.mp" --reverse "$TARGET_URL" --ca "$T_DIR/ca" --reverse-tls shop.test
out=$(curl -sS --cacert "$T_DIR/ca/ca.pem" --resolve "shop.test:$CAP_PORT:127.0.0.1" -o /dev/null \
    -w '%{http_code} %{http_version}' "https://shop.test:$CAP_PORT/health") || t_fail "curl to the CA-signed listener"
t_eq "certificate for shop.test from the local CA" "200 2" "$out"
cap_stop INT

# h2c with prior knowledge on the cleartext listener; HTTP/1.1 still works there.
REC="$T_DIR/h2c.mp"
cap_start -o "$REC" --reverse "$TARGET_URL"
out=$(curl -sS --http2-prior-knowledge -o /dev/null -w '%{http_code} %{http_version}' "$CAP_PROXY/api/search?q=h2c") ||
    t_fail "curl --http2-prior-knowledge"
t_eq "h2c prior knowledge" "200 2" "$out"
nghttp -n -s "$CAP_PROXY/health" >"$T_DIR/nghttp-h2c.txt" 2>&1 || t_fail "nghttp h2c: $(cat "$T_DIR/nghttp-h2c.txt")"
out=$(curl -sS -o /dev/null -w '%{http_code} %{http_version}' "$CAP_PROXY/api/search?q=plain") || t_fail "plain HTTP/1.1"
t_eq "HTTP/1.1 on the same listener" "200 1.1" "$out"
cap_stop INT
cap_dump "$REC" >"$T_DIR/h2c.txt"
grep -qP "^GET\thttp://127.0.0.1:$TARGET_PORT/api/search\?q=h2c\t200\t.*\th2\t.*\tHTTP/2$" "$T_DIR/h2c.txt" ||
    t_fail "the h2c exchange is not recorded as HTTP/2: $(cat "$T_DIR/h2c.txt")"
t_eq "h2c listener exchanges recorded" 3 "$(grep -c . "$T_DIR/h2c.txt")"

# Usage errors.
rc=0; "$T_CAPTURE" --proxy :0 -o "$T_DIR/x.mp" --reverse-tls a,b >"$T_DIR/e.txt" 2>&1 || rc=$?
t_eq "--reverse-tls without --reverse: exit" 2 "$rc"
rc=0; "$T_CAPTURE" --proxy :0 -o "$T_DIR/x.mp" --reverse "$TARGET_URL" --reverse-tls shop.test >"$T_DIR/e.txt" 2>&1 || rc=$?
t_eq "--reverse-tls NAME without --ca: exit" 2 "$rc"
rc=0; "$T_CAPTURE" --proxy :0 -o "$T_DIR/x.mp" --reverse "$TARGET_URL" --reverse-tls "$T_DIR/none.crt,$T_DIR/none.key" >"$T_DIR/e.txt" 2>&1 || rc=$?
t_eq "--reverse-tls with missing files: exit" 2 "$rc"
grep -q "none.crt" "$T_DIR/e.txt" || t_fail "the error does not name the file: $(cat "$T_DIR/e.txt")"
