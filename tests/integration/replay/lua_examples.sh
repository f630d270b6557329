# The five worked examples of docs/scripting.md (docs/examples/lua/) run as
# documented, each effect asserted from the target's side or the report:
# check_id.lua (the id != 123456 rule), hmac_sign.lua (a python3 gateway
# verifies every HMAC), token_refresh.lua (logins counted by aiotest-target
# follow the token's lifetime), custom_metric.lua (script_metrics against what
# the target serves), ci_summary.lua (the file written by done() and its exit
# status).
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
E="$AIOTEST_SRC/docs/examples/lua"
"$T_REPLAY" --version 2>&1 | grep -q "Lua: none" && t_skip "this build has no Lua"
t_target --quiet
stat_of() { curl -s "$TARGET_URL/stats" | python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
reset() { curl -s -X POST "$TARGET_URL/stats/reset" >/dev/null; }

# ---- 1. check_id.lua: 3 users x 2 iterations; item 123456 passes, the
# user's own item (ids 0..2) fails with the reason.
r_replay "$E/shop.json" --host "$TARGET_URL" -u 3 --iterations 2 --script "$E/check_id.lua" \
    --report "$T_DIR/1.json"
t_eq "check_id: exit 1 (failed requests)" 1 "$R_RC"
t_eq "check_id: item 123456 passes" 0 "$(r_entry "$T_DIR/1.json" 'GET GET /api/item/{id}' failures)"
t_eq "check_id: other items fail as script" 6 \
    "$(r_json "$T_DIR/1.json" '[e for e in r["entries"] if e["name"]=="GET /api/item/{user}"][0]["fail"].get("script")')"
t_eq "check_id: the reason" "id != 123456 6" \
    "$(r_json "$T_DIR/1.json" '" ".join("%s %d" % (x["reason"], x["count"]) for x in r["failure_reasons"])')"
t_eq "check_id: search untouched" 0 "$(r_entry "$T_DIR/1.json" 'GET GET /api/search' failures)"
t_eq "check_id: target served all" 18 "$(stat_of '["total"]')"

# ---- 2. hmac_sign.lua (the scenario's script field): every signature good at
# the gateway; with another secret every one is refused.
P=$(t_port)
t_bg hmacsrv /usr/bin/python3 "$AIOTEST_SRC/tests/integration/replay/hmacsrv.py" "$P" "$T_DIR/sig.log"
t_wait_port "$P"
r_replay "$E/signed.json" --host "http://127.0.0.1:$P" -u 2 --iterations 5 --threads 1 --report "$T_DIR/2.json"
t_eq "hmac: exit 0" 0 "$R_RC"
t_eq "hmac: gateway saw 20 requests" 20 "$(wc -l <"$T_DIR/sig.log")"
t_eq "hmac: every signature good" 20 "$(grep -c $'\tgood$' "$T_DIR/sig.log")"
t_eq "hmac: the POST bodies signed too" 10 "$(grep -c $'^POST\t/api/cart\tgood$' "$T_DIR/sig.log")"
: >"$T_DIR/sig.log"
API_SECRET=wrong r_replay "$E/signed.json" --host "http://127.0.0.1:$P" -u 1 --iterations 2 --threads 1 \
    --report "$T_DIR/2b.json"
t_eq "hmac: wrong secret refused by the gateway" 4 "$(grep -c $'\tbad$' "$T_DIR/sig.log")"
t_eq "hmac: wrong secret: 401s counted" 4 "$(r_json "$T_DIR/2b.json" 'r["total"]["fail"].get("http")')"

# ---- 3. token_refresh.lua: a token kept for the whole run logs each user in
# once; a 0.5 s lifetime over ~1.5 s of 15 iterations (0.1 s apart) logs in
# again as it expires, never per request, and no profile request is refused.
reset
r_replay "$E/token.json" --host "$TARGET_URL" -u 2 --iterations 15 --threads 1 --report "$T_DIR/3.json"
t_eq "token: exit 0" 0 "$R_RC"
t_eq "token: profiles" 30 "$(stat_of '["endpoints"]["GET /api/profile"]')"
t_eq "token: long-lived token, one login per user" 2 "$(stat_of '["endpoints"]["POST /api/login"]')"
t_eq "token: no 401" 0 "$(stat_of '["status"].get("401", 0)')"
reset
TOKEN_TTL=0.5 r_replay "$E/token.json" --host "$TARGET_URL" -u 2 --iterations 15 --threads 1 \
    --report "$T_DIR/3b.json"
t_eq "token ttl: exit 0" 0 "$R_RC"
logins=$(stat_of '["endpoints"]["POST /api/login"]')
t_log "token ttl 0.5 s: $logins logins for 30 profiles"
r_in 4 20 "$logins" || t_fail "token ttl: $logins logins, expected a refresh per expiry (4..20), not one per request (30) nor none (2)"
t_eq "token ttl: profiles" 30 "$(stat_of '["endpoints"]["GET /api/profile"]')"
t_eq "token ttl: no 401" 0 "$(stat_of '["status"].get("401", 0)')"

# ---- 4. custom_metric.lua: the script's figures equal what the target served.
reset
r_replay "$E/shop.json" --host "$TARGET_URL" -u 3 --iterations 2 --script "$E/custom_metric.lua" \
    --report "$T_DIR/4.json"
t_eq "metric: exit 0" 0 "$R_RC"
sm() { r_json "$T_DIR/4.json" "{m['name']: m for m in r['script_metrics']}$1"; }
t_eq "metric: responses by class = served" "$(stat_of '["status"]["200"]')" \
    "$(sm "['responses']['series'][0]['value']" | cut -d. -f1)"
t_eq "metric: class label" "{'class': '2xx'}" "$(sm "['responses']['series'][0]['labels']")"
per_search=$(curl -s "$TARGET_URL/api/search?q=shoes" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["results"]))')
t_eq "metric: search results = 6 searches x $per_search" "$((6 * per_search))" \
    "$(sm "['search_results']['series'][0]['value']" | cut -d. -f1)"
stock_sum=0
for id in 123456 123456 123456 0 1 2; do
    stock_sum=$((stock_sum + $(curl -s "$TARGET_URL/api/item/$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stock"])')))
done
t_eq "metric: item_stock count" 12 "$(sm "['item_stock']['series'][0]['count']" | cut -d. -f1)"
t_eq "metric: item_stock sum = stock served" $((2 * stock_sum)) "$(sm "['item_stock']['series'][0]['sum']" | cut -d. -f1)"

# ---- 5. ci_summary.lua: the summary file matches the report; over budget: exit 4.
SUMMARY_FILE="$T_DIR/summary.json" r_replay "$E/shop.json" --host "$TARGET_URL" -u 3 --iterations 2 \
    --script "$E/ci_summary.lua" --report "$T_DIR/5.json" -q
t_eq "ci: exit 0 within the budget" 0 "$R_RC"
t_eq "ci: summary = report" "$(r_json "$T_DIR/5.json" '(r["total"]["count"], r["total"]["failures"], len(r["entries"]))')" \
    "$(r_json "$T_DIR/summary.json" '(r["requests"], r["failures"], len(r["entries"]))')"
t_eq "ci: passed" True "$(r_json "$T_DIR/summary.json" 'r["passed"]')"
SUMMARY_FILE="$T_DIR/summary.json" P95_BUDGET_MS=0 r_replay "$E/shop.json" --host "$TARGET_URL" -u 3 \
    --iterations 2 --script "$E/ci_summary.lua" -q
t_eq "ci: over the budget: exit 4" 4 "$R_RC"
t_eq "ci: not passed" False "$(r_json "$T_DIR/summary.json" 'r["passed"]')"
grep -q "over the budget of 0 ms" "$T_DIR/replay.err" || t_fail "ci: budget message"
t_log "ok"
