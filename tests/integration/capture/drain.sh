#!/usr/bin/env bash
# Stopping: --stats-interval prints the counter line while running; an HTTP/2
# exchange in flight at SIGTERM finishes (GOAWAY, then the stream completes);
# one that outlasts --drain-timeout is cut and recorded as incomplete, and the
# capture still exits 0 right after the timeout.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
t_need curl
t_target --quiet
cap_nginx_tls
CA="$T_DIR/ca"
"$T_CAPTURE" --init-ca "$CA" >/dev/null || t_fail "--init-ca"

# HTTP/2 drain.
REC="$T_DIR/h2.mp"
cap_start -o "$REC" --connect-ports "$NG_PORT" --ca "$CA" --upstream-ca "$T_DIR/nginx.crt" --stats-interval 200ms --drain-timeout 5s
code=$(curl -sS --http2 --cacert "$CA/ca.pem" -x "$CAP_PROXY" -o /dev/null -w '%{http_code}' "$NG_URL/api/search?q=warm")
t_eq "h2 request" 200 "$code"
curl -sS -X POST "$TARGET_URL/_control?delay_ms=1200" >/dev/null
curl -sS --http2 --cacert "$CA/ca.pem" -x "$CAP_PROXY" -o /dev/null -w '%{http_code} %{http_version}' \
    "$NG_URL/api/search?q=draining" >"$T_DIR/h2.code" 2>"$T_DIR/h2.err" &
client=$!
sleep 0.6
cap_stop TERM
wait "$client"
t_eq "h2 exchange in flight at SIGTERM" "200 2" "$(cat "$T_DIR/h2.code")"
n=$(grep -c 'so far:' "$CAP_LOG")
[ "$n" -ge 2 ] || t_fail "--stats-interval 200ms printed $n lines: $(cat "$CAP_LOG")"
t_log "ok: --stats-interval printed $n counter lines"
cap_dump "$REC" >"$T_DIR/h2.txt"
grep -qP '/api/search\?q=draining\t200\t.*\ttls,h2\t' "$T_DIR/h2.txt" || t_fail "drained h2 exchange not recorded: $(cat "$T_DIR/h2.txt")"
t_log "ok: drained h2 exchange recorded"

# Drain timeout.
curl -sS -X POST "$TARGET_URL/_control?delay_ms=40000" >/dev/null
REC="$T_DIR/cut.mp"
cap_start -o "$REC" --reverse "$TARGET_URL" --drain-timeout 500ms
curl -sS -o /dev/null "$CAP_PROXY/api/search?q=cut" 2>/dev/null &
sleep 0.5
start=$SECONDS
cap_stop INT
[ $((SECONDS - start)) -le 20 ] || t_fail "the drain took $((SECONDS - start))s with --drain-timeout 500ms"
curl -sS -X POST "$TARGET_URL/_control?delay_ms=0" >/dev/null
line=$(cap_dump "$REC" | grep -P '/api/search\?q=cut\t') || t_fail "cut exchange not recorded"
t_eq "cut exchange: status, flags" "0 incomplete" "$(echo "$line" | cut -f3,6 | tr '\t' ' ')"
t_log "ok: cut exchange recorded: $(echo "$line" | cut -f18)"
