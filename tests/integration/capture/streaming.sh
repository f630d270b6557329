#!/usr/bin/env bash
# Bodies are streamed, not buffered: a 50 MB upload (PUT to nginx's WebDAV)
# and a 50 MB download (aiotest-target /download, read by a rate-limited
# client) go through the proxy while its peak RSS stays small; the stored file
# equals the upload; the recorded copies are capped by --max-body and flagged
# truncated.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
t_need curl nginx
t_target --quiet
NG_PORT=$(t_port)
mkdir -p "$T_DIR/dav"
t_nginx "
    access_log off;
    server {
        listen 127.0.0.1:$NG_PORT;
        root $T_DIR/dav;
        client_max_body_size 200m;
        dav_methods PUT;
    }"
t_wait_port "$NG_PORT"
SIZE=$((50 * 1024 * 1024))
head -c "$SIZE" /dev/urandom >"$T_DIR/big.bin"
REC="$T_DIR/rec.mp"
# Under AddressSanitizer freed buffers sit in a quarantine (256 MB by default)
# and would count as RSS; a small one keeps use-after-free checks for recent frees.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4"
cap_start -o "$REC" --max-body 1MiB
rss0=$(awk '/VmRSS/ { print $2 }' "/proc/$CAP_PID/status")

code=$(curl -sS -x "$CAP_PROXY" -T "$T_DIR/big.bin" -o /dev/null -w '%{http_code}' "http://127.0.0.1:$NG_PORT/big.bin")
t_eq "50 MB PUT through the proxy" 201 "$code"
t_eq "stored file equals the upload" "$(sha "$T_DIR/big.bin")" "$(sha "$T_DIR/dav/big.bin")"

code=$(curl -sS -x "$CAP_PROXY" --limit-rate 40M -o "$T_DIR/down.bin" -w '%{http_code}' "$TARGET_URL/download?bytes=$SIZE")
t_eq "50 MB download through the proxy (client reads at 40 MB/s)" 200 "$code"
t_eq "downloaded size" "$SIZE" "$(stat -c %s "$T_DIR/down.bin")"

hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$CAP_PID/status")
t_log "capture RSS: $rss0 KiB at start, peak $hwm KiB"
# Either body buffered whole would add 50 MiB.
[ "$hwm" -lt $((rss0 + 32 * 1024)) ] || t_fail "peak RSS $hwm KiB: bodies were buffered, not streamed"
t_log "ok: peak RSS grew by $((hwm - rss0)) KiB for 100 MB of bodies"
cap_stop INT
cap_dump "$REC" >"$T_DIR/dump.txt"
put=$(grep -P '^PUT\t' "$T_DIR/dump.txt") || t_fail "PUT not recorded"
t_eq "PUT: recorded length, truncated flags" "1048576 0 1,0" "$(echo "$put" | cut -f13-15 | tr '\t' ' ')"
t_eq "PUT: recorded prefix" "$(head -c 1048576 "$T_DIR/big.bin" | sha256sum | cut -d' ' -f1)" "$(echo "$put" | cut -f4)"
get=$(grep -P '^GET\t.*/download' "$T_DIR/dump.txt") || t_fail "download not recorded"
t_eq "GET: recorded length, truncated flags" "0 1048576 0,1" "$(echo "$get" | cut -f13-15 | tr '\t' ' ')"
t_eq "GET: recorded prefix" "$(head -c 1048576 "$T_DIR/down.bin" | sha256sum | cut -d' ' -f1)" "$(echo "$get" | cut -f5)"
grep -q '50.0 MiB up, 50.0 MiB down' "$CAP_LOG" || t_fail "counter line: $(tail -1 "$CAP_LOG")"
t_log "ok: counters: $(tail -1 "$CAP_LOG")"
