# SIGINT mid-run: users finish their request, run on_stop, the report is
# written; a second signal stops at once and still writes the report.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
t_target --quiet --delay-ms 200
SCN="$AIOTEST_SRC/tests/integration/replay/shop.json"

"$T_REPLAY" "$SCN" --host "$TARGET_URL" -u 8 -t 60s --report "$T_DIR/r.json" \
    >"$T_DIR/out.txt" 2>"$T_DIR/err.txt" &
PID=$!
T_PIDS+=("$PID")
sleep 2
start=$SECONDS
kill -INT "$PID"
wait "$PID"
rc=$?
t_eq "graceful stop: exit status" 0 "$rc"
r_clean "$T_DIR/err.txt"
t_check "graceful stop: quick (requests of 200 ms finish, not the 60 s run)" r_in 0 30 $((SECONDS - start))
t_check "graceful stop: report written" test -s "$T_DIR/r.json"
t_check "graceful stop: summary printed" grep -q Aggregated "$T_DIR/out.txt"
t_eq "graceful stop: on_stop ran for every buyer" 6 "$(r_entry "$T_DIR/r.json" 'POST POST /api/logout' count)"
t_eq "graceful stop: no failure" 0 "$(r_json "$T_DIR/r.json" 'r["total"]["failures"]')"

# Two signals: the second one does not wait for anything.
curl -s -X POST "$TARGET_URL/_control?delay_ms=40000" >/dev/null
"$T_REPLAY" "$SCN" --host "$TARGET_URL" -u 4 -t 60s --report "$T_DIR/r2.json" >/dev/null 2>"$T_DIR/err2.txt" &
PID=$!
T_PIDS+=("$PID")
sleep 1.5
start=$SECONDS
kill -INT "$PID"; sleep 0.3; kill -TERM "$PID"
wait "$PID"
# The requests cut short are unfinished failures: exit 1 without --fail-on.
t_eq "immediate stop: exit status" 1 "$?"
r_clean "$T_DIR/err2.txt"
t_check "immediate stop: did not wait for the 40 s answers" r_in 0 20 $((SECONDS - start))
t_check "immediate stop: report written" test -s "$T_DIR/r2.json"
t_eq "immediate stop: marked interrupted" True "$(r_json "$T_DIR/r2.json" 'r["interrupted"]')"
t_check "immediate stop: the 40 s requests cut short count as unfinished" \
    r_in 1 4 "$(r_json "$T_DIR/r2.json" 'r["total"]["fail"].get("unfinished", 0)')"
