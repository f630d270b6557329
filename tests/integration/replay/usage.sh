# The command line: --help names every option, bad input is one line and exit 2.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
SCN="$AIOTEST_SRC/tests/integration/replay/api.json"

"$T_REPLAY" --help >"$T_DIR/help.txt" || t_fail "--help exit status"
# The core options must be there; whatever --help lists must be in the manual.
for o in --users --spawn-rate --duration --shape --iterations --max-users --host --threads \
         --timeout --connect-timeout --stop-timeout --think-scale --insecure --ca --seed \
         --report --csv --html --metrics --metrics-linger --fail-on --fail-fast --baseline \
         --tolerance --merge --quiet --help --version; do
    grep -q -- "$o" "$T_DIR/help.txt" || t_fail "--help does not mention $o"
done
for o in $(grep -oE -- '--[a-z0-9-]+' "$T_DIR/help.txt" | sort -u); do
    grep -q -- "\`$o" "$AIOTEST_SRC/docs/aiotest-replay.md" || t_fail "docs/aiotest-replay.md does not document $o"
done
t_log "ok: --help and the manual name every option"
t_check "--version" grep -q "^aiotest-replay [0-9]" <("$T_REPLAY" --version)

usage() { # usage DESCRIPTION PATTERN ARGS...: exit 2 with one line naming the problem
    local what=$1 pat=$2; shift 2
    r_replay "$@"
    t_eq "$what: exit status" 2 "$R_RC"
    grep -q -- "$pat" "$T_DIR/replay.err" || { cat "$T_DIR/replay.err"; t_fail "$what: message lacks '$pat'"; }
}
usage "missing scenario" "missing SCENARIO"
usage "unknown option" "unknown option '--bogus'" "$SCN" --bogus
usage "bad user count" "\-u 'many': expected" "$SCN" -u many
usage "bad duration" "\-t '5 parsecs'" "$SCN" -t "5 parsecs"
usage "bad threshold" "\-\-fail-on" "$SCN" --fail-on "p99<<3"
usage "missing file" "nope.json" "$T_DIR/nope.json"
usage "shape and -u together" "\-\-shape replaces" "$SCN" --shape x.conf -u 3
printf '2s 10 5\nbogus line\n' >"$T_DIR/bad.conf"
usage "bad shape line" "bad.conf:2" "$SCN" --shape "$T_DIR/bad.conf"
echo '{"format": "aiotest-scenario", "version": [1, 0], "classes": [{"name": "c", "weight": 1, "tasks": [{"requests": [{"method": "GET", "url": "/x"}]}]}]}' >"$T_DIR/nohost.json"
usage "relative URL without a host" "give --host" "$T_DIR/nohost.json"
usage "bad --host" "\-\-host" "$SCN" --host "ftp://x"
usage "bad --map-host" "\-\-map-host 'cdn.test': expected FROM=TO" "$SCN" --map-host cdn.test
usage "bad --map-host target" "\-\-map-host 'a=ftp://x'" "$SCN" --map-host a=ftp://x
usage "bad --allow-host" "\-\-allow-host 'a/b'" "$SCN" --allow-host a/b
usage "bad --resolve" "\-\-resolve 'shop.test:443': expected HOST:PORT:ADDR" "$SCN" --resolve shop.test:443
usage "credentials in --host" "userinfo" "$SCN" --host "http://u:pw@127.0.0.1:8080"
