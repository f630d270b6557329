#!/bin/bash
# The home page in a real browser (headless chromium): it loads the three static
# files and app.js makes its XHRs (login, search, profile), which /stats counts.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/target/helpers.sh"
t_need curl python3 chromium
target_start --quiet

mkdir -p "$T_DIR/profile"
timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$T_DIR/profile" --virtual-time-budget=10000 --dump-dom "$TARGET_URL/" \
    >"$T_DIR/dom.html" 2>"$T_DIR/chromium.log" || t_fail "chromium failed: $(tail -3 "$T_DIR/chromium.log")"
t_check "app.js ran its calls and greeted the user" grep -q '<p id="status">hello demo</p>' "$T_DIR/dom.html"
t_eq "search results listed" 2 "$(grep -o '<li>shoes #[0-9]* [0-9.]*</li>' "$T_DIR/dom.html" | wc -l)"

req - GET /stats
for key in "GET /" "POST /api/login" "GET /api/search" "GET /api/profile"; do
    t_eq "browser sent $key once" 1 "$(jget "$BODY" "v['endpoints']['$key']")"
done
# logo.png is both the icon and an image: a browser may fetch it once or twice.
STATIC=$(jget "$BODY" "v['endpoints']['GET /static/*']")
t_check "browser fetched the three static files ($STATIC requests)" [ "$STATIC" -ge 3 -a "$STATIC" -le 4 ]
t_eq "nothing unknown (no favicon 404)" 0 "$(jget "$BODY" "v['endpoints']['other']")"
t_eq "every answer was 200" "$(jget "$BODY" 'v["total"]')" "$(jget "$BODY" 'v["status"].get("200", 0)')"
target_stop
