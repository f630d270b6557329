#!/bin/bash
# Every endpoint of aiotest-target driven with curl: statuses, token, cookie, CSRF
# rotation, logout, and /stats counting exactly what was sent.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/target/helpers.sh"
t_need curl python3
target_start --quiet

# Pages and static files.
req "GET /" GET /
expect "GET /" 200
t_check "home page is HTML" grep -q "text/html" <<<"$(header Content-Type)"
for f in app.js style.css logo.png; do
    t_check "home page references /static/$f" grep -q "\"/static/$f\"" <<<"$BODY"
done
req "GET /static/*" GET /static/app.js
expect "app.js" 200
t_check "app.js type" grep -q "^text/javascript" <<<"$(header Content-Type)"
t_check "app.js has Cache-Control" grep -q "max-age" <<<"$(header Cache-Control)"
for call in /api/login /api/search /api/profile; do
    t_check "app.js calls $call" grep -q "$call" <<<"$BODY"
done
req "GET /static/*" GET /static/style.css
expect "style.css" 200
t_check "style.css type" grep -q "^text/css" <<<"$(header Content-Type)"
req "GET /static/*" GET /static/logo.png
expect "logo.png" 200
t_eq "logo.png type" "image/png" "$(header Content-Type)"
t_check "logo.png is a PNG with an IHDR and an IEND" python3 -c '
import struct, sys, zlib
d = open(sys.argv[1], "rb").read()
assert d[:8] == b"\x89PNG\r\n\x1a\n", "magic"
i, kinds = 8, []
while i < len(d):
    n, = struct.unpack(">I", d[i:i+4]); kind = d[i+4:i+8]
    assert zlib.crc32(d[i+4:i+8+n]) == struct.unpack(">I", d[i+8+n:i+12+n])[0], "crc"
    kinds.append(kind); i += 12 + n
assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds, kinds
' "$T_DIR/body"
req "GET /static/*" GET /static/nope.js
expect "unknown static file" 404

# Login.
req "POST /api/login" POST /api/login -d 'not json'
expect "login with a body that is not JSON" 400
req "POST /api/login" POST /api/login -d '{"user":"ann"}'
expect "login without password" 400
req "POST /api/login" POST /api/login -d '{"user":"","password":"x"}'
expect "login with an empty user" 400
req "POST /api/login" POST /api/login -H 'Content-Type: application/json' \
    -d '{"user":"ann","password":"secret"}'
expect "login" 200
TOKEN=$(jget "$BODY" 'v["token"]')
t_eq "login echoes the user" ann "$(jget "$BODY" 'v["user"]')"
t_check "token is 32 hex digits" grep -Eq '^[0-9a-f]{32}$' <<<"$TOKEN"
COOKIE=$(header Set-Cookie)
t_check "Set-Cookie session=...; Path=/; HttpOnly ($COOKIE)" \
    grep -Eq '^session=[0-9a-f]{32}; Path=/; HttpOnly$' <<<"$COOKIE"
SID=$(sed 's/^session=\([0-9a-f]*\);.*/\1/' <<<"$COOKIE")
req "POST /api/login" POST /api/login -d '{"user":"bob","password":"pw"}'
expect "second login" 200
TOKEN2=$(jget "$BODY" 'v["token"]')
SID2=$(header Set-Cookie | sed 's/^session=\([0-9a-f]*\);.*/\1/')
t_check "tokens differ per login" [ "$TOKEN" != "$TOKEN2" ]
t_check "session cookies differ per login" [ "$SID" != "$SID2" ]

# Search: deterministic from q.
req "GET /api/search" GET "/api/search?q=shoes"
expect "search" 200
FIRST=$BODY
t_eq "search count matches its results" "$(jget "$BODY" 'v["count"]')" "$(jget "$BODY" 'len(v["results"])')"
t_check "search has results for a non-empty q" [ "$(jget "$BODY" 'v["count"]')" -ge 1 ]
req "GET /api/search" GET "/api/search?q=shoes"
t_eq "same q, same results" "$FIRST" "$BODY"
req "GET /api/search" GET "/api/search?q=hats"
t_check "other q, other results" [ "$FIRST" != "$BODY" ]
t_eq "search echoes q" hats "$(jget "$BODY" 'v["q"]')"
req "GET /api/search" GET "/api/search?q=caf%C3%A9%FF"
expect "search with non-UTF-8 bytes in q" 200
t_eq "q comes back as valid UTF-8" "café?" "$(jget "$BODY" 'v["q"]')"
req "GET /api/search" GET "/api/search?q=$(printf 'x%.0s' $(seq 400))"
expect "search with a long q" 200
req "GET /api/search" GET "/api/search"
expect "search without q" 200
t_eq "no q, no results" 0 "$(jget "$BODY" 'v["count"]')"

# Profile: bearer token.
req "GET /api/profile" GET /api/profile
expect "profile without a token" 401
req "GET /api/profile" GET /api/profile -H "Authorization: Bearer 0123456789abcdef0123456789abcdef"
expect "profile with a token never issued" 401
req "GET /api/profile" GET /api/profile -H "Authorization: Bearer $SID"
expect "profile with the session id as token" 401
req "GET /api/profile" GET /api/profile -H "Authorization: Bearer $TOKEN"
expect "profile with the token" 200
t_eq "profile is ann's" ann "$(jget "$BODY" 'v["user"]')"
req "GET /api/profile" GET /api/profile -H "Authorization: Bearer $TOKEN2"
t_eq "profile of the second token is bob's" bob "$(jget "$BODY" 'v["user"]')"

# Cart: session cookie.
req "POST /api/cart" POST /api/cart -d '{"item":7,"qty":2}'
expect "cart without the cookie" 401
req "POST /api/cart" POST /api/cart -H "Cookie: session=$TOKEN" -d '{"item":7,"qty":2}'
expect "cart with the token as cookie" 401
req "POST /api/cart" POST /api/cart -H "Cookie: session=$SID" -d '{"qty":2}'
expect "cart without item" 400
req "POST /api/cart" POST /api/cart -H "Cookie: session=$SID" -d '{"item":7,"qty":0}'
expect "cart with qty 0" 400
req "POST /api/cart" POST /api/cart -H "Cookie: session=$SID" -d '{"item":7,"qty":2}'
expect "cart" 200
req "POST /api/cart" POST /api/cart -H "Cookie: session=$SID" -d '{"item":7,"qty":3}'
expect "cart again" 200
t_eq "quantities of one item add up" 5 "$(jget "$BODY" '[l["qty"] for l in v["items"] if l["item"] == 7][0]')"
req "POST /api/cart" POST /api/cart -H "Cookie: session=$SID" -d '{"item":9}'
t_eq "cart count" 6 "$(jget "$BODY" 'v["count"]')"

# Checkout and order: CSRF bound to the session, rotated by every checkout.
csrf_of() { sed -n 's/.*<input type="hidden" name="csrf" value="\([^"]*\)">.*/\1/p' <<<"$BODY"; }
req "GET /checkout" GET /checkout
expect "checkout without the cookie" 401
req "GET /checkout" GET /checkout -H "Cookie: session=$SID"
expect "checkout" 200
t_check "checkout is HTML" grep -q "text/html" <<<"$(header Content-Type)"
CSRF1=$(csrf_of)
t_check "checkout has a hidden csrf field of 32 hex digits" grep -Eq '^[0-9a-f]{32}$' <<<"$CSRF1"
req "GET /checkout" GET /checkout -H "Cookie: session=$SID"
CSRF2=$(csrf_of)
t_check "csrf differs per checkout" [ "$CSRF1" != "$CSRF2" ]
req "POST /api/order" POST /api/order -d "csrf=$CSRF2"
expect "order without the cookie" 403
req "POST /api/order" POST /api/order -H "Cookie: session=$SID"
expect "order without csrf" 403
req "POST /api/order" POST /api/order -H "Cookie: session=$SID" -d "csrf=$CSRF1"
expect "order with the csrf of an older checkout" 403
req "POST /api/order" POST /api/order -H "Cookie: session=$SID2" -d "csrf=$CSRF2"
expect "order with another session's csrf" 403
req "POST /api/order" POST /api/order -H "Cookie: session=$SID" -d "csrf=$CSRF2"
expect "order with the form field" 200
ORDER1=$(jget "$BODY" 'v["order"]')
req "POST /api/order" POST /api/order -H "Cookie: session=$SID" \
    -H 'Content-Type: application/json' -d "{\"csrf\":\"$CSRF2\"}"
expect "order with the csrf in JSON" 200
ORDER2=$(jget "$BODY" 'v["order"]')
t_check "order ids differ ($ORDER1, $ORDER2)" [ "$ORDER1" != "$ORDER2" ]
req "POST /api/order" POST /api/order -H "Cookie: session=$SID" -H "X-CSRF-Token: $CSRF2"
expect "order with X-CSRF-Token" 200
req "POST /api/order" POST /api/order -H "Cookie: session=$SID" -H "X-CSRF-Token: ${CSRF2}0"
expect "order with a csrf one digit too long" 403

# Items.
req "GET /api/item/{id}" GET /api/item/42
expect "item 42" 200
t_eq "item id" 42 "$(jget "$BODY" 'v["id"]')"
req "GET /api/item/{id}" GET /api/item/abc
expect "non-numeric item" 404
req "GET /api/item/{id}" GET /api/item/
expect "empty item id" 404

# Logout ends both the token and the cookie.
req "POST /api/logout" POST /api/logout -H "Authorization: Bearer $TOKEN"
expect "logout" 200
t_check "logout clears the cookie" grep -q "Max-Age=0" <<<"$(header Set-Cookie)"
req "GET /api/profile" GET /api/profile -H "Authorization: Bearer $TOKEN"
expect "profile after logout" 401
req "POST /api/cart" POST /api/cart -H "Cookie: session=$SID" -d '{"item":1}'
expect "cart after logout" 401
req "POST /api/logout" POST /api/logout -H "Authorization: Bearer $TOKEN"
expect "second logout" 401
req "POST /api/logout" POST /api/logout -H "Cookie: session=$SID2"
expect "logout by cookie" 200
req "GET /api/profile" GET /api/profile -H "Authorization: Bearer $TOKEN2"
expect "token after logout by cookie" 401

# Health, unknown paths, wrong methods.
req "GET /health" GET /health
expect "health" 200
t_eq "health body" ok "$BODY"
req other GET /nope
expect "unknown path" 404
req other GET /api/login
expect "GET on a POST endpoint" 405

# /stats counts exactly what was sent; the stats endpoints are not counted.
req - GET /stats
expect "stats" 200
STATS=$BODY
t_eq "stats total" "$EXP_TOTAL" "$(jget "$STATS" 'v["total"]')"
for key in "${!EXP_EP[@]}"; do
    t_eq "stats of $key" "${EXP_EP[$key]}" "$(jget "$STATS" "v['endpoints'].get('$key')")"
done
t_eq "no other endpoint counted" "$EXP_TOTAL" "$(jget "$STATS" 'sum(v["endpoints"].values())')"
for code in "${!EXP_ST[@]}"; do
    t_eq "stats of status $code" "${EXP_ST[$code]}" "$(jget "$STATS" "v['status'].get('$code')")"
done
t_eq "no other status counted" "$EXP_TOTAL" "$(jget "$STATS" 'sum(v["status"].values())')"
req - POST /stats/reset
expect "stats reset" 200
req - GET /stats
req - GET /stats
t_eq "total after reset (stats requests not counted)" 0 "$(jget "$BODY" 'v["total"]')"
t_eq "endpoints after reset" 0 "$(jget "$BODY" 'sum(v["endpoints"].values())')"
t_eq "statuses after reset" "{}" "$(jget "$BODY" 'v["status"]')"
req "GET /health" GET /health
req - GET /stats
t_eq "counting goes on after reset" 1 "$(jget "$BODY" 'v["endpoints"]["GET /health"]')"
target_stop
