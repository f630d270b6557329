#!/usr/bin/env bash
# TLS 1.3 KeyUpdate read from a pcap: openssl s_client sends KeyUpdate twice
# (the second asks the server to update too) before its request, so the
# request and the answer are each under a later generation of keys than the
# key log's *_TRAFFIC_SECRET_0: aiotest-capture must derive them (3 key
# updates counted) and record the exchange, as tshark decrypts it.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
t_need openssl tcpdump
[ "$(id -u)" = 0 ] || t_skip "tcpdump on lo needs root"
t_selfsigned srv
P=$(t_port)
t_bg s_server openssl s_server -accept "127.0.0.1:$P" -cert "$T_DIR/srv.crt" -key "$T_DIR/srv.key" -www
t_wait_port "$P"
t_bg tcpdump tcpdump -i lo -B 131072 --immediate-mode -U -w "$T_DIR/ku.pcap" "tcp port $P"
TD_PID=$T_LAST_PID
for _ in $(seq 100); do grep -q 'listening on' "$T_DIR/tcpdump.log" && break; sleep 0.1; done
sleep 0.3
# s_client reads "k" / "K" lines as commands: KeyUpdate, KeyUpdate with update_requested
(sleep 0.3; printf 'k\n'; sleep 0.3; printf 'K\n'; sleep 0.3; printf 'GET /ku HTTP/1.0\r\n\r\n'; sleep 3) |
    openssl s_client -connect "127.0.0.1:$P" -tls1_3 -keylogfile "$T_DIR/keys.txt" >"$T_DIR/client.log" 2>&1
t_eq "s_client sent KeyUpdate twice" 2 "$(grep -c KEYUPDATE "$T_DIR/client.log")"
grep -qi 'HTTP/1.0 200' "$T_DIR/client.log" || t_fail "s_server did not answer: $(tail -5 "$T_DIR/client.log")"
sleep 0.3
kill -INT "$TD_PID"
wait "$TD_PID" 2>/dev/null

"$T_CAPTURE" --pcap "$T_DIR/ku.pcap" --keylog "$T_DIR/keys.txt" -o "$T_DIR/ku.mp" 2>"$T_DIR/ku.log" ||
    t_fail "aiotest-capture: $(cat "$T_DIR/ku.log")"
line=$(grep 'done:' "$T_DIR/ku.log")
t_log "counter line: $line"
echo "$line" | grep -q "TLS: 1 connections, 1 decrypted ([0-9]* records, 3 key updates" || t_fail "key updates: $line"
echo "$line" | grep -q "0 lines malformed" || t_fail "OpenSSL's key log lines refused: $line"
cap_dump "$T_DIR/ku.mp" >"$T_DIR/ku.dump"
t_eq "the exchange after the key updates" "GET https://127.0.0.1:$P/ku 200 tls" "$(cut -f1-3,6 "$T_DIR/ku.dump" | tr '\t' ' ')"
len=$(cut -f14 "$T_DIR/ku.dump")
[ "$len" -gt 500 ] || t_fail "response body of $len bytes: the page of s_server -www is longer"
if command -v tshark >/dev/null; then
    t_eq "tshark decrypts the same request" 1 \
        "$(tshark -o "tls.keylog_file:$T_DIR/keys.txt" -r "$T_DIR/ku.pcap" -Y http.request 2>/dev/null | wc -l)"
fi
