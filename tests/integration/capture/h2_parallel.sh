#!/usr/bin/env bash
# Many concurrent HTTP/2 streams on one intercepted connection: 20 downloads
# of 3 MB and 10 uploads of 2 MB (PUT to nginx's WebDAV) arrive intact, each
# stream is one complete exchange with its own stream id on the same
# connection, and body-less answers (201) are not taken for cut streams. The
# origin (nginx, h2 by ALPN) is spoken to in HTTP/2, or HTTP/1.1 with
# --no-upstream-h2. A client that gives up mid-download (over h2 and over
# HTTP/1.1 in TLS) leaves an exchange flagged incomplete.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
t_need curl nginx
mkdir -p "$T_DIR/www/dav"
head -c 3000000 /dev/urandom >"$T_DIR/www/big.bin"
head -c 40000000 /dev/zero >"$T_DIR/www/huge.bin"
head -c 2000000 /dev/urandom >"$T_DIR/up.bin"
cap_nginx_tls "location /dav/ { dav_methods PUT; }"
CA="$T_DIR/ca"
"$T_CAPTURE" --init-ca "$CA" >/dev/null || t_fail "--init-ca"
REC="$T_DIR/rec.mp"
cap_start -o "$REC" --connect-ports "$NG_PORT" --ca "$CA" --upstream-ca "$T_DIR/nginx.crt"

args=()
for i in $(seq 1 20); do args+=("$NG_URL/big.bin" -o "$T_DIR/dl$i.bin"); done
curl -sS --parallel --parallel-max 20 --http2 --cacert "$CA/ca.pem" -x "$CAP_PROXY" "${args[@]}" 2>"$T_DIR/curl.err" ||
    t_fail "parallel downloads: $(tail -2 "$T_DIR/curl.err")"
for i in $(seq 1 20); do
    [ "$(sha "$T_DIR/dl$i.bin")" = "$(sha "$T_DIR/www/big.bin")" ] || t_fail "download $i differs"
done
t_log "ok: 20 parallel h2 downloads intact"
args=()
for i in $(seq 1 10); do args+=(-T "$T_DIR/up.bin" "$NG_URL/dav/u$i.bin"); done
codes=$(curl -sS --parallel --parallel-max 10 --http2 --cacert "$CA/ca.pem" -x "$CAP_PROXY" \
    -o /dev/null -w '%{http_code}\n' "${args[@]}" 2>"$T_DIR/curl.err" | sort | uniq -c | tr -s ' ')
t_eq "10 parallel h2 uploads" " 10 201" "$codes"
for i in $(seq 1 10); do
    [ "$(sha "$T_DIR/www/dav/u$i.bin")" = "$(sha "$T_DIR/up.bin")" ] || t_fail "upload $i stored differently"
done
t_log "ok: uploads stored intact"
for proto in http2 http1.1; do
    curl -sS --"$proto" --limit-rate 500k --max-time 1 --cacert "$CA/ca.pem" -x "$CAP_PROXY" \
        -o /dev/null "$NG_URL/huge.bin?$proto" 2>/dev/null && t_fail "the $proto download was expected to time out"
done
sleep 0.3
cap_stop INT
cap_dump "$REC" >"$T_DIR/dump-all.txt"
for proto in http2 http1.1; do
    line=$(grep -P "/huge.bin\?$proto\t" "$T_DIR/dump-all.txt") || t_fail "abandoned $proto download not recorded"
    echo "$line" | cut -f6 | grep -q incomplete || t_fail "abandoned $proto download not flagged incomplete: $line"
    t_log "ok: abandoned $proto download: $(echo "$line" | cut -f6,18 | tr '\t' ' ')"
done
grep -v huge "$T_DIR/dump-all.txt" >"$T_DIR/dump.txt"
t_eq "recorded exchanges" 30 "$(wc -l <"$T_DIR/dump.txt")"
t_eq "flags" "tls,h2" "$(cut -f6 "$T_DIR/dump.txt" | sort -u | tr '\n' ' ' | sed 's/ $//')"
t_eq "GET streams on one connection" 1 "$(awk -F'\t' '$1 == "GET" { print $8 }' "$T_DIR/dump.txt" | sort -u | wc -l)"
t_eq "distinct GET stream ids" 20 "$(awk -F'\t' '$1 == "GET" { print $7 }' "$T_DIR/dump.txt" | sort -u | wc -l)"
t_eq "recorded upload statuses" "201" "$(awk -F'\t' '$1 == "PUT" { print $3 }' "$T_DIR/dump.txt" | sort -u)"
proto=$(awk '{ print $NF }' "$T_DIR/nginx-access.log" | sort | uniq -c | tr -s ' ')
t_eq "protocol nginx saw from the capture" " 32 HTTP/2.0" "$proto"

: >"$T_DIR/nginx-access.log"
cap_start -o "$T_DIR/rec-h1.mp" --connect-ports "$NG_PORT" --ca "$CA" --upstream-ca "$T_DIR/nginx.crt" --no-upstream-h2
args=()
for i in 1 2 3; do args+=("$NG_URL/big.bin" -o "$T_DIR/h1-$i.bin"); done
curl -sS --parallel --http2 --cacert "$CA/ca.pem" -x "$CAP_PROXY" "${args[@]}" 2>"$T_DIR/curl.err" || t_fail "downloads with --no-upstream-h2"
for i in 1 2 3; do
    [ "$(sha "$T_DIR/h1-$i.bin")" = "$(sha "$T_DIR/www/big.bin")" ] || t_fail "download $i differs"
done
cap_stop INT
proto=$(awk '{ print $NF }' "$T_DIR/nginx-access.log" | sort | uniq -c | tr -s ' ')
t_eq "protocol nginx saw with --no-upstream-h2" " 3 HTTP/1.1" "$proto"
