#!/bin/bash
# --tls CERT KEY serves HTTPS: curl trusting the self-signed certificate gets
# through a login and a profile; untrusted or plain-HTTP clients do not.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/target/helpers.sh"
t_need curl python3 openssl
t_selfsigned shop
CA=(--cacert "$T_DIR/shop.crt")

target_start_port0 tls --quiet --tls "$T_DIR/shop.crt" "$T_DIR/shop.key"
t_check "listening line is https ($TARGET_URL)" grep -Eq '^https://127\.0\.0\.1:[0-9]+$' <<<"$TARGET_URL"
req - GET /health "${CA[@]}"
expect "health over TLS" 200
req - POST /api/login "${CA[@]}" -d '{"user":"tess","password":"pw"}'
expect "login over TLS" 200
TOKEN=$(jget "$BODY" 'v["token"]')
req - GET /api/profile "${CA[@]}" -H "Authorization: Bearer $TOKEN"
expect "profile over TLS" 200
t_eq "profile user" tess "$(jget "$BODY" 'v["user"]')"
PORT=${TARGET_URL##*:}
CODE=$(curl -s -o /dev/null -w '%{http_code}' "${CA[@]}" "https://localhost:$PORT/health")
t_eq "the certificate's DNS name works too" 200 "$CODE"
t_check "a client that does not trust the certificate is refused" \
    bash -c "! curl -s -o /dev/null '$TARGET_URL/health'"
t_check "plain HTTP to the TLS port gets no HTTP answer" \
    bash -c "! curl -s -o /dev/null --max-time 5 'http://127.0.0.1:$PORT/health' || [ \"\$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 'http://127.0.0.1:$PORT/health')\" != 200 ]"
PROTO=$(curl -s -o /dev/null -w '%{scheme} %{ssl_verify_result}' "${CA[@]}" "$TARGET_URL/health")
t_eq "scheme and verification" "HTTPS 0" "$PROTO"

# A key that is not PEM: a one-line error, exit 1, no listening line.
echo "not a key" >"$T_DIR/bad.key"
"$T_TARGET" --port 0 --tls "$T_DIR/shop.crt" "$T_DIR/bad.key" >"$T_DIR/bad.out" 2>"$T_DIR/bad.err"
RC=$?
t_eq "a bad key fails the start" 1 "$RC"
t_check "the error mentions TLS" grep -q "TLS" "$T_DIR/bad.err"
t_check "no listening line" bash -c "! grep -q listening '$T_DIR/bad.out'"
target_stop
