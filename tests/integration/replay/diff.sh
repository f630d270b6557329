#!/usr/bin/env bash
# Response diff (docs/aiotest-replay.md "Response diff"): a session recorded
# through aiotest-capture's proxy (login, profile with the token, search, a
# static file) replayed with --timed --diff against the same aiotest-target
# differs in nothing; against one whose JSON answers renamed the field "user"
# (--rename-field user=login) the login and profile answers differ in shape,
# with examples in the JSON and HTML reports, and --fail-on 'diff<1%' fails the
# run; --diff-values sees the new login token. A scenario run of the recording
# (-u, --iterations) compares too; a converted scenario file (no responses) is refused.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
t_need curl
t_target --quiet
PROD=$TARGET_URL
cap_start -o "$T_DIR/rec.mp"
X=(-sS -x "$CAP_PROXY")
token=$(curl "${X[@]}" -H 'Content-Type: application/json' --data '{"user": "ann", "password": "pw"}' \
    "$PROD/api/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])') || t_fail "login"
curl "${X[@]}" -o /dev/null -H "Authorization: Bearer $token" "$PROD/api/profile" || t_fail "profile"
curl "${X[@]}" -o /dev/null "$PROD/api/search?q=shoes" || t_fail "search"
curl "${X[@]}" -o /dev/null "$PROD/static/style.css" || t_fail "static"
cap_stop

# unchanged target: nothing differs
r_replay "$T_DIR/rec.mp" --timed --speed 10 --diff --fail-on 'diff<1%' --report "$T_DIR/same.json"
t_eq "same target: exit" 0 "$R_RC"
t_eq "same target: compared" 4 "$(r_json "$T_DIR/same.json" 'r["diff"]["compared"]')"
t_eq "same target: mismatched" 0 "$(r_json "$T_DIR/same.json" 'r["diff"]["mismatched"]')"
grep -q '^Diff: 0 of 4 response(s) differ' "$T_DIR/replay.out" || t_fail "summary line: $(cat "$T_DIR/replay.out")"

# --diff-values: the login answers a new token
r_replay "$T_DIR/rec.mp" --timed --speed 10 --diff-values --report "$T_DIR/values.json"
t_eq "--diff-values: values differ (the token)" 1 "$(r_json "$T_DIR/values.json" 'r["diff"]["kinds"]["values"]')"
t_eq "--diff-values: shape the same" 0 "$(r_json "$T_DIR/values.json" 'r["diff"]["kinds"]["shape"]')"

# a changed API: "user" renamed "login" in every JSON answer
t_target --quiet --rename-field user=login
r_replay_scraped "$T_DIR/changed.prom" "$T_DIR/changed.json" "$T_DIR/rec.mp" --timed --speed 10 --host "$TARGET_URL" \
    --diff --fail-on 'diff<1%' --html "$T_DIR/changed.html"
t_eq "renamed field: exit (diff<1% fails)" 1 "$R_RC"
t_eq "renamed field: diff shape (login and profile)" 2 "$(r_json "$T_DIR/changed.json" 'r["diff"]["kinds"]["shape"]')"
t_eq "renamed field: no diff status" 0 "$(r_json "$T_DIR/changed.json" 'r["diff"]["kinds"]["status"]')"
t_eq "renamed field: requests still succeed" 0 "$(r_json "$T_DIR/changed.json" 'r["total"]["failures"]')"
ex=$(r_json "$T_DIR/changed.json" 'r["diff"]["examples"][0]["example"]')
case "$ex" in
    *"shape: recorded has \$.user:string, replayed has \$.login:string"*) t_log "ok: example: $ex" ;;
    *) t_fail "first example: $ex" ;;
esac
t_eq "per-entry diff (POST /api/login)" 1 \
    "$(r_json "$T_DIR/changed.json" '[e for e in r["entries"] if e["method"] == "POST"][0]["diff"]["shape"]')"
grep -q 'FAIL diff<1%' "$T_DIR/replay.out" || t_fail "threshold line: $(grep -i diff "$T_DIR/replay.out")"
grep -q 'id="diff-examples"' "$T_DIR/changed.html" && grep -q 'replayed has $.login:string' "$T_DIR/changed.html" ||
    t_fail "HTML report: no diff examples"
t_log "ok: the HTML report lists the examples"
# /metrics: the same counts per entry, summed here.
psum() { awk -v m="$1" 'index($0, m) == 1 { n += $NF } END { print n + 0 }' "$T_DIR/changed.prom"; }
t_eq "metrics: compared, mismatched" \
    "$(r_json "$T_DIR/changed.json" '"%d %d" % (r["diff"]["compared"], r["diff"]["mismatched"])')" \
    "$(psum 'aiotest_diff_compared_total{') $(psum 'aiotest_diff_mismatched_total{')"
t_eq "metrics: shape differences" 2 "$(grep '^aiotest_diff_kind_total{.*kind="shape"}' "$T_DIR/changed.prom" | awk '{n += $NF} END {print n + 0}')"

# A scenario run of the recording (users and iterations, no --timed): every
# response is compared with its class's recorded one; the renamed field shows.
r_replay "$T_DIR/rec.mp" --host "$TARGET_URL" --diff -u 2 --iterations 3 --report "$T_DIR/scn.json"
t_eq "scenario run, renamed field: exit" 0 "$R_RC"
# The converter puts the login in on_start: once a user; the other three requests
# are the tasks, once an iteration.
t_eq "scenario run: compared (2 users x (1 login + 3 iterations x 3 requests))" 20 \
    "$(r_json "$T_DIR/scn.json" 'r["diff"]["compared"]')"
t_eq "scenario run: diff shape (2 logins, 6 profiles)" 8 \
    "$(r_json "$T_DIR/scn.json" 'r["diff"]["kinds"]["shape"]')"
t_eq "scenario run: nothing else differs" 8 "$(r_json "$T_DIR/scn.json" 'r["diff"]["mismatched"]')"
r_replay "$T_DIR/rec.mp" --host "$PROD" --diff -u 2 --iterations 3 --report "$T_DIR/scn_same.json"
t_eq "scenario run, same target: compared" 20 "$(r_json "$T_DIR/scn_same.json" 'r["diff"]["compared"]')"
t_eq "scenario run, same target: mismatched" 0 "$(r_json "$T_DIR/scn_same.json" 'r["diff"]["mismatched"]')"

# A HAR file runs as a recording does (the converter reads it), and its
# responses are compared: one made from what the target answers differs in nothing.
curl -sS -o "$T_DIR/search.body" "$PROD/api/search?q=shoes" || t_fail "search for the HAR"
/usr/bin/python3 - "$T_DIR/search.body" "$PROD" >"$T_DIR/rec.har" <<'PY' || t_fail "writing the HAR"
import json, sys
body, prod = open(sys.argv[1]).read(), sys.argv[2]
e = {"startedDateTime": "2026-12-05T10:00:00.000Z", "time": 5,
     "request": {"method": "GET", "url": prod + "/api/search?q=shoes", "httpVersion": "HTTP/1.1",
                 "headers": [], "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 0},
     "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1",
                  "headers": [{"name": "Content-Type", "value": "application/json"}], "cookies": [],
                  "content": {"size": len(body), "mimeType": "application/json", "text": body},
                  "redirectURL": "", "headersSize": -1, "bodySize": len(body)},
     "cache": {}, "timings": {"send": 1, "wait": 3, "receive": 1}}
print(json.dumps({"log": {"version": "1.2", "creator": {"name": "test", "version": "1"}, "entries": [e]}}))
PY
r_replay "$T_DIR/rec.har" --diff -u 1 --iterations 3 --report "$T_DIR/har.json"
t_eq "HAR scenario run: exit" 0 "$R_RC"
t_eq "HAR scenario run: compared" 3 "$(r_json "$T_DIR/har.json" 'r["diff"]["compared"]')"
t_eq "HAR scenario run: mismatched" 0 "$(r_json "$T_DIR/har.json" 'r["diff"]["mismatched"]')"

# A converted scenario keeps no recorded responses: refused, saying what to give.
"$T_CONVERT" "$T_DIR/rec.mp" -o "$T_DIR/scn.mp" 2>"$T_DIR/convert.err" || t_fail "convert: $(cat "$T_DIR/convert.err")"
r_replay "$T_DIR/scn.mp" --diff -u 1 --iterations 1
t_eq "--diff on a scenario file: exit" 2 "$R_RC"
grep -q -- 'keeps no recorded responses' "$T_DIR/replay.err" || t_fail "message: $(cat "$T_DIR/replay.err")"
