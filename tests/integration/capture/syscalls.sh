#!/usr/bin/env bash
# The proxy's system calls per exchange (issue 20): a cleartext client's
# responses are written straight into its socket at the end of the loop pass
# that queued them, with the bufferevent's write event left off. Before, every
# exchange enabled that event and disabled it after the write: two epoll_ctl
# calls and one more loop pass per exchange (200 for these 100). Counted with
# strace, which does not depend on the machine's speed; the answers and the
# recording must stay exact.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
t_need curl strace
t_target --quiet
N=100
REC="$T_DIR/rec.mp"
CAP_PORT=$(t_port)
# LeakSanitizer cannot run under ptrace: leaks are the other capture tests' job.
t_bg strace env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    strace -f -c -e trace=epoll_ctl,write,writev,sendto -o "$T_DIR/strace.txt" \
    "$T_CAPTURE" --proxy "127.0.0.1:$CAP_PORT" --reverse "$TARGET_URL" -o "$REC"
STRACE_PID=$T_LAST_PID
t_wait_port "$CAP_PORT"
CAP_PID=$(pgrep -P "$STRACE_PID" | head -1)
[ -n "$CAP_PID" ] || t_fail "no aiotest-capture under strace"
T_PIDS+=("$CAP_PID") # strace killed at cleanup would leave it running
# One keep-alive connection, N requests one after the other.
args=()
for ((i = 0; i < N; i++)); do args+=(-o /dev/null "http://127.0.0.1:$CAP_PORT/api/search?q=item$((i % 10))"); done
curl -sS --max-time 60 -w '%{http_code} %{num_connects}\n' "${args[@]}" >"$T_DIR/codes" ||
    t_fail "curl through the proxy failed"
t_eq "answers 200" "$N" "$(grep -c '^200 ' "$T_DIR/codes")"
t_eq "connections opened" 1 "$(awk '{ n += $2 } END { print n }' "$T_DIR/codes")"
kill -INT "$CAP_PID"
wait "$STRACE_PID" || t_fail "aiotest-capture under strace exited $?: $(tail -3 "$T_DIR/strace.log")"
recorded=$(cap_dump "$REC" | wc -l)
t_eq "exchanges recorded" "$N" "$recorded"
calls() { awk -v s="$1" '$NF == s { print ($4 ~ /^[0-9]+$/) ? $4 : $3 }' "$T_DIR/strace.txt"; }
ctl=$(calls epoll_ctl) ctl=${ctl:-0}
wv=$(calls writev) wv=${wv:-0}
t_log "strace -c: $ctl epoll_ctl, $wv writev, $(calls sendto) sendto, $(calls write) write for $N exchanges"
# A few for the listener and the connections' first events.
[ "$ctl" -le 20 ] || t_fail "$ctl epoll_ctl calls for $N exchanges: the write event is still toggled per response"
[ "$wv" -ge "$N" ] || t_fail "$wv writev calls: expected one per response"
t_log "ok: $N exchanges on one connection, $ctl epoll_ctl calls"
