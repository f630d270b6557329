#!/usr/bin/env bash
# Issue 18: two --segment copies of one run started together (--start-at), each
# scraped by a real Prometheus, read as one run: sum() of the target gauges over
# the segments is the shape's target, and --merge of their reports has the summed
# per-second history (users, targets, req/s), classes and user samples.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/metrics/mlib.sh"
t_need prometheus curl python3
m_need_replay
m_scenario shop

t_target --delay-ms 20 --quiet
P0=$(t_port)
P1=$(t_port)
# Scraped as the pods of an Indexed Job would be, through deploy/kubernetes/scrape-config.yaml.
m_prometheus_pods r1 "$P0" "$P1"
# A closed stage of 4 users, then an open stage of 20 iterations/s.
printf '3s 4 100\nrate 3s 20\n' >"$T_DIR/shape.txt"
# Lead for both copies to load before --start-at on a loaded machine under ASan
# (loading 3 copies took up to 9 s there); a copy that loads late starts late.
at=$(( $(date +%s) + 10 ))
for k in 0 1; do
    port=P$k
    timeout 120 "$T_REPLAY" "$SCENARIO" --host "$TARGET_URL" --shape "$T_DIR/shape.txt" \
        --segment "$k/2" --start-at "$at" -q --metrics "127.0.0.1:${!port}" --metrics-linger 3s \
        --report "$T_DIR/s$k.json" >"$T_DIR/s$k.log" 2>&1 &
    T_PIDS+=("$!")
    eval "pid$k=$!"
done
for k in 0 1; do
    eval "wait \$pid$k" || t_fail "segment $k/2 failed: $(tail -5 "$T_DIR/s$k.log")"
    m_no_sanitizer_report "$T_DIR/s$k.log"
done

# (1) The target gauges: each segment exports its share, the sum is the shape's.
t_eq "sum over segments of each one's highest target users" 4 \
    "$(m_promq 'sum(max_over_time(aiotest_target_users[5m]))')"
t_eq "sum over segments of each one's highest target rate" 20 \
    "$(m_promq 'sum(max_over_time(aiotest_target_rate[5m]))')"
t_eq "sum(aiotest_target_users) in the closed stage" 4 "$(m_promq 'sum(aiotest_target_users)' $((at + 2)))"
t_eq "sum(aiotest_target_rate) in the open stage" 20 "$(m_promq 'sum(aiotest_target_rate)' $((at + 5)))"
t_eq "segment 0's own target users" 2 \
    "$(m_promq 'max_over_time(aiotest_target_users{run="r1",segment="0"}[5m])')"
t_eq "series of the run, one per segment (labels from the scrape configuration)" 2 \
    "$(m_promq 'count(max_over_time(aiotest_stage{run="r1"}[5m]))')"

t_eq "recording rule run:aiotest_target_users:sum" 4 \
    "$(m_promq 'max_over_time(run:aiotest_target_users:sum{run="r1"}[5m])')"
t_eq "recording rule run:aiotest_target_rate:sum" 20 \
    "$(m_promq 'max_over_time(run:aiotest_target_rate:sum{run="r1"}[5m])')"
t_eq "requests over the segments = the reports' sum" \
    "$(python3 -c 'import json, sys; print(sum(json.load(open(f))["total"]["count"] for f in sys.argv[1:]))' "$T_DIR"/s[01].json)" \
    "$(m_promq 'sum(max_over_time(aiotest_requests_total{run="r1"}[5m]))')"
# The cluster p99 from the summed buckets (over the whole run: the counters' last
# values) is computed after the merge below.
prom_p99=$(m_promq 'histogram_quantile(0.99, sum by (le) (max_over_time(aiotest_request_duration_seconds_bucket{run="r1"}[5m])))')

# (2) The merged report reads as one run.
m_replay merge.log --merge "$T_DIR/s0.json" "$T_DIR/s1.json" --report "$T_DIR/all.json" \
    --csv "$T_DIR/all" --html "$T_DIR/all.html" -q
t_eq "merge: exit status" 0 "$M_RC"
python3 - "$T_DIR/s0.json" "$T_DIR/s1.json" "$T_DIR/all.json" "$T_DIR/all_stats_history.csv" <<'PY' ||
import csv, json, sys
s = [json.load(open(p)) for p in sys.argv[1:3]]
m = json.load(open(sys.argv[3]))
bad = []
def check(what, ok):
    if not ok:
        bad.append(what)
hm = m["history"]
# Per-second rates summed: the merged history holds (within the rounding of the
# last partial second) the requests of both inputs, not of segment 0 alone.
def reqs(h):
    prev, n = 0.0, 0.0
    for r in h:
        n += r["rps"] * (r["t"] - prev)
        prev = r["t"]
    return n
want = reqs(s[0]["history"]) + reqs(s[1]["history"])
got = reqs(hm)
check("history requests %.0f = inputs' %.0f (within 10 %%)" % (got, want), abs(got - want) <= 0.1 * want)
check("history requests %.0f near the total count %d" % (got, m["total"]["count"]),
      abs(got - m["total"]["count"]) <= 0.1 * m["total"]["count"])
# The merged history spans the longer input (its rows are wall-clock seconds;
# a loaded runner writes an input's rows at uneven times, two in one second,
# so their count may differ from the merged one's: 5 vs 7 was seen).
span = lambda h: h[-1]["t"] if h else 0
check("history spans the longer input (%.1f s vs %.1f, %.1f s)" % (
      span(hm), span(s[0]["history"]), span(s[1]["history"])),
      abs(span(hm) - max(span(x["history"]) for x in s)) <= 1.5)
peak_users = max(r["users"] for r in hm)
# (the open stage may run a few more pooled users at once)
check("history peak users %d >= 4" % peak_users, peak_users >= 4)
check("history target users: peak 4", max(r["target_users"] for r in hm) == 4)
# A second of the closed stage: users and rps are the inputs' sums.
mid = [r for r in hm if 1.5 <= r["t"] <= 2.6]
check("a closed-stage second in the merged history", len(mid) >= 1)
for r in mid:
    def near(h):
        return min(h, key=lambda x: abs(x["t"] - r["t"]))
    a, b = near(s[0]["history"]), near(s[1]["history"])
    check("t=%.1f users %d = %d + %d" % (r["t"], r["users"], a["users"], b["users"]),
          r["users"] == a["users"] + b["users"])
    check("t=%.1f rps %.1f = %.1f + %.1f (within 1 %%)" % (r["t"], r["rps"], a["rps"], b["rps"]),
          abs(r["rps"] - a["rps"] - b["rps"]) <= 0.01 * (a["rps"] + b["rps"]) + 0.01)
# Classes and user samples merged.
cl = {c["name"]: c for c in m.get("classes", [])}
check("merged classes: %s" % sorted(cl), sorted(cl) == ["reader"])
if "reader" in cl:
    started = sum(c["users_started"] for x in s for c in x["classes"])
    check("users started %d = inputs' %d" % (cl["reader"]["users_started"], started),
          cl["reader"]["users_started"] == started)
    check("users peak %d >= 4" % cl["reader"]["users_peak"], cl["reader"]["users_peak"] >= 4)
us = m.get("user_samples", [])
check("user samples merged (%d)" % len(us), len(us) >= 20)
if us:
    check("user samples: peak users >= 4", max(x["users"] for x in us) >= 4)
    check("user samples: target 4", max(x["target"] for x in us) == 4)
    check("user samples: rate 20", abs(max(x["rate"] for x in us) - 20) < 1e-6)
# The CSV history is the merged one.
rows = list(csv.DictReader(open(sys.argv[4])))
check("CSV history rows %d = JSON %d" % (len(rows), len(hm)), len(rows) == len(hm))
if rows:
    check("CSV peak users >= 4", max(int(r["User Count"]) for r in rows) >= 4)
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
    t_fail "the merged report is not the sum of the segments (above)"
# The merged HTML's charts (their data-points) show the whole run's load.
python3 - "$T_DIR/all.html" "$T_DIR/all.json" <<'PY' || t_fail "the merged HTML charts do not show the summed history"
import html, json, re, sys
page = open(sys.argv[1]).read()
hm = json.load(open(sys.argv[2]))["history"]
def points(chart):
    m = re.search(r'<svg id="%s"[^>]*data-points="([^"]*)"' % chart, page)
    return json.loads(html.unescape(m.group(1)))
users, rps = points("chart-users"), points("chart-rps")
assert max(y for _, y in users["users"]) == max(r["users"] for r in hm) >= 4, users["users"]
assert max(y for _, y in users["target_users"]) == 4, users["target_users"]
assert [round(y, 3) for _, y in rps["rps"]] == [round(r["rps"], 3) for r in hm]
print("HTML: peak users %d, %d seconds of req/s" % (max(y for _, y in users["users"]), len(rps["rps"])))
PY
# (3) The cluster p99 from Prometheus' summed buckets and the merged report's
# exact p99 fall in the same bucket or neighbours (the buckets of docs/metrics.md).
t_check "cluster p99 from summed buckets ($prom_p99 s) within a bucket of the merged report's" \
    python3 - "$T_DIR/all.json" "$prom_p99" <<'PY'
import bisect, json, sys
le = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60]
p99 = json.load(open(sys.argv[1]))["total"]["p99_ms"] / 1000
prom = float(sys.argv[2])
a, b = bisect.bisect_left(le, p99), bisect.bisect_left(le, prom * 0.999)
print("report p99 %.4f s (bucket %d), prometheus %.4f s (bucket %d)" % (p99, a, prom, b))
sys.exit(0 if abs(a - b) <= 1 else 1)
PY
t_log "ok"
