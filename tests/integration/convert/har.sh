#!/bin/bash
# Every real HAR export in ../shared/testdata/har converts without error, and
# its entry count (counted here with Python's json, not by the converter)
# equals the requests and WebSocket steps in the scenario plus what the
# converter says its filters dropped. --no-static on the largest files keeps the same balance.
. "$AIOTEST_SRC/tests/integration/lib.sh"
t_need python3
HARS="$(t_shared)/har"
Q="python3 $AIOTEST_SRC/tests/integration/convert/scnq.py"

entries() {
    python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1], encoding="utf-8-sig"))["log"]["entries"]))' "$1"
}

# check FILE [OPTIONS...]: converts and balances entries = requests + drops.
check() {
    local har=$1 name; shift
    name=$(basename "$har" .har)${1:+$1}
    "$T_CONVERT" "$har" "$@" --json -o "$T_DIR/$name.json" 2>"$T_DIR/$name.log" ||
        t_fail "$name: exit $? ($(tail -1 "$T_DIR/$name.log"))"
    local line want got ws read dropped skipped
    line=$(grep -E '^aiotest-convert: [0-9]+ read; [0-9]+ skipped.*; dropped' "$T_DIR/$name.log") || t_fail "$name: no summary line"
    read=$(sed -E 's/^aiotest-convert: ([0-9]+) read.*/\1/' <<<"$line")
    skipped=$(sed -E 's/^aiotest-convert: [0-9]+ read; ([0-9]+) skipped.*/\1/' <<<"$line")
    dropped=$(sed -E 's/.*; dropped ([0-9]+) .*/\1/' <<<"$line")
    want=$(entries "$har")
    got=$($Q "$T_DIR/$name.json" requests)
    # A WebSocket session (a 101 with its messages) is a ws step, not a request.
    ws=$($Q "$T_DIR/$name.json" ws)
    got=$((got + ws))
    [ $((read + skipped)) = "$want" ] || t_fail "$name: converter read $read + skipped $skipped entries, the file has $want"
    [ "$(grep -c 'entry skipped$' "$T_DIR/$name.log")" = "$skipped" ] || t_fail "$name: skipped entries not named"
    [ $((got + dropped)) = "$read" ] || t_fail "$name $*: $got requests + $dropped dropped != $read read"
    t_log "ok: $name $*: $want entries = $got requests + $dropped dropped + $skipped skipped"
}

# Odd entries (issue 13 item 4): NUL bytes (\u0000, as mitmproxy writes them)
# in bodies are kept with their full length; an entry whose header holds a NUL
# and an entry of the wrong type are skipped and named; the others convert.
cat >"$T_DIR/odd.har" <<'HAR'
{"log": {"version": "1.2", "creator": {"name": "mitmproxy", "version": "10"}, "entries": [
 {"startedDateTime": "2024-01-02T03:04:05Z", "time": 3,
  "request": {"method": "POST", "url": "http://127.0.0.1:8080/upload", "headers": [],
    "postData": {"mimeType": "application/octet-stream", "text": "ab\u0000cd\u0000ef"}},
  "response": {"status": 200, "headers": [], "content": {"mimeType": "text/plain", "text": "x\u0000y"}}},
 {"startedDateTime": "2024-01-02T03:04:06Z", "time": 3,
  "request": {"method": "GET", "url": "http://127.0.0.1:8080/a", "headers": [{"name": "X-Odd", "value": "v\u0000w"}]},
  "response": {"status": 200, "headers": []}},
 "not an entry",
 {"startedDateTime": "2024-01-02T03:04:08Z", "time": 3,
  "request": {"method": "GET", "url": "http://127.0.0.1:8080/b?q=\u00e9\u2603", "headers": []},
  "response": {"status": 200, "headers": []}}
]}}
HAR
"$T_CONVERT" "$T_DIR/odd.har" --json -o "$T_DIR/odd.json" 2>"$T_DIR/odd.log" || t_fail "odd.har: exit $? ($(cat "$T_DIR/odd.log"))"
grep -q 'odd.har: entry 1: request.headers\[0\].value: expected text without NUL bytes.*; entry skipped$' "$T_DIR/odd.log" \
    || t_fail "odd.har: the NUL header entry is not named: $(cat "$T_DIR/odd.log")"
grep -q 'odd.har: entry 2: entry: expected an object; entry skipped$' "$T_DIR/odd.log" || t_fail "odd.har: entry 2 not named"
grep -q '^aiotest-convert: 2 read; 2 skipped (odd.har entry 1, 2); dropped 0' "$T_DIR/odd.log" \
    || t_fail "odd.har: summary: $(tail -1 "$T_DIR/odd.log")"
t_eq "odd.har requests" 2 "$($Q "$T_DIR/odd.json" requests)"
python3 - "$T_DIR/odd.json" <<'PY' || t_fail "odd.har: the NUL body was not kept whole"
import base64, json, sys
scn = json.load(open(sys.argv[1]))
reqs = [r for c in scn["classes"] for sec in ("on_start", "tasks", "on_stop") for s in c.get(sec, []) for r in s["requests"]]
body = reqs[0]["body"]
raw = base64.b64decode(body["base64"]) if isinstance(body, dict) else body.encode()
assert raw == b"ab\0cd\0ef", raw
PY
t_log "ok: odd.har: NUL body kept (8 bytes), 2 odd entries skipped and named"

n=0
for har in "$HARS"/*.har; do
    check "$har"
    n=$((n + 1))
done
[ "$n" -gt 0 ] || t_skip "no HAR files in $HARS"

# Static filtering really drops something on a page load, and still balances.
check "$HARS/pagexray__redirect__assa.har" --no-static
grep -qE 'static [1-9]' "$T_DIR/pagexray__redirect__assa--no-static.log" || t_fail "--no-static dropped nothing on assa.har"
# Chrome's cancelled entry (status 0) is counted as dropped, not lost.
check "$HARS/mitmproxy__har_files__chrome.har"
grep -q 'error 1,' "$T_DIR/mitmproxy__har_files__chrome.log" || t_fail "chrome.har: the status-0 entry is not reported"
t_log "$n HAR files converted"
