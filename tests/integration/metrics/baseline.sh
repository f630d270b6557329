#!/usr/bin/env bash
# --baseline on a noisy runner (issue 12 item 2): identical reruns of an unpaced
# closed-model run pass with the default tolerances (latency percentiles with
# absolute floors, error rate; rps not compared because the run is not paced),
# a target 20 ms slower fails; the comparison table is printed and lands in the
# JSON report; a paced run (think times) compares rps; bad settings are usage errors.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/metrics/mlib.sh"
t_need curl
m_need_replay
m_scenario shop
t_target --quiet

run() { # LOG REPORT [ARGS...]
    local log=$1 rep=$2; shift 2
    m_replay "$log" "$SCENARIO" --host "$TARGET_URL" -u 4 -t 3s --report "$T_DIR/$rep" "$@"
}
run base.log base.json
t_eq "baseline run exit code" 0 "$M_RC"
t_eq "the report says the run was not paced" False "$(m_json "$T_DIR/base.json" 'd["paced"]')"

for i in 1 2 3; do
    run "same$i.log" "same$i.json" --baseline "$T_DIR/base.json"
    t_eq "identical rerun $i: exit code" 0 "$M_RC"
    t_check "identical rerun $i: PASS baseline" grep -q '^PASS baseline' "$T_DIR/same$i.log"
done
t_check "the table names what was compared" \
    grep -qE '^Aggregated +p50 .* ok$' "$T_DIR/same1.log"
t_check "rps of an unpaced run is not compared, and that is said" \
    grep -q 'note: rps not compared: this run was not paced' "$T_DIR/same1.log"
t_eq "JSON report: the comparison passed" True "$(m_json "$T_DIR/same1.json" 'd["baseline"]["passed"]')"
t_check "JSON report: rows for p50, p95 and errors of the total" \
    test "$(m_json "$T_DIR/same1.json" 'sorted(r["metric"] for r in d["baseline"]["rows"] if r["entry"] == "Aggregated")')" \
    = "['errors', 'p50', 'p95', 'p99']"

# The same target 20 ms slower.
FAST_URL=$TARGET_URL
t_target --quiet --delay-ms 20
run slow.log slow.json --baseline "$T_DIR/base.json"
t_eq "20 ms slower: exit code" 1 "$M_RC"
t_check "20 ms slower: regression of GET /api/search p50 listed" \
    grep -q 'REGRESSION GET /api/search p50' "$T_DIR/slow.log"
t_check "20 ms slower: regression of the total p50 listed" grep -q "REGRESSION Aggregated p50" "$T_DIR/slow.log"
t_check "20 ms slower: FAIL baseline" grep -q '^FAIL baseline' "$T_DIR/slow.log"
t_eq "JSON report: the comparison failed" False "$(m_json "$T_DIR/slow.json" 'd["baseline"]["passed"]')"
t_eq "JSON report: total p50 is a regression" regression \
    "$(m_json "$T_DIR/slow.json" '[r["result"] for r in d["baseline"]["rows"] if r["entry"] == "Aggregated" and r["metric"] == "p50"][0]')"
# A tolerance that allows 20 ms more at every compared percentile accepts it.
run wide.log wide.json --baseline "$T_DIR/base.json" --tolerance 10%,40ms
t_eq "20 ms slower with --tolerance 10%,40ms: exit code" 0 "$M_RC"

# Paced (think times): rps is compared.
sed 's/"wait": {"kind": "none"}/"wait": {"kind": "constant", "min_us": 20000}/' "$T_DIR/shop.json" >"$T_DIR/paced.json"
m_replay paced-base.log "$T_DIR/paced.json" --host "$FAST_URL" -u 4 -t 2s --report "$T_DIR/paced-base.json"
t_eq "paced: the report says so" "True think times" \
    "$(m_json "$T_DIR/paced-base.json" 'str(d["paced"]) + " " + d["pacing"]')"
m_replay paced.log "$T_DIR/paced.json" --host "$FAST_URL" -u 4 -t 2s --baseline "$T_DIR/paced-base.json" \
    --compare p50,errors,rps --tolerance rps=50% --report "$T_DIR/paced2.json"
t_eq "paced rerun: exit code" 0 "$M_RC"
t_check "paced rerun: rps compared" grep -qE '^Aggregated +rps .* ok$' "$T_DIR/paced.log"
t_check "paced rerun: p95 not compared (--compare)" sh -c "! grep -qE '^Aggregated +p95 ' '$T_DIR/paced.log'"

m_replay merge.log --merge "$T_DIR/paced-base.json" "$T_DIR/paced2.json" --report "$T_DIR/merged.json"
t_eq "merged paced reports are paced" True "$(m_json "$T_DIR/merged.json" 'd["paced"]')"
m_replay merge2.log --merge "$T_DIR/paced-base.json" "$T_DIR/base.json" --report "$T_DIR/merged2.json"
t_eq "a merge with an unpaced report is not" False "$(m_json "$T_DIR/merged2.json" 'd["paced"]')"

# Usage errors, before anything runs.
m_replay missing.log "$SCENARIO" --host "$FAST_URL" -u 1 --iterations 1 --baseline "$T_DIR/nope.json"
t_eq "exit code for a missing baseline file" 2 "$M_RC"
t_check "the error names the file" grep -q "nope.json" "$T_DIR/missing.log"
m_replay badtol.log "$SCENARIO" --host "$FAST_URL" -u 1 --iterations 1 --baseline "$T_DIR/base.json" \
    --tolerance 'p99=5pp'
t_eq "exit code for a bad --tolerance" 2 "$M_RC"
t_check "the error names the item" grep -q "'5pp': a 'pp' floor fits errors only" "$T_DIR/badtol.log"
m_replay badcmp.log "$SCENARIO" --host "$FAST_URL" -u 1 --iterations 1 --baseline "$T_DIR/base.json" \
    --compare p99,p42
t_eq "exit code for a bad --compare" 2 "$M_RC"
t_check "the error names the metric" grep -q "'p42': expected one of" "$T_DIR/badcmp.log"
