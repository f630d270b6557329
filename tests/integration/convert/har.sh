#!/bin/bash
# Every real HAR export in ../shared/testdata/har converts without error, and
# its entry count (counted here with Python's json, not by the converter)
# equals the requests in the scenario plus what the converter says its
# filters dropped. --no-static on the largest files keeps the same balance.
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
    local line want got read dropped
    line=$(grep -E '^aiotest-convert: [0-9]+ read; dropped' "$T_DIR/$name.log") || t_fail "$name: no summary line"
    read=$(sed -E 's/^aiotest-convert: ([0-9]+) read.*/\1/' <<<"$line")
    dropped=$(sed -E 's/.*; dropped ([0-9]+) .*/\1/' <<<"$line")
    want=$(entries "$har")
    got=$($Q "$T_DIR/$name.json" requests)
    [ "$read" = "$want" ] || t_fail "$name: converter read $read entries, the file has $want"
    [ $((got + dropped)) = "$want" ] || t_fail "$name $*: $got requests + $dropped dropped != $want entries"
    t_log "ok: $name $*: $want entries = $got requests + $dropped dropped"
}

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
