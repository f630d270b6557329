#!/usr/bin/env bash
# Load goes only where the command line points it (issue 12 item 8). A HAR of a
# real page with many origins, converted: the replay lists its origins and
# refuses to start (exit 2, naming them and the options) before any name is
# looked up or any request sent; with --host, --map-host and --only-host it runs
# against two loopback servers, Host/Referer/Origin follow the mapping, and the
# left-out requests are counted per origin in the report. Origins met at run time
# (templated URLs) follow the same rules: a refused one is an 'origin' failure,
# never looked up; an allowed name is resolved without blocking (evdns): with a
# DNS server that never answers, the other users of the same thread keep going.
# Proof that nothing leaves loopback: the whole test runs in a network namespace
# with only lo (when unshare -n works here), and strace lists every connect().

# Re-run inside a fresh network namespace whose only interface is loopback.
if [ -z "${AIOTEST_NETNS:-}" ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null &&
    unshare -n true 2>/dev/null; then
    exec env AIOTEST_NETNS=1 unshare -n -m bash -c 'ip link set lo up && exec bash "$0"' "$0"
fi
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
t_need strace curl
[ -x "$T_CONVERT" ] || t_skip "aiotest-convert not built"
HARS="$AIOTEST_SRC/../shared/testdata/har"
[ -d "$HARS" ] || t_skip "no shared HARs at $HARS"
# The HAR with the most origins.
HAR=$(python3 - "$HARS" <<'PY'
import glob, json, sys, urllib.parse
best = (0, "")
for f in glob.glob(sys.argv[1] + "/*.har"):
    try:
        e = json.load(open(f, encoding="utf-8"))["log"]["entries"]
    except Exception:
        continue
    n = len({urllib.parse.urlsplit(x["request"]["url"]).netloc.lower() for x in e})
    best = max(best, (n, f))
print(best[1] if best[0] >= 8 else "")
PY
)
[ -n "$HAR" ] || t_skip "no HAR with 8 or more origins under $HARS"
if [ -n "${AIOTEST_NETNS:-}" ]; then
    t_log "ok: running in a network namespace with only loopback"
    t_eq "the namespace has no route off loopback" "" "$(ip route show 2>/dev/null; ip -6 route show 2>/dev/null | grep -v '^::1 ')"
else
    t_log "note: no network namespace here; strace alone checks the connections"
fi
t_target --quiet
T1_URL=$TARGET_URL
P2=$(t_port)
t_bg hdrsrv /usr/bin/python3 "$AIOTEST_SRC/tests/integration/replay/hdrsrv.py" "$P2" "$T_DIR/t2.log"
t_wait_port "$P2"
T2_URL="http://127.0.0.1:$P2"

"$T_CONVERT" "$HAR" -o "$T_DIR/page.mp" 2>"$T_DIR/conv.err" || t_fail "converting $HAR: $(tail -1 "$T_DIR/conv.err")"
# Every origin of the HAR, lower-case, as scheme://host[:port].
python3 - "$HAR" >"$T_DIR/har-origins" <<'PY'
import json, sys, urllib.parse
for x in json.load(open(sys.argv[1], encoding="utf-8"))["log"]["entries"]:
    u = urllib.parse.urlsplit(x["request"]["url"])
    print("%s://%s" % (u.scheme.lower(), u.netloc.lower()))
PY
sort -u -o "$T_DIR/har-origins" "$T_DIR/har-origins"
N=$(wc -l <"$T_DIR/har-origins")
t_log "$(basename "$HAR"): $N origins"

# replay_traced NAME ARGS...: aiotest-replay under strace (connect, sendto and
# sendmsg of every thread); exit status in R_RC. LeakSanitizer cannot run under
# ptrace: the same runs are repeated without strace below for it.
replay_traced() {
    local name=$1; shift
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" timeout 120 strace -f -qq -e trace=connect,sendto,sendmsg -o "$T_DIR/$name.strace" \
        "$T_REPLAY" "$@" >"$T_DIR/$name.out" 2>"$T_DIR/$name.err"
    R_RC=$?
    r_clean "$T_DIR/$name.err"
}
# only_loopback NAME: every connect() went to 127.0.0.1 or ::1 (or a local
# socket), and no datagram went to a DNS server (port 53).
only_loopback() {
    local bad
    bad=$(grep -E 'connect\(' "$T_DIR/$1.strace" | grep -E 'AF_INET' |
        grep -vE 'inet_addr\("127\.0\.0\.1"\)|inet_pton\(AF_INET6, "::1"' || true)
    [ -z "$bad" ] || { echo "$bad" | head -5 >&2; return 1; }
    ! grep -qE 'htons\(53\)' "$T_DIR/$1.strace"
}
t2_count() { wc -l <"$T_DIR/t2.log" 2>/dev/null || echo 0; }
: >"$T_DIR/t2.log"

# 1. Refused: with --host only, and with nothing at all.
replay_traced refused "$T_DIR/page.mp" --host "$T1_URL" -u 1 --iterations 1
t_eq "refused with --host only: exit 2" 2 "$R_RC"
t_check "the error names the options" grep -q -- "--map-host FROM=TO.*--allow-host PATTERN.*--only-host PATTERN" "$T_DIR/refused.err"
# The listing shows every origin of the HAR.
awk '$2 ~ /^[0-9]+$/ && $3 == "request(s)" { print tolower($1) }' "$T_DIR/refused.err" | sort -u >"$T_DIR/listed"
t_eq "the list before the run names every origin of the HAR" "" "$(comm -23 "$T_DIR/har-origins" "$T_DIR/listed")"
USED=$(awk '$2 ~ /^[0-9]+$/ && $2 > 0 && $3 == "request(s)"' "$T_DIR/refused.err" | wc -l)
UNUSED=$(grep -c ' unused ' "$T_DIR/refused.err")
t_eq "every listed origin has requests or is said unused" "$N" "$((USED + UNUSED))"
t_eq "all but the --host one refused" "$((USED - 1))" "$(grep -c ' refused ' "$T_DIR/refused.err")"
t_check "refused: only loopback connections, no DNS" only_loopback refused
t_eq "refused: the target saw nothing" 0 "$(curl -s "$T1_URL/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')"
replay_traced bare "$T_DIR/page.mp" -u 1 --iterations 1
t_eq "refused without --host: exit 2" 2 "$R_RC"
t_eq "without --host every origin is refused" "$USED" "$(grep -c ' refused ' "$T_DIR/bare.err")"
t_check "without --host the error asks for one" grep -q "name the main one with --host" "$T_DIR/bare.err"
t_check "bare: only loopback connections, no DNS" only_loopback bare

# 2. Mapped and dropped: the first two refused origins go to the second
# server, the --host one to the target, the rest is left out.
mapfile -t M < <(awk '$4 == "refused" { print $1 }' "$T_DIR/refused.err" | head -2)
h0=${M[0]#*://}; h1=${M[1]#*://}
replay_traced mapped "$T_DIR/page.mp" --host "$T1_URL" --map-host "$h0=$T2_URL" \
    --map-host "${M[1]}=$T2_URL" --only-host 127.0.0.1 -u 1 --iterations 1 --think-scale 0 \
    --report "$T_DIR/mapped.json" --html "$T_DIR/mapped.html"
[ "$R_RC" = 2 ] && t_fail "mapped run refused: $(tail -2 "$T_DIR/mapped.err")"
t_log "ok: mapped run exit $R_RC (failures are the 404s of a page the test servers do not have)"
t_check "mapped: only loopback connections, no DNS" only_loopback mapped
rsum() { r_json "$T_DIR/mapped.json" "sum(o['requests'] for o in r['origins'] if o['route'] == '$1')"; }
NAMED=$(rsum named) MAPPED=$(rsum mapped) DROPPED=$(rsum dropped)
t_eq "the report lists every origin" "$N" "$(r_json "$T_DIR/mapped.json" 'len(r["origins"])')"
t_eq "two origins mapped" 2 "$(r_json "$T_DIR/mapped.json" 'sum(o["route"] == "mapped" for o in r["origins"])')"
t_eq "the rest dropped" "$((USED - 3))" "$(r_json "$T_DIR/mapped.json" 'sum(o["route"] == "dropped" for o in r["origins"])')"
t_eq "left-out requests counted" "$DROPPED" "$(r_json "$T_DIR/mapped.json" 'r["requests_left_out"]')"
t_check "the dropped count is visible per origin on stderr" grep -qE ' dropped \(--only-host: not sent\)' "$T_DIR/mapped.err"
t_eq "the HTML report notes the left-out requests" "$DROPPED request(s) of the scenario left out by --only-host" \
    "$(r_html_note "$T_DIR/mapped.html" left-out)"
T1=$(curl -s "$T1_URL/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
T2=$(t2_count)
t_check "the second server got the mapped origins' requests ($T2 >= $MAPPED)" test "$T2" -ge "$MAPPED"
t_check "the target got the --host origin's requests ($T1 >= $NAMED)" test "$T1" -ge "$NAMED"
# Requests routed at run time ({{location}}) go to either; what the report
# counts as sent is what the two servers saw, no more.
t_eq "the two servers saw every request the report says was sent" \
    "$(r_json "$T_DIR/mapped.json" 'r["total"]["count"] - sum(r["total"].get("no_response", {}).values())')" \
    "$((T1 + T2))"
t_eq "no tls, connect or origin failure" 0 \
    "$(r_json "$T_DIR/mapped.json" 'sum(r["total"]["fail"].get(k, 0) for k in ("tls", "connect", "origin"))')"
t_eq "Host names the mapped target" "" "$(cut -f3 "$T_DIR/t2.log" | grep -vx "127.0.0.1:$P2" | head -1)"
t_eq "no Referer or Origin names a mapped origin" "" \
    "$(cut -f4,5 "$T_DIR/t2.log" | grep -iF -e "$h0" -e "$h1" | head -1)"

# 3. Origins met at run time.
cat >"$T_DIR/rt.json" <<JSON
{"format": "aiotest-scenario", "version": [1, 0],
 "hosts": [{"base_url": "$T1_URL"}],
 "vars": {"ok": "http://localhost:$P2/rt-ok", "pinned": "http://shop.test:$P2/rt-pinned",
          "bad": "http://blocked.invalid/rt-bad"},
 "classes": [{"name": "rt", "weight": 1, "wait": {"kind": "none"}, "tasks": [
   {"requests": [{"name": "ok", "method": "GET", "url": "{{ok}}"}]},
   {"requests": [{"name": "pinned", "method": "GET", "url": "{{pinned}}"}]},
   {"requests": [{"name": "bad", "method": "GET", "url": "{{bad}}"}]},
   {"requests": [{"name": "away", "method": "GET", "url": "{{ok}}/away?to=http%3A%2F%2Fredirected.invalid%2Fx",
                  "follow_redirects": true}]},
   {"requests": [{"name": "health", "method": "GET", "url": "/health"}]}
 ]}]}
JSON
: >"$T_DIR/t2.log"
replay_traced rt "$T_DIR/rt.json" --allow-host "localhost:$P2" --map-host "shop.test=127.0.0.1:$P2" \
    --threads 1 -u 2 --iterations 3 --report "$T_DIR/rt-r.json" --html "$T_DIR/rt.html"
entry() { r_json "$T_DIR/rt-r.json" "[e for e in r['entries'] if e['name'] == '$1'][0]$2"; }
t_eq "run-time origins: the run goes on (exit 1: some requests failed as origin)" 1 "$R_RC"
t_eq "an allowed name, resolved at run time: no failure" 0 "$(entry ok "['failures']")"
t_eq "a mapped name met at run time: no failure" 0 "$(entry pinned "['failures']")"
t_eq "a refused origin: every request failed as 'origin'" 6 "$(entry bad "['fail'].get('origin', 0)")"
t_eq "a redirect to a refused origin: failed as 'origin'" 6 "$(entry away "['fail'].get('origin', 0)")"
t_eq "the second server saw the allowed and mapped ones only (the redirect's first hop too)" 18 "$(t2_count)"
t_eq "none of the refused requests reached it" 0 "$(grep -c rt-bad "$T_DIR/t2.log")"
t_check "the refused origin is named on stderr" grep -q "blocked.invalid.*not named" "$T_DIR/rt.err"
t_eq "the report names the origins refused at run time" "['http://blocked.invalid', 'http://redirected.invalid']" \
    "$(r_json "$T_DIR/rt-r.json" 'sorted(r["origins_refused_at_run_time"])')"
note=$(r_html_note "$T_DIR/rt.html" origins-refused)
case "$note" in
    "2 origin(s) met at run time that the command line does not name"*http://blocked.invalid*) ;;
    *) t_fail "HTML report: origins-refused note: $note" ;;
esac
case "$note" in *http://redirected.invalid*) ;; *) t_fail "HTML report: the note misses redirected.invalid: $note" ;; esac
t_check "run time: only loopback connections, no DNS server asked" only_loopback rt

# The same runs without strace, so a sanitizer build also checks for leaks.
r_replay "$T_DIR/page.mp" --host "$T1_URL" -u 1 --iterations 1
t_eq "refused again, untraced: exit 2" 2 "$R_RC"
r_replay "$T_DIR/page.mp" --host "$T1_URL" --map-host "$h0=$T2_URL" --map-host "${M[1]}=$T2_URL" \
    --only-host 127.0.0.1 -u 1 --iterations 1 --think-scale 0
t_check "mapped again, untraced: not refused ($R_RC)" test "$R_RC" != 2
r_replay "$T_DIR/rt.json" --allow-host "localhost:$P2" --map-host "shop.test=127.0.0.1:$P2" \
    --threads 2 -u 4 --iterations 3
t_eq "run-time origins again, untraced (exit 1: origin failures)" 1 "$R_RC"

# 4. A lookup that hangs does not hold the thread: a DNS server on loopback that
# never answers (this namespace's own resolv.conf), one class waiting on it, the
# other class served on the same single thread meanwhile.
if [ -n "${AIOTEST_NETNS:-}" ] && printf 'nameserver 127.0.0.1\noptions timeout:5 attempts:1\n' >"$T_DIR/resolv.conf" &&
    mount --bind "$T_DIR/resolv.conf" /etc/resolv.conf 2>/dev/null; then
    t_bg blackhole /usr/bin/python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
while True:
    s.recvfrom(4096)  # swallowed: every lookup waits for its timeout
'
    sleep 0.3
    cat >"$T_DIR/slow.json" <<JSON
{"format": "aiotest-scenario", "version": [1, 0],
 "hosts": [{"base_url": "$T1_URL"}],
 "vars": {"slow": "http://hang.test:$P2/slow"},
 "classes": [
   {"name": "dns", "weight": 1, "wait": {"kind": "none"}, "tasks": [{"requests": [{"name": "slow", "method": "GET", "url": "{{slow}}"}]}]},
   {"name": "fast", "weight": 1, "wait": {"kind": "constant", "min_us": 10000}, "tasks": [{"requests": [{"name": "health", "method": "GET", "url": "/health"}]}]}
 ]}
JSON
    r_replay "$T_DIR/slow.json" --allow-host "hang.test:$P2" --threads 1 -u 2 -t 3s \
        --connect-timeout 1s --stop-timeout 2s --report "$T_DIR/slow-r.json"
    t_eq "hanging DNS: the run ends normally (exit 1: the lookups failed)" 1 "$R_RC"
    sent=$(r_json "$T_DIR/slow-r.json" "[e for e in r['entries'] if e['name'] == 'health'][0]['count']")
    t_check "hanging DNS: the other user of the thread kept going ($sent requests in 3 s, one per ~10 ms)" \
        test "$sent" -ge 50
    t_eq "hanging DNS: the lookups failed, none succeeded" 0 \
        "$(r_json "$T_DIR/slow-r.json" "[e for e in r['entries'] if e['name'] == 'slow'][0]['count'] - [e for e in r['entries'] if e['name'] == 'slow'][0]['failures']")"
    t_check "hanging DNS: the lookups are bounded by --connect-timeout" \
        test "$(r_json "$T_DIR/slow-r.json" "[e for e in r['entries'] if e['name'] == 'slow'][0]['count']")" -ge 2
else
    t_log "note: no private resolv.conf here; the hanging-DNS case is skipped"
fi
