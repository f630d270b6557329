# Class weights 3:1 map to exact user counts at every total (largest remainder),
# read from the report's per-class counts and from the user-count samples.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
t_target --quiet
SCN="$AIOTEST_SRC/tests/integration/replay/weights.json"

for case in "8 6 2" "100 75 25" "1000 750 250" "1 1 0"; do
    set -- $case
    # A one-minute wait keeps 1000 users cheap: one request each, then idle.
    r_replay "$SCN" --host "$TARGET_URL" -u "$1" -r 100000 -t 2s --report "$T_DIR/w$1.json"
    t_eq "$1 users: exit status" 0 "$R_RC"
    t_eq "$1 users: heavy class" "$2" "$(r_json "$T_DIR/w$1.json" 'r["classes"][0]["users_started"]')"
    t_eq "$1 users: light class" "$3" "$(r_json "$T_DIR/w$1.json" 'r["classes"][1]["users_started"]')"
    t_eq "$1 users: running per class once spawned" "[$2, $3]" \
        "$(r_json "$T_DIR/w$1.json" '[s["per_class"] for s in r["user_samples"] if 1.0 <= s["t"] <= 1.8][-1]')"
    t_eq "$1 users: one request per user" "$1" "$(r_json "$T_DIR/w$1.json" 'r["total"]["count"]')"
done

# The class wait (constant 60 s) scaled by --think-scale 0.005: 300 ms between
# requests, so 2 users make about 2 x 2 s / 0.3 s requests in 2 s.
r_replay "$SCN" --host "$TARGET_URL" -u 2 -t 2s --think-scale 0.005 --report "$T_DIR/think.json"
t_eq "think scale: exit status" 0 "$R_RC"
t_check "think scale: waits applied and scaled" r_in 10 16 "$(r_json "$T_DIR/think.json" 'r["total"]["count"]')"
