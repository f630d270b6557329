# Helpers shared by the aiotest-target integration tests (after lib.sh).
# req KEY METHOD PATH [CURL ARGS...]: one request with curl to $TARGET_URL; sets
# CODE, BODY and HEADERS (file), and adds it to the counts /stats should show
# (KEY "-" for requests the server must not count).
declare -A EXP_EP=() EXP_ST=()
EXP_TOTAL=0
HEADERS="$T_DIR/headers"

req() {
    local key=$1 method=$2 path=$3
    shift 3
    CODE=$(curl -s -o "$T_DIR/body" -D "$HEADERS" -w '%{http_code}' -X "$method" "$@" \
        "$TARGET_URL$path") || t_fail "curl $method $path failed"
    BODY=$(cat "$T_DIR/body")
    if [ "$key" != - ]; then
        EXP_EP[$key]=$(( ${EXP_EP[$key]:-0} + 1 ))
        EXP_ST[$CODE]=$(( ${EXP_ST[$CODE]:-0} + 1 ))
        EXP_TOTAL=$((EXP_TOTAL + 1))
    fi
}

# jget JSON PYEXPR: evaluates a Python expression over the parsed JSON (as v).
jget() {
    python3 -c 'import json, sys; v = json.loads(sys.argv[1]); r = eval(sys.argv[2]); print(json.dumps(r) if isinstance(r, (dict, list, bool)) or r is None else r)' "$1" "$2" \
        || t_fail "not JSON or no $2: $1"
}

# header NAME: the value of a response header of the last req (case-insensitive).
header() {
    grep -i "^$1:" "$HEADERS" | head -1 | cut -d' ' -f2- | tr -d '\r'
}

# expect DESCRIPTION STATUS: the last req answered STATUS.
expect() {
    t_eq "$1" "$2" "$CODE"
}

# target_start_port0 NAME [ARGS...]: starts aiotest-target --port 0 and reads the
# "listening on URL" line; sets TARGET_URL and TARGET_PID.
target_start_port0() {
    local name=$1 i
    shift
    t_bg "$name" "$T_TARGET" --port 0 "$@"
    TARGET_PID=$T_LAST_PID
    TARGET_LOG="$T_DIR/$name.log"
    for i in $(seq 200); do
        TARGET_URL=$(sed -n 's/^listening on //p' "$T_DIR/$name.log")
        [ -n "$TARGET_URL" ] && return 0
        kill -0 "$TARGET_PID" 2>/dev/null || t_fail "aiotest-target exited: $(cat "$T_DIR/$name.log")"
        sleep 0.05
    done
    t_fail "no 'listening on' line from aiotest-target after 10 s"
}

# target_start [ARGS...]: t_target, remembering its log in TARGET_LOG.
target_start() {
    t_target "$@"
    TARGET_LOG="$T_DIR/target-$TARGET_PORT.log"
}

# target_stop: stops the aiotest-target of TARGET_PID with SIGTERM and checks it
# exits 0 with no sanitizer report (leaks, UB) in its log.
target_stop() {
    local rc
    kill "$TARGET_PID"
    wait "$TARGET_PID"
    rc=$?
    t_eq "aiotest-target stops cleanly on SIGTERM" 0 "$rc"
    if grep -Eq "Sanitizer|runtime error" "$TARGET_LOG"; then
        cat "$TARGET_LOG" >&2
        t_fail "sanitizer report in $TARGET_LOG"
    fi
}
