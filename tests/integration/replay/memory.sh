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
# Under a sanitizer every allocation carries redzones: the bound is ASan's
# (4128 bytes was seen), still far below what a leak per user would show.
limit=4096
case "${AIOTEST_SANITIZE:-none}" in none) ;; *) limit=16384 ;; esac
t_check "an idle user costs under $limit bytes ($per bytes)" r_in 0 "$limit" "$per"
# The report counts the same users' memory as the program sees it
# (user_memory: the user, its connections, buffers, variables, cookies).
t_eq "report: user_memory counts every user" 5000 "$(r_json "$T_DIR/m5000.json" 'r["user_memory"]["users"]')"
counted=$(r_json "$T_DIR/m5000.json" 'r["user_memory"]["bytes_per_user"]')
t_log "report: user_memory ${counted} bytes per user (RSS says $per)"
t_check "report: bytes per user plausible ($counted)" r_in 256 16384 "$counted"
t_eq "report: bytes = users x bytes_per_user (integer division)" 1 \
    "$(r_json "$T_DIR/m5000.json" 'int(r["user_memory"]["bytes"] // 5000 == r["user_memory"]["bytes_per_user"])')"
