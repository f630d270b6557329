#!/usr/bin/env bash
# Timed replay's --connect-ahead (docs/aiotest-replay.md "Connect ahead"): 10
# sessions of two requests 3 s apart, against a server that closes a
# connection 0.2 s after its answer. With --connect-ahead 1s every connection
# (two per session: the server closed the first) is open well before its first
# request; with 0 each opens when its request is due. A target that refuses
# connections counts one connect failure per request, not one more per
# connection opened ahead.
. "$AIOTEST_SRC/tests/integration/lib.sh"
t_need /usr/bin/python3
MKREC="$AIOTEST_BUILD/tests/integration/convert/conv-mkrec"
[ -x "$MKREC" ] || t_skip "conv-mkrec not built"
PORT=$(t_port)
URL="http://127.0.0.1:$PORT"
for k in $(seq 0 9); do
    printf 'c%d\t%d\t%d\tGET\t%s/a/%d\t200\ttext/plain\tok\n' "$k" $((k * 20)) $((k * 20 + 1)) "$URL" "$k"
    printf 'c%d\t%d\t%d\tGET\t%s/b/%d\t200\ttext/plain\tok\n' "$k" $((k * 20 + 3000)) $((k * 20 + 3001)) "$URL" "$k"
done | "$MKREC" "$T_DIR/rec.mp" || t_fail "conv-mkrec"

t_bg server /usr/bin/python3 "$AIOTEST_SRC/tests/integration/replay/connahead_server.py" "$PORT" "$T_DIR/conns.log"
t_wait_port "$PORT"

# gaps LOG: connections, then the shortest and longest wait from accept to first request (ms)
gaps() {
    /usr/bin/python3 -c '
import sys
g = [float(b) - float(a) for a, b in (l.split() for l in open(sys.argv[1]))]
print(len(g), int(min(g) * 1000), int(max(g) * 1000))' "$1"
}
run() { # run NAME ARGS...
    : >"$T_DIR/conns.log"
    RC=0
    "$T_REPLAY" "$T_DIR/rec.mp" --timed --timeout 10s --report "$T_DIR/$1.json" "${@:2}" \
        >"$T_DIR/$1.out" 2>"$T_DIR/$1.err" || RC=$?
    sleep 0.5 # the server logs a connection when it closed
}
jq_() { /usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$T_DIR/$1.json"; }

run ahead --connect-ahead 1s
t_eq "--connect-ahead 1s: exit" 0 "$RC"
t_eq "--connect-ahead 1s: requests" 20 "$(jq_ ahead 'r["total"]["count"]')"
t_eq "--connect-ahead 1s: failures" 0 "$(jq_ ahead 'r["total"]["failures"]')"
read -r n lo hi < <(gaps "$T_DIR/conns.log")
t_eq "--connect-ahead 1s: connections (the server closed each session's first)" 20 "$n"
t_log "accept to first request: ${lo}-${hi} ms"
# opened 1 s ahead: on a loaded machine a late connect eats into it, never all of it
[ "$lo" -ge 300 ] || t_fail "--connect-ahead 1s: a connection waited only $lo ms for its first request"

run due --connect-ahead 0
t_eq "--connect-ahead 0: exit" 0 "$RC"
t_eq "--connect-ahead 0: failures" 0 "$(jq_ due 'r["total"]["failures"]')"
read -r n lo hi < <(gaps "$T_DIR/conns.log")
t_eq "--connect-ahead 0: connections" 20 "$n"
t_log "accept to first request: ${lo}-${hi} ms"
[ "$hi" -lt 500 ] || t_fail "--connect-ahead 0: a connection was open $hi ms before its first request"

# nothing listens: one connect failure per request, the ahead attempts not counted
DEAD=$(t_port)
run dead --connect-ahead 1s --map-host "127.0.0.1:$PORT=http://127.0.0.1:$DEAD"
[ "$RC" != 0 ] || t_fail "every request failed, yet exit 0"
t_eq "refused: requests" 20 "$(jq_ dead 'r["total"]["count"]')"
t_eq "refused: connect failures" 20 "$(jq_ dead 'r["total"]["failures"]')"
t_eq "refused: failure categories" "{'connect': 20}" "$(jq_ dead 'r["total"]["fail"]')"

rc=0; "$T_REPLAY" "$T_DIR/rec.mp" -u 1 -t 1s --connect-ahead 1s 2>"$T_DIR/notimed.err" || rc=$?
t_eq "--connect-ahead without --timed: exit" 2 "$rc"
grep -q -- '--connect-ahead need --timed' "$T_DIR/notimed.err" || t_fail "message: $(cat "$T_DIR/notimed.err")"
rc=0; "$T_REPLAY" "$T_DIR/rec.mp" --timed --connect-ahead soon 2>"$T_DIR/bad.err" || rc=$?
t_eq "--connect-ahead soon: exit" 2 "$rc"
t_log "bad value: $(head -1 "$T_DIR/bad.err")"
