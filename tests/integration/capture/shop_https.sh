#!/usr/bin/env bash
# HTTPS through TLS interception: curl trusts the capture's CA (--cacert), the
# capture trusts nginx's self-signed certificate (--upstream-ca); nginx (TLS,
# h2) fronts aiotest-target. The shop session is recorded with identical bodies
# over HTTP/1.1 and over HTTP/2 from curl; leaf certificates are cached in
# DIR/certs; an origin that fails verification is a recorded 502.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
t_need curl python3 openssl
t_target --quiet
cap_nginx_tls
CA="$T_DIR/ca"
"$T_CAPTURE" --init-ca "$CA" >"$T_DIR/init-ca.txt" || t_fail "--init-ca"
t_eq "ca.key mode" 600 "$(stat -c %a "$CA/ca.key")"

for proto in http1.1 http2; do
    REC="$T_DIR/rec-$proto.mp"
    cap_start -o "$REC" --connect-ports "$NG_PORT" --ca "$CA" --upstream-ca "$T_DIR/nginx.crt"
    shop_session "$NG_URL" --cacert "$CA/ca.pem" --"$proto"
    cap_stop INT
    cap_dump "$REC" >"$T_DIR/dump-$proto.txt"
    shop_check "$T_DIR/dump-$proto.txt"
    flags=$(cut -f6 "$T_DIR/dump-$proto.txt" | sort -u | tr '\n' ' ')
    want="tls "   # recdump prints flags in bit order: tls, incomplete, tunnel, error, h2
    [ "$proto" = http2 ] && want="tls,h2 "
    t_eq "flags over $proto" "$want" "$flags"
    if [ "$proto" = http2 ]; then
        ids=$(cut -f7 "$T_DIR/dump-$proto.txt" | tr '\n' ' ')
        t_log "stream ids: $ids"
        awk -F'\t' '$7 == 0 || $7 % 2 == 0 { exit 1 }' "$T_DIR/dump-$proto.txt" || t_fail "h2 exchange without an odd stream id"
    fi
done
[ -s "$CA/certs/localhost.pem" ] || t_fail "no cached leaf certificate in $CA/certs"
openssl x509 -in "$CA/certs/localhost.pem" -noout -ext subjectAltName | grep -q 'DNS:localhost' ||
    t_fail "leaf certificate has no SAN DNS:localhost"
openssl verify -CAfile "$CA/ca.pem" "$CA/certs/localhost.pem" >/dev/null || t_fail "leaf not signed by the CA"
t_log "ok: leaf certificate cached, SAN DNS:localhost, signed by the CA"

# Without --upstream-ca the origin's self-signed certificate fails verification.
REC="$T_DIR/rec-unverified.mp"
cap_start -o "$REC" --connect-ports "$NG_PORT" --ca "$CA"
code=$(curl -sS --cacert "$CA/ca.pem" -x "$CAP_PROXY" -o /dev/null -w '%{http_code}' "$NG_URL/api/search?q=x")
t_eq "unverifiable origin answered" 502 "$code"
cap_stop TERM
line=$(cap_dump "$REC")
t_eq "recorded as" "502 tls,error,h2" "$(echo "$line" | cut -f3,6 | tr '\t' ' ')"
echo "$line" | cut -f18 | grep -qi 'certificate' || t_fail "reason does not name the certificate: $(echo "$line" | cut -f18)"
t_log "ok: reason: $(echo "$line" | cut -f18)"

# --upstream-insecure skips that verification.
cap_start -o "$T_DIR/rec-insecure.mp" --connect-ports "$NG_PORT" --ca "$CA" --upstream-insecure
code=$(curl -sS --cacert "$CA/ca.pem" -x "$CAP_PROXY" -o /dev/null -w '%{http_code}' "$NG_URL/api/search?q=x")
t_eq "--upstream-insecure" 200 "$code"
cap_stop INT
