#!/usr/bin/env bash
# Issue 18: --remote-write pushes the metrics (protobuf + snappy, remote write
# 1.0) to a real Prometheus started with --web.enable-remote-write-receiver, as an
# alternative to being scraped: two segments push and are scraped by the same
# Prometheus; both paths give the reports' request totals, the pushed series
# carry run and segment labels, the pushed target gauges sum to the shape's, and
# the final page (stage 0) arrives by the flush at exit. A receiver that is down
# costs a warning and a bounded wait, not the run.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/metrics/mlib.sh"
t_need prometheus curl python3
m_need_replay
"$T_REPLAY" --help 2>&1 | grep -q -- --remote-write || t_skip "aiotest-replay has no --remote-write"
m_scenario shop
t_target --delay-ms 20 --quiet

# Down receiver first (nothing listens): the run ends, with a warning.
DEAD=$(t_port)
t0=$(date +%s)
m_replay dead.log "$SCENARIO" --host "$TARGET_URL" -u 1 --iterations 3 \
    --remote-write "http://127.0.0.1:$DEAD/api/v1/write"
t_eq "receiver down: exit status of a good run" 0 "$M_RC"
t_check "receiver down: says batches were lost" grep -q "remote-write.*lost" "$T_DIR/dead.log"
t_check "receiver down: bounded wait (10 s flush bound; 60 s allowed)" test $(( $(date +%s) - t0 )) -lt 60
if "$T_REPLAY" "$SCENARIO" --remote-write "https://127.0.0.1:1/api/v1/write" >/dev/null 2>&1; then
    t_fail "--remote-write https:// should be refused (not supported yet)"
fi

P0=$(t_port)
P1=$(t_port)
M_PROM_FLAGS=--web.enable-remote-write-receiver m_prometheus "$P0" "$P1"
printf '2s 4 100\nrate 2s 20\n' >"$T_DIR/shape.txt"
at=$(( $(date +%s) + 2 ))
for k in 0 1; do
    port=P$k
    timeout 120 "$T_REPLAY" "$SCENARIO" --host "$TARGET_URL" --shape "$T_DIR/shape.txt" \
        --segment "$k/2" --start-at "$at" --metrics "127.0.0.1:${!port}" --metrics-linger 10s \
        --remote-write "http://127.0.0.1:$PPORT/api/v1/write" --run-id rw1 \
        --report "$T_DIR/s$k.json" >"$T_DIR/s$k.log" 2>&1 &
    T_PIDS+=("$!")
    eval "pid$k=$!"
done
for k in 0 1; do
    eval "wait \$pid$k" || t_fail "segment $k/2 failed: $(tail -5 "$T_DIR/s$k.log")"
    m_no_sanitizer_report "$T_DIR/s$k.log"
    grep -q "remote-write: [1-9][0-9]* batches" "$T_DIR/s$k.log" ||
        t_fail "segment $k: batches lost or refused: $(grep -i remote "$T_DIR/s$k.log")"
done
total=$(python3 -c 'import json, sys; print(sum(json.load(open(f))["total"]["count"] for f in sys.argv[1:]))' "$T_DIR"/s[01].json)
t_eq "pushed requests = the reports' sum" "$total" \
    "$(m_promq 'sum(max_over_time(aiotest_requests_total{run="rw1"}[5m]))')"
t_eq "scraped requests = the reports' sum" "$total" \
    "$(m_promq 'sum(max_over_time(aiotest_requests_total{run=""}[5m]))')"
t_eq "pushed latency histograms' +Inf buckets = the sum" "$total" \
    "$(m_promq 'sum(max_over_time(aiotest_request_duration_seconds_bucket{run="rw1",le="+Inf"}[5m]))')"
t_eq "pushed series of both segments" 2 "$(m_promq 'count(count by (segment) (aiotest_stage{run="rw1"}))')"
t_eq "pushed target users sum to the shape's" 4 \
    "$(m_promq 'sum(max_over_time(aiotest_target_users{run="rw1"}[5m]))')"
t_eq "pushed target rate sums to the shape's" 20 \
    "$(m_promq 'sum(max_over_time(aiotest_target_rate{run="rw1"}[5m]))')"
for k in 0 1; do
    t_eq "segment $k's final page pushed (stage 0)" 0 \
        "$(m_promq "last_over_time(aiotest_stage{run=\"rw1\",segment=\"$k\"}[5m])")"
done
t_check "pushed series carry job and instance" test "$(m_promq 'count(aiotest_stage{run="rw1",job="aiotest",instance!=""})')" = 2
t_log "ok"
