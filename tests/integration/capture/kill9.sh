#!/usr/bin/env bash
# kill -9 mid-session: every exchange that completed before the kill reads
# back from the file, with the bodies the client saw; the exchanges in flight
# (a delayed request, a download) are simply absent.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
t_need curl
t_target --quiet
REC="$T_DIR/rec.mp"
cap_start -o "$REC"
: >"$T_DIR/expected"
for i in $(seq 1 20); do
    printf '{"user": "user%d", "password": "pw%d"}' "$i" "$i" >"$T_DIR/req$i"
    url="$TARGET_URL/api/login?n=$i"
    code=$(curl -sS -x "$CAP_PROXY" -H 'Content-Type: application/json' --data-binary "@$T_DIR/req$i" \
        -o "$T_DIR/resp$i" -w '%{http_code}' "$url")
    t_eq "login $i" 200 "$code" >/dev/null
    printf 'POST\t%s\t200\t%s\t%s\n' "$url" "$(sha "$T_DIR/req$i")" "$(sha "$T_DIR/resp$i")" >>"$T_DIR/expected"
done
t_log "ok: 20 exchanges done"
curl -sS -X POST "$TARGET_URL/_control?delay_ms=5000" >/dev/null
curl -sS -x "$CAP_PROXY" -o /dev/null "$TARGET_URL/api/search?q=inflight" 2>/dev/null &
curl -sS -x "$CAP_PROXY" --limit-rate 1M -o /dev/null "$TARGET_URL/download?bytes=100000000" 2>/dev/null &
sleep 1
kill -9 "$CAP_PID"
wait "$CAP_PID" 2>/dev/null
curl -sS -X POST "$TARGET_URL/_control?delay_ms=0" >/dev/null
rc=0
"$T_RECDUMP" "$REC" >"$T_DIR/dump.txt" 2>"$T_DIR/recdump.err" || rc=$?
[ "$rc" = 0 ] || [ "$rc" = 3 ] || t_fail "recdump exit $rc: $(cat "$T_DIR/recdump.err")"
t_log "recdump after kill -9: exit $rc ($(tail -1 "$T_DIR/recdump.err"))"
cut -f1-5 "$T_DIR/dump.txt" | head -20 >"$T_DIR/recorded"
diff -u "$T_DIR/expected" "$T_DIR/recorded" >&2 || t_fail "completed exchanges missing or different after kill -9"
t_log "ok: all 20 completed exchanges read back with identical bodies"
grep -q 'inflight\|download' "$T_DIR/dump.txt" && t_fail "an exchange in flight at the kill was recorded as complete"
t_log "ok: exchanges in flight are absent"
