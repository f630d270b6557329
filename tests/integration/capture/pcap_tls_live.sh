#!/usr/bin/env bash
# Live HTTPS capture with a key log that grows during the capture:
# aiotest-capture -i lo --keylog KEYS starts with an empty key log; curl
# appends its secrets (SSLKEYLOGFILE) while the capture runs, so records
# arrive before their keys and the log must be read again. TLS 1.3 and 1.2,
# h2 and http/1.1, AES-GCM and ChaCha20 against nginx; every request is in
# the recording with the bodies curl sent and received, stopped by SIGINT
# with exit 0.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
t_need curl openssl nginx
[ "$(id -u)" = 0 ] || t_skip "live capture needs root"
t_target
cap_nginx_tls "ssl_protocols TLSv1.2 TLSv1.3;"
P=$NG_PORT
mkdir -p "$T_DIR/www" "$T_DIR/out"
head -c 800000 /dev/urandom >"$T_DIR/www/big.bin"
echo "small file" >"$T_DIR/www/small.txt"
head -c 200000 /dev/urandom >"$T_DIR/upload.bin"
KEYS="$T_DIR/keys.txt"
: >"$KEYS"
: >"$T_DIR/expected"
: >"$T_DIR/empty"

t_bg live "$T_CAPTURE" -i lo --filter "tcp port $P" --keylog "$KEYS" --max-body 4MiB -o "$T_DIR/live.mp"
CAP_PID=$T_LAST_PID
for _ in $(seq 100); do grep -q 'capturing on lo' "$T_DIR/live.log" && break; sleep 0.1; done
grep -q 'capturing on lo' "$T_DIR/live.log" || t_fail "capture did not start: $(cat "$T_DIR/live.log")"
sleep 0.3

# one curl per case: GET big, GET small, POST upload on one connection. With
# LATE=1, curl writes its keys elsewhere and they reach the key log only 0.7s
# later, while the upload (at 100 kB/s) still runs: the capture has seen the
# records first and must read the log again.
N=0
live_case() {
    local name=$1 want=$2; shift 2
    local keyfile=$KEYS limit=() copier=
    if [ "${LATE:-0}" = 1 ]; then
        keyfile=$T_DIR/$name.late-keys
        limit=(--limit-rate 100k)
        (sleep 0.7; cat "$keyfile" >>"$KEYS") &
        copier=$!
    fi
    SSLKEYLOGFILE="$keyfile" curl -v --resolve "localhost:$P:127.0.0.1" -k -sS "$@" \
        -o "$T_DIR/out/$name.1" -w '%{http_code}\n' "$NG_URL/www/big.bin" --next \
        --resolve "localhost:$P:127.0.0.1" -k -sS "$@" -o "$T_DIR/out/$name.2" -w '%{http_code}\n' "$NG_URL/www/small.txt" --next \
        --resolve "localhost:$P:127.0.0.1" -k -sS "$@" -o "$T_DIR/out/$name.3" -w '%{http_code}\n' "${limit[@]}" \
        --data-binary "@$T_DIR/upload.bin" -H 'Content-Type: application/octet-stream' "$NG_URL/api/cart" \
        >"$T_DIR/out/$name.codes" 2>"$T_DIR/out/$name.err" || t_fail "curl $name"
    [ -n "$copier" ] && wait "$copier"
    grep -q "SSL connection using $want" "$T_DIR/out/$name.err" || t_fail "$name: not $want"
    local codes
    codes=$(tr '\n' ' ' <"$T_DIR/out/$name.codes")
    [ "$codes" = "200 200 401 " ] || t_fail "$name: statuses $codes"
    printf 'GET\t%s\t200\t%s\t%s\n' "$NG_URL/www/big.bin" "$(sha "$T_DIR/empty")" "$(sha "$T_DIR/out/$name.1")" >>"$T_DIR/expected"
    printf 'GET\t%s\t200\t%s\t%s\n' "$NG_URL/www/small.txt" "$(sha "$T_DIR/empty")" "$(sha "$T_DIR/out/$name.2")" >>"$T_DIR/expected"
    printf 'POST\t%s\t401\t%s\t%s\n' "$NG_URL/api/cart" "$(sha "$T_DIR/upload.bin")" "$(sha "$T_DIR/out/$name.3")" >>"$T_DIR/expected"
    N=$((N + 1))
}
live_case tls13-h2 "TLSv1.3 / TLS_AES_256_GCM_SHA384" --tls13-ciphers TLS_AES_256_GCM_SHA384
live_case tls13-chacha-h1 "TLSv1.3 / TLS_CHACHA20_POLY1305_SHA256" --http1.1 --tls13-ciphers TLS_CHACHA20_POLY1305_SHA256
live_case tls12-h2 "TLSv1.2 / ECDHE-RSA-AES128-GCM-SHA256" --tls-max 1.2 --ciphers ECDHE-RSA-AES128-GCM-SHA256
live_case tls12-chacha-h1 "TLSv1.2 / ECDHE-RSA-CHACHA20-POLY1305" --http1.1 --tls-max 1.2 --ciphers ECDHE-RSA-CHACHA20-POLY1305
LATE=1 live_case late-tls13-h2 "TLSv1.3 / TLS_AES_128_GCM_SHA256" --tls13-ciphers TLS_AES_128_GCM_SHA256
LATE=1 live_case late-tls12-h1 "TLSv1.2 / ECDHE-RSA-AES256-GCM-SHA384" --http1.1 --tls-max 1.2 --ciphers ECDHE-RSA-AES256-GCM-SHA384
sleep 0.5

kill -INT "$CAP_PID"
rc=0
wait "$CAP_PID" || rc=$?
[ "$rc" = 0 ] || { cat "$T_DIR/live.log" >&2; t_fail "aiotest-capture exited $rc after SIGINT"; }
line=$(grep 'done:' "$T_DIR/live.log")
t_log "counter line: $line"
echo "$line" | grep -q "TLS: $N connections, $N decrypted" || t_fail "not every connection decrypted: $line"
drops=$(echo "$line" | sed 's/.*kernel drops \([0-9]*\).*/\1/')
[ "$drops" = 0 ] || t_log "warning: the kernel dropped $drops packets"
cap_dump "$T_DIR/live.mp" | cut -f1-5 | sort >"$T_DIR/live.dump"
sort "$T_DIR/expected" >"$T_DIR/expected.sorted"
if ! diff -u "$T_DIR/expected.sorted" "$T_DIR/live.dump" >"$T_DIR/diff"; then
    cat "$T_DIR/diff" >&2
    t_fail "live capture with a growing key log differs from what curl sent and received"
fi
t_eq "every exchange flagged tls" "$(wc -l <"$T_DIR/expected")" "$(cap_dump "$T_DIR/live.mp" | cut -f6 | grep -c tls)"
waited=$(echo "$line" | sed 's/.* \([0-9]*\) waited for their keys.*/\1/')
[ "$waited" -ge 2 ] || t_fail "the two connections whose keys came late did not wait for them: $line"
t_log "ok: $(wc -l <"$T_DIR/expected") exchanges over $N live TLS connections ($waited waited for keys the log had not yet)"
