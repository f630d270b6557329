#!/usr/bin/env bash
# Timed replay (docs/aiotest-replay.md "Timed replay"): a pcap that tcpdump
# takes while a script drives aiotest-target with 30 sessions at known times
# (all from 127.0.0.1: only the session cookie tells them apart) becomes a
# recording (aiotest-capture --pcap --session-cookie); aiotest-replay --timed
# --speed 2 must send every request (the target's /stats), one user per
# session, at the recorded offsets halved: a second tcpdump of the replay gives
# the offsets it kept (p99 within 50 ms: wide, for a loaded 2-core machine under
# ASan; the normal build keeps a few ms). --copies 3 triples the counts
# exactly; --loop with -t keeps going past one pass; a stalled target shows in
# the latency (from the schedule) and in the lag; --shape with --timed is refused.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
t_need tcpdump /usr/bin/python3 curl
[ "$(id -u)" = 0 ] || t_skip "tcpdump on lo needs root"
T_CAPTURE="$AIOTEST_BUILD/capture/aiotest-capture"
[ -x "$T_CAPTURE" ] || t_skip "aiotest-capture not built"
RECDUMP="$AIOTEST_BUILD/tests/integration/capture/recdump"
[ -x "$RECDUMP" ] || t_skip "recdump not built"
SESSIONS=30
t_target --quiet
stats() { curl -sS "$TARGET_URL/stats"; }
reset() { curl -sS -o /dev/null -X POST "$TARGET_URL/stats/reset" || t_fail "stats reset"; }
total() { stats | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])'; }

# dump PCAP NAME [capture args]: tcpdump's file as a recording NAME.mp
dump() {
    "$T_CAPTURE" --pcap "$1" -o "$T_DIR/$2.mp" "${@:3}" >"$T_DIR/$2.cap.log" 2>&1 ||
        t_fail "aiotest-capture --pcap $1: $(cat "$T_DIR/$2.cap.log")"
}
# tcpdump_start NAME / tcpdump_stop: the target's port on lo into NAME.pcap
tcpdump_start() {
    t_bg "tcpdump-$1" tcpdump -i lo -B 131072 -U --immediate-mode -w "$T_DIR/$1.pcap" "tcp port $TARGET_PORT"
    TD_PID=$T_LAST_PID
    for _ in $(seq 100); do grep -q 'listening on' "$T_DIR/tcpdump-$1.log" && break; sleep 0.1; done
    grep -q 'listening on' "$T_DIR/tcpdump-$1.log" || t_fail "tcpdump did not start"
    sleep 0.3
}
tcpdump_stop() {
    sleep 0.5
    kill -INT "$TD_PID"
    wait "$TD_PID" 2>/dev/null
    grep -q '^0 packets dropped by kernel' "$T_DIR/tcpdump-$1.log" ||
        t_log "note: tcpdump: $(grep dropped "$T_DIR/tcpdump-$1.log" | tr '\n' ' ')"
}

# ---- the recording
tcpdump_start rec
made=$(/usr/bin/python3 "$AIOTEST_SRC/tests/integration/replay/timed_drive.py" "$TARGET_URL" "$SESSIONS") ||
    t_fail "driver script"
tcpdump_stop rec
t_eq "requests the script made" $((SESSIONS * 4)) "$made"
dump "$T_DIR/rec.pcap" rec --session-cookie session
"$RECDUMP" "$T_DIR/rec.mp" >"$T_DIR/rec.txt" 2>/dev/null || t_fail "recdump rec.mp"
t_eq "exchanges in the recording" "$made" "$(wc -l <"$T_DIR/rec.txt")"

R=("$T_REPLAY" "$T_DIR/rec.mp" --timed --threads 2 --timeout 10s)
run() { # run NAME ARGS...: the replay, its report NAME.json, exit status in RC
    RC=0
    "${R[@]}" --report "$T_DIR/$1.json" "${@:2}" >"$T_DIR/$1.out" 2>"$T_DIR/$1.err" || RC=$?
}
jq_() { /usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$T_DIR/$1.json"; }

# ---- --shape is refused, and so are the timed options without --timed
rc=0; "$T_REPLAY" "$T_DIR/rec.mp" --timed --shape /dev/null 2>"$T_DIR/shape.err" || rc=$?
t_eq "--timed --shape: exit" 2 "$rc"
grep -q -- '--timed replays the recording.s own timing: --shape' "$T_DIR/shape.err" ||
    t_fail "--timed --shape message: $(cat "$T_DIR/shape.err")"
rc=0; "$T_REPLAY" "$T_DIR/rec.mp" --speed 2 2>"$T_DIR/speed.err" || rc=$?
t_eq "--speed without --timed: exit" 2 "$rc"
rc=0; "$T_REPLAY" "$T_DIR/rec.mp" --timed --speed 0 2>"$T_DIR/speed0.err" || rc=$?
t_eq "--speed 0: exit" 2 "$rc"

# ---- --speed 2: every request, one user per session, on schedule
reset
tcpdump_start rep
run speed2 --speed 2
tcpdump_stop rep
[ "$RC" = 0 ] || t_fail "timed replay exit $RC: $(tail -5 "$T_DIR/speed2.err")"
t_eq "--speed 2: requests the target served" "$made" "$(total)"
t_eq "--speed 2: failures" 0 "$(jq_ speed2 'r["total"]["failures"]')"
t_eq "--speed 2: users (one per session, cookies tell them apart)" "$SESSIONS" \
    "$(jq_ speed2 'sum(c["users_started"] for c in r["classes"])')"
# search and profile overlap (one parallel step) when the converter saw them so
steps=$(jq_ speed2 'r["schedule"]["steps"]')
[ "$steps" -ge $((SESSIONS * 3)) ] && [ "$steps" -le $((SESSIONS * 4)) ] ||
    t_fail "--speed 2: $steps steps timed (expected 3 or 4 per session)"
grep -q '^Schedule: ' "$T_DIR/speed2.out" || t_fail "no schedule line: $(cat "$T_DIR/speed2.out")"
# every session had steps: not the "nothing planned" line of an empty --segment
! grep -q 'nothing planned' "$T_DIR/speed2.err" || t_fail "timed run said: $(grep 'nothing planned' "$T_DIR/speed2.err")"
dump "$T_DIR/rep.pcap" rep
"$RECDUMP" "$T_DIR/rep.mp" >"$T_DIR/rep.txt" 2>/dev/null || t_fail "recdump rep.mp"
t_eq "replayed exchanges seen on the wire" "$made" "$(wc -l <"$T_DIR/rep.txt")"
# offsets: the k-th request of the replay against the k-th of the recording, halved
read -r p99 mx < <(/usr/bin/python3 - "$T_DIR/rec.txt" "$T_DIR/rep.txt" <<'PY'
import sys
def offs(p):
    t = sorted(int(l.split("\t")[9]) for l in open(p))
    return [x - t[0] for x in t]
a = [x / 2 for x in offs(sys.argv[1])]
b = offs(sys.argv[2])
d = sorted(abs(x - y) / 1000 for x, y in zip(a, b))
print("%.1f %.1f" % (d[int(0.99 * (len(d) - 1))], d[-1]))
PY
)
t_log "offsets against recorded/2: p99 $p99 ms, max $mx ms"
/usr/bin/python3 -c "import sys; sys.exit(0 if float('$p99') <= 50 else 1)" ||
    t_fail "--speed 2: replayed offsets p99 $p99 ms off recorded/2 (more than 50 ms)"
# the replay takes about half the recording's time
rec_len=$(/usr/bin/python3 -c "
t=[int(l.split('\t')[9]) for l in open('$T_DIR/rec.txt')]; print((max(t)-min(t))/1e6)")
/usr/bin/python3 -c "import sys; d=float(sys.argv[1]); sys.exit(0 if $rec_len / 2 * 0.8 <= d <= $rec_len / 2 + 2 else 1)" \
    "$(jq_ speed2 'r["duration_s"]')" || t_fail "duration $(jq_ speed2 'r["duration_s"]') s for a ${rec_len} s recording at speed 2"

# ---- without --session-cookie every exchange is 127.0.0.1's: one user
dump "$T_DIR/rec.pcap" one
reset
RC=0; "$T_REPLAY" "$T_DIR/one.mp" --timed --speed 4 --report "$T_DIR/one.json" >"$T_DIR/one.out" 2>&1 || RC=$?
t_eq "one client key: users" 1 "$(jq_ one 'sum(c["users_started"] for c in r["classes"])')"

# ---- --timed-by connection: each session used two connections (the profile its own)
reset
RC=0; "$T_REPLAY" "$T_DIR/rec.mp" --timed --timed-by connection --speed 4 --report "$T_DIR/conn.json" >"$T_DIR/conn.out" 2>&1 || RC=$?
conns=$(cut -f8 "$T_DIR/rec.txt" | sort -u | wc -l)
t_eq "--timed-by connection: users = recorded connections" "$conns" "$(jq_ conn 'sum(c["users_started"] for c in r["classes"])')"
t_eq "--timed-by connection: requests" "$made" "$(total)"

# ---- --copies 3: exactly three times the requests, three users per session
reset
run copies --speed 2 --copies 3 --copies-spread 300ms
[ "$RC" = 0 ] || t_fail "--copies 3 exit $RC: $(tail -5 "$T_DIR/copies.err")"
t_eq "--copies 3: requests the target served" $((made * 3)) "$(total)"
t_eq "--copies 3: users" $((SESSIONS * 3)) "$(jq_ copies 'sum(c["users_started"] for c in r["classes"])')"

# ---- --segment: two halves make the whole
reset
run seg0 --speed 4 --segment 0/2
run seg1 --speed 4 --segment 1/2
t_eq "--segment 0/2 + 1/2: requests" "$made" "$(total)"
t_eq "--segment 0/2 + 1/2: users" "$SESSIONS" \
    "$(( $(jq_ seg0 'sum(c["users_started"] for c in r["classes"])') + $(jq_ seg1 'sum(c["users_started"] for c in r["classes"])') ))"

# ---- --loop -t: more than one pass, stopped by -t
reset
run loop --speed 4 --loop -t 3s
[ "$RC" = 0 ] || t_fail "--loop exit $RC: $(grep -v '^  ' "$T_DIR/loop.err"; tail -3 "$T_DIR/loop.out")"
served=$(total)
[ "$served" -gt "$made" ] || t_fail "--loop -t 3s: $served requests, not more than one pass ($made)"
dur=$(jq_ loop 'r["duration_s"]')
/usr/bin/python3 -c "import sys; sys.exit(0 if 2.5 <= $dur <= 8 else 1)" || t_fail "--loop -t 3s ran $dur s"
t_log "ok: --loop -t 3s: $served requests in $dur s (one pass: $made)"

# ---- a stalled target: latency from the schedule and the lag show it
curl -sS -o /dev/null -X POST "$TARGET_URL/_control?delay_ms=400" || t_fail "_control"
r_replay_scraped "$T_DIR/stall.prom" "$T_DIR/stall.json" "${R[@]:1}" --speed 2 --html "$T_DIR/stall.html"
RC=$R_RC
cp "$T_DIR/replay.out" "$T_DIR/stall.out"
cp "$T_DIR/replay.err" "$T_DIR/stall.err"
curl -sS -o /dev/null -X POST "$TARGET_URL/_control?delay_ms=0"
p50=$(jq_ stall 'r["total"]["p50_ms"]')
lag=$(jq_ stall 'r["schedule"]["lag_p99_ms"]')
/usr/bin/python3 -c "import sys; sys.exit(0 if $p50 >= 400 and $lag >= 300 else 1)" ||
    t_fail "stalled target: p50 $p50 ms, lag p99 $lag ms (expected >= 400 and >= 300)"
grep -q 'could not keep the schedule' "$T_DIR/stall.out" ||
    t_fail "no 'could not keep the schedule' line: $(cat "$T_DIR/stall.out")"
t_eq "stalled: the report says the schedule was not kept" False "$(jq_ stall 'r["schedule"]["kept"]')"
# The HTML report and /metrics say so too.
late=$(jq_ stall 'r["schedule"]["late"]')
steps=$(jq_ stall 'r["schedule"]["steps"]')
case "$(r_html_note "$T_DIR/stall.html" schedule)" in
    "The replay could not keep the schedule: $late of $steps step(s) started more than 10 ms late"*) ;;
    *) t_fail "HTML report: schedule note: $(r_html_note "$T_DIR/stall.html" schedule)" ;;
esac
grep -q "<p id=\"schedule\" class=\"meta\">$steps step(s) started; lag behind schedule p50 " "$T_DIR/stall.html" ||
    t_fail "HTML report: no schedule line"
t_eq "stalled: metrics steps, late" "$steps $late" \
    "$(r_sample "$T_DIR/stall.prom" aiotest_schedule_steps_total) $(r_sample "$T_DIR/stall.prom" aiotest_schedule_late_steps_total)"
# (the 10 ms bucket is not compared with late: a lag within 0.1 % below 10 ms may
# sit in a histogram bucket that reaches past it)
t_eq "stalled: metrics lag histogram count, +Inf bucket" "$steps $steps" \
    "$(r_sample "$T_DIR/stall.prom" aiotest_schedule_lag_seconds_count) $(r_sample "$T_DIR/stall.prom" 'aiotest_schedule_lag_seconds_bucket{le="+Inf"}')"
t_log "ok: a 400 ms stall: p50 $p50 ms, lag p99 $lag ms, and the summary, the HTML report and /metrics say the schedule was not kept"

# no sanitizer report in any run (UBSan does not change the exit status)
if grep -lE "runtime error:|Sanitizer" "$T_DIR"/*.err "$T_DIR"/*.out 2>/dev/null; then
    t_fail "sanitizer report: $(grep -hE -A5 'runtime error:|Sanitizer' "$T_DIR"/*.err | head -20)"
fi
