# Open model with an on_start that takes time (a login, then a 2 s think): the
# pool's users log in ahead of the schedule, so every second of the stage starts
# its iterations on time and no iteration waits for a login it did not ask for.
# (Before, the new users' on_start ran inside the scheduled iteration: seconds
# 1-2 started 0 iterations, then 34-40/s caught up, and the wait was in no latency.)
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
t_target --quiet
SCN="$AIOTEST_SRC/tests/integration/replay/warm.json"
echo "rate 6s 20" >"$T_DIR/rate.conf"

r_replay "$SCN" --host "$TARGET_URL" --shape "$T_DIR/rate.conf" --stop-timeout 5s --report "$T_DIR/r.json"
t_eq "exit status" 0 "$R_RC"
started=$(r_json "$T_DIR/r.json" 'r["iterations"]["started"]')
t_check "started 20/s for 6 s, at least 90 % ($started of 120)" r_in 108 126 "$started"
# Per second, from the report's history (the last row is the partial one of the
# stop). A row holds what the workers handed
# over in that second (5 hand-overs of ~4 iterations each); on a busy machine
# hand-overs slip into the next row and a starved generator catches up a
# second later (stress round 2 of issue 12 saw 20 16 11 33 22), so a row is
# checked against 25 % and every three neighbouring rows together against
# 75 %. Before the fix two rows of the stage held 0 (0 0 34: 34 of 60).
rows=$(r_json "$T_DIR/r.json" '" ".join("%.0f" % s["iterations_per_s"] for s in r["history"][:-1] if 1.5 <= s["t"] < 6.05)')
t_check "every second of the stage starts its iterations ($rows)" python3 -c '
import sys
v = [float(x) for x in sys.argv[1:]]
ok = len(v) >= 4 and all(x >= 5 for x in v) and all(sum(v[i:i + 3]) >= 45 for i in range(len(v) - 2))
sys.exit(0 if ok else 1)' $rows
t_eq "no request failed" 0 "$(r_json "$T_DIR/r.json" 'r["total"]["failures"]')"
t_eq "one login per pool user" "$(r_json "$T_DIR/r.json" 'max(s["users"] for s in r["user_samples"])')" \
    "$(r_entry "$T_DIR/r.json" "POST POST /api/login" count)"
# No iteration waited for a login: the profile request's latency is the
# server's (milliseconds), not the 2 s think after the login.
t_check "profile p99 is the server's, not a hidden wait" \
    r_in 0 1000 "$(r_entry "$T_DIR/r.json" "GET GET /api/profile" p99_ms)"
