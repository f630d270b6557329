#!/usr/bin/env bash
# --baseline: a run against a target slowed 2x is flagged as a regression (exit 1);
# a run against the same speed passes (exit 0; 50 % tolerance: a p99 of 160 requests
# on loopback moves by tens of percent between runs).
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/metrics/mlib.sh"
t_need curl
m_need_replay
m_scenario shop
t_target --delay-ms 50 --quiet

run() { # LOG REPORT [ARGS...]
    local log=$1 rep=$2; shift 2
    m_replay "$log" "$SCENARIO" --host "$TARGET_URL" -u 4 -r 20 --iterations 20 --report "$T_DIR/$rep" "$@"
}
run base.log base.json
t_eq "baseline run exit code" 0 "$M_RC"

run same.log same.json --baseline "$T_DIR/base.json" --tolerance 50%
t_eq "exit code at the same speed" 0 "$M_RC"
t_check "no regression printed" grep -q 'PASS baseline' "$T_DIR/same.log"

curl -sf -X POST "$TARGET_URL/_control?delay_ms=100" >/dev/null || t_fail "cannot slow the target down"
run slow.log slow.json --baseline "$T_DIR/base.json" --tolerance 10%
t_eq "exit code 2x slower" 1 "$M_RC"
t_check "regression of GET /api/search p50 listed" grep -q 'REGRESSION GET /api/search p50' "$T_DIR/slow.log"
t_check "regression of the total p50 listed" grep -q "REGRESSION Aggregated p50" "$T_DIR/slow.log"

m_replay missing.log "$SCENARIO" --host "$TARGET_URL" -u 1 --iterations 1 --baseline "$T_DIR/nope.json"
t_eq "exit code for a missing baseline file" 2 "$M_RC"
t_check "the error names the file" grep -q "nope.json" "$T_DIR/missing.log"
