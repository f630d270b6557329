# Requests in flight when a run ends are failures of their own category,
# "unfinished": at the end of the duration, at the end of --iterations (the
# stop timeout gives up on them) and at SIGINT; in every report and in
# --fail-on's errors. A server answers GET /ok and never answers GET /hang.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
SCN="$AIOTEST_SRC/tests/integration/replay/hang.json"
PORT=$(t_port)
t_bg hang /usr/bin/python3 "$AIOTEST_SRC/tests/integration/replay/hangserver.py" "$PORT"
t_wait_port "$PORT"
URL="http://127.0.0.1:$PORT"
unf() { r_json "$1" "r['total']['fail'].get('unfinished', 0)"; }
hang() { r_json "$1" "[e for e in r['entries'] if e['name'] == 'GET /hang'][0]['$2']"; }

# End of the duration: 10 users, 5 of them stuck on /hang for the whole run.
MPORT=$(t_port)
timeout 120 "$T_REPLAY" "$SCN" --host "$URL" -u 10 -t 2s --stop-timeout 1s --fail-on 'errors<1%' \
    --report "$T_DIR/end.json" --csv "$T_DIR/end" --html "$T_DIR/end.html" \
    --metrics "127.0.0.1:$MPORT" --metrics-linger 3s >"$T_DIR/end.out" 2>"$T_DIR/end.err" &
RPID=$!
T_PIDS+=("$RPID")
for _ in $(seq 100); do [ -s "$T_DIR/end.json" ] && break; sleep 0.1; done
curl -s "http://127.0.0.1:$MPORT/metrics" >"$T_DIR/end.prom"
wait "$RPID"
rc=$?
r_clean "$T_DIR/end.err"
t_eq "end of duration: /hang requests counted" 5 "$(hang "$T_DIR/end.json" count)"
t_eq "end of duration: as unfinished" 5 "$(unf "$T_DIR/end.json")"
t_eq "end of duration: entry's failures" 5 "$(hang "$T_DIR/end.json" failures)"
t_check "end of duration: /ok answered" r_in 20 1e9 "$(r_json "$T_DIR/end.json" "r['total']['count'] - 5")"
t_check "end of duration: the gate fails" grep -q "^FAIL errors<1%" "$T_DIR/end.out"
t_eq "end of duration: exit status" 1 "$rc"
t_check "summary table names the category" grep -q "unfinished" "$T_DIR/end.out"
t_check "CSV failures" grep -q "^GET,GET /hang,unfinished,5$" "$T_DIR/end_failures.csv"
t_check "HTML report" grep -q "unfinished" "$T_DIR/end.html"
t_check "Prometheus failures" \
    grep -qE '^aiotest_request_failures_total\{.*category="unfinished".*\} 5$' "$T_DIR/end.prom"

# --iterations: the users of /hang never end; the run ends with -t and the stop timeout.
r_replay "$SCN" --host "$URL" -u 4 --iterations 3 -t 2s --stop-timeout 1s --fail-on 'errors<1%' \
    --report "$T_DIR/it.json"
t_eq "iterations: /hang counted as unfinished" 2 "$(unf "$T_DIR/it.json")"
t_eq "iterations: /ok all done" 6 "$(r_json "$T_DIR/it.json" "[e for e in r['entries'] if e['name'] == 'GET /ok'][0]['count']")"
t_eq "iterations: exit status" 1 "$R_RC"

# SIGINT: the graceful stop waits --stop-timeout, then gives up on /hang.
"$T_REPLAY" "$SCN" --host "$URL" -u 6 -t 60s --stop-timeout 1s --fail-on 'errors<1%' \
    --report "$T_DIR/int.json" >"$T_DIR/int.out" 2>"$T_DIR/int.err" &
RPID=$!
T_PIDS+=("$RPID")
sleep 1.5
kill -INT "$RPID"
wait "$RPID"
rc=$?
r_clean "$T_DIR/int.err"
t_eq "SIGINT: /hang counted as unfinished" 3 "$(unf "$T_DIR/int.json")"
t_check "SIGINT: the gate fails" grep -q "^FAIL errors<1%" "$T_DIR/int.out"
t_eq "SIGINT: exit status" 1 "$rc"

# Open model: 10 iterations/s for 2 s, every second one stuck on /hang.
echo "rate 2s 10" >"$T_DIR/open.conf"
r_replay "$SCN" --host "$URL" --shape "$T_DIR/open.conf" --stop-timeout 1s --report "$T_DIR/open.json"
t_check "open model: /hang requests counted as unfinished" \
    r_in 5 15 "$(r_json "$T_DIR/open.json" "[e for e in r['entries'] if e['name'] == 'GET /hang'][0]['fail'].get('unfinished', 0)")"
t_eq "open model: every /hang request is unfinished" \
    "$(hang "$T_DIR/open.json" count)" "$(unf "$T_DIR/open.json")"
t_eq "open model: exit status (failed requests, no --fail-on)" 1 "$R_RC"
