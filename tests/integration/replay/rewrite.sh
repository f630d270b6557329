#!/usr/bin/env bash
# Rewrite and filter at replay (docs/aiotest-replay.md "Rewrite and filter"): a
# recording made against an open server replayed against a "staging" aiotest-target
# that answers 403 without the header 'X-Staging: yes' (--require-header):
# --set-header injects it (templated: {{copy}} with --timed --copies), --drop-header
# removes a recorded one, --rewrite-path changes paths, --include/--exclude keep
# or leave out requests by method, host, path and recorded status.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
[ -x "$T_CONVERT" ] || t_skip "aiotest-convert not built (needed to write the test recording)"
t_target --quiet --require-header 'X-Staging: yes'
STAGING=$TARGET_URL
ex() { # ex CLIENT T_START_US METHOD TARGET STATUS [EXTRA_HEADER_JSON]
    printf '{"client": "%s", "conn": 1, "t_start_us": %s, "t_first_byte_us": %s, "t_end_us": %s,
      "scheme": "http", "authority": "shop.prod:80", "method": "%s", "target": "%s",
      "http_version": "HTTP/1.1", "req_headers": [["Host", "shop.prod"]%s], "status": %s,
      "resp_headers": [["Content-Length", "2"]], "resp_body": "ok"}' "$1" "$2" $(($2 + 500)) $(($2 + 1000)) "$3" "$4" "${6:-}" "$5"
}
cat >"$T_DIR/rec.json" <<JSON
{"header": {"format": "aiotest-recording", "version": [1, 0], "created_us": 1, "source": "proxy", "tool": "test"},
 "exchanges": [
  $(ex 10.0.0.1 1000000 GET /api/search?q=a 200), $(ex 10.0.0.1 1100000 GET /static/app.js 200),
  $(ex 10.0.0.1 1200000 GET /old/search?q=b 200), $(ex 10.0.0.1 1300000 GET /missing 404),
  $(ex 10.0.0.2 1050000 GET /health 200 ', ["X-Staging", "yes"]'),
  $(ex 10.0.0.2 1150000 GET /api/search?q=c 200 ', ["X-Staging", "yes"]')
 ]}
JSON
"$T_CONVERT" --from-json "$T_DIR/rec.json" -o "$T_DIR/rec.mp" 2>"$T_DIR/conv.err" || { cat "$T_DIR/conv.err"; t_fail "writing the recording"; }
stats() { curl -sS "$STAGING/stats" >"$T_DIR/stats.json"; r_json "$T_DIR/stats.json" "$1"; }
reset() { curl -sS -o /dev/null -X POST "$STAGING/stats/reset"; }
H=(--host "$STAGING" --timed --speed 10 --report "$T_DIR/r.json")

# without the header: only the session that recorded it gets through
reset
r_replay "$T_DIR/rec.mp" "${H[@]}"
t_eq "no --set-header: 403s (unknown paths are 404 before the gate)" 2 "$(stats 'r["status"].get("403", 0)')"

# --set-header: every request passes the gate; /old/search is a 404 there
reset
r_replay "$T_DIR/rec.mp" "${H[@]}" --set-header 'X-Staging: yes'
t_eq "--set-header: no 403" 0 "$(stats 'r["status"].get("403", 0)')"
t_eq "--set-header: requests served" 6 "$(stats 'r["total"]')"
t_eq "--set-header: GET /api/search" 2 "$(stats 'r["endpoints"]["GET /api/search"]')"
grep -q '6 header(s) set' "$T_DIR/replay.err" || t_fail "rewrite summary: $(grep rewrite "$T_DIR/replay.err")"

# --rewrite-path: /old/search?q=b becomes /api/search?q=b (a group kept)
reset
r_replay "$T_DIR/rec.mp" "${H[@]}" --set-header 'X-Staging: yes' --rewrite-path '^/old/(search)=>/api/\1'
t_eq "--rewrite-path: GET /api/search" 3 "$(stats 'r["endpoints"]["GET /api/search"]')"
t_eq "--rewrite-path: exit" 0 "$R_RC"

# --drop-header: the recorded X-Staging removed, so even session 2 is refused
reset
r_replay "$T_DIR/rec.mp" "${H[@]}" --drop-header x-staging --exit-code-on-error 0
t_eq "--drop-header: 403s (unknown paths are 404 before the gate)" 4 "$(stats 'r["status"].get("403", 0)')"

# filters: by path, method, recorded status, host
reset
r_replay "$T_DIR/rec.mp" "${H[@]}" --set-header 'X-Staging: yes' --exclude 'path:^/static/' --exclude status:4xx
t_eq "--exclude path, status: requests" 4 "$(stats 'r["total"]')"
t_eq "--exclude path: no static" 0 "$(stats 'r["endpoints"]["GET /static/*"]')"
grep -q '2 left out by --include/--exclude' "$T_DIR/replay.err" || t_fail "left-out count: $(grep 'timed replay' "$T_DIR/replay.err")"
reset
r_replay "$T_DIR/rec.mp" "${H[@]}" --set-header 'X-Staging: yes' --include 'path:search' --include 'path:^/health$'
t_eq "--include path (two): requests" 4 "$(stats 'r["total"]')"
reset
r_replay "$T_DIR/rec.mp" "${H[@]}" --set-header 'X-Staging: yes' --include 'status:404'
t_eq "--include status:404: requests" 1 "$(stats 'r["total"]')"
r_replay "$T_DIR/rec.mp" "${H[@]}" --include 'host:other.example'
t_eq "--include of nothing: exit" 2 "$R_RC"
grep -q 'no request left to replay' "$T_DIR/replay.err" || t_fail "empty filter message: $(cat "$T_DIR/replay.err")"
# also without --timed (the recording converted with defaults) and on a scenario
reset
r_replay "$T_DIR/rec.mp" --host "$STAGING" --iterations 1 -u 2 --set-header 'X-Staging: yes' --exclude 'method:GET,POST' --include 'path:^/health'
t_eq "plain replay: everything excluded: exit" 2 "$R_RC"
reset
r_replay "$T_DIR/rec.mp" --host "$STAGING" --iterations 1 -u 2 --set-header 'X-Staging: yes' --exclude 'path:^/(static|missing|old)'
t_eq "plain replay with --exclude: requests" 3 "$(stats 'r["total"]')"
"$T_CONVERT" "$T_DIR/rec.mp" -o "$T_DIR/scn.mp" 2>/dev/null || t_fail "convert"
r_replay "$T_DIR/scn.mp" --host "$STAGING" --iterations 1 -u 1 --exclude status:2xx
t_eq "status filter on a scenario: exit" 2 "$R_RC"
grep -q 'needs the recorded responses' "$T_DIR/replay.err" || t_fail "scenario status message: $(cat "$T_DIR/replay.err")"

# {{copy}} in a header: a second gate wants 'X-Copy: 1': copy 1 of 3 alone passes
t_target --quiet --require-header 'X-Copy: 1'
reset
r_replay "$T_DIR/rec.mp" --host "$TARGET_URL" --timed --speed 10 --copies 3 --copies-spread 10ms \
    --set-header 'X-Copy: {{copy}}' --exit-code-on-error 0
curl -sS "$TARGET_URL/stats" >"$T_DIR/stats2.json"
t_eq "--set-header 'X-Copy: {{copy}}' --copies 3: requests" 18 "$(r_json "$T_DIR/stats2.json" 'r["total"]')"
# each copy has 4 requests to known paths (the gate) and 2 to unknown ones (404)
t_eq "--set-header 'X-Copy: {{copy}}' --copies 3: copies 0 and 2 refused" 8 "$(r_json "$T_DIR/stats2.json" 'r["status"].get("403", 0)')"

# bad rules: exit 2, one line naming the option
for bad in "--set-header NoColon" "--rewrite-path (=>x" "--include size:3" "--exclude status:6xx" "--drop-header Bad:Name"; do
    set -- $bad
    r_replay "$T_DIR/rec.mp" --timed "$1" "$2"
    t_eq "$bad: exit" 2 "$R_RC"
    grep -q -- "$1" "$T_DIR/replay.err" || t_fail "$bad: message: $(cat "$T_DIR/replay.err")"
done
