#!/usr/bin/env bash
# TLS handshakes that curl and nginx do not make by default, read from a pcap
# with openssl s_server -www and s_client (which writes the key log):
# - KeyUpdate: s_client sends KeyUpdate twice (the second asks the server to
#   update too) before its request, so request and answer are under later keys
#   than the key log's *_TRAFFIC_SECRET_0 and must be derived (3 counted);
# - HelloRetryRequest: a server that takes only P-384 answers a client whose
#   key share is X25519 with HRR, then the client says hello again;
# - resumption: TLS 1.3 PSK and TLS 1.2 session tickets (s_client -sess_out,
#   then -sess_in: "Reused");
# - a request without Host: the SNI is its authority;
# - TLS 1.2 AES-CBC with MAC-then-encrypt (s_client -no_etm; curl's CBC cases
#   in pcap_tls.sh negotiate encrypt-then-MAC).
# Every request is recorded with status 200, as tshark decrypts them.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
t_need openssl tcpdump
[ "$(id -u)" = 0 ] || t_skip "tcpdump on lo needs root"
t_selfsigned srv
P=$(t_port)
P2=$(t_port)
t_bg s_server openssl s_server -accept "127.0.0.1:$P" -cert "$T_DIR/srv.crt" -key "$T_DIR/srv.key" -www
t_bg s_server2 openssl s_server -accept "127.0.0.1:$P2" -cert "$T_DIR/srv.crt" -key "$T_DIR/srv.key" -www -groups P-384
t_wait_port "$P"
t_wait_port "$P2"
t_bg tcpdump tcpdump -i lo -B 131072 --immediate-mode -U -w "$T_DIR/o.pcap" "tcp port $P or tcp port $P2"
TD_PID=$T_LAST_PID
for _ in $(seq 100); do grep -q 'listening on' "$T_DIR/tcpdump.log" && break; sleep 0.1; done
sleep 0.3
KEYS=$T_DIR/keys.txt
: >"$T_DIR/expected"

# client NAME PORT PATH "LINES BEFORE THE REQUEST" s_client args...: one connection,
# stdin lines first (s_client reads "k"/"K" as KeyUpdate commands), then the request.
client() {
    local name=$1 port=$2 path=$3 before=$4; shift 4
    # the request in one write(): s_server -www answers its first line at once, and a
    # request whose blank line came after the answer is not HTTP one can record
    printf 'GET %s HTTP/1.0\r\n\r\n' "$path" >"$T_DIR/$name.req"
    (sleep 0.3; for c in $before; do printf '%s\n' "$c"; sleep 0.3; done
     cat "$T_DIR/$name.req"; sleep 3) |
        openssl s_client -connect "127.0.0.1:$port" -keylogfile "$KEYS" "$@" >"$T_DIR/$name.log" 2>&1
    grep -qi 'HTTP/1.0 200' "$T_DIR/$name.log" || t_fail "$name: s_server did not answer: $(tail -5 "$T_DIR/$name.log")"
    printf 'GET\thttps://127.0.0.1:%s%s\t200\ttls\n' "$port" "$path" >>"$T_DIR/expected"
}
# its request has no Host: the SNI (with the port) is the recorded authority
client keyupdate "$P" /ku "k K" -tls1_3 -servername ku.test
sed -i "s|https://127.0.0.1:$P/ku|https://ku.test:$P/ku|" "$T_DIR/expected"
t_eq "s_client sent KeyUpdate twice" 2 "$(grep -c KEYUPDATE "$T_DIR/keyupdate.log")"
client hrr "$P2" /hrr "" -tls1_3 -groups X25519:P-384 -sess_out "$T_DIR/s13.pem"
client psk "$P2" /psk "" -tls1_3 -groups P-384 -sess_in "$T_DIR/s13.pem"
grep -q '^Reused, TLSv1.3' "$T_DIR/psk.log" || t_fail "TLS 1.3 session not resumed: $(grep -E '^(New|Reused)' "$T_DIR/psk.log")"
client tls12 "$P" /t12a "" -tls1_2 -sess_out "$T_DIR/s12.pem"
client tls12-resumed "$P" /t12b "" -tls1_2 -sess_in "$T_DIR/s12.pem"
grep -q '^Reused, TLSv1.2' "$T_DIR/tls12-resumed.log" || t_fail "TLS 1.2 session not resumed"
client cbc-mte "$P" /mte "" -tls1_2 -cipher ECDHE-RSA-AES128-SHA -no_etm
grep -q 'Cipher is ECDHE-RSA-AES128-SHA$' "$T_DIR/cbc-mte.log" && grep -q 'Protocol *: TLSv1.2$' "$T_DIR/cbc-mte.log" ||
    t_fail "cbc-mte: not ECDHE-RSA-AES128-SHA over TLS 1.2"
sleep 0.3
kill -INT "$TD_PID"
wait "$TD_PID" 2>/dev/null
if command -v tshark >/dev/null; then
    t_eq "the capture has a HelloRetryRequest" 1 "$(tshark -r "$T_DIR/o.pcap" -Y 'tls.handshake.type == 2' -T fields \
        -e tls.handshake.random 2>/dev/null | grep -c '^cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c')"
fi

"$T_CAPTURE" --pcap "$T_DIR/o.pcap" --keylog "$KEYS" -o "$T_DIR/o.mp" 2>"$T_DIR/o.log" ||
    t_fail "aiotest-capture: $(cat "$T_DIR/o.log")"
line=$(grep 'done:' "$T_DIR/o.log")
t_log "counter line: $line"
echo "$line" | grep -q "TLS: 6 connections, 6 decrypted ([0-9]* records, 3 key updates" || t_fail "TLS counters: $line"
echo "$line" | grep -q "key log: [0-9]* secrets, 0 lines malformed" || t_fail "OpenSSL's key log lines refused: $line"
cap_dump "$T_DIR/o.mp" | cut -f1-3,6 | sort >"$T_DIR/o.dump"
sort "$T_DIR/expected" >"$T_DIR/expected.sorted"
diff -u "$T_DIR/expected.sorted" "$T_DIR/o.dump" || t_fail "recorded exchanges differ"
t_log "ok: KeyUpdate, HelloRetryRequest, TLS 1.3 PSK, TLS 1.2 resumption, CBC MAC-then-encrypt: $(wc -l <"$T_DIR/o.dump") exchanges"
for len in $(cap_dump "$T_DIR/o.mp" | cut -f14); do
    [ "$len" -gt 500 ] || t_fail "a response body of $len bytes: the page of s_server -www is longer"
done
if command -v tshark >/dev/null; then
    t_eq "tshark decrypts the same requests" 6 \
        "$(tshark -o "tls.keylog_file:$KEYS" -r "$T_DIR/o.pcap" -Y http.request 2>/dev/null | wc -l)"
fi
