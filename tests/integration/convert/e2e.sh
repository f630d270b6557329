#!/bin/bash
# The issue's end-to-end test: a shopping session recorded through
# aiotest-capture --proxy from aiotest-target by curl (login -> search ->
# profile -> cart -> checkout -> order), converted, replays with 10 users for a
# bounded number of iterations against a fresh target with zero failures,
# although every login yields a new token and every checkout a new CSRF value;
# the target's /stats shows every request the scenario plans. Without
# correlation (--no-correlate) the same recording fails on profile and order.
. "$AIOTEST_SRC/tests/integration/lib.sh"
for b in "$T_TARGET" "$T_CAPTURE" "$T_REPLAY"; do
    [ -x "$b" ] || t_skip "$(basename "$b") is not built yet"
done
t_need curl python3
Q="python3 $AIOTEST_SRC/tests/integration/convert/scnq.py"
USERS=10
ITER=3

# ---- record
t_target --quiet
REC_TARGET=$TARGET_URL
CP=$(t_port)
t_bg capture "$T_CAPTURE" --proxy "127.0.0.1:$CP" -o "$T_DIR/shop.mp" --session-cookie session
CAPTURE_PID=$T_LAST_PID
t_wait_port "$CP"
c() { curl -sS -f --max-time 10 -x "http://127.0.0.1:$CP" -b "$T_DIR/jar" -c "$T_DIR/jar" "$@"; }
login=$(c -H 'Content-Type: application/json' -d '{"user": "alice", "password": "secret"}' "$REC_TARGET/api/login") ||
    t_fail "login through the proxy"
token=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["token"])' "$login") || t_fail "no token: $login"
sleep 0.2
c "$REC_TARGET/api/search?q=shoes" >/dev/null || t_fail "search"
sleep 0.2
c -H "Authorization: Bearer $token" "$REC_TARGET/api/profile" >/dev/null || t_fail "profile"
sleep 0.2
c -H 'Content-Type: application/json' -d '{"item": 3, "qty": 1}' "$REC_TARGET/api/cart" >/dev/null || t_fail "cart"
sleep 0.2
page=$(c "$REC_TARGET/checkout") || t_fail "checkout"
csrf=$(sed -nE 's/.*name="csrf" value="([0-9a-f]+)".*/\1/p' <<<"$page" | head -1)
[ -n "$csrf" ] || t_fail "no CSRF field in the checkout page"
sleep 0.2
c -d "csrf=$csrf" "$REC_TARGET/api/order" >/dev/null || t_fail "order"
kill "$CAPTURE_PID"
wait "$CAPTURE_PID" 2>/dev/null
kill "$TARGET_PID"
"$T_CONVERT" --dump "$T_DIR/shop.mp" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d["exchanges"]) == 6, len(d["exchanges"])' ||
    t_fail "the recording does not hold the 6 exchanges"

# ---- convert
"$T_CONVERT" "$T_DIR/shop.mp" -o "$T_DIR/shop-scn.mp" 2>"$T_DIR/convert.log" || t_fail "convert: $(cat "$T_DIR/convert.log")"
cat "$T_DIR/convert.log"
"$T_CONVERT" --dump "$T_DIR/shop-scn.mp" >"$T_DIR/shop-scn.json"
$Q "$T_DIR/shop-scn.json" extractors >"$T_DIR/extractors"
grep -qP '^token\tjson\t\$\.token\tPOST /api/login$' "$T_DIR/extractors" || t_fail "no token extractor: $(cat "$T_DIR/extractors")"
grep -qP '^csrf\tregex\t.*\tGET /checkout$' "$T_DIR/extractors" || t_fail "no CSRF extractor: $(cat "$T_DIR/extractors")"
grep -q 'Bearer {{token}}' "$T_DIR/shop-scn.json" || t_fail "the profile request does not send {{token}}"
grep -q 'csrf={{csrf}}' "$T_DIR/shop-scn.json" || t_fail "the order does not send {{csrf}}"
grep -qi '"cookie"' "$T_DIR/shop-scn.json" && t_fail "a recorded Cookie header is left in the scenario"
grep -q '{{token}} <- json $.token' "$T_DIR/convert.log" || t_fail "the correlation is not reported"
t_eq "login is on_start" "POST /api/login" \
    "$($Q "$T_DIR/shop-scn.json" steps | awk -F'\t' '$2 == "on_start" {print $6}')"

# expected ENDPOINT: requests the scenario plans at that endpoint for the run.
expected() {
    $Q "$T_DIR/shop-scn.json" steps | awk -F'\t' -v ep="$1" -v u=$USERS -v it=$ITER '
        { n = split($6, r, ","); for (i = 1; i <= n; i++) if (r[i] == ep) c += ($2 == "tasks") ? u * it : u }
        END { print c + 0 }'
}

# replay SCENARIO NAME: a fresh target, USERS users, ITER iterations; report in NAME.json.
replay() {
    t_target --quiet
    local rc=0
    "$T_REPLAY" "$1" --host "$TARGET_URL" -u $USERS --iterations $ITER --think-scale 0 --timeout 10s \
        --report "$T_DIR/$2.json" -q >"$T_DIR/$2.out" 2>&1 || rc=$?
    curl -sS "$TARGET_URL/stats" >"$T_DIR/$2-stats.json" || t_fail "/stats"
    kill "$TARGET_PID"
    return $rc
}

# ---- replay with correlation: zero failures, every request arrived.
replay "$T_DIR/shop-scn.mp" good || t_fail "replay exit $? ($(tail -3 "$T_DIR/good.out"))"
python3 - "$T_DIR/good.json" <<'PY' || t_fail "the replay reported failures"
import json, sys
r = json.load(open(sys.argv[1]))
bad = [(e["method"], e["name"], e["fail"]) for e in r["entries"] if e["failures"]]
print("replay: %d requests, %d failures %s" % (r["total"]["count"], r["total"]["failures"], bad))
sys.exit(1 if r["total"]["failures"] or not r["total"]["count"] else 0)
PY
for ep in "POST /api/login" "GET /api/search" "GET /api/profile" "POST /api/cart" "GET /checkout" "POST /api/order"; do
    want=$(expected "$ep")
    [ "$want" -gt 0 ] || t_fail "the scenario has no $ep"
    got=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["endpoints"][sys.argv[2]])' "$T_DIR/good-stats.json" "$ep")
    t_eq "/stats $ep" "$want" "$got"
done
t_eq "/stats: only 200s" '{"200":'"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["total"])' "$T_DIR/good-stats.json")"'}' \
    "$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["status"], separators=(",", ":")))' "$T_DIR/good-stats.json")"

# ---- the same recording without correlation fails on profile and order.
"$T_CONVERT" "$T_DIR/shop.mp" --no-correlate -o "$T_DIR/raw-scn.mp" -q || t_fail "convert --no-correlate"
replay "$T_DIR/raw-scn.mp" raw && t_log "note: the uncorrelated replay exited 0"
python3 - "$T_DIR/raw.json" <<'PY' || t_fail "without correlation, profile and order should fail (and only they)"
import json, sys
r = json.load(open(sys.argv[1]))
fails = {e["name"]: (e["failures"], e["count"]) for e in r["entries"]}
print("uncorrelated replay, failures/count by request:", fails)
for name in ("GET /api/profile", "POST /api/order"):
    f, n = fails[name]
    assert n > 0 and f == n, name
for name in ("GET /api/search", "POST /api/cart", "GET /checkout"):
    assert fails[name][0] == 0, name
PY
t_log "ok: --no-correlate fails on GET /api/profile and POST /api/order"

# ---- --data: the recorded user name becomes {{user}}; each virtual user logs
# in as its own CSV row, and the replay still has zero failures.
{
    echo "user,password"
    echo "alice,secret"
    for i in $(seq 2 $USERS); do echo "user$i,pw$i"; done
} >"$T_DIR/users.csv"
"$T_CONVERT" "$T_DIR/shop.mp" --data "$T_DIR/users.csv" -o "$T_DIR/data-scn.mp" -q || t_fail "convert --data"
"$T_CONVERT" --dump "$T_DIR/data-scn.mp" | grep -q '{\\"user\\": \\"{{user}}\\", \\"password\\": \\"{{password}}\\"}' ||
    t_fail "--data: the login body does not use {{user}} and {{password}}"
replay "$T_DIR/data-scn.mp" data || t_fail "replay with --data: exit $? ($(tail -3 "$T_DIR/data.out"))"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["total"]; sys.exit(1 if r["failures"] or not r["count"] else 0)' \
    "$T_DIR/data.json" || t_fail "replay with --data reported failures"
t_log "ok: --data scenario replays with zero failures"
