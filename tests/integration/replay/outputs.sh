# Output paths are checked before load starts (issue 21 item 8): a --report,
# --html or --csv path that cannot be written, or a --baseline that cannot be
# read, exits 2 naming the path, before a single request is sent.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
SCN="$AIOTEST_SRC/tests/integration/replay/h1.json"
PORT=$(t_port)
t_bg h1 python3 "$AIOTEST_SRC/tests/integration/replay/h1server.py" "$PORT" "$T_DIR/requests.log"
t_wait_port "$PORT"
: >"$T_DIR/requests.log"
mkdir "$T_DIR/adir"

# bad_output DESCRIPTION PATH-IN-MESSAGE OPTIONS...
bad_output() {
    local what=$1 path=$2; shift 2
    local start=$SECONDS
    r_replay "$SCN" --host "http://127.0.0.1:$PORT" -u 2 -t 60s "$@"
    t_eq "$what: exit status" 2 "$R_RC"
    t_check "$what: the error names $path" grep -qF -- "$path" "$T_DIR/replay.err"
    t_check "$what: no request sent" test ! -s "$T_DIR/requests.log"
    t_check "$what: refused before the run (not the 60 s)" r_in 0 30 $((SECONDS - start))
}
bad_output "--report in a missing directory" "$T_DIR/nodir/r.json" --report "$T_DIR/nodir/r.json"
bad_output "--report is a directory" "$T_DIR/adir" --report "$T_DIR/adir"
bad_output "--html in a missing directory" "$T_DIR/nodir/r.html" --html "$T_DIR/nodir/r.html"
bad_output "--csv prefix in a missing directory" "$T_DIR/nodir/run" --csv "$T_DIR/nodir/run"
bad_output "--baseline missing" "$T_DIR/nope.json" --baseline "$T_DIR/nope.json"
echo '{"format": "aiotest-report", "version": 1, "duration_s": 1, "entries": 3}' >"$T_DIR/notareport.json"
bad_output "--baseline not a report" "$T_DIR/notareport.json" --baseline "$T_DIR/notareport.json"
t_check "the baseline error says what is wrong" grep -q "entries" "$T_DIR/replay.err"

# Good paths: the check leaves nothing behind, the run writes them at the end.
r_replay "$SCN" --host "http://127.0.0.1:$PORT" -u 1 --iterations 1 --report "$T_DIR/ok.json" \
    --html "$T_DIR/ok.html" --csv "$T_DIR/ok" --exit-code-on-error 0
t_eq "good paths: exit status" 0 "$R_RC"
t_check "good paths: report written" test -s "$T_DIR/ok.json"
t_check "good paths: HTML written" test -s "$T_DIR/ok.html"
t_check "good paths: CSV written" test -s "$T_DIR/ok_stats.csv"
t_check "good paths: requests were sent" test -s "$T_DIR/requests.log"
# An existing report is kept until the run replaces it (the check does not truncate).
echo keep >"$T_DIR/old.json"
: >"$T_DIR/requests.log"
bad_output "an existing --report with a bad --html" "$T_DIR/nodir/x.html" --report "$T_DIR/old.json" \
    --html "$T_DIR/nodir/x.html"
t_eq "the existing report is untouched" keep "$(cat "$T_DIR/old.json")"
