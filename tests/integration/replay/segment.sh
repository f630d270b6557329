# --segment K/N: N copies together run exactly the load of one (users split by
# global number, classes by weight over the whole), started together with
# --start-at, and --merge adds their reports exactly.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
t_target --quiet
SCN="$AIOTEST_SRC/tests/integration/replay/shop.json"
# The copies must be loaded before TIME for --start-at to align them: under
# ASan on a busy 2-core machine loading took 9 s, and copies that load after
# TIME start when they are ready (a fixed 2 s lead then failed "started
# together" by up to 0.7 s). The lead doubles until every copy said it waits.
lead=3
for attempt in 1 2 3 4; do
    base=$(curl -s "$TARGET_URL/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
    at=$(( $(date +%s) + lead ))
    for k in 0 1 2; do
        "$T_REPLAY" "$SCN" --host "$TARGET_URL" -u 8 --iterations 2 --segment "$k/3" --start-at "$at" \
            --report "$T_DIR/s$k.json" >/dev/null 2>"$T_DIR/s$k.err" &
        T_PIDS+=("$!")
        eval "pid$k=$!"
    done
    for k in 0 1 2; do
        eval "wait \$pid$k" || { cat "$T_DIR/s$k.err"; t_fail "segment $k/3 failed"; }
        r_clean "$T_DIR/s$k.err"
    done
    waited=$(grep -l "starting in .* (--start-at)" "$T_DIR"/s[012].err | wc -l)
    [ "$waited" -eq 3 ] && break
    lead=$((lead * 2))
    t_log "$((3 - waited)) copies loaded after --start-at (a busy machine): again with ${lead}s"
done
t_eq "every copy was loaded before --start-at and waited for it" 3 "$waited"
t_eq "users of the segments add up (8 = 3 + 3 + 2)" "3 3 2" \
    "$(for k in 0 1 2; do r_json "$T_DIR/s$k.json" 'sum(c["users_started"] for c in r["classes"])'; done | xargs)"
t_eq "buyers over all segments: 6 of 8 as in one run" 6 \
    "$(python3 -c 'import json,sys; print(sum(json.load(open(f))["classes"][0]["users_started"] for f in sys.argv[1:]))' "$T_DIR"/s[012].json)"
# Woken from a timed wait at the same instant: a busy machine delays a wake-up
# by milliseconds, 500 ms is far from that and far below a second's mistake.
starts=$(for k in 0 1 2; do r_json "$T_DIR/s$k.json" 'r["started_unix_us"]'; done | xargs)
t_check "started together at --start-at ($at: $starts)" python3 -c "
import sys
s = [int(x) for x in '$starts'.split()]
sys.exit(0 if max(s) - min(s) < 500000 and min(s) >= $at * 1000000 else 1)"

r_replay --merge "$T_DIR/s0.json" "$T_DIR/s1.json" "$T_DIR/s2.json" --report "$T_DIR/all.json"
t_eq "merge: exit status" 0 "$R_RC"
curl -s "$TARGET_URL/stats" >"$T_DIR/stats.json"
t_eq "merged count equals what the server saw (of the last attempt)" \
    "$(r_json "$T_DIR/stats.json" "r['total'] - $base")" "$(r_json "$T_DIR/all.json" 'r["total"]["count"]')"
t_eq "merged logins: one per buyer" 6 "$(r_entry "$T_DIR/all.json" 'POST POST /api/login' count)"
usage_rc=$("$T_REPLAY" "$SCN" --segment 3/3 >/dev/null 2>&1; echo $?)
t_eq "--segment 3/3 is a usage error" 2 "$usage_rc"
