#!/usr/bin/env bash
# Rewrite and filter rules on aiotest-convert (docs/aiotest-convert.md "Rewrite
# and filter"): the grammar of aiotest-replay's rules, applied once when
# converting, so the scenario carries the staging header and paths. Replayed
# against an aiotest-target that answers 403 without 'X-Staging: yes', the
# converted scenario passes the gate with no option at replay; filters leave
# requests out by path and recorded status; bad rules are usage errors.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
[ -x "$T_REPLAY" ] || t_skip "aiotest-replay not built"
t_target --quiet --require-header 'X-Staging: yes'
STAGING=$TARGET_URL
ex() { # ex CLIENT T_START_US METHOD TARGET STATUS [EXTRA_HEADER_JSON]
    printf '{"client": "%s", "conn": 1, "t_start_us": %s, "t_first_byte_us": %s, "t_end_us": %s,
      "scheme": "http", "authority": "shop.prod:80", "method": "%s", "target": "%s",
      "http_version": "HTTP/1.1", "req_headers": [["Host", "shop.prod"], ["X-Prod-Auth", "secret"]%s], "status": %s,
      "resp_headers": [["Content-Length", "2"]], "resp_body": "ok"}' "$1" "$2" $(($2 + 500)) $(($2 + 1000)) "$3" "$4" "${6:-}" "$5"
}
cat >"$T_DIR/rec.json" <<JSON
{"header": {"format": "aiotest-recording", "version": [1, 0], "created_us": 1, "source": "proxy", "tool": "test"},
 "exchanges": [
  $(ex 10.0.0.1 1000000 GET /api/search?q=a 200), $(ex 10.0.0.1 1100000 GET /static/app.js 200),
  $(ex 10.0.0.1 1200000 GET /old/search?q=b 200), $(ex 10.0.0.1 1300000 GET /missing 404)
 ]}
JSON
"$T_CONVERT" --from-json "$T_DIR/rec.json" -o "$T_DIR/rec.mp" 2>"$T_DIR/conv.err" || { cat "$T_DIR/conv.err"; t_fail "writing the recording"; }
stats() { curl -sS "$STAGING/stats" >"$T_DIR/stats.json"; r_json "$T_DIR/stats.json" "$1"; }
reset() { curl -sS -o /dev/null -X POST "$STAGING/stats/reset"; }

# Without rules: the gate refuses the scenario's requests.
"$T_CONVERT" "$T_DIR/rec.mp" -o "$T_DIR/plain.mp" 2>/dev/null || t_fail "convert without rules"
reset
r_replay "$T_DIR/plain.mp" --host "$STAGING" -u 1 --iterations 1 --exit-code-on-error 0
t_eq "no rules: 403s (the unknown paths are 404 before the gate)" 2 "$(stats 'r["status"].get("403", 0)')"

# The rules at conversion: header set, header dropped, path rewritten, static and
# the recorded 404 left out.
"$T_CONVERT" "$T_DIR/rec.mp" -o "$T_DIR/staging.mp" --set-header 'X-Staging: yes' \
    --drop-header x-prod-auth --rewrite-path '^/old/(search)=>/api/\1' \
    --exclude 'path:^/static/' --exclude status:4xx 2>"$T_DIR/conv.err" ||
    { cat "$T_DIR/conv.err"; t_fail "convert with rules"; }
r_clean "$T_DIR/conv.err"
grep -q 'rewrite: 2 header(s) set, 2 dropped, 1 path(s) rewritten; 2 request(s) left out by --include/--exclude' \
    "$T_DIR/conv.err" || t_fail "rewrite summary: $(cat "$T_DIR/conv.err")"
"$T_CONVERT" --dump "$T_DIR/staging.mp" >"$T_DIR/staging.json" || t_fail "dump"
python3 - "$T_DIR/staging.json" <<'PY' || t_fail "the converted scenario does not carry the rules (above)"
import json, sys
s = json.load(open(sys.argv[1]))
reqs = [r for c in s["classes"] for sec in ("on_start", "tasks", "on_stop")
        for st in c.get(sec, []) for r in (st["requests"] if "requests" in st else [st])]
urls = [r["url"] for r in reqs]
bad = []
if len(reqs) != 2: bad.append("requests: %s" % urls)
if any("/static/" in u or "/old/" in u or "/missing" in u for u in urls): bad.append("urls: %s" % urls)
for r in reqs:
    h = {k.lower(): v for k, v in r.get("headers", [])}
    if h.get("x-staging") != "yes" or "x-prod-auth" in h: bad.append("headers: %s" % r.get("headers"))
if bad:
    print("\n".join(bad)); sys.exit(1)
PY
t_log "ok: the scenario holds the staging header and paths, not the left-out requests"
reset
r_replay "$T_DIR/staging.mp" --host "$STAGING" -u 1 --iterations 1
t_eq "converted with rules: exit" 0 "$R_RC"
t_eq "converted with rules: no 403" 0 "$(stats 'r["status"].get("403", 0)')"
t_eq "converted with rules: GET /api/search twice (one rewritten)" 2 "$(stats 'r["endpoints"]["GET /api/search"]')"
t_eq "converted with rules: requests" 2 "$(stats 'r["total"]')"

# --include keeps only what matches
"$T_CONVERT" "$T_DIR/rec.mp" --json --include 'status:404' -q >"$T_DIR/inc.json" || t_fail "convert --include"
t_eq "--include status:404: one request" 1 \
    "$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(sum(len(st["requests"]) if "requests" in st else 1 for c in s["classes"] for k in ("on_start","tasks","on_stop") for st in c.get(k, [])))' "$T_DIR/inc.json")"
"$T_CONVERT" "$T_DIR/rec.mp" -o "$T_DIR/none.mp" --include 'host:other.example' 2>"$T_DIR/conv.err"
t_eq "--include of nothing: exit" 2 "$?"

# bad rules: exit 2, one line naming the option
for bad in "--set-header NoColon" "--rewrite-path (=>x" "--include size:3" "--exclude status:6xx" "--drop-header Bad:Name"; do
    set -- $bad
    "$T_CONVERT" "$T_DIR/rec.mp" -o "$T_DIR/bad.mp" "$1" "$2" 2>"$T_DIR/conv.err"
    t_eq "$bad: exit" 2 "$?"
    grep -q -- "$1" "$T_DIR/conv.err" || t_fail "$bad: message: $(cat "$T_DIR/conv.err")"
    t_eq "$bad: one line" 1 "$(wc -l <"$T_DIR/conv.err")"
done
