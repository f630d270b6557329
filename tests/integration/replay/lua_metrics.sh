# Lua script metrics (metric.counter, metric.histogram) against aiotest-target:
# summed over the worker threads and the main thread's state, on /metrics
# (aiotest_script_*, accepted by promtool) and in the JSON report; a label set
# past the bound of 100 per metric is refused, counted per metric and named on
# stderr. 110 users x 1 iteration x 4 requests on 2 threads.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
D="$AIOTEST_SRC/tests/integration/replay/lua"
"$T_REPLAY" --version 2>&1 | grep -q "Lua: none" && t_skip "this build has no Lua"
t_target --quiet

MPORT=$(t_port)
export LUA_METRICS_DONE="$T_DIR/done.txt"
timeout 120 "$T_REPLAY" "$D/items.json" --host "$TARGET_URL" -u 110 --iterations 1 --threads 2 \
    --script "$D/metrics.lua" --report "$T_DIR/r.json" -q \
    --metrics "127.0.0.1:$MPORT" --metrics-linger 5s >"$T_DIR/replay.out" 2>"$T_DIR/replay.err" &
RPID=$!
T_PIDS+=("$RPID")
for _ in $(seq 600); do [ -s "$T_DIR/r.json" ] && break; sleep 0.1; done
curl -s "http://127.0.0.1:$MPORT/metrics" >"$T_DIR/page.prom"
wait "$RPID"
t_eq "exit status" 0 "$?"
r_clean "$T_DIR/replay.err"
t_eq "target served every request" 440 \
    "$(curl -s "$TARGET_URL/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')"

# The bytes the target sends for the four URLs, for the histogram's sum.
bytes=0
for u in /api/item/123456 /api/item/7 /api/item/1 /api/item/5; do
    bytes=$((bytes + $(curl -s "$TARGET_URL$u" | wc -c)))
done
P="$T_DIR/page.prom"
sample() { grep -E "^$1 " "$P" | awk '{print $2}'; }
t_eq "page: hits (2 per response)" 880 "$(sample 'aiotest_script_hits_total')"
t_eq "page: setup ran in 3 states (2 workers + main)" 3 "$(sample 'aiotest_script_setups_total')"
t_eq "page: responses by name and status" 110 \
    "$(sample 'aiotest_script_responses_total\{name="bad",status="200"\}')"
t_eq "page: responses, 4 series" 4 "$(grep -c '^aiotest_script_responses_total{' "$P")"
t_eq "page: histogram type" 1 "$(grep -c '^# TYPE aiotest_script_body_bytes histogram$' "$P")"
t_eq "page: histogram count" 440 "$(sample 'aiotest_script_body_bytes_count')"
t_eq "page: histogram +Inf" 440 "$(sample 'aiotest_script_body_bytes_bucket\{le="\+Inf"\}')"
t_eq "page: histogram sum = bytes served" $((bytes * 110)) "$(sample 'aiotest_script_body_bytes_sum')"
t_eq "page: by_user bounded at 100 label sets" 100 "$(grep -c '^aiotest_script_by_user_total{' "$P")"
t_eq "page: by_user refused updates (10 users x 4)" 40 \
    "$(sample 'aiotest_script_updates_refused_total\{metric="by_user"\}')"
t_eq "page: by_user accepted updates" 400 \
    "$(grep '^aiotest_script_by_user_total{' "$P" | awk '{s += $2} END {print s}')"
if command -v promtool >/dev/null; then
    promtool check metrics <"$P" >"$T_DIR/promtool.out" 2>&1 || { cat "$T_DIR/promtool.out" >&2; t_fail "promtool rejected the page"; }
fi
grep -q "metric by_user: a new label set past the bound of 100" "$T_DIR/replay.err" ||
    t_fail "refusal not named on stderr"
grep -q "40 update(s) refused" "$T_DIR/replay.err" || t_fail "refused total not printed at the end"

t_eq "done() saw the summed metrics" "hits 880 refused 40" "$(xargs <"$T_DIR/done.txt")"
sm() { r_json "$T_DIR/r.json" "{m['name']: m for m in r['script_metrics']}$1"; }
t_eq "report: hits" 880.0 "$(sm "['hits']['series'][0]['value']")"
t_eq "report: setups" 3.0 "$(sm "['setups']['series'][0]['value']")"
t_eq "report: responses labels" "[('bad', '200'), ('boom', '200'), ('good', '200'), ('var', '200')]" \
    "$(sm "['responses']['series']" | python3 -c 'import sys,ast; print(sorted((s["labels"]["name"], s["labels"]["status"]) for s in ast.literal_eval(sys.stdin.read())))')"
t_eq "report: histogram buckets" "[0.0, 440.0, 440.0, 440.0]" \
    "$(sm "['body_bytes']['series'][0]['buckets']" | python3 -c 'import sys,ast; print([b["count"] for b in ast.literal_eval(sys.stdin.read())])')"
t_eq "report: by_user refused" 40.0 "$(sm "['by_user']['refused']")"
t_eq "report: by_user series" 100 "$(sm "['by_user']['series'].__len__()")"

# --merge of two segments' reports (here the same report twice) adds the
# script metrics: series matched by labels, refused counts and buckets added.
r_replay --merge "$T_DIR/r.json" "$T_DIR/r.json" --report "$T_DIR/m.json" -q
t_eq "merge: exit 0" 0 "$R_RC"
mm() { r_json "$T_DIR/m.json" "{m['name']: m for m in r['script_metrics']}$1"; }
t_eq "merge: hits doubled" 1760.0 "$(mm "['hits']['series'][0]['value']")"
t_eq "merge: by_user still 100 series" 100 "$(mm "['by_user']['series'].__len__()")"
t_eq "merge: by_user refused doubled" 80.0 "$(mm "['by_user']['refused']")"
t_eq "merge: histogram count and buckets doubled" "880.0 [0.0, 880.0, 880.0, 880.0]" \
    "$(mm "['body_bytes']['series'][0]['count']") $(mm "['body_bytes']['series'][0]['buckets']" | python3 -c 'import sys,ast; print([b["count"] for b in ast.literal_eval(sys.stdin.read())])')"
# Reports of different scripts do not merge silently: a counter that is a
# histogram in the other report is refused.
python3 - "$T_DIR/r.json" "$T_DIR/other.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for m in r["script_metrics"]:
    if m["name"] == "hits":
        m["type"] = "histogram"
json.dump(r, open(sys.argv[2], "w"))
PY
r_replay --merge "$T_DIR/r.json" "$T_DIR/other.json" --report "$T_DIR/m2.json" -q
t_eq "merge: conflicting types exit 2" 2 "$R_RC"
grep -q "script metric hits is a counter in one report and a histogram in another" "$T_DIR/replay.err" ||
    t_fail "merge conflict message: $(cat "$T_DIR/replay.err")"
t_log "ok"
