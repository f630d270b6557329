# Latency is measured, not invented: a fixed server delay shows as p50, a uniform
# one as uniform percentiles.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
SCN="$AIOTEST_SRC/tests/integration/replay/api.json"

t_target --quiet --delay-ms 50
r_replay "$SCN" --host "$TARGET_URL" -u 20 -t 3s --report "$T_DIR/fixed.json"
t_eq "fixed delay: exit status" 0 "$R_RC"
p50=$(r_entry "$T_DIR/fixed.json" "GET GET /api/item/{id}" p50_ms)
# Never below what the server waited; above it by what a loaded runner adds
# (wide on purpose: the lower bounds are the ones a made-up figure would miss).
t_check "fixed 50 ms delay: p50 $p50 ms in [50, 100]" r_in 50 100 "$p50"
t_check "fixed 50 ms delay: min is not below the delay" \
    r_in 50 1000 "$(r_entry "$T_DIR/fixed.json" "GET GET /api/item/{id}" min_ms)"

curl -s -X POST "$TARGET_URL/_control?delay_ms=10-90" >/dev/null || t_fail "control"
r_replay "$SCN" --host "$TARGET_URL" -u 50 -t 4s --report "$T_DIR/uniform.json"
t_eq "uniform delay: exit status" 0 "$R_RC"
n=$(r_entry "$T_DIR/uniform.json" "GET GET /api/item/{id}" count)
t_check "uniform delay: enough samples ($n)" r_in 1000 100000000 "$n"
# Uniform on [10, 90] ms: percentile q sits at 10 + 80 q (plus overhead: up to
# 25 ms more on a loaded runner; not below it less the histogram's precision).
for q in 50 90 95; do
    v=$(r_entry "$T_DIR/uniform.json" "GET GET /api/item/{id}" "p${q}_ms")
    want=$(python3 -c "print(10 + 80 * $q / 100)")
    lo=$(python3 -c "print($want * 0.9)"); hi=$(python3 -c "print($want * 1.1 + 25)")
    t_check "uniform 10-90 ms: p$q $v ms in [$lo, $hi] (want $want)" r_in "$lo" "$hi" "$v"
done
