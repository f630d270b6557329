#!/bin/bash
# Two kinds of visit, 30 of one and 10 of the other, become two user classes
# weighted 3:1; a page load with overlapping assets becomes one parallel group.
. "$AIOTEST_SRC/tests/integration/lib.sh"
t_need python3
MKREC="$AIOTEST_BUILD/tests/integration/convert/conv-mkrec"
Q="python3 $AIOTEST_SRC/tests/integration/convert/scnq.py"
H=http://127.0.0.1:8080
TAB=$'\t'

# visit KEY T0_MS KIND: one visit's lines. browse: home, search, item; buy:
# home, login, cart, order. Search words and item ids differ per visit.
visit() {
    local k=$1 t=$2 kind=$3 i=$4
    printf '%s\t%d\t%d\tGET\t%s/\t200\ttext/html\t<html></html>\n' "$k" "$t" $((t + 20)) "$H"
    if [ "$kind" = browse ]; then
        printf '%s\t%d\t%d\tGET\t%s/api/search?q=w%d\t200\tapplication/json\t{"count": 1}\n' "$k" $((t + 1000)) $((t + 1030)) "$H" "$i"
        printf '%s\t%d\t%d\tGET\t%s/api/item/%d\t200\tapplication/json\t{"id": %d}\n' "$k" $((t + 3000)) $((t + 3010)) "$H" $((100 + i)) $((100 + i))
    else
        printf '%s\t%d\t%d\tPOST\t%s/api/login\t200\tapplication/json\t{"token": "t%08d"}\t{"user": "u%d"}\n' "$k" $((t + 500)) $((t + 530)) "$H" "$i" "$i"
        printf '%s\t%d\t%d\tPOST\t%s/api/cart\t200\tapplication/json\t{"count": 1}\t{"item": %d}\n' "$k" $((t + 2000)) $((t + 2030)) "$H" "$i"
        printf '%s\t%d\t%d\tPOST\t%s/api/order\t200\tapplication/json\t{"order": %d}\tcsrf=x\n' "$k" $((t + 4000)) $((t + 4030)) "$H" "$i"
    fi
}

{
    for i in $(seq 1 40); do
        if [ $((i % 4)) = 0 ]; then kind=buy; else kind=browse; fi
        visit "session:$i" $((i * 60000)) $kind "$i"
    done
} >"$T_DIR/visits.tsv"
"$MKREC" "$T_DIR/visits.mp" <"$T_DIR/visits.tsv" || t_fail "conv-mkrec"
t_check "visits convert" "$T_CONVERT" "$T_DIR/visits.mp" --json -o "$T_DIR/visits.json" -q
t_eq "classes and weights" "30 10" "$($Q "$T_DIR/visits.json" classes | cut -f1 | xargs)"
t_eq "request count (one visit per class)" 7 "$($Q "$T_DIR/visits.json" requests)"
# The buying visit logs in first: home and login are its on_start.
t_eq "buy class on_start" "GET /,POST /api/login" \
    "$($Q "$T_DIR/visits.json" steps | awk -F'\t' '$2 == "on_start" {print $6}' | paste -sd,)"

# The same visits from one client key, told apart by a 20 s pause.
sed "s/^session:[0-9]*$TAB/127.0.0.1$TAB/" "$T_DIR/visits.tsv" >"$T_DIR/one.tsv"
"$MKREC" "$T_DIR/one.mp" <"$T_DIR/one.tsv" || t_fail "conv-mkrec"
t_check "one key converts" "$T_CONVERT" "$T_DIR/one.mp" --json -o "$T_DIR/one.json" -q
t_eq "one key without --session-gap" "1" "$($Q "$T_DIR/one.json" classes | cut -f1 | xargs)"
t_check "one key with a gap" "$T_CONVERT" "$T_DIR/one.mp" --session-gap 20s --json -o "$T_DIR/gap.json" -q
t_eq "--session-gap 20s splits into visits" "30 10" "$($Q "$T_DIR/gap.json" classes | cut -f1 | xargs)"
t_check "--max-classes 1" "$T_CONVERT" "$T_DIR/visits.mp" --max-classes 1 --json -o "$T_DIR/max1.json" -q
t_eq "--max-classes 1 merges into the heaviest" "40" "$($Q "$T_DIR/max1.json" classes | cut -f1 | xargs)"

# A page load: the page, three assets loading together (the logo starts 18 ms
# after the quick stylesheet, which has ended, while app.js still loads), then
# an API call.
cat >"$T_DIR/page.tsv" <<TSV
c1	0	100	GET	$H/	200	text/html	<html><script src="/static/app.js"></script></html>
c1	105	400	GET	$H/static/app.js	200	application/javascript	x
c1	107	108	GET	$H/static/style.css	200	text/css	x
c1	125	300	GET	$H/static/logo.png	200	image/png	x
c1	2300	2350	GET	$H/api/search?q=a	200	application/json	{}
TSV
"$MKREC" "$T_DIR/page.mp" <"$T_DIR/page.tsv" || t_fail "conv-mkrec"
t_check "page load converts" "$T_CONVERT" "$T_DIR/page.mp" --json -o "$T_DIR/page.json" -q
steps=$($Q "$T_DIR/page.json" steps | awk -F'\t' '{print $3 "/" $4}' | xargs)
t_eq "page, one parallel group of 3 assets, API" "false/1 true/3 false/1" "$steps"
t_eq "think time after the assets (400 -> 2300 ms)" 1900000 "$($Q "$T_DIR/page.json" steps | awk -F'\t' 'NR == 2 {print $5}')"
t_check "narrow window" "$T_CONVERT" "$T_DIR/page.mp" --parallel-window 1ms --json -o "$T_DIR/narrow.json" -q
t_eq "--parallel-window 1ms: only overlapping requests grouped" "false/1 true/2 false/1 false/1" \
    "$($Q "$T_DIR/narrow.json" steps | awk -F'\t' '{print $3 "/" $4}' | xargs)"
"$T_CONVERT" "$T_DIR/page.mp" --no-static --think none --json -o "$T_DIR/nostatic.json" 2>"$T_DIR/nostatic.log" ||
    t_fail "--no-static"
t_eq "--no-static keeps page and API" 2 "$($Q "$T_DIR/nostatic.json" requests)"
grep -q 'static 3)' "$T_DIR/nostatic.log" || t_fail "--no-static summary: $(cat "$T_DIR/nostatic.log")"
t_eq "--think none: no pauses" "0 0" "$($Q "$T_DIR/nostatic.json" steps | cut -f5 | xargs)"
t_check "--think scale 0.5" "$T_CONVERT" "$T_DIR/page.mp" --think scale 0.5 --json -o "$T_DIR/scale.json" -q
t_eq "--think scale 0.5 halves the pause" 950000 "$($Q "$T_DIR/scale.json" steps | awk -F'\t' 'NR == 2 {print $5}')"
t_check "--think max=500ms" "$T_CONVERT" "$T_DIR/page.mp" --think max=500ms --json -o "$T_DIR/max.json" -q
t_eq "--think max caps the pause" 500000 "$($Q "$T_DIR/max.json" steps | awk -F'\t' 'NR == 2 {print $5}')"

# A recording and a HAR in one run: two sessions, two classes, both origins.
cat >"$T_DIR/mini.har" <<'HAR'
{"log": {"version": "1.2", "entries": [
  {"startedDateTime": "2024-05-01T10:00:00.000Z", "time": 12,
   "request": {"method": "GET", "url": "https://api.example.test/v1/status", "headers": []},
   "response": {"status": 200, "headers": [{"name": "Content-Type", "value": "application/json"}],
                "content": {"mimeType": "application/json", "text": "{\"ok\": true}"}}}]}}
HAR
t_check "recording and HAR mixed" "$T_CONVERT" "$T_DIR/page.mp" "$T_DIR/mini.har" --json -o "$T_DIR/mixed.json" -q
t_eq "mixed: classes" "1 1" "$($Q "$T_DIR/mixed.json" classes | cut -f1 | xargs)"
t_eq "mixed: requests" 6 "$($Q "$T_DIR/mixed.json" requests)"
python3 -c 'import json,sys; h=[x["base_url"] for x in json.load(open(sys.argv[1]))["hosts"]]; assert h == ["http://127.0.0.1:8080", "https://api.example.test"], h' \
    "$T_DIR/mixed.json" || t_fail "mixed: hosts (the most used first)"
t_eq "mixed: the HAR request is absolute" "GET https://api.example.test/v1/status" \
    "$($Q "$T_DIR/mixed.json" urls | grep example)"
