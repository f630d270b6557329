# A three-stage closed shape is followed: the user counts sampled in the report
# match each stage once its ramp is done, and ramp-down stops users gracefully.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
t_target --quiet
cat >"$T_DIR/stages.conf" <<'CONF'
# duration users spawn-rate
2s  4   100
2s  10  100
2s  2   100   # ramp down
CONF
r_replay "$AIOTEST_SRC/tests/integration/replay/shop.json" --host "$TARGET_URL" \
    --shape "$T_DIR/stages.conf" --report "$T_DIR/r.json"
t_eq "exit status" 0 "$R_RC"
at() { r_json "$T_DIR/r.json" "sorted(set(s['users'] for s in r['user_samples'] if $1 <= s['t'] <= $2))"; }
t_eq "stage 1: 4 users" "[4]" "$(at 1.0 1.9)"
t_eq "stage 2: 10 users" "[10]" "$(at 3.0 3.9)"
t_eq "stage 3: 2 users" "[2]" "$(at 5.0 5.9)"
t_check "the run ended with the shape" r_in 5.9 9 "$(r_json "$T_DIR/r.json" 'r["duration_s"]')"
# Ramp-down and the end stop users gracefully: every buyer that logged in logged out.
t_eq "on_stop for every started buyer" "$(r_entry "$T_DIR/r.json" 'POST POST /api/login' count)" \
    "$(r_entry "$T_DIR/r.json" 'POST POST /api/logout' count)"
t_eq "no failure" 0 "$(r_json "$T_DIR/r.json" 'r["total"]["failures"]')"
t_check "history has one row a second" r_in 5 9 "$(r_json "$T_DIR/r.json" 'len(r["history"])')"

# An open stage then a closed one: the pool of the open stage empties (on_stop
# runs) and the closed users take over.
printf 'rate 2s 20\n2s 3 100\n' >"$T_DIR/mixed.conf"
r_replay "$AIOTEST_SRC/tests/integration/replay/shop.json" --host "$TARGET_URL" \
    --shape "$T_DIR/mixed.conf" --report "$T_DIR/m.json"
t_eq "mixed: exit status" 0 "$R_RC"
t_check "mixed: iterations started on schedule in the open stage (20/s)" \
    r_in 14 26 "$(r_json "$T_DIR/m.json" 'r["history"][0]["iterations_per_s"]')"
t_eq "mixed: 3 closed users in the second stage, pool gone" "[3]" \
    "$(r_json "$T_DIR/m.json" "sorted(set(s['users'] for s in r['user_samples'] if 2.6 <= s['t'] <= 3.8))")"
t_eq "mixed: every login logged out" "$(r_entry "$T_DIR/m.json" 'POST POST /api/login' count)" \
    "$(r_entry "$T_DIR/m.json" 'POST POST /api/logout' count)"
