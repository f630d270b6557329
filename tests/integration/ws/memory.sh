# An idle WebSocket user costs a few KiB: 1000 users that joined a chat room
# over ws:// and now wait out a long recorded gap, their sessions open,
# against 1 user, RSS compared (docs/aiotest-replay.md "WebSocket": ~2.7 KiB
# measured). One worker thread, so both runs have the same fixed costs.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
case "${AIOTEST_SANITIZE:-none}" in none) ;; *) t_skip "RSS under a sanitizer is not the program's" ;; esac
PY=/usr/bin/python3
$PY -c 'import websockets' 2>/dev/null || t_skip "python3-websockets is not installed"
D="$AIOTEST_SRC/tests/integration/ws"
PORT=$(t_port)
t_bg chat $PY "$D/chatserver.py" "$PORT" "$T_DIR/counts"
t_wait_port "$PORT" 20
cat >"$T_DIR/idle.json" <<JSON
{"hosts": [{"base_url": "http://127.0.0.1:$PORT"}],
 "classes": [{"name": "idle", "tasks": [{"ws": {"name": "chat", "url": "ws://127.0.0.1:$PORT/chat",
   "messages": [{"name": "join", "data": "{\"op\":\"join\",\"room\":\"r\"}", "await": {"count": 2}},
                {"name": "say", "data": "{\"op\":\"say\"}", "gap_us": 120000000}]}}]}]}
JSON
"$T_CONVERT" --from-json "$T_DIR/idle.json" -o "$T_DIR/idle.mp" || t_fail "--from-json"
rss() { # rss USERS: RSS= resident KiB of aiotest-replay once every user joined and waits
    : >"$T_DIR/counts"
    "$T_REPLAY" "$T_DIR/idle.mp" -u "$1" -r 1000 --threads 1 -t 60s -q --report "$T_DIR/m$1.json" &
    local pid=$! i
    T_PIDS+=("$pid")
    for i in $(seq 600); do [ "$(grep -c join "$T_DIR/counts")" -ge "$1" ] && break; sleep 0.05; done
    [ "$(grep -c join "$T_DIR/counts")" -ge "$1" ] || t_fail "$1 users did not all join"
    sleep 1
    RSS=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
    kill -INT "$pid"
    wait "$pid"
}
rss 1
base=$RSS
rss 1000
big=$RSS
t_eq "every user joined without failure" "1000 0" \
    "$(r_json "$T_DIR/m1000.json" '"%d %d" % ([e["count"] for e in r["entries"] if e["name"] == "chat join"][0], r["total"]["failures"])')"
per=$(( (big - base) * 1024 / 999 ))
t_log "RSS: 1 user ${base} KiB, 1000 users ${big} KiB: $per bytes per idle WebSocket user"
t_check "an idle WebSocket user costs under 8 KiB ($per bytes)" r_in 0 8192 "$per"
