#!/usr/bin/env bash
# TLS 1.3 0-RTT read from a pcap: nginx with ssl_early_data on; openssl
# s_client makes a full handshake (-sess_out), then resumes sending its
# request as early data (-early_data): the request is read with
# CLIENT_EARLY_TRAFFIC_SECRET and recorded with its answer. Then nginx is
# restarted (new ticket keys), so the next early data is rejected: those
# records are skipped and counted (the server skipped them too), and the
# connection still decrypts.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
t_need openssl tcpdump nginx
[ "$(id -u)" = 0 ] || t_skip "tcpdump on lo needs root"
t_selfsigned srv
P=$(t_port)
mkdir -p "$T_DIR/www"
echo "early bird" >"$T_DIR/www/e.txt"
start_nginx() {
    t_nginx "
    access_log $T_DIR/nginx-access.log proto;
    server {
        listen 127.0.0.1:$P ssl;
        ssl_protocols TLSv1.3;
        ssl_early_data on;
        ssl_certificate $T_DIR/srv.crt;
        ssl_certificate_key $T_DIR/srv.key;
        root $T_DIR/www;
    }"
    t_wait_port "$P"
}
start_nginx
t_bg tcpdump tcpdump -i lo -B 131072 --immediate-mode -U -w "$T_DIR/e.pcap" "tcp port $P"
TD_PID=$T_LAST_PID
for _ in $(seq 100); do grep -q 'listening on' "$T_DIR/tcpdump.log" && break; sleep 0.1; done
sleep 0.3
KEYS=$T_DIR/keys.txt
printf 'GET /e.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' >"$T_DIR/req"
(sleep 0.3; cat "$T_DIR/req"; sleep 1) | openssl s_client -connect "127.0.0.1:$P" -keylogfile "$KEYS" \
    -sess_out "$T_DIR/sess.pem" >"$T_DIR/full.log" 2>&1
grep -q 'HTTP/1.1 200' "$T_DIR/full.log" || t_fail "full handshake: no answer"
sleep 1 | openssl s_client -connect "127.0.0.1:$P" -keylogfile "$KEYS" -sess_in "$T_DIR/sess.pem" \
    -early_data "$T_DIR/req" >"$T_DIR/early.log" 2>&1
grep -q 'Early data was accepted' "$T_DIR/early.log" || t_fail "0-RTT not accepted: $(grep -i early "$T_DIR/early.log")"
grep -q 'HTTP/1.1 200' "$T_DIR/early.log" || t_fail "0-RTT: no answer"
grep -q CLIENT_EARLY_TRAFFIC_SECRET "$KEYS" || t_fail "s_client logged no early traffic secret"
kill "$NGINX_PID"
wait "$NGINX_PID" 2>/dev/null
start_nginx # new session ticket keys: the old ticket, and its early data, are refused
sleep 1 | openssl s_client -connect "127.0.0.1:$P" -keylogfile "$KEYS" -sess_in "$T_DIR/sess.pem" \
    -early_data "$T_DIR/req" >"$T_DIR/rejected.log" 2>&1
grep -q 'Early data was rejected' "$T_DIR/rejected.log" || t_fail "0-RTT not rejected: $(grep -i early "$T_DIR/rejected.log")"
sleep 0.3
kill -INT "$TD_PID"
wait "$TD_PID" 2>/dev/null

"$T_CAPTURE" --pcap "$T_DIR/e.pcap" --keylog "$KEYS" -o "$T_DIR/e.mp" 2>"$T_DIR/e.log" ||
    t_fail "aiotest-capture: $(cat "$T_DIR/e.log")"
line=$(grep 'done:' "$T_DIR/e.log")
t_log "counter line: $line"
echo "$line" | grep -q "TLS: 3 connections, 3 decrypted" || t_fail "TLS counters: $line"
echo "$line" | grep -q ", [1-9][0-9]* 0-RTT records the server rejected" || t_fail "rejected early data not counted: $line"
cap_dump "$T_DIR/e.mp" >"$T_DIR/e.dump"
t_eq "the full handshake's and the 0-RTT request, both answered" \
    "GET https://localhost/e.txt 200 tls;GET https://localhost/e.txt 200 tls;" \
    "$(cut -f1-3,6 "$T_DIR/e.dump" | tr '\t\n' ' ;' | sed 's/ ;/;/g')"
t_eq "the 0-RTT answer's body" "$(sha "$T_DIR/www/e.txt")" "$(cut -f5 "$T_DIR/e.dump" | sort -u)"
