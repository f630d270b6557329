#!/usr/bin/env bash
# A real Prometheus scrapes aiotest-replay's /metrics every second during a bounded
# run (and the --metrics-linger after it); then its HTTP API must give the same
# request and failure totals as the run's JSON report.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/metrics/mlib.sh"
t_need prometheus curl python3
m_need_replay
m_scenario shop

t_target --fail-rate 0.1 --delay-ms 30 --quiet
MPORT=$(t_port)
PPORT=$(t_port)
cat >"$T_DIR/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: aiotest
    static_configs:
      - targets: ['127.0.0.1:$MPORT']
YML
t_bg prometheus prometheus --config.file="$T_DIR/prometheus.yml" \
    --web.listen-address="127.0.0.1:$PPORT" --storage.tsdb.path="$T_DIR/tsdb"
t_wait_port "$PPORT" 30
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$PPORT/-/ready" >/dev/null && break
    sleep 0.2
done
curl -sf "http://127.0.0.1:$PPORT/-/ready" >/dev/null || t_fail "prometheus not ready: $(tail -3 "$T_DIR/prometheus.log")"
# Prometheus applies its targets a few seconds after start: wait for its first
# (failed) scrape of the not yet listening endpoint, so it sees the whole run.
for _ in $(seq 1 150); do
    curl -sf "http://127.0.0.1:$PPORT/api/v1/targets" | grep -q '"health":"down"' && break
    sleep 0.2
done
curl -sf "http://127.0.0.1:$PPORT/api/v1/targets" | grep -q '"health":"down"' ||
    t_fail "prometheus did not start scraping 127.0.0.1:$MPORT within 30 s"

# 4 users x 40 iterations x 2 requests of 30 ms: about 4 s of scrapes.
m_replay replay.log "$SCENARIO" --host "$TARGET_URL" -u 4 -r 2 --iterations 40 \
    --metrics "127.0.0.1:$MPORT" --metrics-linger 4s --report "$T_DIR/run.json"
# The target fails some requests on purpose: exit 1 without --fail-on (issue 12).
t_eq "aiotest-replay exit code" 1 "$M_RC"
count=$(m_json "$T_DIR/run.json" 'd["total"]["count"]')
fails=$(m_json "$T_DIR/run.json" 'd["total"]["failures"]')
t_eq "requests in the report" 320 "$count"
t_check "the target's 10 % failures show in the report" test "$fails" -gt 0

# promq EXPR: the value of an instant query, as an integer ("none" when empty).
promq() {
    curl -sf "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1" |
        python3 -c 'import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(int(float(r[0]["value"][1])) if r else "none")'
}
# The run is over: the series went stale, so take each series' last value.
t_eq "requests scraped by prometheus" "$count" "$(promq 'sum(max_over_time(aiotest_requests_total[5m]))')"
t_eq "failures scraped by prometheus" "$fails" "$(promq 'sum(max_over_time(aiotest_request_failures_total[5m]))')"
t_eq "latency histogram count" "$count" "$(promq 'sum(max_over_time(aiotest_request_duration_seconds_count[5m]))')"
t_eq "+Inf bucket" "$count" "$(promq 'sum(max_over_time(aiotest_request_duration_seconds_bucket{le="+Inf"}[5m]))')"
for name in "GET /api/search" "GET /api/item/{id}"; do
    want=$(m_json "$T_DIR/run.json" "[e['count'] for e in d['entries'] if e['name'] == '$name'][0]")
    t_eq "requests of $name" "$want" "$(promq "sum(max_over_time(aiotest_requests_total{name=\"$name\"}[5m]))")"
done
http_fails=$(m_json "$T_DIR/run.json" 'd["total"]["fail"].get("http", 0)')
t_eq "status 500 responses" "$http_fails" "$(promq 'sum(max_over_time(aiotest_requests_total{status="500"}[5m]))')"
t_eq "iterations completed" "$(m_json "$T_DIR/run.json" 'd["iterations"]["completed"]')" \
    "$(promq 'max_over_time(aiotest_iterations_total{state="completed"}[5m])')"
# Users end their iterations at different times, so the running count may never be
# scraped at 4; the shape's target stays at 4 until the end.
t_eq "target users scraped" 4 "$(promq 'max(max_over_time(aiotest_target_users[5m]))')"
users=$(promq 'max(max_over_time(aiotest_users{class="reader"}[5m]))')
t_check "running users scraped ($users)" test "$users" -ge 1 -a "$users" -le 4
t_eq "stage during the run" 1 "$(promq 'max(max_over_time(aiotest_stage[5m]))')"
t_eq "stage after the run (last scrape)" 0 "$(promq 'last_over_time(aiotest_stage[5m])')"
t_check "process metrics scraped" test "$(promq 'max(max_over_time(process_resident_memory_bytes[5m]))')" != none
