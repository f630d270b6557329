#!/usr/bin/env bash
# The HTML report of a real run opens in headless chromium without console errors
# or network fetches; a screenshot is made (kept in the test's temp dir with
# T_KEEP=1); the SVG charts are in the DOM chromium built and their data-points
# match the JSON report of the same run.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/metrics/mlib.sh"
t_need chromium python3
m_need_replay
m_scenario shop

t_target --fail-rate 0.05 --delay-ms 2-20 --quiet
m_replay replay.log "$SCENARIO" --host "$TARGET_URL" -u 4 -r 4 -t 4s \
    --report "$T_DIR/run.json" --html "$T_DIR/report.html" --csv "$T_DIR/run" \
    --fail-on 'p99<10s,errors<0.01%'
# The target fails 5 % of the requests: errors<0.01% fails, exit 1.
t_eq "aiotest-replay exit code" 1 "$M_RC"
t_check "HTML report written" test -s "$T_DIR/report.html"
t_check "CSV stats written" grep -q '^,Aggregated,' "$T_DIR/run_stats.csv"

chrome() {
    timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$T_DIR/chrome-profile" --enable-logging=stderr --v=0 "$@"
}
chrome --screenshot="$T_DIR/report.png" --window-size=1280,2200 "file://$T_DIR/report.html" \
    >"$T_DIR/chrome-shot.log" 2>&1 || t_fail "chromium --screenshot failed: $(tail -3 "$T_DIR/chrome-shot.log")"
chrome --dump-dom "file://$T_DIR/report.html" >"$T_DIR/dom.html" 2>"$T_DIR/chrome-dom.log" ||
    t_fail "chromium --dump-dom failed: $(tail -3 "$T_DIR/chrome-dom.log")"
if grep -E 'CONSOLE|Uncaught|net::ERR' "$T_DIR/chrome-shot.log" "$T_DIR/chrome-dom.log"; then
    t_fail "chromium reported console or network errors for the report (above)"
fi
t_log "ok: no console or network errors"

python3 - "$T_DIR/report.png" <<'PY' || t_fail "the screenshot is not a 1280x2200 PNG with content"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n"
w, h = struct.unpack(">II", data[16:24])
assert (w, h) == (1280, 2200), (w, h)
assert len(data) > 30000, len(data)   # a blank page compresses to a few KB
PY
t_log "ok: screenshot $T_DIR/report.png"

# The charts in the DOM chromium built, against the report.
python3 - "$T_DIR/dom.html" "$T_DIR/run.json" <<'PY' || t_fail "the charts do not match the report"
import json, sys
from html.parser import HTMLParser

class Svgs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.svgs, self.cur, self.rows, self.table, self.cells = {}, None, {}, None, {}
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg" and a.get("id", "").startswith("chart-"):
            self.cur = a["id"]
            self.svgs[self.cur] = {"data": json.loads(a["data-points"]), "polyline": 0, "rect": 0, "text": 0}
        elif self.cur and tag in ("polyline", "rect", "text"):
            self.svgs[self.cur][tag] += 1
        if tag == "table":
            self.table = a.get("id")
        if tag == "tr" and self.table:
            self.rows[self.table] = self.rows.get(self.table, 0) + 1
            self.cells.setdefault(self.table, []).append([])
        self.td = tag in ("td", "th")
    def handle_data(self, data):
        if getattr(self, "td", False) and self.table and self.cells.get(self.table):
            self.cells[self.table][-1].append(data)
    def handle_endtag(self, tag):
        if tag == "svg":
            self.cur = None
        if tag == "table":
            self.table = None
        if tag in ("td", "th"):
            self.td = False

p = Svgs()
p.feed(open(sys.argv[1]).read())
rep = json.load(open(sys.argv[2]))
hist, total = rep["history"], rep["total"]
want = {"chart-rps", "chart-users", "chart-latency", "chart-histogram", "chart-failures"}
assert want <= set(p.svgs), set(p.svgs)
assert len(hist) >= 3, "history rows: %d" % len(hist)
assert p.rows["summary"] == 1 + len(rep["entries"]) + 1, "table rows %s" % p.rows
# Status codes per entry: the header names each code, each row has the report's counts.
st = p.cells["statuses"]
codes = sorted({c for e in rep["entries"] for c in e["statuses"]}, key=int)
assert st[0][2:2 + len(codes)] == codes, (st[0], codes)
nr = len(st[0]) - 2 - len(codes)   # "no response: CATEGORY" columns follow the codes
for row, e in zip(st[1:], rep["entries"] + [total]):
    got = [int(x) for x in row[len(row) - nr - len(codes):len(row) - nr]]
    assert got == [e["statuses"].get(c, 0) for c in codes], (row, e["statuses"])

def close(a, b):
    return abs(a - b) <= 1e-6 * max(1.0, abs(b))

for cid, fields, scale in (("chart-rps", ["rps", "fails_per_s"], 1), ("chart-users", ["users", "target_users"], 1),
                           ("chart-latency", ["p50_us", "p95_us", "p99_us"], 0.001)):
    d = p.svgs[cid]
    assert d["polyline"] == len(fields), (cid, d["polyline"])
    for f in fields:
        pts = d["data"][f]
        assert len(pts) == len(hist), (cid, f, len(pts))
        for (t, v), row in zip(pts, hist):
            assert close(t, row["t"]) and close(v, row[f] * scale), (cid, f, t, v, row)
bins = p.svgs["chart-histogram"]["data"]
assert sum(b[2] for b in bins) == total["count"], (sum(b[2] for b in bins), total["count"])
assert bins[-1][1] >= total["max_ms"] and bins[0][0] < total["min_ms"]
assert p.svgs["chart-histogram"]["rect"] >= len(bins)
fails = dict(p.svgs["chart-failures"]["data"])
assert fails == total["fail"], (fails, total["fail"])
assert total["failures"] > 0 and p.svgs["chart-failures"]["rect"] >= len(fails)
# The --fail-on lines, first in the page.
th = p.cells["thresholds"]
assert [r[:2] for r in th[1:]] == [["PASS", "p99<10s"], ["FAIL", "errors<0.01%"]], th
print("charts: %d history rows, %d histogram bins, failures %s" % (len(hist), len(bins), fails))
PY
t_log "ok: SVG data match the report"
