#!/usr/bin/env bash
# aiotest-capture --script: the Lua hook exchange(ex) drops, changes and
# re-keys exchanges before they are written (curl through the proxy to
# aiotest-target); an error in the hook leaves that exchange unwritten and
# counted; a syntax error is exit 2 naming FILE:LINE; a script without
# exchange() is refused. The redaction rules still apply after the script.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
t_need curl python3
"$T_CAPTURE" --help | grep -q -- "--script FILE.lua" || t_fail "--script not in --help"
L="$AIOTEST_SRC/tests/integration/capture/lua"
printf 'function exchange(ex)\n  return (\nend\n' >"$T_DIR/syntax.lua"
"$T_CAPTURE" --proxy :0 -o "$T_DIR/x.mp" --script "$T_DIR/syntax.lua" >/dev/null 2>"$T_DIR/syntax.err"
rc=$?
if grep -q "no Lua" "$T_DIR/syntax.err"; then t_skip "this build has no Lua"; fi
t_eq "syntax error: exit 2" 2 "$rc"
grep -q "syntax.lua:3:" "$T_DIR/syntax.err" || t_fail "syntax error does not name the line: $(cat "$T_DIR/syntax.err")"
echo 'x = 1' >"$T_DIR/nohook.lua"
"$T_CAPTURE" --proxy :0 -o "$T_DIR/x.mp" --script "$T_DIR/nohook.lua" >/dev/null 2>"$T_DIR/nohook.err"
t_eq "no exchange(): exit 2" 2 "$?"
grep -q "defines no function exchange" "$T_DIR/nohook.err" || t_fail "no exchange(): message"

t_target --quiet
REC="$T_DIR/rec.mp"
cap_start -o "$REC" --script "$L/exchange.lua" --redact-header Authorization
get() { curl -sS -x "$CAP_PROXY" -o /dev/null -w '%{http_code}' "$@"; }
t_eq "health through the proxy" 200 "$(get "$TARGET_URL/health")"
t_eq "login" 200 "$(get -H 'Content-Type: application/json' -d '{"user": "alice", "password": "hunter2"}' "$TARGET_URL/api/login")"
t_eq "search" 200 "$(get -H 'Authorization: Bearer abc' "$TARGET_URL/api/search?q=shoes")"
t_eq "boom (404 from the target)" 404 "$(get "$TARGET_URL/boom")"
t_eq "bad (404 from the target)" 404 "$(get "$TARGET_URL/bad")"
t_eq "item" 200 "$(get "$TARGET_URL/api/item/7")"
cap_stop INT
grep -q "script: 6 exchanges seen, 1 dropped by exchange(), 2 NOT written" "$CAP_LOG" ||
    t_fail "script summary: $(grep script: "$CAP_LOG")"
grep -q "exchange.lua:13: boom on purpose" "$CAP_LOG" || t_fail "hook error not printed with FILE:LINE"

"$T_CONVERT" --dump "$REC" >"$T_DIR/dump.json" || t_fail "--dump"
q() { python3 -c '
import json,sys
recs=[r for r in json.load(open(sys.argv[1]))["exchanges"]]
print(eval(sys.argv[2]))' "$T_DIR/dump.json" "$1"; }
t_eq "written: login, search, item (health dropped, boom and bad failed)" \
    "['/api/login', '/api/search?q=shoes', '/api/item/7']" "$(q '[r["target"] for r in recs]')"
t_eq "password masked in the request body" '{"user": "alice", "password": "***"}' \
    "$(q '[r for r in recs if r["target"]=="/api/login"][0]["req_body"]')"
t_eq "token masked in the response body" True \
    "$(q '"\"token\":\"<token>\"" in [r for r in recs if r["target"]=="/api/login"][0]["resp_body"].replace(" ", "")')"
t_eq "header added to every request" "['script ua', 'script ua', 'script ua']" \
    "$(q '[dict((k.lower(), v) for k, v in r["req_headers"])["x-captured-by"] for r in recs]')"
t_eq "response header renamed" "[True, True, True]" \
    "$(q '[any(k == "X-Original-Content-Type" for k, v in r["resp_headers"]) and not any(k.lower() == "content-type" for k, v in r["resp_headers"]) for r in recs]')"
t_eq "search re-keyed" "search-session" "$(q '[r for r in recs if r["target"].startswith("/api/search")][0]["client"]')"
t_eq "others keep the address" "127.0.0.1" "$(q '[r for r in recs if r["target"]=="/api/item/7"][0]["client"]')"
t_eq "redaction after the script" "{{secret.authorization}}" \
    "$(q '[dict((k.lower(), v) for k, v in r["req_headers"])["authorization"] for r in recs if r["target"].startswith("/api/search")][0]')"
t_log "ok"
