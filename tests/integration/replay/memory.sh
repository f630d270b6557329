# An idle user costs a few KiB: 5000 users that each sent a request and now
# think (holding their keep-alive connection) against 1 user, RSS compared.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
t_target --quiet
SCN="$AIOTEST_SRC/tests/integration/replay/weights.json"
rss() { # rss USERS: resident KiB of aiotest-replay once its users are idle
    "$T_REPLAY" "$SCN" --host "$TARGET_URL" -u "$1" -r 1000000 -t 5s -q --report "$T_DIR/m$1.json" &
    local pid=$!
    T_PIDS+=("$pid")
    sleep 3.5
    awk '/^VmRSS/ {print $2}' "/proc/$pid/status"
    wait "$pid" || t_fail "run with $1 users failed"
}
base=$(rss 1)
big=$(rss 5000)
t_eq "every user sent its request" 5000 "$(r_json "$T_DIR/m5000.json" 'r["total"]["count"]')"
t_eq "and holds its connection without failure" 0 "$(r_json "$T_DIR/m5000.json" 'r["total"]["failures"]')"
per=$(( (big - base) * 1024 / 4999 ))
t_log "RSS: 1 user ${base} KiB, 5000 users ${big} KiB: $per bytes per idle user"
t_check "an idle user costs under 4 KiB ($per bytes)" r_in 0 4096 "$per"
