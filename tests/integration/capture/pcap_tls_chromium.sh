#!/usr/bin/env bash
# Headless chromium writes a TLS key log (--ssl-key-log-file) while it loads
# the demo shop's home page from nginx (TLS 1.3, h2) in front of
# aiotest-target; tcpdump and a live aiotest-capture -i lo --keylog watch.
# Both the live recording and --pcap on tcpdump's file with the key log hold
# the page, its static assets and its XHRs as HTTP/2 exchanges flagged tls,
# with the bodies the servers sent (sha256 against a fresh download), and
# the two recordings agree.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
t_need chromium openssl tcpdump curl
[ "$(id -u)" = 0 ] || t_skip "packet capture on lo needs root"
t_target --quiet
cap_nginx_tls "ssl_protocols TLSv1.2 TLSv1.3;"
P=$NG_PORT
SPKI=$(openssl x509 -in "$T_DIR/nginx.crt" -noout -pubkey | openssl pkey -pubin -outform der |
    openssl dgst -sha256 -binary | openssl enc -base64 -A)
KEYS="$T_DIR/keys.txt"
: >"$KEYS"

t_bg tcpdump tcpdump -i lo -B 131072 --immediate-mode -U -w "$T_DIR/c.pcap" "tcp port $P"
TD_PID=$T_LAST_PID
t_bg live "$T_CAPTURE" -i lo --filter "tcp port $P" --keylog "$KEYS" -o "$T_DIR/live.mp"
CAP_PID=$T_LAST_PID
for _ in $(seq 100); do
    grep -q 'listening on' "$T_DIR/tcpdump.log" && grep -q 'capturing on lo' "$T_DIR/live.log" && break
    sleep 0.1
done
grep -q 'capturing on lo' "$T_DIR/live.log" || t_fail "capture did not start: $(cat "$T_DIR/live.log")"
sleep 0.3

timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$T_DIR/chromium" --ssl-key-log-file="$KEYS" \
    --host-resolver-rules="MAP localhost 127.0.0.1" \
    --ignore-certificate-errors-spki-list="$SPKI" --virtual-time-budget=10000 \
    --dump-dom "$NG_URL/" >"$T_DIR/dom.html" 2>"$T_DIR/chromium.log" || t_fail "chromium: $(tail -5 "$T_DIR/chromium.log")"
grep -q 'hello demo' "$T_DIR/dom.html" || t_fail "the page's script did not finish: $(tail -3 "$T_DIR/chromium.log")"
[ -s "$KEYS" ] || t_fail "chromium wrote no key log"
t_log "ok: chromium loaded the page over TLS and wrote $(grep -c . "$KEYS") key log lines"
sleep 0.5

kill -INT "$CAP_PID"
rc=0
wait "$CAP_PID" || rc=$?
[ "$rc" = 0 ] || { cat "$T_DIR/live.log" >&2; t_fail "live capture exited $rc"; }
kill -INT "$TD_PID"
wait "$TD_PID" 2>/dev/null
t_log "live: $(grep -o 'TLS: .*' "$T_DIR/live.log")"

"$T_CAPTURE" --pcap "$T_DIR/c.pcap" --keylog "$KEYS" -o "$T_DIR/file.mp" 2>"$T_DIR/file.log" ||
    t_fail "--pcap: $(cat "$T_DIR/file.log")"
line=$(grep 'done:' "$T_DIR/file.log")
t_log "file: $(echo "$line" | grep -o 'TLS: .*')"
echo "$line" | grep -q ' 0 NOT decrypted' || t_fail "connections not decrypted: $line"
cap_dump "$T_DIR/file.mp" >"$T_DIR/file.dump"
cap_dump "$T_DIR/live.mp" >"$T_DIR/live.dump"

for want in "GET $NG_URL/" "GET $NG_URL/static/style.css" "GET $NG_URL/static/app.js" \
            "GET $NG_URL/static/logo.png" "POST $NG_URL/api/login" "GET $NG_URL/api/search?q=shoes" \
            "GET $NG_URL/api/profile"; do
    line=$(awk -F'\t' -v m="${want%% *}" -v u="${want#* }" '$1 == m && $2 == u' "$T_DIR/file.dump" | head -1)
    [ -n "$line" ] || t_fail "not recorded: $want"
    t_eq "$want: status and flags" "200 tls,h2" "$(echo "$line" | cut -f3,6 | tr '\t' ' ')"
done
for asset in static/style.css static/app.js static/logo.png; do
    curl -sk --resolve "localhost:$P:127.0.0.1" -o "$T_DIR/asset" "$NG_URL/$asset" || t_fail "curl $asset"
    t_eq "$asset: the recorded body is what the server sends" "$(sha "$T_DIR/asset")" \
        "$(awk -F'\t' -v u="$NG_URL/$asset" '$2 == u { print $5; exit }' "$T_DIR/file.dump")"
done
if ! diff <(cut -f1-6 "$T_DIR/live.dump" | sort) <(cut -f1-6 "$T_DIR/file.dump" | sort) >"$T_DIR/diff"; then
    cat "$T_DIR/diff" >&2
    t_fail "the live capture and tcpdump's file give different exchanges"
fi
if command -v tshark >/dev/null; then
    t_eq "tshark decrypts as many HTTP/2 requests" "$(wc -l <"$T_DIR/file.dump")" \
        "$(tshark -o "tls.keylog_file:$KEYS" -r "$T_DIR/c.pcap" -Y 'http2.type == 1' -T fields \
            -e http2.headers.method 2>/dev/null | grep -c .)"
fi
t_log "ok: $(wc -l <"$T_DIR/file.dump") exchanges of chromium's HTTPS page load, live and from the file"
