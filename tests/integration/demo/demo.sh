#!/usr/bin/env bash
# Runs scripts/demo.sh on this build and checks that the whole chain ran:
# target, capture (a recording with every exchange), convert, replay (a report
# whose request count the shop confirms).
. "$AIOTEST_SRC/tests/integration/lib.sh"
export DEMO_OUT=$T_DIR/demo
bash "$AIOTEST_SRC/scripts/demo.sh" >"$T_DIR/demo.txt" 2>&1
rc=$?
cat "$T_DIR/demo.txt"
t_eq "demo exit code" 0 "$rc"
if grep -q "NOT THERE YET" "$T_DIR/demo.txt"; then
    t_fail "a step of the demo chain is missing (see NOT THERE YET above)"
fi
t_check "recording written" test -s "$DEMO_OUT/shop.mp"
t_check "scenario written" test -s "$DEMO_OUT/shop-scenario.mp"
t_check "run report written" test -s "$DEMO_OUT/run.json"
t_check "HTML report written" test -s "$DEMO_OUT/report.html"
sent=$(jq '.total.count' "$DEMO_OUT/run.json")
t_check "the replay sent requests" test "${sent:-0}" -gt 0
