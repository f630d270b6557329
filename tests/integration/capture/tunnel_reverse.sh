#!/usr/bin/env bash
# CONNECT without --ca is a blind tunnel recorded with its byte counts;
# --reverse records in front of one service (HTTP, or HTTPS with
# --upstream-ca), also on an IPv6 listener; SIGTERM lets an exchange in flight
# finish (recorded) and refuses new connections.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
t_need curl
t_target --quiet
cap_nginx_tls

# Blind tunnel: curl verifies nginx itself, the capture sees only bytes.
REC="$T_DIR/tunnel.mp"
dead=$(t_port)
cap_start -o "$REC" --session-cookie session --connect-ports "$NG_PORT,$dead"
code=$(curl -sS --cacert "$T_DIR/nginx.crt" -x "$CAP_PROXY" -o "$T_DIR/tunnel.out" -w '%{http_code}' \
    "$NG_URL/api/search?q=tunnel")
t_eq "HTTPS through the blind tunnel" 200 "$code"
code=$(curl -sS -x "$CAP_PROXY" -p -o /dev/null -w '%{http_connect}' "http://127.0.0.1:$dead/" 2>/dev/null)
t_eq "CONNECT to a refused port" 502 "$code"
cap_stop INT
cap_dump "$REC" >"$T_DIR/tunnel.txt"
line=$(grep -P "^CONNECT\thttps://localhost:$NG_PORT\t" "$T_DIR/tunnel.txt") || t_fail "tunnel not recorded: $(cat "$T_DIR/tunnel.txt")"
t_eq "tunnel status and flags" "200 tunnel" "$(echo "$line" | cut -f3,6 | tr '\t' ' ')"
up=$(echo "$line" | cut -f16) down=$(echo "$line" | cut -f17)
[ "$up" -gt 200 ] && [ "$down" -gt "$(stat -c %s "$T_DIR/tunnel.out")" ] ||
    t_fail "tunnel byte counts up=$up down=$down are too small for a TLS exchange"
t_log "ok: tunnel recorded, $up bytes up, $down bytes down"
grep -qP "^CONNECT\thttps://127.0.0.1:$dead\t502\t" "$T_DIR/tunnel.txt" || t_fail "refused CONNECT not recorded as 502"
t_log "ok: refused CONNECT recorded as 502"

# Reverse mode: clients talk to the capture as if it were the service.
REC="$T_DIR/reverse.mp"
cap_start -o "$REC" --reverse "$TARGET_URL" --drain-timeout 10s
code=$(curl -sS -o /dev/null -w '%{http_code}' "$CAP_PROXY/api/search?q=rev")
t_eq "reverse: search" 200 "$code"
# An exchange in flight when SIGTERM comes still completes and is recorded.
curl -sS -X POST "$TARGET_URL/_control?delay_ms=1500" >/dev/null
curl -sS -o "$T_DIR/slow.out" -w '%{http_code}' "$CAP_PROXY/api/search?q=slow" >"$T_DIR/slow.code" &
slow=$!
sleep 0.5
kill -TERM "$CAP_PID"
sleep 0.3
if curl -sS -m 2 -o /dev/null "$CAP_PROXY/health" 2>/dev/null; then t_fail "a new connection was served while draining"; fi
t_log "ok: no new connections while draining"
wait "$slow"
t_eq "exchange in flight at SIGTERM" 200 "$(cat "$T_DIR/slow.code")"
rc=0; wait "$CAP_PID" || rc=$?
t_eq "exit code after the drain" 0 "$rc"
curl -sS -X POST "$TARGET_URL/_control?delay_ms=0" >/dev/null
cap_dump "$REC" >"$T_DIR/reverse.txt"
grep -qP "^GET\t$TARGET_URL/api/search\?q=rev\t200\t" "$T_DIR/reverse.txt" || t_fail "reverse exchange not recorded with the service's authority: $(cat "$T_DIR/reverse.txt")"
grep -qP "^GET\t$TARGET_URL/api/search\?q=slow\t200\t" "$T_DIR/reverse.txt" || t_fail "drained exchange not recorded"
t_log "ok: reverse exchanges recorded, the drained one too"

# Reverse to an HTTPS origin, listening on IPv6 loopback.
REC="$T_DIR/reverse-tls.mp"
port=$(t_port)
t_bg reverse-tls "$T_CAPTURE" --proxy "[::1]:$port" -o "$REC" --reverse "$NG_URL" --upstream-ca "$T_DIR/nginx.crt"
pid=$T_LAST_PID
for _ in $(seq 1 100); do curl -s -o /dev/null "http://[::1]:$port/health" && break; sleep 0.05; done
code=$(curl -sS -o "$T_DIR/rt.out" -w '%{http_code}' "http://[::1]:$port/api/search?q=tls")
t_eq "reverse to https, IPv6 listener" 200 "$code"
kill -INT "$pid"; wait "$pid" || t_fail "capture exit $?"
line=$(cap_dump "$REC" | grep -P '/api/search\?q=tls\t') || t_fail "reverse https exchange not recorded"
t_eq "recorded URL and client" "$NG_URL/api/search?q=tls ::1" "$(echo "$line" | cut -f2,9 | tr '\t' ' ')"
