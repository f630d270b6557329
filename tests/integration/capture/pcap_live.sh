#!/usr/bin/env bash
# Live passive capture: aiotest-capture -i lo --filter 'tcp port P' records a
# curl shopping session, a 3 MB download and a 500 kB upload against
# aiotest-target; stopped with SIGINT, it exits 0, prints the kernel drop
# counter, and every request is in the file with identical bodies (sha256).
# tcpdump records the same traffic, and --pcap on its file gives the same
# exchanges.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
t_need curl tcpdump python3
[ "$(id -u)" = 0 ] || t_skip "live capture needs root"
t_target
P=$TARGET_PORT
REC="$T_DIR/live.mp"

t_bg live "$T_CAPTURE" -i lo --filter "tcp port $P" --max-body 8MiB -o "$REC"
CAP_PID=$T_LAST_PID
CAP_LOG="$T_DIR/live.log"
t_bg tcpdump tcpdump -i lo -B 131072 -U --immediate-mode -w "$T_DIR/f.pcap" "tcp port $P"
TD_PID=$T_LAST_PID
for _ in $(seq 100); do
    grep -q 'capturing on lo' "$CAP_LOG" && grep -q 'listening on' "$T_DIR/tcpdump.log" && break
    sleep 0.1
done
grep -q 'capturing on lo' "$CAP_LOG" || t_fail "capture did not start: $(cat "$CAP_LOG")"
grep -q 'listening on' "$T_DIR/tcpdump.log" || t_fail "tcpdump did not start: $(cat "$T_DIR/tcpdump.log")"
sleep 0.3 # both sockets are bound; let the rings settle

CAP_PROXY="" # shop_session's curl -x "": straight to the target, no proxy
shop_session "$TARGET_URL"
shop_step download GET "$TARGET_URL/download?bytes=3000000" -
head -c 500000 /dev/urandom >"$T_DIR/upload.bin"
code=$(curl -sS -o "$T_DIR/upload.resp" -w '%{http_code}' --data-binary "@$T_DIR/upload.bin" \
    -H 'Content-Type: application/octet-stream' "$TARGET_URL/api/cart") || t_fail "upload"
# several requests on one keep-alive connection
curl -sS -o /dev/null -o /dev/null -o /dev/null "$TARGET_URL/static/app.js" "$TARGET_URL/static/style.css" \
    "$TARGET_URL/health" || t_fail "keep-alive curl"
# the last packets reach both captures: tcpdump's file stops growing (a busy
# machine may schedule tcpdump late; a SIGINT before it read them loses them)
size=-1; stable=0
for _ in $(seq 150); do
    now=$(stat -c %s "$T_DIR/f.pcap")
    if [ "$now" = "$size" ]; then stable=$((stable + 1)); else stable=0; size=$now; fi
    [ "$stable" -ge 10 ] && break
    sleep 0.1
done

kill -INT "$CAP_PID"
rc=0
wait "$CAP_PID" || rc=$?
[ "$rc" = 0 ] || { cat "$CAP_LOG" >&2; t_fail "aiotest-capture exited $rc after SIGINT"; }
kill -INT "$TD_PID"
wait "$TD_PID" 2>/dev/null
line=$(grep 'done:' "$CAP_LOG")
t_log "counter line: $line"
echo "$line" | grep -q 'kernel drops [0-9]' || t_fail "no kernel drop counter"
drops=$(echo "$line" | sed 's/.*kernel drops \([0-9]*\).*/\1/')
[ "$drops" = 0 ] || t_log "warning: the kernel dropped $drops packets"

cap_dump "$REC" >"$T_DIR/live.dump"
shop_check "$T_DIR/live.dump"
up=$(grep -P "^POST\t$TARGET_URL/api/cart\t" "$T_DIR/live.dump" | awk -F'\t' -v s="$(sha "$T_DIR/upload.bin")" '$4 == s')
[ -n "$up" ] || t_fail "the 500 kB upload is not recorded with its body"
t_eq "upload: status and response body" "$code $(sha "$T_DIR/upload.resp")" "$(echo "$up" | cut -f3,5 | tr '\t' ' ')"
t_eq "keep-alive: three requests on one connection" 1 \
    "$(grep -P '/(static/app.js|static/style.css|health)\t' "$T_DIR/live.dump" | cut -f8 | sort -u | wc -l)"
t_eq "nothing incomplete" 0 "$(grep -c incomplete "$T_DIR/live.dump")"
n=$(wc -l <"$T_DIR/live.dump")
t_eq "exchanges recorded" $(($(wc -l <"$T_DIR/shop/expected") + 4)) "$n"

"$T_CAPTURE" --pcap "$T_DIR/f.pcap" --max-body 8MiB -o "$T_DIR/file.mp" 2>"$T_DIR/file.log" ||
    t_fail "--pcap on tcpdump's file: $(cat "$T_DIR/file.log")"
cap_dump "$T_DIR/file.mp" >"$T_DIR/file.dump"
if ! diff <(cut -f1-6,13,14 "$T_DIR/live.dump") <(cut -f1-6,13,14 "$T_DIR/file.dump") >"$T_DIR/diff"; then
    cat "$T_DIR/diff" >&2
    t_fail "live capture and tcpdump's file give different exchanges"
fi
t_log "ok: --pcap on tcpdump's capture of the same traffic gives the same $n exchanges"

# --duration stops a live capture that sees nothing (libpcap would wait forever)
start=$SECONDS
"$T_CAPTURE" -i lo --filter "tcp port $P and host 10.9.9.9" --duration 1s -o "$T_DIR/idle.mp" 2>"$T_DIR/idle.log" ||
    t_fail "--duration run: $(cat "$T_DIR/idle.log")"
[ $((SECONDS - start)) -le 20 ] || t_fail "--duration 1s took $((SECONDS - start))s"
grep -q 'done: 0 packets.*kernel drops 0' "$T_DIR/idle.log" || t_fail "--duration: $(cat "$T_DIR/idle.log")"
t_log "ok: --duration 1s stops an idle live capture"
