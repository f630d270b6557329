#!/usr/bin/env bash
# Issue 18: a short-lived generator (a Job's pod) must not lose its last samples,
# nor wait longer than needed: --metrics-linger D keeps /metrics up after the run
# until a scrape of the final page has been answered, at most D. A real
# Prometheus scraping every second must hold the report's totals, and the
# process must end soon after the run, not after D.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/metrics/mlib.sh"
t_need prometheus curl python3
m_need_replay
m_scenario shop
t_target --delay-ms 10 --quiet

# Nothing scrapes: the linger lasts its bound, and says no scrape came.
MPORT=$(t_port)
t0=$(date +%s.%N)
m_replay alone.log "$SCENARIO" --host "$TARGET_URL" -u 1 --iterations 2 \
    --metrics "127.0.0.1:$MPORT" --metrics-linger 2s
t_eq "unscraped run: exit status" 0 "$M_RC"
t_check "unscraped run lingered its 2 s" python3 -c "import sys, time; sys.exit(time.time() - $t0 < 2)"
t_check "says no scrape came after the run" grep -q "no scrape of the final" "$T_DIR/alone.log"

m_prometheus "$MPORT"
t0=$(date +%s.%N)
m_replay run.log "$SCENARIO" --host "$TARGET_URL" -u 2 --iterations 30 \
    --metrics "127.0.0.1:$MPORT" --metrics-linger 60s --report "$T_DIR/run.json"
elapsed=$(python3 -c "import time; print(round(time.time() - $t0, 1))")
t_eq "scraped run: exit status" 0 "$M_RC"
dur=$(m_json "$T_DIR/run.json" 'round(d["duration_s"], 1)')
# About one scrape interval (1 s) after the run; 60 s without the early end.
t_check "ended soon after a final scrape (run ${dur}s, process ${elapsed}s, linger bound 60s)" \
    python3 -c "import sys; sys.exit(0 if $elapsed < $dur + 30 else 1)"
t_check "no 'no scrape' note" bash -c "! grep -q 'no scrape of the final' '$T_DIR/run.log'"
count=$(m_json "$T_DIR/run.json" 'd["total"]["count"]')
t_eq "prometheus holds the final request total" "$count" \
    "$(m_promq 'sum(max_over_time(aiotest_requests_total[5m]))')"
t_eq "prometheus saw the page after the run (stage 0)" 0 "$(m_promq 'last_over_time(aiotest_stage[5m])')"
t_log "ok"
