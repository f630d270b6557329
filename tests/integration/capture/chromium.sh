#!/usr/bin/env bash
# Headless chromium through the capture (TLS interception, CA trusted by its
# SPKI hash) loads the demo shop's home page from nginx (TLS, h2) in front of
# aiotest-target: the HTML, the static assets and the page's XHRs are all
# recorded as HTTP/2 exchanges with stream ids, and the assets overlap in time.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
t_need chromium openssl python3
t_target --quiet
# The stylesheet comes from nginx, rate-limited, so that it is in flight for
# a while and its overlap with the other assets does not depend on machine speed.
mkdir -p "$T_DIR/www/static"
{ echo "/*"; head -c 45000 /dev/urandom | base64; echo "*/ body { color: #222; }"; } >"$T_DIR/www/static/style.css"
cap_nginx_tls "location = /static/style.css { limit_rate 100k; }"
CA="$T_DIR/ca"
"$T_CAPTURE" --init-ca "$CA" >/dev/null || t_fail "--init-ca"
SPKI=$(openssl x509 -in "$CA/ca.pem" -noout -pubkey | openssl pkey -pubin -outform der |
    openssl dgst -sha256 -binary | openssl enc -base64 -A)
printed=$("$T_CAPTURE" --init-ca "$T_DIR/ca2" | grep -o 'spki-list=[^ ]*' | sed 's/^spki-list=//')
real=$(openssl x509 -in "$T_DIR/ca2/ca.pem" -noout -pubkey | openssl pkey -pubin -outform der |
    openssl dgst -sha256 -binary | openssl enc -base64 -A)
t_eq "--init-ca prints the chromium SPKI hash" "$real" "$printed"

REC="$T_DIR/rec.mp"
cap_start -o "$REC" --connect-ports "$NG_PORT" --ca "$CA" --upstream-ca "$T_DIR/nginx.crt"
timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$T_DIR/chromium" --proxy-server="$CAP_PROXY" --proxy-bypass-list='*;<-loopback>' \
    --ignore-certificate-errors-spki-list="$SPKI" --virtual-time-budget=10000 \
    --dump-dom "$NG_URL/" >"$T_DIR/dom.html" 2>"$T_DIR/chromium.log" || t_fail "chromium: $(tail -5 "$T_DIR/chromium.log")"
grep -q 'hello demo' "$T_DIR/dom.html" ||
    t_fail "the page's script did not finish (dom: $(wc -c <"$T_DIR/dom.html") bytes, $(grep status "$T_DIR/dom.html"); chromium: $(tail -3 "$T_DIR/chromium.log"); capture: $(tail -3 "$CAP_LOG"))"
t_log "ok: chromium ran the page through the proxy (status: hello demo)"
cap_stop INT
cap_dump "$REC" >"$T_DIR/dump.txt"
cut -f1-3,6-8 "$T_DIR/dump.txt"

for want in "GET $NG_URL/" "GET $NG_URL/static/style.css" "GET $NG_URL/static/app.js" \
            "GET $NG_URL/static/logo.png" "POST $NG_URL/api/login" "GET $NG_URL/api/search?q=shoes" \
            "GET $NG_URL/api/profile"; do
    line=$(awk -F'\t' -v m="${want%% *}" -v u="${want#* }" '$1 == m && $2 == u' "$T_DIR/dump.txt" | head -1)
    [ -n "$line" ] || t_fail "not recorded: $want"
    t_eq "$want: status and flags" "200 tls,h2" "$(echo "$line" | cut -f3,6 | tr '\t' ' ')"
done
# Every h2 exchange has an odd stream id, unique within its connection.
awk -F'\t' '$6 ~ /h2/ { if ($7 % 2 == 0 || seen[$8 "/" $7]++) bad = 1 } END { exit bad }' "$T_DIR/dump.txt" ||
    t_fail "stream ids are not odd and unique per connection"
# The static assets were in flight together (one h2 connection, overlapping times).
python3 - "$T_DIR/dump.txt" "$NG_URL" <<'PY' || t_fail "static assets do not overlap in time"
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
assets = [(int(r[9]), int(r[11]), r[1]) for r in rows if r[1].startswith(sys.argv[2] + "/static/")]
overlap = any(a[0] < b[1] and b[0] < a[1] for i, a in enumerate(assets) for b in assets[i + 1:])
print("[chromium] assets (start, end):", [(a[2].rsplit("/", 1)[1], a[0], a[1]) for a in assets])
sys.exit(0 if len(assets) >= 2 and overlap else 1)
PY
t_log "ok: static assets overlap in time"
