# Helpers shared by the replay tests. Source after lib.sh.

# jq-free JSON queries: r_json FILE PYTHON_EXPR (r is the parsed file).
r_json() {
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# r_entry FILE "METHOD NAME" FIELD: a field of one report entry.
r_entry() {
    python3 - "$1" "$2" "$3" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
m, n = sys.argv[2].split(" ", 1)
for e in r["entries"]:
    if e["method"] == m and e["name"] == n:
        print(e[sys.argv[3]]); break
else:
    print("missing")
PY
}

# r_in LOW HIGH VALUE: true when LOW <= VALUE <= HIGH (decimals allowed).
r_in() {
    python3 -c 'import sys; lo,hi,v=map(float,sys.argv[1:]); sys.exit(0 if lo<=v<=hi else 1)' "$@"
}

# r_replay ARGS...: runs aiotest-replay with a bound on its wall time; output in
# $T_DIR/replay.out / replay.err; exit status in R_RC.
r_replay() {
    timeout 120 "$T_REPLAY" "$@" >"$T_DIR/replay.out" 2>"$T_DIR/replay.err"
    R_RC=$?
    if [ "$R_RC" -ne 0 ]; then sed -n 1,5p "$T_DIR/replay.err" >&2; fi
    r_clean "$T_DIR/replay.err"
}

# r_clean FILE: fails the test when a sanitizer reported anything (UBSan does
# not change the exit status).
r_clean() {
    if grep -qE "runtime error:|Sanitizer" "$1"; then
        sed -n 1,20p "$1" >&2
        t_fail "sanitizer report in $1"
    fi
}

# r_replay_scraped PAGE REPORT ARGS...: r_replay with --metrics on a port of its
# own and --report REPORT; once the report is written (the final page is
# published before it), GET /metrics goes to PAGE; --metrics-linger keeps the
# endpoint up until that scrape. Exit status in R_RC.
r_replay_scraped() {
    local page=$1 report=$2 mport
    shift 2
    mport=$(t_port)
    rm -f "$report"
    timeout 120 "$T_REPLAY" "$@" --report "$report" --metrics "127.0.0.1:$mport" --metrics-linger 20s \
        >"$T_DIR/replay.out" 2>"$T_DIR/replay.err" &
    local pid=$!
    T_PIDS+=("$pid")
    for _ in $(seq 1200); do [ -s "$report" ] && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    curl -s "http://127.0.0.1:$mport/metrics" >"$page"
    wait "$pid"
    R_RC=$?
    if [ "$R_RC" -ne 0 ]; then sed -n 1,5p "$T_DIR/replay.err" >&2; fi
    r_clean "$T_DIR/replay.err"
}

# r_sample PAGE METRIC: the value of the sample line "METRIC VALUE" (METRIC with
# its labels, as printed), "missing" when the page has none.
r_sample() {
    awk -v m="$2" 'index($0, m " ") == 1 { print substr($0, length(m) + 2); found = 1 }
                   END { if (!found) print "missing" }' "$1"
}

# r_html_note HTML ID: the text of <li id="note-ID"> of an --html report, tags
# and entities as written; "missing" when the page has none.
r_html_note() {
    python3 - "$1" "$2" <<'PY'
import re, sys
m = re.search(r'<li id="note-%s"[^>]*>(.*?)</li>' % re.escape(sys.argv[2]), open(sys.argv[1]).read())
print(m.group(1) if m else "missing")
PY
}
