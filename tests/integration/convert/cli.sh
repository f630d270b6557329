#!/bin/bash
# The command line: --help lists every option of docs/aiotest-convert.md;
# usage and input errors exit 2 naming file, record/entry and field; --dump,
# --json and --from-json round-trip an edited scenario; --data binds CSV columns.
. "$AIOTEST_SRC/tests/integration/lib.sh"
t_need python3
MKREC="$AIOTEST_BUILD/tests/integration/convert/conv-mkrec"
Q="python3 $AIOTEST_SRC/tests/integration/convert/scnq.py"
H=http://127.0.0.1:8080

"$T_CONVERT" --help >"$T_DIR/help" || t_fail "--help exit $?"
opts=$(grep '^| `-' "$AIOTEST_SRC/docs/aiotest-convert.md" | grep -oE '`--?[a-zA-Z][-a-z]*' | tr -d '`' | sort -u)
[ "$(wc -w <<<"$opts")" -ge 18 ] || t_fail "docs/aiotest-convert.md: options table not found ($opts)"
for opt in $opts; do
    grep -q -- "$opt" "$T_DIR/help" || t_fail "--help lacks $opt (documented in docs/aiotest-convert.md)"
done
t_log "ok: --help lists every documented option"
"$T_CONVERT" --version | grep -q '^aiotest-convert ' || t_fail "--version"

# expect_error CODE NEEDLE ARGS...: exit code and one line naming the place.
expect_error() {
    local code=$1 needle=$2 rc=0; shift 2
    "$T_CONVERT" "$@" >/dev/null 2>"$T_DIR/err" || rc=$?
    [ "$rc" = "$code" ] || t_fail "$*: exit $rc, expected $code ($(cat "$T_DIR/err"))"
    grep -qF -- "$needle" "$T_DIR/err" || t_fail "$*: message lacks '$needle': $(cat "$T_DIR/err")"
    t_log "ok: $* -> $code, '$needle'"
}
expect_error 2 "no INPUT" -o x.mp
expect_error 2 "unrecognized option" --bogus
expect_error 2 "--think 'fast'" --think fast x.har --json
expect_error 2 "--max-classes 'zero'" --max-classes zero x.har --json
expect_error 2 "$T_DIR/missing.har" "$T_DIR/missing.har" --json
printf '{"log": {"entries": [{"startedDateTime": "2024-01-01T00:00:00Z", "request": {"method": "GET", "url": "http://a/"}, "response": {"status": 200}},\n {"startedDateTime": "2024-01-01T00:00:01Z", "request": {"method": "GET", "url": "http://a/", "headers": [{"name": 5}]}}]}}\n' >"$T_DIR/bad.har"
# One broken entry is skipped and named; the file's other entries convert.
"$T_CONVERT" "$T_DIR/bad.har" --json -o "$T_DIR/bad.json" 2>"$T_DIR/err" || t_fail "bad.har: exit $?: $(cat "$T_DIR/err")"
grep -q "bad.har: entry 1: request.headers\[0\].name: expected a string; entry skipped" "$T_DIR/err" \
    || t_fail "bad.har: skipped entry not named: $(cat "$T_DIR/err")"
grep -q "1 read; 1 skipped (bad.har entry 1)" "$T_DIR/err" || t_fail "bad.har: summary: $(cat "$T_DIR/err")"
# Nothing readable at all: exit 2, the first entry's reason.
printf '{"log": {"entries": [{"startedDateTime": "2024-01-01T00:00:00Z", "request": {"method": "GET", "url": 7}}]}}\n' >"$T_DIR/allbad.har"
expect_error 2 "allbad.har: entry 0: request.url: expected a string" "$T_DIR/allbad.har" --json
printf '{"log": {"entries": [\n  {"startedDateTime": }\n]}}\n' >"$T_DIR/syntax.har"
expect_error 2 "syntax.har: JSON: line 2" "$T_DIR/syntax.har" --json
printf 'not a recording' >"$T_DIR/junk.mp"
expect_error 2 "junk.mp" "$T_DIR/junk.mp" --json
expect_error 2 "--exclude-path '(('" --exclude-path '((' "$T_DIR/bad.har" --json

# A recording whose requests carry a user name and client-made values.
cat >"$T_DIR/login.tsv" <<TSV
k1	0	30	POST	$H/api/login	200	application/json	{"token": "8c1f0e4d2b"}	{"user": "alice", "password": "wonderland"}
k1	100	120	GET	$H/api/profile?who=alice	200	application/json	{"user": "alice"}
TSV
"$MKREC" "$T_DIR/login.mp" <"$T_DIR/login.tsv" || t_fail "conv-mkrec"
expect_error 2 "filter" "$T_DIR/login.mp" --exclude-host 127.0.0.1 --json

# --data: values equal to the CSV's first row become {{column}}.
printf 'user,password\nalice,wonderland\nbob,builder\n' >"$T_DIR/users.csv"
t_check "--data" "$T_CONVERT" "$T_DIR/login.mp" --data "$T_DIR/users.csv" --json -o "$T_DIR/data.json" -q
grep -q '{{user}}' "$T_DIR/data.json" || t_fail "--data: no {{user}}"
grep -q '{{password}}' "$T_DIR/data.json" || t_fail "--data: no {{password}}"
grep -q 'alice\|wonderland' "$T_DIR/data.json" && t_fail "--data: recorded values left"
t_eq "--data URL" "GET /api/profile?who={{user}}" "$($Q "$T_DIR/data.json" urls | tail -1)"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["data"][0]["path"].endswith("users.csv"), d["data"]' \
    "$T_DIR/data.json" || t_fail "--data: no data source in the scenario"
printf 'user,2nd\na,b\n' >"$T_DIR/badcols.csv"
expect_error 2 "badcols.csv:1: column 2" "$T_DIR/login.mp" --data "$T_DIR/badcols.csv" --json

# --dump of the recording, then -o scenario, --dump, edit, --from-json.
"$T_CONVERT" --dump "$T_DIR/login.mp" >"$T_DIR/rec.json" || t_fail "--dump recording"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["exchanges"]) == 2' "$T_DIR/rec.json" ||
    t_fail "--dump recording: two exchanges expected"
t_check "convert to .mp" "$T_CONVERT" "$T_DIR/login.mp" -o "$T_DIR/s.mp" -q
"$T_CONVERT" --dump "$T_DIR/s.mp" >"$T_DIR/s.json" || t_fail "--dump scenario"
"$T_CONVERT" "$T_DIR/login.mp" --json -q | grep -v created_us >"$T_DIR/s2.json"
grep -v created_us "$T_DIR/s.json" | diff - "$T_DIR/s2.json" >/dev/null || t_fail "--json differs from --dump of -o"
python3 - "$T_DIR/s.json" "$T_DIR/edited.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["classes"][0]["name"] = "renamed by hand"
d["classes"][0]["weight"] = 7
json.dump(d, open(sys.argv[2], "w"), indent=2)
PY
t_check "--from-json" "$T_CONVERT" --from-json "$T_DIR/edited.json" -o "$T_DIR/edited.mp"
t_eq "edited class after --from-json" "$(printf '7\trenamed by hand')" \
    "$("$T_CONVERT" --dump "$T_DIR/edited.mp" >"$T_DIR/e.json" && $Q "$T_DIR/e.json" classes)"
python3 - "$T_DIR/s.json" "$T_DIR/broken.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["classes"][0]["tasks"][0]["requests"][0]["url"] = 42
json.dump(d, open(sys.argv[2], "w"), indent=2)
PY
expect_error 2 "url" --from-json "$T_DIR/broken.json" -o "$T_DIR/broken.mp"
printf '{\n  "format": "aiotest-scenario",\n  oops\n}\n' >"$T_DIR/syntax.json"
expect_error 2 "syntax.json:3:" --from-json "$T_DIR/syntax.json" -o "$T_DIR/x.mp"
expect_error 2 "needs -o" --from-json "$T_DIR/syntax.json"

# A recording cut mid-record (a capture killed with -9): the complete records
# are converted, with a warning naming the cut; a file cut inside its first
# exchange holds nothing to convert and is an error.
python3 - "$T_DIR/login.mp" "$T_DIR/cut.mp" "$T_DIR/cut1.mp" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
open(sys.argv[2], "wb").write(data[:-5])
open(sys.argv[3], "wb").write(data[:len(data) // 3])
PY
"$T_CONVERT" "$T_DIR/cut.mp" --json -o "$T_DIR/cut.json" 2>"$T_DIR/cut.log" || t_fail "cut recording: exit $?: $(cat "$T_DIR/cut.log")"
grep -q "warning: .*cut.mp: record 2 .*truncated.*1 complete record" "$T_DIR/cut.log" || t_fail "cut recording: $(cat "$T_DIR/cut.log")"
t_eq "cut recording: the complete exchange converted" 1 "$($Q "$T_DIR/cut.json" requests)"
expect_error 2 "cut1.mp: record 1" "$T_DIR/cut1.mp" --json
