#!/usr/bin/env bash
# docs/grafana/aiotest.json is an importable dashboard: valid JSON with a
# ${DS_PROMETHEUS} input, panels for RPS, failures, p50/p95/p99 per name, users per
# class and the stage, and every query is valid PromQL over metrics that
# docs/metrics.md and replay/metrics.c define (promtool check rules).
. "$AIOTEST_SRC/tests/integration/lib.sh"
t_need promtool python3
python3 - "$AIOTEST_SRC" "$T_DIR/rules.yml" <<'PY' || t_fail "dashboard checks"
import json, re, sys
src, out = sys.argv[1], sys.argv[2]
d = json.load(open(src + "/docs/grafana/aiotest.json"))
assert [i["name"] for i in d["__inputs"]] == ["DS_PROMETHEUS"]
exprs, titles = [], []
for p in d["panels"]:
    titles.append(p["title"])
    assert p["datasource"]["uid"] == "${DS_PROMETHEUS}", p["title"]
    for t in p["targets"]:
        assert t["datasource"]["uid"] == "${DS_PROMETHEUS}"
        exprs.append(t["expr"])
joined = "\n".join(exprs)
# Issue 18: runs and generators (segments) selectable; every series filtered by
# both; the target lines are the sum over segments (each exports its share).
assert [v["name"] for v in d["templating"]["list"]][:2] == ["run", "instance"], d["templating"]
for e in exprs:
    for m in re.finditer(r"\b((?:aiotest|process)_[a-z_]+)(\{[^}]*\})?", e):
        assert m.group(2) and 'run=~"$run"' in m.group(2) and 'instance=~"$instance"' in m.group(2), e
for m in ("aiotest_target_users", "aiotest_target_rate"):
    uses = [e for e in exprs if m in e]
    assert uses and all(e.startswith("sum(" + m) for e in uses), uses
for q in ("0.5", "0.95", "0.99"):
    assert "histogram_quantile(%s, sum by (name, le) (rate(aiotest_request_duration_seconds_bucket" % q in joined, q
for m in ("aiotest_requests_total", "aiotest_request_failures_total", "aiotest_users", "aiotest_stage",
          "aiotest_bodies_cut_total", "aiotest_unsolicited_events_total"):
    assert m in joined, m
code = open(src + "/replay/metrics.c").read() + open(src + "/docs/metrics.md").read()
for m in set(re.findall(r"\b((?:aiotest|process)_[a-z_]+)", joined)):
    base = re.sub(r"_(bucket|sum|count)$", "", m)
    assert base in code, "metric %s is not served" % m
rules = [{"record": "aiotest:check_%d" % i,
          "expr": e.replace("$__rate_interval", "1m").replace("$name", ".*")
          .replace("$run", ".*").replace("$instance", ".*")} for i, e in enumerate(exprs)]
import yaml
yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, open(out, "w"))
print("%d panels, %d queries" % (len(titles), len(exprs)))
PY
promtool check rules "$T_DIR/rules.yml" >"$T_DIR/promtool.txt" 2>&1 ||
    t_fail "promtool rejects a dashboard query: $(cat "$T_DIR/promtool.txt")"
t_log "ok: every dashboard query is valid PromQL"
