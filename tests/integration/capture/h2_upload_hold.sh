#!/usr/bin/env bash
# One HTTP/2 connection through the intercepting proxy carries two uploads to
# the same origin: one whose origin reads nothing of the body for now (nginx
# passes it unbuffered to a backend that waits), one to nginx's WebDAV. The
# held upload's flow control must hold back only its own stream: the WebDAV
# upload finishes while the other is still held, then both end with their
# status. (With a client connection window no larger than one stream's, the
# held stream's unacknowledged bytes closed it, and every other upload on the
# connection waited for the held one.)
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
t_need curl nginx
SLOW_PORT=$(t_port)
t_bg slowhold /usr/bin/python3 "$AIOTEST_SRC/tests/integration/capture/slowhold.py" "$SLOW_PORT" "$T_DIR/release"
t_wait_port "$SLOW_PORT"
mkdir -p "$T_DIR/www/dav"
head -c 30000000 /dev/zero >"$T_DIR/held.bin"
# Larger than what the held stream can send before it is held (kernel and
# nginx buffers, the proxy's own), so the WebDAV upload outlives that moment.
head -c 20000000 /dev/urandom >"$T_DIR/up.bin"
cap_nginx_tls "location /dav/ { dav_methods PUT; }
        location /held/ { proxy_pass http://127.0.0.1:$SLOW_PORT; proxy_request_buffering off;
                          proxy_http_version 1.1; proxy_read_timeout 120s; proxy_send_timeout 120s; }"
CA="$T_DIR/ca"
"$T_CAPTURE" --init-ca "$CA" >/dev/null || t_fail "--init-ca"
cap_start -o "$T_DIR/rec.mp" --connect-ports "$NG_PORT" --ca "$CA" --upstream-ca "$T_DIR/nginx.crt"

# The held upload goes first; curl waits to multiplex the second on its connection.
curl -sS --parallel --parallel-max 2 --http2 --cacert "$CA/ca.pem" -x "$CAP_PROXY" --max-time 90 \
    -o /dev/null -w '%{http_code} %{url_effective}\n' \
    -T "$T_DIR/held.bin" "$NG_URL/held/x" -T "$T_DIR/up.bin" "$NG_URL/dav/u.bin" \
    >"$T_DIR/codes" 2>"$T_DIR/curl.err" &
CURL_PID=$!
T_PIDS+=("$CURL_PID")
# The WebDAV upload completes while the backend still holds the other (wide
# margin for a loaded machine; it takes about a second when nothing else runs).
deadline=$((SECONDS + 40))
until [ -f "$T_DIR/www/dav/u.bin" ] && [ "$(sha "$T_DIR/www/dav/u.bin")" = "$(sha "$T_DIR/up.bin")" ]; do
    [ $SECONDS -lt $deadline ] || { touch "$T_DIR/release"; t_fail "the WebDAV upload did not finish while the other upload on its connection was held"; }
    sleep 0.2
done
t_log "ok: the WebDAV upload finished beside a held one"
# curl prints each transfer's line as it ends: the held one must not have ended.
grep -q /held/ "$T_DIR/codes" && t_fail "the held upload ended before it was released: $(cat "$T_DIR/codes" "$T_DIR/curl.err")"
touch "$T_DIR/release"
rc=0
wait "$CURL_PID" || rc=$?
[ "$rc" = 0 ] || t_fail "curl exited $rc: $(tail -2 "$T_DIR/curl.err")"
t_eq "statuses" "201 $NG_URL/dav/u.bin 200 $NG_URL/held/x" "$(sort -k2 "$T_DIR/codes" | tr '\n' ' ' | sed 's/ $//')"
cap_stop INT
cap_dump "$T_DIR/rec.mp" >"$T_DIR/dump.txt"
t_eq "recorded exchanges" 2 "$(wc -l <"$T_DIR/dump.txt")"
t_eq "one client connection" 1 "$(cut -f8 "$T_DIR/dump.txt" | sort -u | wc -l)"
