#!/usr/bin/env bash
# A CONNECT seen by passive capture is a tunnel, as the proxy records it:
# curl goes through aiotest-capture --proxy (blind tunnel, no --ca) to nginx
# over TLS while tcpdump records the client side; --pcap on that file gives
# the CONNECT as one exchange with status 200, the tunnel flag and the
# proxy's own byte counts, no body (the TLS bytes are not one) and not
# incomplete (the connection's end is in the capture). A refused CONNECT
# (502) stays an ordinary exchange, and plain requests through the proxy
# are read as before.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
t_need curl tcpdump
[ "$(id -u)" = 0 ] || t_skip "tcpdump on lo needs root"
t_target --quiet
cap_nginx_tls
cap_start -o "$T_DIR/proxy.mp" --connect-ports any  # nginx and the dead port are not 80/443
t_bg tcpdump tcpdump -i lo -B 131072 -U --immediate-mode -w "$T_DIR/f.pcap" "tcp port $CAP_PORT"
TD_PID=$T_LAST_PID
for _ in $(seq 100); do grep -q 'listening on' "$T_DIR/tcpdump.log" && break; sleep 0.1; done
grep -q 'listening on' "$T_DIR/tcpdump.log" || t_fail "tcpdump did not start: $(cat "$T_DIR/tcpdump.log")"
sleep 0.3

code=$(curl -sS --cacert "$T_DIR/nginx.crt" -x "$CAP_PROXY" -o "$T_DIR/tunnel.out" -w '%{http_code}' \
    "$NG_URL/api/search?q=tunnel")
t_eq "HTTPS through the blind tunnel" 200 "$code"
dead=$(t_port)
code=$(curl -sS -x "$CAP_PROXY" -p -o /dev/null -w '%{http_connect}' "http://127.0.0.1:$dead/" 2>/dev/null)
t_eq "CONNECT to a refused port" 502 "$code"
code=$(curl -sS -x "$CAP_PROXY" -o "$T_DIR/plain.out" -w '%{http_code}' "$TARGET_URL/api/search?q=plain")
t_eq "plain request through the proxy" 200 "$code"

# tcpdump's file stops growing: it has read everything
size=-1; stable=0
for _ in $(seq 150); do
    now=$(stat -c %s "$T_DIR/f.pcap")
    if [ "$now" = "$size" ]; then stable=$((stable + 1)); else stable=0; size=$now; fi
    [ "$stable" -ge 10 ] && break
    sleep 0.1
done
cap_stop INT
kill -INT "$TD_PID"
wait "$TD_PID" 2>/dev/null

"$T_CAPTURE" --pcap "$T_DIR/f.pcap" -o "$T_DIR/pcap.mp" 2>"$T_DIR/pcap.log" || t_fail "--pcap: $(cat "$T_DIR/pcap.log")"
t_log "$(cat "$T_DIR/pcap.log")"
cap_dump "$T_DIR/proxy.mp" >"$T_DIR/proxy.txt"
cap_dump "$T_DIR/pcap.mp" >"$T_DIR/pcap.txt"
want=$(grep -P "^CONNECT\thttps://localhost:$NG_PORT\t" "$T_DIR/proxy.txt") || t_fail "the proxy recorded no tunnel"
got=$(grep -P "^CONNECT\thttps://localhost:$NG_PORT\t" "$T_DIR/pcap.txt") ||
    t_fail "--pcap recorded no CONNECT: $(cat "$T_DIR/pcap.txt")"
empty=$(printf '' | sha256sum | cut -d' ' -f1)
t_eq "tunnel: status, no response body, flags" "200 $empty tunnel" "$(echo "$got" | cut -f3,5,6 | tr '\t' ' ')"
t_eq "tunnel bytes up and down, as the proxy counted them" \
    "$(echo "$want" | cut -f16,17 | tr '\t' ' ')" "$(echo "$got" | cut -f16,17 | tr '\t' ' ')"
[ "$(echo "$got" | cut -f12)" -ge "$(echo "$got" | cut -f10)" ] || t_fail "tunnel ends before it starts: $got"
t_eq "refused CONNECT" "502 -" \
    "$(grep -P "^CONNECT\thttps://127.0.0.1:$dead\t" "$T_DIR/pcap.txt" | cut -f3,6 | tr '\t' ' ')"
t_eq "plain request" "200 $(sha "$T_DIR/plain.out")" \
    "$(grep -P "^GET\t$TARGET_URL/api/search\\?q=plain\t" "$T_DIR/pcap.txt" | cut -f3,5 | tr '\t' ' ')"
t_eq "exchanges in the pcap recording" 3 "$(wc -l <"$T_DIR/pcap.txt")"
