#!/usr/bin/env bash
# Uploads that the origin answers before reading their body must not shrink
# the client's HTTP/2 connection window. Through the intercepting proxy, one
# curl connection carries 150 uploads of 1 MB that an origin answers with 413
# without reading them (early413.py behind nginx), then a 2 MB WebDAV PUT and
# a GET. The proxy holds back a stream's WINDOW_UPDATE while its origin does
# not drain the body (h2server.c on_data), up to the stream's 65 535-byte
# window; the 413 ends the exchange before any drain. When those held bytes
# were never given back, each such stream kept up to 65 535 bytes out of the
# connection window (100 x 65 535 bytes) for the connection's life: 100 of
# them close it, and every later upload on the connection stalled (here: the
# 50 uploads after the first 100 and the PUT, until curl's --max-time).
#
# Why not nginx's own 413 (client_max_body_size): nginx answers from the
# request head, before the proxy has sent it enough to be held back, so that
# path leaks nothing; the held case needs an origin that lets the body back
# up first. Why the connection stays one: curl multiplexes --parallel
# transfers on one HTTP/2 connection; the recording's connection ids say so.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
t_need curl nginx
CONN_WINDOW=$((100 * 65535))
# Each early-answered stream holds between 48 and 64 KiB (seen: 49 151 to
# 65 535): 150 of them hold more than the whole window even at 48 KiB.
N_EARLY=150
[ $((N_EARLY * 49152)) -gt "$CONN_WINDOW" ] || t_fail "N_EARLY too small to close the window"
PY_PORT=$(t_port)
t_bg early413 /usr/bin/python3 "$AIOTEST_SRC/tests/integration/capture/early413.py" "$PY_PORT"
t_wait_port "$PY_PORT"
mkdir -p "$T_DIR/www/dav"
head -c 1000000 /dev/zero >"$T_DIR/one.bin"
head -c 2000000 /dev/urandom >"$T_DIR/up.bin"
head -c 300000 /dev/urandom >"$T_DIR/www/get.bin"
cap_nginx_tls "location /dav/ { dav_methods PUT; }
        location /early/ { proxy_pass http://127.0.0.1:$PY_PORT; proxy_request_buffering off;
                           proxy_http_version 1.1; proxy_read_timeout 60s; proxy_send_timeout 60s; }"
CA="$T_DIR/ca"
"$T_CAPTURE" --init-ca "$CA" >/dev/null || t_fail "--init-ca"
cap_start -o "$T_DIR/rec.mp" --connect-ports "$NG_PORT" --ca "$CA" --upstream-ca "$T_DIR/nginx.crt"

args=()
for i in $(seq 1 "$N_EARLY"); do args+=(-o /dev/null -T "$T_DIR/one.bin" "$NG_URL/early/u$i"); done
args+=(-o /dev/null -T "$T_DIR/up.bin" "$NG_URL/dav/up.bin" -o "$T_DIR/get.out" "$NG_URL/get.bin")
rc=0
curl -sS --no-progress-meter --parallel --parallel-max 100 --http2 --cacert "$CA/ca.pem" -x "$CAP_PROXY" --max-time 90 \
    -w '%{http_code} %{url_effective}\n' "${args[@]}" >"$T_DIR/codes" 2>"$T_DIR/curl.err" || rc=$?
summary=$(cut -d' ' -f1 "$T_DIR/codes" | sort | uniq -c | tr -s ' ' | tr '\n' ' ')
[ "$rc" = 0 ] || t_fail "curl exited $rc (statuses:$summary; $(grep -v "/early/" "$T_DIR/codes" | tr '\n' ' ')): $(grep "^curl:" "$T_DIR/curl.err" | sort | uniq -c | head -3)"
t_eq "early-answered uploads" "$N_EARLY" "$(grep -c "^413 $NG_URL/early/" "$T_DIR/codes")"
t_eq "the WebDAV PUT after them" "201" "$(grep " $NG_URL/dav/up.bin$" "$T_DIR/codes" | cut -d' ' -f1)"
t_eq "the GET after them" "200" "$(grep " $NG_URL/get.bin$" "$T_DIR/codes" | cut -d' ' -f1)"
[ "$(sha "$T_DIR/www/dav/up.bin")" = "$(sha "$T_DIR/up.bin")" ] || t_fail "the PUT stored different bytes"
[ "$(sha "$T_DIR/get.out")" = "$(sha "$T_DIR/www/get.bin")" ] || t_fail "the GET returned different bytes"
t_log "ok: the PUT and the GET after $N_EARLY early answers completed intact"
cap_stop INT
cap_dump "$T_DIR/rec.mp" >"$T_DIR/dump.txt"
t_eq "recorded exchanges" $((N_EARLY + 2)) "$(wc -l <"$T_DIR/dump.txt")"
t_eq "one client connection" 1 "$(cut -f8 "$T_DIR/dump.txt" | sort -u | wc -l)"
t_eq "recorded 413s to /early/" "$N_EARLY" \
    "$(awk -F'\t' -v u="$NG_URL/early/" '$1 == "PUT" && index($2, u) == 1 && $3 == 413' "$T_DIR/dump.txt" | wc -l)"
# Each with the origin's whole answer ("too large\n") and part of its body.
t_eq "413s with the whole answer and part of the body" "$N_EARLY" \
    "$(awk -F'\t' '$3 == 413 && $14 == 10 && $13 > 0 && $13 < 1000000' "$T_DIR/dump.txt" | wc -l)"
# And complete: curl resets such a stream as soon as it has the 10 bytes,
# which may come before the proxy has heard from the origin's side that the
# answer is over (up_done runs from the loop); the client had the whole
# response all the same.
t_eq "flags of the 413s" "tls,h2" \
    "$(awk -F'\t' '$3 == 413 { print $6 }' "$T_DIR/dump.txt" | sort -u | tr '\n' ' ' | sed 's/ $//')"
t_eq "recorded PUT and GET" "GET 200 PUT 201" \
    "$(awk -F'\t' '$3 != 413 { print $1, $3 }' "$T_DIR/dump.txt" | sort | tr '\n' ' ' | sed 's/ $//')"
