#!/bin/bash
# aiotest-convert --script: request(req, ctx) runs on every drafted request:
# it leaves requests out (a step left empty goes), renames, rewrites URLs,
# adds headers and templates bodies; an error in it is exit 2 naming the
# request and FILE:LINE; a syntax error is exit 2 naming the line before the
# inputs are read; --script is in --help.
. "$AIOTEST_SRC/tests/integration/lib.sh"
t_need python3
MKREC="$AIOTEST_BUILD/tests/integration/convert/conv-mkrec"
Q="python3 $AIOTEST_SRC/tests/integration/convert/scnq.py"
L="$AIOTEST_SRC/tests/integration/convert/lua"
H=http://127.0.0.1:8080
"$T_CONVERT" --help | grep -q -- "--script FILE.lua" || t_fail "--script not in --help"
printf 'function request(req)\n  if then\nend\n' >"$T_DIR/syntax.lua"
"$T_CONVERT" /nonexistent.mp --script "$T_DIR/syntax.lua" --json >/dev/null 2>"$T_DIR/syntax.err"
rc=$?
grep -q "no Lua" "$T_DIR/syntax.err" && t_skip "this build has no Lua"
t_eq "syntax error: exit 2" 2 "$rc"
grep -q "syntax.lua:2:" "$T_DIR/syntax.err" || t_fail "syntax error without its line: $(cat "$T_DIR/syntax.err")"

cat >"$T_DIR/visit.tsv" <<TSV
c1	0	100	GET	$H/	200	text/html	<html></html>
c1	105	110	GET	$H/static/app.js	200	application/javascript	x
c1	2000	2030	POST	$H/api/v1/login	200	application/json	{"ok": true}	{"user": "alice", "password": "pw"}
c1	4000	4010	GET	$H/health	200	text/plain	ok
c1	6000	6010	GET	$H/api/v1/search?q=shoes	200	application/json	{"count": 1}
TSV
"$MKREC" "$T_DIR/visit.mp" <"$T_DIR/visit.tsv" || t_fail "conv-mkrec"
t_check "converts with the script" "$T_CONVERT" "$T_DIR/visit.mp" --script "$L/draft.lua" --json \
    -o "$T_DIR/s.json"
t_eq "requests kept (asset and health left out)" "GET /,POST /api/v2/login,GET /api/v2/search?q=shoes" \
    "$($Q "$T_DIR/s.json" urls | sed 's/ /~/' | tr '~' ' ' | paste -sd,)"
t_eq "the health step is gone" 3 "$($Q "$T_DIR/s.json" steps | wc -l)"
t_eq "search renamed" 1 "$($Q "$T_DIR/s.json" steps | awk -F'\t' '$6 == "search"' | wc -l)"
hdr() { python3 -c '
import json,sys
s=json.load(open(sys.argv[1]))
for c in s["classes"]:
    for sec in ("on_start", "tasks", "on_stop"):
        for st in c.get(sec, []):
            for r in st.get("requests", []):
                h=dict((k.lower(), v) for k, v in r.get("headers", []))
                print(r["url"], h.get("x-api-key", "-"), r.get("body", ""))' "$1"; }
hdr "$T_DIR/s.json" >"$T_DIR/h.txt"
t_eq "header added to API requests only" "- {{api_key}} {{api_key}}" "$(awk '{print $2}' "$T_DIR/h.txt" | xargs)"
grep -q '"user": "{{user}}"' "$T_DIR/h.txt" || t_fail "login body not templated: $(cat "$T_DIR/h.txt")"
"$T_CONVERT" "$T_DIR/visit.mp" --script "$L/draft.lua" --json -o /dev/null 2>"$T_DIR/summary.err"
grep -q "script: 5 requests seen, 2 left out by request() (2 steps left empty and removed)" "$T_DIR/summary.err" ||
    t_fail "script summary line: $(cat "$T_DIR/summary.err")"
# The .mp written the same way reads back.
t_check "writes .mp" "$T_CONVERT" "$T_DIR/visit.mp" --script "$L/draft.lua" -o "$T_DIR/s.mp" -q
"$T_CONVERT" --dump "$T_DIR/s.mp" >"$T_DIR/s.dump.json" || t_fail "--dump"
t_eq ".mp: same requests" "$($Q "$T_DIR/s.json" urls | paste -sd,)" "$($Q "$T_DIR/s.dump.json" urls | paste -sd,)"

# An error in the hook: exit 2 naming the request and the script's line.
printf 'c1\t8000\t8010\tGET\t%s/forbidden\t200\ttext/plain\tno\n' "$H" >>"$T_DIR/visit.tsv"
"$MKREC" "$T_DIR/bad.mp" <"$T_DIR/visit.tsv" || t_fail "conv-mkrec"
"$T_CONVERT" "$T_DIR/bad.mp" --script "$L/draft.lua" --json -o "$T_DIR/bad.json" 2>"$T_DIR/bad.err"
t_eq "hook error: exit 2" 2 "$?"
grep -q "(GET /forbidden): .*draft.lua:9: no request to /forbidden" "$T_DIR/bad.err" ||
    t_fail "hook error message: $(cat "$T_DIR/bad.err")"
t_log "ok"
