#!/bin/bash
# Command line: --help and docs list every option, --version, --port 0 and
# --bind, and every malformed option exits 2 with a line naming it.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/target/helpers.sh"
t_need curl python3

HELP=$("$T_TARGET" --help) || t_fail "--help exits non-zero"
DOC="$AIOTEST_SRC/docs/aiotest-target.md"
[ -f "$DOC" ] || t_fail "$DOC is missing"
# Every long option the program accepts, from its option table in main.c.
OPTS=$(grep -o '{"[a-z-]*", [a-z_]*_argument' "$AIOTEST_SRC/target/main.c" | cut -d'"' -f2)
t_check "found the option table" [ "$(wc -w <<<"$OPTS")" -ge 10 ]
for o in $OPTS; do
    t_check "--help lists --$o" grep -q -- "--$o\b" <<<"$HELP"
    t_check "the manual lists --$o" grep -q -- "--$o\b" "$DOC"
done
VERSION=$(sed -n "s/^ *version : '\([^']*\)'.*/\1/p" "$AIOTEST_SRC/meson.build" | head -1)
t_eq "--version" "aiotest-target $VERSION" "$("$T_TARGET" --version)"

# bad ARGS... : exits 2 and the message names the first argument.
bad() {
    local out rc
    out=$("$T_TARGET" "$@" 2>&1 >/dev/null)
    rc=$?
    t_eq "'$*' exits 2" 2 "$rc"
    t_check "'$*' names $1 in one line: $out" \
        bash -c '[ "$(wc -l <<<"$2")" = 1 ] && grep -q -- "$1" <<<"$2"' _ "$1" "$out"
}
bad --port 70000
bad --port abc
bad --port -1
bad --port
bad --threads 0
bad --threads x
bad --delay-ms 5-2
bad --delay-ms fast
bad --delay-ms 10-
bad --delay-ms 3600001
bad --fail-rate 1.5
bad --fail-rate -0.1
bad --fail-rate half
bad --max-conns 0
bad --max-sessions 0
bad --bind localhost
bad --tls onlyone
bad --tls /nonexistent.crt /nonexistent.key
bad --nonsense
bad stray

# --port 0 picks a free port and says which.
target_start_port0 port0 --quiet
t_check "listening line ($TARGET_URL)" grep -Eq '^http://127\.0\.0\.1:[0-9]+$' <<<"$TARGET_URL"
t_eq "served on the announced port" ok "$(curl -s "$TARGET_URL/health")"

# The port in use: exit 1 with a message naming the port.
PORT=${TARGET_URL##*:}
"$T_TARGET" --port "$PORT" >/dev/null 2>"$T_DIR/inuse.err"
t_eq "a port in use fails the start" 1 "$?"
t_check "the error names the port" grep -q "port $PORT" "$T_DIR/inuse.err"
target_stop

# --bind ::1, when the machine has IPv6 loopback.
if python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
    target_start_port0 v6 --quiet --bind ::1
    t_check "IPv6 listening line ($TARGET_URL)" grep -Eq '^http://\[::1\]:[0-9]+$' <<<"$TARGET_URL"
    t_eq "served on ::1" ok "$(curl -s "$TARGET_URL/health")"
    t_check "not on 127.0.0.1" bash -c "! curl -s --max-time 2 http://127.0.0.1:${TARGET_URL##*:}/health"
    target_stop
else
    t_log "no IPv6 loopback here: --bind ::1 not tried"
fi
