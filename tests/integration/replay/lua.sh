# --script: Lua hooks against real peers. aiotest-target: a response hook
# fails requests whose JSON id differs (category script), user.vars set in
# on_start reach later templates, an error in a hook fails that request only,
# on_start/on_stop run once per user, done() decides the exit status. A python3
# server checks the signature header a request hook adds. A syntax error in the
# script is a usage error naming FILE:LINE before anything is sent.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
D="$AIOTEST_SRC/tests/integration/replay/lua"
if "$T_REPLAY" --version 2>&1 | grep -q "Lua: none"; then
    # A -Dlua=none build: --script says so, exit 2.
    r_replay "$D/items.json" --check --script "$D/check.lua"
    t_eq "no Lua: usage error" 2 "$R_RC"
    grep -q "no Lua" "$T_DIR/replay.err" || t_fail "no Lua: message"
    t_skip "this build has no Lua"
fi
t_target --quiet

# ---- response hook, vars, runtime error, on_start/on_stop, done()
export LUA_TEST_LOG="$T_DIR/hooks.log" LUA_TEST_DONE="$T_DIR/done.txt"
r_replay "$D/items.json" --host "$TARGET_URL" -u 4 --iterations 3 --threads 2 \
    --script "$D/check.lua" --report "$T_DIR/r.json"
t_eq "done() returned 3" 3 "$R_RC"
t_eq "good: no failure" 0 "$(r_entry "$T_DIR/r.json" 'GET good' failures)"
t_eq "bad: every one failed as script" 12 \
    "$(r_json "$T_DIR/r.json" '[e for e in r["entries"] if e["name"]=="bad"][0]["fail"].get("script")')"
t_eq "var: user.vars from on_start applied" 0 "$(r_entry "$T_DIR/r.json" 'GET var' failures)"
t_eq "boom: runtime error counted as script" 12 \
    "$(r_json "$T_DIR/r.json" '[e for e in r["entries"] if e["name"]=="boom"][0]["fail"].get("script")')"
t_eq "boom: run went on (all sent)" 12 "$(r_entry "$T_DIR/r.json" 'GET boom' count)"
grep -q "check.lua:[0-9]*: boom on purpose" "$T_DIR/replay.err" || t_fail "runtime error not printed with file:line"
grep -q "id != 123456" "$T_DIR/replay.err" || t_fail "reason of the failed response not printed"
reasons() { python3 -c '
import json,sys; r=json.load(open(sys.argv[1]))
print(";".join("%s|%s|%d" % (x["name"], x["reason"].split("/")[-1], x["count"]) for x in sorted(r.get("failure_reasons", []), key=lambda x: x["name"])))' "$1"; }
t_eq "reasons in the report" "bad|id != 123456|12;boom|check.lua:21: boom on purpose|12" "$(reasons "$T_DIR/r.json")"
grep -q "Failure reasons (script)" "$T_DIR/replay.out" || t_fail "no reasons table in the summary"
t_eq "on_start once per user" 4 "$(grep -c '^start ' "$T_DIR/hooks.log")"
t_eq "on_stop once per user, same table" 4 "$(grep -c '^stop [0-9]* true$' "$T_DIR/hooks.log")"
t_eq "done() saw the run's figures" "48 24 12" "$(cat "$T_DIR/done.txt")"
# The server served what was sent: the item ids of "var" are 1000 + user id.
t_eq "target served every request" 48 "$(curl -s "$TARGET_URL/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')"

# ---- the scenario's script field, relative to the scenario file (JSON view)
rm -f "$T_DIR/done.txt"
r_replay "$D/field.json" --host "$TARGET_URL" -u 2 --iterations 1 --threads 1
t_eq "script field: done() ran and returned 3" 3 "$R_RC"
t_eq "script field: done() figures" "8 4 2" "$(cat "$T_DIR/done.txt")"

# ---- request hook: signature header checked by a python3 server; skip counted
P=$(t_port)
t_bg sigsrv /usr/bin/python3 "$AIOTEST_SRC/tests/integration/replay/sigsrv.py" "$P" "$T_DIR/sig.log"
t_wait_port "$P"
r_replay "$D/sig.json" --host "http://127.0.0.1:$P" -u 2 --iterations 5 --threads 1 \
    --script "$D/sign.lua" --report "$T_DIR/s.json"
t_eq "signed run: exit 1 (skipped ones are failures)" 1 "$R_RC"
t_eq "server saw 20 requests" 20 "$(wc -l <"$T_DIR/sig.log")"
t_eq "every signature good" 20 "$(grep -c $'\tgood$' "$T_DIR/sig.log")"
t_eq "url rewritten by the hook" 20 "$(grep -c $'\\?u=[0-9]*\t' "$T_DIR/sig.log")"
t_eq "never sent: skipped" 0 "$(grep -c /never "$T_DIR/sig.log")"
t_eq "skip counted as script" 10 \
    "$(r_json "$T_DIR/s.json" '[e for e in r["entries"] if e["name"]=="skip"][0]["fail"].get("script")')"
t_eq "skip reason in the report" "skip|not sent: request hook returned false|10" "$(reasons "$T_DIR/s.json")"
t_eq "get/post: no failure" 0 "$(( $(r_entry "$T_DIR/s.json" 'GET get' failures) + $(r_entry "$T_DIR/s.json" 'POST post' failures) ))"

# ---- custom steps: user:request and user:sleep from a coroutine of the user.
# 6 users on one thread, two iterations each with a 1 s user:sleep: 2 s per
# user when sleeps yield to the loop, 12 s if a sleep blocked it (the gap is
# wide so a loaded runner cannot blur it).
: >"$T_DIR/hooks.log"
r_replay "$D/step.json" --host "$TARGET_URL" -u 6 --iterations 2 --threads 1 --report "$T_DIR/st.json"
t_eq "custom steps: exit 1 (broken and missing fail)" 1 "$R_RC"
t_eq "step requests counted under LUA login_and_view (6 users x 2 x 2)" 24 "$(r_entry "$T_DIR/st.json" 'LUA login_and_view' count)"
t_eq "step requests: no failure" 0 "$(r_entry "$T_DIR/st.json" 'LUA login_and_view' failures)"
t_eq "step saw the profile answer (token from the first response)" 12 "$(grep -c '^step [0-9]* 200 nil$' "$T_DIR/hooks.log")"
t_eq "error in a step: counted as script" 12 "$(r_entry "$T_DIR/st.json" 'LUA broken' failures)"
t_eq "missing function: counted as script" 12 "$(r_entry "$T_DIR/st.json" 'LUA missing' failures)"
grep -q "step.lua:[0-9]*: broken on purpose" "$T_DIR/replay.err" || t_fail "step error not printed with file:line"
dur=$(r_json "$T_DIR/st.json" 'r["duration_s"]')
t_log "custom steps: run took $dur s"
r_in 1.9 8 "$dur" || t_fail "6 users x 2 sleeps of 1 s took $dur s: expected them to overlap (2 s), not wait in turn (12 s)"
t_eq "target: logins from the steps" 12 "$(curl -s "$TARGET_URL/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["endpoints"]["POST /api/login"])')"

# The custom step and the script field survive the JSON view <-> .mp round trip.
if [ -x "$T_CONVERT" ]; then
    "$T_CONVERT" --from-json "$D/step.json" -o "$T_DIR/step.mp" || t_fail "--from-json step.json"
    "$T_CONVERT" --dump "$T_DIR/step.mp" >"$T_DIR/step.dump.json" || t_fail "--dump step.mp"
    t_eq "round trip: lua steps" "login_and_view broken missing step.lua" "$(python3 -c '
import json,sys; r=json.load(open(sys.argv[1]))
print(" ".join(s["lua"] for s in r["classes"][0]["tasks"] if "lua" in s), r.get("script"))' "$T_DIR/step.dump.json")"
fi

# ---- user:parallel overlaps its requests: 4 requests to a target that
# delays each by 1.5 s take one delay per pass (1.5 s), not four (6 s).
PT=$(t_port)
t_bg target-delay "$T_TARGET" --port "$PT" --delay-ms 1500 --quiet
t_wait_port "$PT"
: >"$T_DIR/hooks.log"
r_replay "$D/par.json" --host "http://127.0.0.1:$PT" -u 1 --iterations 2 --threads 1 --report "$T_DIR/par.json"
t_eq "parallel: exit 0" 0 "$R_RC"
t_eq "parallel: 2 passes x 4 requests" 8 "$(r_entry "$T_DIR/par.json" 'LUA fan_out' count)"
t_eq "parallel: answers in request order" "par 1,2,3,4 par 1,2,3,4" "$(tr '\n' ' ' <"$T_DIR/hooks.log" | sed 's/ $//')"
pdur=$(r_json "$T_DIR/par.json" 'r["duration_s"]')
t_log "parallel: 2 passes of 4 delayed requests took $pdur s"
r_in 2.9 8 "$pdur" || t_fail "user:parallel took $pdur s: expected ~3 s (overlapped), not 12 s (one after another)"

# ---- a busy loop in a hook is cut by the instruction limit and counted
r_replay "$D/items.json" --host "$TARGET_URL" -u 2 --iterations 2 --threads 1 --script "$D/loop.lua" --report "$T_DIR/loop.json"
t_eq "busy loop: exit 1 (failures)" 1 "$R_RC"
t_eq "busy loop: every looping response cut and counted" 4 "$(r_entry "$T_DIR/loop.json" 'GET bad' failures)"
t_eq "busy loop: the rest ran" 16 "$(r_json "$T_DIR/loop.json" 'r["total"]["count"]')"
grep -q "cut after" "$T_DIR/replay.err" || t_fail "busy loop: no message"

# ---- syntax error: exit 2, FILE:LINE, nothing sent
before=$(curl -s "$TARGET_URL/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
r_replay "$D/items.json" --host "$TARGET_URL" -u 1 --iterations 1 --script "$D/syntax.lua"
t_eq "syntax error: exit 2" 2 "$R_RC"
grep -q "syntax.lua:[0-9]*:" "$T_DIR/replay.err" || t_fail "syntax error does not name file:line: $(cat "$T_DIR/replay.err")"
t_eq "syntax error: nothing sent" "$before" "$(curl -s "$TARGET_URL/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')"
r_replay "$D/items.json" --host "$TARGET_URL" -u 1 --iterations 1 --script "$T_DIR/absent.lua"
t_eq "unreadable script: exit 2" 2 "$R_RC"
