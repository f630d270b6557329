#!/usr/bin/env bash
# promtool check metrics accepts the live /metrics page of a running replay, and
# the page's counters after the run equal the JSON report.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/metrics/mlib.sh"
t_need promtool curl python3
m_need_replay
m_scenario shop

t_target --fail-rate 0.2 --delay-ms 5 --quiet
MPORT=$(t_port)
t_bg replay timeout 120 "$T_REPLAY" "$SCENARIO" --host "$TARGET_URL" -u 3 -r 3 -t 4s \
    --metrics ":$MPORT" --metrics-linger 3s --report "$T_DIR/run.json"
REPLAY_PID=$T_LAST_PID
t_wait_port "$MPORT" 20
# Workers publish once a second: poll until the page counts requests (the run lasts 4 s).
for _ in $(seq 1 30); do
    curl -sf "http://127.0.0.1:$MPORT/metrics" -D "$T_DIR/headers" -o "$T_DIR/live.txt" ||
        t_fail "GET /metrics during the run failed"
    grep -q '^aiotest_requests_total{' "$T_DIR/live.txt" && break
    sleep 0.2
done
t_check "the run is still going" test ! -s "$T_DIR/run.json"
t_check "content type is the 0.0.4 text format" grep -qi '^content-type: text/plain; version=0.0.4' "$T_DIR/headers"
promtool check metrics <"$T_DIR/live.txt" >"$T_DIR/promtool.txt" 2>&1 ||
    t_fail "promtool check metrics rejected the live page: $(cat "$T_DIR/promtool.txt")"
t_log "ok: promtool check metrics accepts the live page"
t_check "requests counted while running" grep -q '^aiotest_requests_total{' "$T_DIR/live.txt"
t_check "404 for other paths" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/other")" = 404

# Wait for the run's end (the report appears), then read the lingering page.
for _ in $(seq 1 100); do [ -s "$T_DIR/run.json" ] && break; sleep 0.1; done
[ -s "$T_DIR/run.json" ] || t_fail "no report after the run: $(tail -3 "$T_DIR/replay.log")"
sleep 1.5
curl -sf "http://127.0.0.1:$MPORT/metrics" -o "$T_DIR/final.txt" ||
    t_fail "/metrics is not served during --metrics-linger"
promtool check metrics <"$T_DIR/final.txt" >/dev/null 2>&1 || t_fail "promtool rejected the final page"
sumof() { awk -v p="$1" 'index($0, p) == 1 { s += $NF } END { printf "%d\n", s }' "$T_DIR/final.txt"; }
t_eq "requests on the final page" "$(m_json "$T_DIR/run.json" 'd["total"]["count"]')" "$(sumof 'aiotest_requests_total{')"
t_eq "failures on the final page" "$(m_json "$T_DIR/run.json" 'd["total"]["failures"]')" "$(sumof 'aiotest_request_failures_total{')"
t_eq "stage after the run" 0 "$(sumof 'aiotest_stage ')"
wait "$REPLAY_PID"
# --fail-rate 0.2: failed requests, so exit 1 without --fail-on (issue 12).
t_eq "aiotest-replay exit code" 1 "$?"
m_no_sanitizer_report "$T_DIR/replay.log"
