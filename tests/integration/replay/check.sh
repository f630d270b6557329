#!/usr/bin/env bash
# Every scenario the converter writes loads in the replay (issue 12 item 3):
# aiotest-replay --check accepts what aiotest-convert makes of every HAR and pcap
# under ../shared/testdata and of recordings in which curl -L followed absolute,
# root-relative and path-relative redirects; those recordings replay with 0
# failures against aiotest-target; a request with follow_redirects resolves a
# path-relative Location against its own URL.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
t_need curl
[ -x "$T_CONVERT" ] || t_skip "aiotest-convert not built"
[ -x "$T_CAPTURE" ] || t_skip "aiotest-capture not built"
t_target --quiet

# --check: 0 for a scenario that loads, compiles and validates; nothing sent.
check() { # check FILE [ARGS...]
    timeout 60 "$T_REPLAY" "$1" --check -q "${@:2}" >"$T_DIR/check.out" 2>"$T_DIR/check.err"
    local rc=$?
    r_clean "$T_DIR/check.err"
    return $rc
}

# 1. Redirects followed by curl -L through the capture proxy.
PPORT=$(t_port)
t_bg capture "$T_CAPTURE" --proxy ":$PPORT" -o "$T_DIR/redir.mp"
CAP_PID=$T_LAST_PID
t_wait_port "$PPORT"
for form in abs root rel; do
    code=$(curl -sS -L -x "http://127.0.0.1:$PPORT" -o /dev/null -w '%{http_code}' \
        "$TARGET_URL/redirect/a/b?to=%2Fapi%2Fsearch%3Fq%3D$form&form=$form") || t_fail "curl -L ($form)"
    t_eq "curl -L followed the $form redirect" 200 "$code"
done
kill -INT "$CAP_PID"
wait "$CAP_PID" || t_fail "the capture did not stop cleanly: $(tail -3 "$T_DIR/capture.log")"
"$T_CONVERT" "$T_DIR/redir.mp" -o "$T_DIR/redir-scn.mp" 2>"$T_DIR/conv.err" ||
    t_fail "converting the redirect recording: $(tail -1 "$T_DIR/conv.err")"
"$T_CONVERT" "$T_DIR/redir.mp" --json >"$T_DIR/redir-scn.json" 2>/dev/null || t_fail "the JSON view"
t_check "the converter wrote URLs that start with a template ({{location}})" \
    grep -q '"url": *"{{location' "$T_DIR/redir-scn.json"

t_check "--check accepts the redirect scenario" check "$T_DIR/redir-scn.mp" --host "$TARGET_URL"
t_check "--check says what it checked" grep -q "ok (" "$T_DIR/check.out"
t_check "--check accepts the redirect recording itself" check "$T_DIR/redir.mp" --host "$TARGET_URL"
curl -s -X POST "$TARGET_URL/stats/reset" >/dev/null
r_replay "$T_DIR/redir-scn.mp" --host "$TARGET_URL" -u 2 --iterations 3 --think-scale 0 \
    --report "$T_DIR/redir.json"
t_eq "the redirect scenario runs" 0 "$R_RC"
t_eq "no failure" 0 "$(r_json "$T_DIR/redir.json" 'r["total"]["failures"]')"
t_eq "every request: 2 users x 3 iterations x 6" 36 "$(r_json "$T_DIR/redir.json" 'r["total"]["count"]')"
curl -s "$TARGET_URL/stats" >"$T_DIR/stats.json"
t_eq "the target saw the searches the redirects led to" 18 \
    "$(r_json "$T_DIR/stats.json" 'r["endpoints"]["GET /api/search"]')"

# 2. A request that follows the redirects itself: the Location is resolved
# against the request's URL (../../api/x from /redirect/a/b is /api/x).
cat >"$T_DIR/follow.json" <<JSON
{"format": "aiotest-scenario", "version": [1, 0],
 "hosts": [{"base_url": "$TARGET_URL"}],
 "classes": [{"name": "follow", "weight": 1, "wait": {"kind": "none"}, "tasks": [
   {"requests": [{"method": "GET", "url": "/redirect/a/b?to=%2Fapi%2Fsearch%3Fq%3Drel&form=rel",
                  "follow_redirects": true, "check": {"status": [200], "body_contains": ["\"q\":\"rel\""]}}]},
   {"requests": [{"method": "GET", "url": "/redirect/x?to=%2Fapi%2Fsearch%3Fq%3Droot&form=root&status=307",
                  "follow_redirects": true, "check": {"status": [200], "body_contains": ["\"q\":\"root\""]}}]},
   {"requests": [{"method": "GET", "url": "/redirect?to=%2Fapi%2Fsearch%3Fq%3Dabs&form=abs&status=301",
                  "follow_redirects": true, "check": {"status": [200], "body_contains": ["\"q\":\"abs\""]}}]}
 ]}]}
JSON
r_replay "$T_DIR/follow.json" -u 1 --iterations 2 --report "$T_DIR/follow-r.json"
t_eq "follow_redirects run" 0 "$R_RC"
t_eq "follow_redirects: no failure (relative Location resolved against the request URL)" 0 \
    "$(r_json "$T_DIR/follow-r.json" 'r["total"]["failures"]')"

# 3. A URL that starts with a template compiles, its origin chosen per request.
cat >"$T_DIR/tpl.json" <<JSON
{"format": "aiotest-scenario", "version": [1, 0],
 "hosts": [{"base_url": "$TARGET_URL"}],
 "vars": {"next": "/api/search?q=tpl"},
 "classes": [{"name": "tpl", "weight": 1, "wait": {"kind": "none"}, "tasks": [
   {"requests": [{"method": "GET", "url": "/redirect?to=%2Fhealth&form=abs",
                  "extract": [{"var": "location", "kind": "header", "expr": "Location"}],
                  "check": {"status": [302]}}]},
   {"requests": [{"method": "GET", "url": "{{location}}", "check": {"status": [200]}}]},
   {"requests": [{"method": "GET", "url": "{{next}}", "check": {"status": [200]}}]}
 ]}]}
JSON
t_check "--check accepts a URL that starts with {{location}}" check "$T_DIR/tpl.json"
r_replay "$T_DIR/tpl.json" -u 1 --iterations 2 --report "$T_DIR/tpl-r.json"
t_eq "templated URLs run" 0 "$R_RC"
t_eq "templated URLs: no failure" 0 "$(r_json "$T_DIR/tpl-r.json" 'r["total"]["failures"]')"
t_eq "templated URLs: every request" 6 "$(r_json "$T_DIR/tpl-r.json" 'r["total"]["count"]')"

# 4. Every HAR and pcap of the shared test data: whatever the converter writes,
# --check accepts (origins mapped to a dead loopback port: nothing is resolved
# or sent).
SHARED="$AIOTEST_SRC/../shared/testdata"
[ -d "$SHARED" ] || t_skip "no shared test data at $SHARED (the redirect cases passed)"
checked=0 unconverted=0
for f in "$SHARED"/har/*.har "$SHARED"/pcap/*.pcap "$SHARED"/pcap/*.pcapng; do
    [ -f "$f" ] || continue
    n=$(basename "$f")
    in=$f
    if [ "${f%.har}" = "$f" ]; then
        "$T_CAPTURE" --pcap "$f" -o "$T_DIR/$n.rec.mp" 2>"$T_DIR/$n.err" ||
            t_fail "$n: aiotest-capture --pcap failed: $(tail -1 "$T_DIR/$n.err")"
        in="$T_DIR/$n.rec.mp"
    fi
    if ! "$T_CONVERT" "$in" -o "$T_DIR/$n.mp" 2>"$T_DIR/$n.err"; then
        t_log "not converted (the converter's refusal, named): $n: $(tail -1 "$T_DIR/$n.err")"
        unconverted=$((unconverted + 1))
        continue
    fi
    check "$T_DIR/$n.mp" --map-host '*=http://127.0.0.1:9' ||
        t_fail "--check refused what aiotest-convert wrote from $n: $(tail -1 "$T_DIR/check.err")"
    checked=$((checked + 1))
done
t_log "ok: --check accepted all $checked converted scenarios ($unconverted inputs not converted)"
t_check "most inputs convert ($checked)" test "$checked" -ge 50
