#!/usr/bin/env bash
# HTTPS read from a packet capture with a key log: nginx with TLS (1.2 and
# 1.3, h2 and http/1.1, proxying /api/ to aiotest-target), curl writing
# SSLKEYLOGFILE with AES-128-GCM, AES-256-GCM and ChaCha20-Poly1305 forced by
# --tls13-ciphers / --ciphers (and TLS 1.2 AES-CBC with HMAC-SHA1/SHA384),
# tcpdump writing the pcap. aiotest-capture
# --pcap --keylog must record every request curl made, flagged tls, https,
# with byte-exact bodies (sha256 of what curl sent and received), as many as
# tshark decrypts with the same key log; a connection whose key is not in the
# log is counted and named. The same pcap with the keys injected by
# `editcap --inject-secrets` gives the same exchanges without --keylog.
# Negative cases: wrong secrets (0 exchanges, bad tags counted), a key log
# with garbage lines (line named, the rest used), a packet cut out of a
# download (a gap counted, that exchange incomplete, the others intact).
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
t_need curl tcpdump openssl nginx python3
# --keylog errors: one line naming the problem, exit 2
rc=0; "$T_CAPTURE" --keylog "$T_DIR/k.txt" -o "$T_DIR/x.mp" 2>"$T_DIR/err" || rc=$?
[ "$rc" = 2 ] && grep -q -- "--keylog need --pcap or -i" "$T_DIR/err" || t_fail "--keylog alone: exit $rc: $(cat "$T_DIR/err")"
t_log "ok: --keylog without --pcap or -i: exit 2"
[ "$(id -u)" = 0 ] || t_skip "tcpdump on lo needs root"
t_target
cap_nginx_tls "ssl_protocols TLSv1.2 TLSv1.3;"
P=$NG_PORT
mkdir -p "$T_DIR/www" "$T_DIR/out"
head -c 1500000 /dev/urandom >"$T_DIR/www/big.bin"
echo "small file" >"$T_DIR/www/small.txt"
head -c 300000 /dev/urandom >"$T_DIR/upload.bin"
: >"$T_DIR/expected"
: >"$T_DIR/empty"
KEYS="$T_DIR/keys.txt"

t_bg tcpdump tcpdump -i lo -B 131072 --immediate-mode -U -w "$T_DIR/f.pcap" "tcp port $P"
TD_PID=$T_LAST_PID
for _ in $(seq 100); do grep -q 'listening on' "$T_DIR/tcpdump.log" && break; sleep 0.1; done
grep -q 'listening on' "$T_DIR/tcpdump.log" || t_fail "tcpdump did not start: $(cat "$T_DIR/tcpdump.log")"
sleep 0.3

N=0
# tls_case NAME EXPECT_NEGOTIATED KEYLOG CURL_ARGS... -- REQUESTS: each request
# is "GET PATH" or "POST PATH"; one curl, one connection, every request in order.
tls_case() {
    local name=$1 want=$2 keylog=$3; shift 3
    local args=() reqs=() r
    while [ "$1" != -- ]; do args+=("$1"); shift; done
    shift
    reqs=("$@")
    local curlreq=() i=0
    for r in "${reqs[@]}"; do
        i=$((i + 1))
        [ $i -gt 1 ] && curlreq+=(--next)
        curlreq+=(--resolve "localhost:$P:127.0.0.1" -k -sS "${args[@]}" -o "$T_DIR/out/$name.$i")
        if [ "${r%% *}" = POST ]; then
            curlreq+=(--data-binary "@$T_DIR/upload.bin" -H 'Content-Type: application/octet-stream')
        fi
        curlreq+=(-w '%{http_code} %{http_version}\n' "$NG_URL${r#* }")
    done
    SSLKEYLOGFILE="$keylog" curl -v "${curlreq[@]}" >"$T_DIR/out/$name.codes" 2>"$T_DIR/out/$name.err" ||
        t_fail "curl $name: $(tail -3 "$T_DIR/out/$name.err")"
    grep -q "SSL connection using $want" "$T_DIR/out/$name.err" ||
        t_fail "$name: expected $want, curl says: $(grep 'SSL connection using' "$T_DIR/out/$name.err")"
    [ "$(grep -c 'Connected to' "$T_DIR/out/$name.err")" = 1 ] || t_fail "$name: curl made more than one connection"
    i=0
    for r in "${reqs[@]}"; do
        i=$((i + 1))
        local code ver req=$T_DIR/empty
        read -r code ver < <(sed -n "${i}p" "$T_DIR/out/$name.codes")
        # POST /api/cart without a login answers 401 after nginx read the whole upload
        [ "$code" = 200 ] || { [ "${r%% *}" = POST ] && [ "$code" = 401 ]; } || t_fail "$name $r: status $code"
        [ "${r%% *}" = POST ] && req=$T_DIR/upload.bin
        [ "$keylog" = "$KEYS" ] && printf '%s\t%s\t%s\t%s\t%s\t%s\n' "${r%% *}" "$NG_URL${r#* }" "$code" \
            "$(sha "$req")" "$(sha "$T_DIR/out/$name.$i")" "$([ "$ver" = 2 ] && echo tls,h2 || echo tls)" \
            >>"$T_DIR/expected"
    done
    N=$((N + 1))
    t_log "ok: curl $name ($want, HTTP/$ver, ${#reqs[@]} requests)"
}

tls_case tls13-aes256-h2 "TLSv1.3 / TLS_AES_256_GCM_SHA384" "$KEYS" --tls13-ciphers TLS_AES_256_GCM_SHA384 -- \
    "GET /www/big.bin" "GET /www/small.txt" "POST /api/cart"
tls_case tls13-aes128-h1 "TLSv1.3 / TLS_AES_128_GCM_SHA256" "$KEYS" --http1.1 --tls13-ciphers TLS_AES_128_GCM_SHA256 -- \
    "GET /www/big.bin" "GET /www/small.txt" "POST /api/cart"
tls_case tls13-chacha-h2 "TLSv1.3 / TLS_CHACHA20_POLY1305_SHA256" "$KEYS" --tls13-ciphers TLS_CHACHA20_POLY1305_SHA256 -- \
    "GET /www/big.bin" "POST /api/cart"
tls_case tls12-aes128-h2 "TLSv1.2 / ECDHE-RSA-AES128-GCM-SHA256" "$KEYS" --tls-max 1.2 --ciphers ECDHE-RSA-AES128-GCM-SHA256 -- \
    "GET /www/big.bin" "POST /api/cart"
tls_case tls12-aes256-h1 "TLSv1.2 / ECDHE-RSA-AES256-GCM-SHA384" "$KEYS" --http1.1 --tls-max 1.2 --ciphers ECDHE-RSA-AES256-GCM-SHA384 -- \
    "GET /www/big.bin" "GET /www/small.txt"
tls_case tls12-chacha-h1 "TLSv1.2 / ECDHE-RSA-CHACHA20-POLY1305" "$KEYS" --http1.1 --tls-max 1.2 --ciphers ECDHE-RSA-CHACHA20-POLY1305 -- \
    "GET /www/small.txt" "POST /api/cart"
# CBC suites (OpenSSL negotiates encrypt-then-MAC for them; MAC-then-encrypt is in pcap_tls_openssl.sh)
tls_case tls12-cbc-sha1-h1 "TLSv1.2 / ECDHE-RSA-AES128-SHA" "$KEYS" --http1.1 --tls-max 1.2 --ciphers ECDHE-RSA-AES128-SHA -- \
    "GET /www/big.bin" "POST /api/cart"
tls_case tls12-cbc-sha384-h2 "TLSv1.2 / ECDHE-RSA-AES256-SHA384" "$KEYS" --tls-max 1.2 --ciphers ECDHE-RSA-AES256-SHA384 -- \
    "GET /www/small.txt" "GET /www/big.bin"
# its keys go to another file: this connection cannot be decrypted with $KEYS
tls_case no-key "TLSv1.3" "$T_DIR/other-keys.txt" -- "GET /www/small.txt"
sleep 0.5
kill -INT "$TD_PID"
wait "$TD_PID" 2>/dev/null
grep -q '^0 packets dropped by kernel' "$T_DIR/tcpdump.log" || t_log "warning: $(grep dropped "$T_DIR/tcpdump.log")"
sort "$T_DIR/expected" >"$T_DIR/expected.sorted"
NX=$(wc -l <"$T_DIR/expected")

# capture_check NAME ARGS...: aiotest-capture ARGS gives exactly the expected exchanges.
capture_check() {
    local name=$1; shift
    "$T_CAPTURE" "$@" -o "$T_DIR/$name.mp" --max-body 4MiB 2>"$T_DIR/$name.log" ||
        t_fail "$name: aiotest-capture exited $?: $(cat "$T_DIR/$name.log")"
    cap_dump "$T_DIR/$name.mp" | cut -f1-6 | sort >"$T_DIR/$name.dump"
    if ! diff -u "$T_DIR/expected.sorted" "$T_DIR/$name.dump" >"$T_DIR/$name.diff"; then
        cat "$T_DIR/$name.diff" "$T_DIR/$name.log" >&2
        t_fail "$name: recorded exchanges differ from what curl sent and received"
    fi
    line=$(grep 'done:' "$T_DIR/$name.log")
    echo "$line" | grep -q "TLS: $N connections, $((N - 1)) decrypted" || t_fail "$name: counter line: $line"
    echo "$line" | grep -q "1 NOT decrypted (1 no key for its client_random, first: 127.0.0.1:[0-9]* -> 127.0.0.1:$P (SNI localhost), client_random [0-9a-f]\{64\}" ||
        t_fail "$name: the connection without a key is not named: $line"
    t_log "ok: $name: $NX exchanges over $((N - 1)) TLS connections, byte-exact; the one without a key named"
}
rc=0; "$T_CAPTURE" --pcap "$T_DIR/f.pcap" --keylog "$T_DIR/missing-keys.txt" -o "$T_DIR/x.mp" 2>"$T_DIR/err" || rc=$?
[ "$rc" = 2 ] && grep -q "^aiotest-capture: --keylog $T_DIR/missing-keys.txt: No such file" "$T_DIR/err" ||
    t_fail "a missing key log: exit $rc: $(cat "$T_DIR/err")"
t_log "ok: a missing key log file: exit 2, named"
capture_check keylog --pcap "$T_DIR/f.pcap" --keylog "$KEYS"
t_log "counter line: $line"

if command -v tshark >/dev/null; then
    h1=$(tshark -o "tls.keylog_file:$KEYS" -r "$T_DIR/f.pcap" -Y http.request 2>/dev/null | wc -l)
    h2=$(tshark -o "tls.keylog_file:$KEYS" -r "$T_DIR/f.pcap" -Y 'http2.type == 1' -T fields \
        -e http2.headers.method 2>/dev/null | grep -c .)
    t_eq "tshark with the same key log decrypts as many requests" "$NX" "$((h1 + h2))"
fi

if command -v editcap >/dev/null; then
    editcap --inject-secrets "tls,$KEYS" "$T_DIR/f.pcap" "$T_DIR/dsb.pcapng" || t_fail "editcap --inject-secrets"
    capture_check dsb --pcap "$T_DIR/dsb.pcapng"
    t_log "ok: the secrets of a pcapng Decryption Secrets Block are used without --keylog"
else
    t_log "editcap not installed: the Decryption Secrets Block case is not run"
fi

# garbage lines in the key log: named by line, the good lines used
{ echo "this is not a key log line"; cat "$KEYS"; echo "CLIENT_RANDOM 1234 5678"; } >"$T_DIR/garbage-keys.txt"
capture_check garbage --pcap "$T_DIR/f.pcap" --keylog "$T_DIR/garbage-keys.txt"
grep -q "key log: [0-9]* secrets, 2 lines malformed (first at $T_DIR/garbage-keys.txt:1: " "$T_DIR/garbage.log" ||
    t_fail "garbage lines not named: $(cat "$T_DIR/garbage.log")"
t_log "ok: a key log with garbage lines: line 1 named, the rest used"

# wrong secrets (every secret's first hex digit changed): nothing decrypted, all counted
sed -E 's/^([A-Z_0-9]+ [0-9a-f]{64} )([0-9a-f])/\1X\2/; s/ X[0-7]/ f/; s/ X[89a-f]/ 0/' "$KEYS" >"$T_DIR/wrong-keys.txt"
cmp -s "$KEYS" "$T_DIR/wrong-keys.txt" && t_fail "the wrong key log equals the right one"
"$T_CAPTURE" --pcap "$T_DIR/f.pcap" --keylog "$T_DIR/wrong-keys.txt" -o "$T_DIR/wrong.mp" 2>"$T_DIR/wrong.log" ||
    t_fail "wrong keys: exit $?"
t_eq "wrong keys: exchanges written" 0 "$(cap_dump "$T_DIR/wrong.mp" | wc -l)"
grep -q "TLS: $N connections, 0 decrypted .*$N NOT decrypted (1 no key for its client_random, .*; $((N - 1)) decrypt failure (bad tag or MAC), first: " \
    "$T_DIR/wrong.log" || t_fail "wrong keys: $(cat "$T_DIR/wrong.log")"
t_log "ok: wrong secrets: 0 exchanges, $((N - 1)) connections counted as bad tags"

# a packet of the TLS 1.2 AES-256 h1 download cut out: a gap, that exchange
# incomplete, every other exchange unchanged
python3 - "$T_DIR/f.pcap" "$T_DIR/cut.pcap" "$P" <<'PY' || t_fail "cutting a packet out"
import struct, sys
src, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(src, 'rb').read()
out, pos, linktype = [data[:24]], 24, struct.unpack('<I', data[20:24])[0]
conns, big, dropped = [], 0, False
while pos < len(data):
    ts, tu, incl, orig = struct.unpack('<IIII', data[pos:pos + 16])
    rec = data[pos:pos + 16 + incl]
    pos += 16 + incl
    ip = rec[16 + {1: 14, 113: 16, 276: 20}.get(linktype, 14):]
    ihl = (ip[0] & 15) * 4
    tcp = ip[ihl:]
    sport, dport = struct.unpack('>HH', tcp[:4])
    payload = len(ip) - ihl - (tcp[12] >> 4) * 4
    if tcp[13] & 2 and not tcp[13] & 16:
        conns.append(sport)
    # the 5th connection is the TLS 1.2 AES-256 h1 one: drop its 3rd big server segment
    if not dropped and len(conns) >= 5 and sport == port and dport == conns[4] and payload > 10000:
        big += 1
        if big == 3:
            dropped = True
            continue
    out.append(rec)
if not dropped:
    sys.exit('no segment to drop')
open(dst, 'wb').write(b''.join(out))
PY
"$T_CAPTURE" --pcap "$T_DIR/cut.pcap" --keylog "$KEYS" -o "$T_DIR/cut.mp" --max-body 4MiB 2>"$T_DIR/cut.log" ||
    t_fail "cut pcap: exit $?"
cap_dump "$T_DIR/cut.mp" | cut -f1-6 | sort >"$T_DIR/cut.dump"
line=$(grep 'done:' "$T_DIR/cut.log")
echo "$line" | grep -q "1 capture gap, first: " || t_fail "cut pcap: no TLS gap counted: $line"
t_eq "cut pcap: exchanges flagged incomplete" 1 "$(grep -c incomplete "$T_DIR/cut.dump")"
t_eq "cut pcap: the other exchanges are intact" "$((NX - 2))" "$(comm -12 "$T_DIR/expected.sorted" "$T_DIR/cut.dump" | wc -l)"
t_log "ok: a missing packet in a TLS stream is counted as a gap, its exchange incomplete"
