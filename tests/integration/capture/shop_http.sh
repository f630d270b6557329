#!/usr/bin/env bash
# curl -x through aiotest-capture to aiotest-target over plain HTTP: a scripted
# shopping session is recorded with the bodies curl sent and received (sha256),
# one session key, a derived Authorization left for correlation, no hop-by-hop headers; chunked and
# Expect: 100-continue uploads; refused and silent origins give 502/504 records;
# --exclude-path leaves exchanges out of the file but proxies them.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
t_need curl python3
t_target --quiet
REC="$T_DIR/rec.mp"
cap_start -o "$REC" --session-cookie session --redact-header Authorization \
    --exclude-path '^/stats' --upstream-timeout 1s

shop_session "$TARGET_URL"

# A second user from the same address is another session.
code=$(curl -sS -x "$CAP_PROXY" -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -d '{"user": "bob", "password": "pw"}' "$TARGET_URL/api/login")
t_eq "second login" 200 "$code"

# Chunked upload: the recorded body is the decoded one.
printf '{"user": "carol", "password": "%s"}' "$(head -c 3000 /dev/zero | tr '\0' x)" >"$T_DIR/chunked.json"
code=$(curl -sS -x "$CAP_PROXY" -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -H 'Transfer-Encoding: chunked' --data-binary "@$T_DIR/chunked.json" "$TARGET_URL/api/login?chunked")
t_eq "chunked login" 200 "$code"

# Expect: 100-continue: the origin's 100 is relayed, so curl does not wait its
# 100-continue timeout (30 s here, so a loaded runner's stall cannot pass for it).
out=$(curl -sS -x "$CAP_PROXY" -o /dev/null -w '%{http_code} %{time_total}' -H 'Content-Type: application/json' \
    --expect100-timeout 30 \
    -H 'Expect: 100-continue' --data-binary '{"user": "dave", "password": "pw"}' "$TARGET_URL/api/login?expect")
t_eq "login with Expect: 100-continue" 200 "${out% *}"
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 20 else 1)" "${out#* }" ||
    t_fail "Expect: 100-continue took ${out#* }s: the 100 was not relayed"

# Filtered out but proxied.
code=$(curl -sS -x "$CAP_PROXY" -o /dev/null -w '%{http_code}' "$TARGET_URL/stats")
t_eq "GET /stats through the proxy (excluded from the file)" 200 "$code"

# Refused origin: 502.
dead=$(t_port)
code=$(curl -sS -x "$CAP_PROXY" -o "$T_DIR/502.txt" -w '%{http_code}' "http://127.0.0.1:$dead/x")
t_eq "refused origin answered" 502 "$code"
# Silent origin (delayed past --upstream-timeout): 504.
curl -sS -X POST "$TARGET_URL/_control?delay_ms=3000" >/dev/null
code=$(curl -sS -x "$CAP_PROXY" -o /dev/null -w '%{http_code}' "$TARGET_URL/api/search?q=slow")
t_eq "silent origin answered" 504 "$code"
curl -sS -X POST "$TARGET_URL/_control?delay_ms=0" >/dev/null

cap_stop INT
cap_dump "$REC" >"$T_DIR/dump.txt"
cap_dump "$REC" -H >"$T_DIR/dump-h.txt"
shop_check "$T_DIR/dump.txt"

# One session key for alice's six exchanges (the login included: its response
# set the cookie), another for bob.
alice=$(awk -F'\t' '$2 ~ /\/api\/|\/checkout/ && NR <= 6 { print $9 }' "$T_DIR/dump.txt" | sort -u)
t_eq "alice's exchanges share one key" 1 "$(echo "$alice" | wc -l)"
case $alice in session:*) t_log "ok: key is a session ($alice)" ;; *) t_fail "key '$alice' is not a session key" ;; esac
bob=$(awk -F'\t' 'NR == 7 { print $9 }' "$T_DIR/dump.txt")
[ -n "$bob" ] && [ "$bob" != "$alice" ] || t_fail "bob's login has key '$bob', alice's '$alice'"
t_log "ok: bob is another session ($bob)"

# The profile's bearer token came from the login's answer, which the file
# holds: --redact-header leaves it for the converter to correlate, and says so.
token=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$T_DIR/shop/login.resp")
grep -q $'^\t> Authorization: Bearer '"$token"'$' "$T_DIR/dump-h.txt" || t_fail "the derived bearer token was not left as recorded"
grep -q "1 left as recorded because an earlier response holds them" "$CAP_LOG" ||
    t_fail "the derived token kept is not said: $(tail -2 "$CAP_LOG")"
t_log "ok: the login's token is left for correlation and counted (and forwarded: profile answered 200)"
grep -qiE $'^\t[<>] (Proxy-Connection|Connection|Keep-Alive|Transfer-Encoding):' "$T_DIR/dump-h.txt" &&
    t_fail "hop-by-hop headers recorded: $(grep -iE $'^\t[<>] (Proxy-Connection|Connection|Keep-Alive|Transfer-Encoding):' "$T_DIR/dump-h.txt" | head -3)"
t_log "ok: no hop-by-hop header in the file"

line=$(grep -P '\t[^\t]*/api/login\?chunked\t' "$T_DIR/dump.txt") || t_fail "chunked login not recorded"
t_eq "chunked body recorded decoded" "$(sha "$T_DIR/chunked.json")" "$(echo "$line" | cut -f4)"
grep -qP '/api/login\?expect\t200\t' "$T_DIR/dump.txt" || t_fail "Expect login not recorded as 200"
grep -q '/stats' "$T_DIR/dump.txt" && t_fail "/stats recorded despite --exclude-path"
grep -q '1 filtered out' "$CAP_LOG" || t_fail "counter line does not count the filtered exchange: $(tail -1 "$CAP_LOG")"
line=$(grep -P "127.0.0.1:$dead/x\t" "$T_DIR/dump.txt") || t_fail "refused exchange not recorded"
t_eq "refused: status, flags" "502 error" "$(echo "$line" | cut -f3,6 | tr '\t' ' ')"
echo "$line" | cut -f18 | grep -q 'refused' || t_fail "no reason: $line"
line=$(grep -P '/api/search\?q=slow\t' "$T_DIR/dump.txt") || t_fail "timed-out exchange not recorded"
t_eq "timeout: status, flags" "504 error" "$(echo "$line" | cut -f3,6 | tr '\t' ' ')"
# Timestamps: start <= first byte <= end on every answered exchange.
awk -F'\t' '$11 != 0 && !($10 <= $11 && $11 <= $12) { bad = 1; print } END { exit bad }' "$T_DIR/dump.txt" ||
    t_fail "timestamps out of order"
t_log "ok: start <= first byte <= end everywhere"
