#!/usr/bin/env bash
# --fail-on against a target that answers in 200 ms: p99<100ms fails with exit 1,
# p99<1s passes with exit 0, and a malformed threshold is a usage error (exit 2).
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/metrics/mlib.sh"
m_need_replay
m_scenario shop
t_target --delay-ms 200 --quiet

m_replay fail.log "$SCENARIO" --host "$TARGET_URL" -u 2 -r 10 --iterations 3 --fail-on 'p99<100ms'
t_eq "exit code with p99<100ms" 1 "$M_RC"
t_check "the failed threshold is printed" grep -q 'FAIL p99<100ms' "$T_DIR/fail.log"

m_replay pass.log "$SCENARIO" --host "$TARGET_URL" -u 2 -r 10 --iterations 3 \
    --fail-on 'p99<1s,errors<1%,p50[GET /api/search]>=200ms' --report "$T_DIR/pass.json"
t_eq "exit code with p99<1s" 0 "$M_RC"
t_check "the passed thresholds are printed" grep -q 'PASS p99<1s' "$T_DIR/pass.log"
t_check "selector threshold printed" grep -q 'PASS p50\[GET /api/search\]>=200ms' "$T_DIR/pass.log"
p99=$(m_json "$T_DIR/pass.json" 'int(d["total"]["p99_ms"])')
t_check "report p99 ($p99 ms) is around the 200 ms delay" test "$p99" -ge 200 -a "$p99" -lt 1000

m_replay bad.log "$SCENARIO" --host "$TARGET_URL" -u 1 --iterations 1 --fail-on 'p99<fast'
t_eq "exit code for a malformed --fail-on" 2 "$M_RC"
t_check "the usage error names --fail-on" grep -q -- "--fail-on: 'p99<fast'" "$T_DIR/bad.log"
