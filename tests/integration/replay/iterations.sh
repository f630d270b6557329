# --iterations: every count in the report equals what aiotest-target served,
# on_start and on_stop ran once per user, cookies/tokens/CSRF carried across.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
t_target --quiet
SCN="$AIOTEST_SRC/tests/integration/replay/shop.json"

r_replay "$SCN" --host "$TARGET_URL" -u 8 --iterations 3 --threads 2 --report "$T_DIR/r.json"
t_eq "exit status" 0 "$R_RC"
curl -s "$TARGET_URL/stats" >"$T_DIR/stats.json"

# 8 users, weights 3:1 -> 6 buyers and 2 browsers.
t_eq "buyers started" 6 "$(r_json "$T_DIR/r.json" 'r["classes"][0]["users_started"]')"
t_eq "browsers started" 2 "$(r_json "$T_DIR/r.json" 'r["classes"][1]["users_started"]')"
t_eq "on_start once per buyer" 6 "$(r_entry "$T_DIR/r.json" 'POST POST /api/login' count)"
t_eq "on_stop once per buyer" 6 "$(r_entry "$T_DIR/r.json" 'POST POST /api/logout' count)"
t_eq "profile: 6 users x 3 iterations" 18 "$(r_entry "$T_DIR/r.json" 'GET GET /api/profile' count)"
t_eq "browser home: 2 users x 3 iterations" 6 "$(r_entry "$T_DIR/r.json" 'GET GET /' count)"
t_eq "iterations completed" 24 "$(r_json "$T_DIR/r.json" 'r["iterations"]["completed"]')"
t_eq "no failure (token, cookie and CSRF carried)" 0 "$(r_json "$T_DIR/r.json" 'r["total"]["failures"]')"

# Every endpoint: what the report says was sent is what the server saw.
python3 - "$T_DIR/r.json" "$T_DIR/stats.json" <<'PY' || t_fail "report and /stats disagree"
import json, sys
r = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2]))
mine = {}
for e in r["entries"]:
    key = e["name"] if e["name"].startswith(e["method"] + " ") else e["method"] + " " + e["name"]
    mine[key] = mine.get(key, 0) + e["count"]
served = {k: v for k, v in s["endpoints"].items() if v}
if mine != served:
    print("report:", mine, "\nserver:", served); sys.exit(1)
if r["total"]["count"] != s["total"]:
    print("totals", r["total"]["count"], s["total"]); sys.exit(1)
PY
t_log "ok: report counts equal the server's per endpoint"
