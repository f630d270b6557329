#!/usr/bin/env bash
# The proxy says what went wrong (issue 13 item 9): a client that refuses the
# capture's certificate (curl without --cacert) is counted on the end line and,
# with -v, logged with the SNI it asked for and the alert it sent; --init-ca's
# instructions give chromium the loopback flag.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
t_need curl
t_target --quiet
"$T_CAPTURE" --init-ca "$T_DIR/ca" >"$T_DIR/init.txt" || t_fail "--init-ca"
grep -qF -- "--proxy-bypass-list='<-loopback>'" "$T_DIR/init.txt" || t_fail "--init-ca does not give chromium's loopback flag"
t_log "ok: --init-ca prints --proxy-bypass-list='<-loopback>'"

cap_start -o "$T_DIR/rec.mp" --ca "$T_DIR/ca" --connect-ports "$TARGET_PORT" -v
rc=0
curl -sS -x "$CAP_PROXY" -o /dev/null "https://localhost:$TARGET_PORT/health" 2>"$T_DIR/curl.err" || rc=$?
[ "$rc" != 0 ] || t_fail "curl accepted the capture's certificate without --cacert"
t_log "ok: curl refused the certificate (exit $rc: $(head -1 "$T_DIR/curl.err"))"
# The client closing before the handshake ends is a failure too.
(exec 3<>/dev/tcp/127.0.0.1/"$CAP_PORT"; printf 'CONNECT localhost:%s HTTP/1.1\r\nHost: localhost\r\n\r\n' "$TARGET_PORT" >&3;
 head -c 20 <&3 >/dev/null; exec 3>&-) || t_fail "raw CONNECT"
sleep 0.3
cap_stop INT
grep -q "2 client TLS handshakes failed" "$CAP_LOG" || t_fail "failed handshakes not counted: $(grep 'done:' "$CAP_LOG")"
grep -q "TLS handshake with client 127.0.0.1 for CONNECT localhost:$TARGET_PORT (SNI localhost) failed: .*alert" "$CAP_LOG" ||
    t_fail "-v does not log the SNI and the alert: $(grep -i 'handshake' "$CAP_LOG")"
grep -q "(SNI none) failed: the client closed the connection" "$CAP_LOG" ||
    t_fail "-v does not log the client that left mid-handshake: $(grep -i 'handshake' "$CAP_LOG")"
t_log "ok: $(grep -o 'TLS handshake with client.*alert[^(]*' "$CAP_LOG" | head -1)"
t_log "ok: $(grep -o '[0-9]* client TLS handshakes failed[^,]*' "$CAP_LOG")"
