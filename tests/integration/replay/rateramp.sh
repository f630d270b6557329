# Open model ramps: 'rate DURATION FROM TO' moves the arrival rate linearly
# within a stage (k6's ramping-arrival-rate), and the report's history carries
# the target rate of every second beside the iterations actually started.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
t_target --quiet
SCN="$AIOTEST_SRC/tests/integration/replay/api.json"
printf 'rate 6s 10 90\nrate 2s 40\n' >"$T_DIR/ramp.conf"

r_replay "$SCN" --host "$TARGET_URL" --shape "$T_DIR/ramp.conf" --report "$T_DIR/r.json"
t_eq "exit status" 0 "$R_RC"
# 6 s at a mean of 50/s, then 2 s at 40/s: 380 iterations.
started=$(r_json "$T_DIR/r.json" 'r["iterations"]["started"]')
t_check "started the ramp's 300 + 80 iterations ($started)" r_in 342 400 "$started"
# The target rate of each full row follows the line: it rises through the ramp
# (10 -> 90 over 6 s: +13.3/s each second) and holds 40 after it. Rows are
# picked by their t (a row covers about [t - 1.1, t - 0.1]; on a busy machine
# the main thread may write one late), the partial last row left out.
targets=$(r_json "$T_DIR/r.json" '" ".join("%.2f:%.1f" % (s["t"], s["target_rate"]) for s in r["history"][:-1])')
t_check "target rate of the rows rises, then holds 40 ($targets)" python3 -c '
import sys
rows = [tuple(map(float, x.split(":"))) for x in sys.argv[1:]]
ramp = [v for t, v in rows if t <= 6.05]
hold = [v for t, v in rows if 7.15 <= t <= 8.05]
rising = all(b > a for a, b in zip(ramp, ramp[1:]))
ok = len(ramp) >= 4 and rising and 5 <= ramp[0] <= 30 and 55 <= ramp[-1] <= 90 and hold \
    and all(39 <= v <= 41 for v in hold)
sys.exit(0 if ok else 1)' $targets
# Started per second against the target, row by row, with the slack of one
# hand-over of the workers (200 ms of iterations) that may slip to the next row
# on a busy machine; the rows of the ramp together within 10 %.
pairs=$(r_json "$T_DIR/r.json" '" ".join("%.1f:%.1f" % (s["iterations_per_s"], s["target_rate"]) for s in r["history"][1:-1])')
t_check "started follows the target ($pairs)" python3 -c '
import sys
p = [tuple(map(float, x.split(":"))) for x in sys.argv[1:]]
rows = all(abs(a - t) <= 0.3 * t + 2 for a, t in p)
tot_a, tot_t = sum(a for a, _ in p), sum(t for _, t in p)
sys.exit(0 if p and rows and abs(tot_a - tot_t) <= 0.1 * tot_t else 1)' $pairs

# A ramp down to 0 is allowed; a ramp with a bad second rate is a usage error.
printf 'rate 2s 20 0\n' >"$T_DIR/down.conf"
r_replay "$SCN" --host "$TARGET_URL" --shape "$T_DIR/down.conf" --report "$T_DIR/d.json"
t_eq "ramp down: exit status" 0 "$R_RC"
t_check "ramp down: about 20 started" r_in 14 26 "$(r_json "$T_DIR/d.json" 'r["iterations"]["started"]')"
printf 'rate 2s 20 fast\n' >"$T_DIR/bad.conf"
r_replay "$SCN" --host "$TARGET_URL" --shape "$T_DIR/bad.conf"
t_eq "bad ramp: exit status" 2 "$R_RC"
t_check "bad ramp: the message names line and what was expected" \
    grep -q "bad.conf:1:.*ramp to" "$T_DIR/replay.err"

# The HTML report: an open stage's target and started arrival rate over time
# (chart-rate), and no "target users 0" in the users chart while the pool's
# users run (target users are drawn for closed stages only).
printf 'rate 3s 10 40\n3s 3 100\n' >"$T_DIR/mixed.conf"
r_replay "$AIOTEST_SRC/tests/integration/replay/shop.json" --host "$TARGET_URL" \
    --shape "$T_DIR/mixed.conf" --report "$T_DIR/m.json" --html "$T_DIR/m.html"
t_eq "html: exit status" 0 "$R_RC"
t_check "html: rate chart and users chart match the history" python3 - "$T_DIR/m.html" "$T_DIR/m.json" <<'PY'
import json, sys
from html.parser import HTMLParser
class Svgs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.svgs = {}
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg" and a.get("id", "").startswith("chart-"):
            self.svgs[a["id"]] = json.loads(a["data-points"])
p = Svgs()
p.feed(open(sys.argv[1]).read())
hist = json.load(open(sys.argv[2]))["history"]
users = p.svgs["chart-users"]
def is_open(r):
    return r["target_rate"] > 0 and r["target_users"] == 0
open_t = {r["t"] for r in hist if is_open(r)}
closed = [r for r in hist if not is_open(r)]
assert [pt[0] for pt in users["users"]] == [r["t"] for r in hist]
assert not any(pt[0] in open_t for pt in users["target_users"]), users["target_users"]
assert [pt[0] for pt in users["target_users"]] == [r["t"] for r in closed]
assert any(r["users"] > 0 for r in hist if is_open(r))
# The rate chart: target and started iterations/s of the open stages' rows.
rate = p.svgs["chart-rate"]
opened = [r for r in hist if is_open(r)]
assert len(opened) >= 2 and len(closed) >= 2, (len(opened), len(closed))
for f in ("target_rate", "iterations_per_s"):
    assert [pt[0] for pt in rate[f]] == [r["t"] for r in opened], f
    assert all(abs(pt[1] - r[f]) < 1e-6 for pt, r in zip(rate[f], opened)), f
PY
