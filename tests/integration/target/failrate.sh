#!/bin/bash
# --fail-rate answers that fraction of /api/ and /checkout requests with 500, and
# no other request; /_control changes it at runtime; /stats counts the 500s.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/target/helpers.sh"
t_need curl python3

# codes N PATH: N GETs in one curl (4 at a time), one status per line in $T_DIR/codes.
codes() {
    local args=() i
    for i in $(seq "$1"); do args+=("$TARGET_URL$2" -o /dev/null); done
    curl -s --parallel --parallel-max 4 -w '%{http_code}\n' "${args[@]}" >"$T_DIR/codes" \
        || t_fail "curl --parallel"
    t_eq "$1 answers to $2" "$1" "$(wc -l <"$T_DIR/codes")"
}
count() { grep -c "^$1\$" "$T_DIR/codes"; }

target_start --quiet --fail-rate 0.5
t_check "the 500 body says why" bash -c "curl -s '$TARGET_URL/api/item/1?[1-20]' | grep -q 'injected failure'"
req - POST /stats/reset
codes 200 "/api/search?q=x"
FAILED=$(count 500)
t_check "fail rate 0.5: $FAILED of 200 answered 500 (60-140)" [ "$FAILED" -ge 60 -a "$FAILED" -le 140 ]
t_eq "the others answered 200" $((200 - FAILED)) "$(count 200)"
codes 50 /health
t_eq "fail rate 0.5: /health never fails" 50 "$(count 200)"
codes 20 /static/app.js
t_eq "fail rate 0.5: static files never fail" 20 "$(count 200)"
req - GET /stats
t_eq "/stats counts the 500s seen" "$FAILED" "$(jget "$BODY" 'v["status"].get("500", 0)')"
t_eq "/stats counts every request" 270 "$(jget "$BODY" 'v["total"]')"

req - POST "/_control?fail_rate=1"
expect "_control fail_rate=1" 200
codes 20 /api/item/3
t_eq "fail rate 1: every API request fails" 20 "$(count 500)"
codes 5 /checkout
t_eq "fail rate 1: /checkout fails" 5 "$(count 500)"
req - POST "/_control?fail_rate=0"
codes 20 /api/item/3
t_eq "fail rate 0: none fails" 20 "$(count 200)"
target_stop

target_start --quiet
codes 100 /api/item/4
t_eq "no --fail-rate: none fails" 100 "$(count 200)"
target_stop
