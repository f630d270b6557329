# Failures are counted per category and the run goes on and ends normally:
# HTTP 500s, a stopped server, a server that never answers, a bad certificate.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
SCN="$AIOTEST_SRC/tests/integration/replay/api.json"
fails() { r_json "$1" "r['total']['fail'].get('$2', 0)"; }

# --fail-rate 0.1: 10 % +- 2 % of the requests fail as "http".
t_target --quiet --fail-rate 0.1
r_replay "$SCN" --host "$TARGET_URL" -u 10 -t 2s --report "$T_DIR/rate.json"
# Failed requests without --fail-on: exit 1 (issue 12: Locust's convention).
t_eq "fail rate: exit status" 1 "$R_RC"
n=$(r_json "$T_DIR/rate.json" 'r["total"]["count"]')
t_check "fail rate: enough requests ($n)" r_in 2000 1000000000 "$n"
ratio=$(r_json "$T_DIR/rate.json" 'r["total"]["fail"]["http"] / r["total"]["count"]')
t_check "fail rate: http failures $ratio in [0.08, 0.12]" r_in 0.08 0.12 "$ratio"
t_eq "fail rate: only http failures" "$(r_json "$T_DIR/rate.json" 'r["total"]["fail"]["http"]')" \
    "$(r_json "$T_DIR/rate.json" 'r["total"]["failures"]')"

# --fail-fast: 10 % errors can no longer stay under 1 % of the planned requests.
start=$SECONDS
# The planned count decides both ends: the errors limit is lost once 10 % failures
# pass 1 % of the planned requests, i.e. after a tenth of them; and the run must
# not end before the first check (once a second): 200 000 planned took 1.1 s on an
# idle machine here, and the run ended first. 400 000: at least ~2 s on the
# fastest machine, and lost after 40 000 requests, so within 30 s down to
# ~1 400 requests/s (ASan beside stress-ng); without --fail-fast it runs to -t 60s.
r_replay "$SCN" --host "$TARGET_URL" -u 2 --iterations 200000 -t 60s --fail-on 'errors<1%' --fail-fast \
    --report "$T_DIR/ff.json"
t_eq "fail-fast: exit status 1" 1 "$R_RC"
t_check "fail-fast: stopped early" r_in 0 30 $((SECONDS - start))
t_check "fail-fast: said why" grep -q "fail-fast" "$T_DIR/replay.err"
t_check "fail-fast: report still written" test -s "$T_DIR/ff.json"

# A port nobody listens on: connect failures, and the run still ends on time.
DEAD=$(t_port)
start=$SECONDS
r_replay "$SCN" --host "http://127.0.0.1:$DEAD" -u 2 -t 1s --report "$T_DIR/dead.json"
t_eq "stopped server: exit status (nothing succeeded)" 1 "$R_RC"
t_check "stopped server: ended in time" r_in 0 30 $((SECONDS - start))
t_check "stopped server: connect failures" r_in 1 1e12 "$(fails "$T_DIR/dead.json" connect)"
t_eq "stopped server: every request failed" "$(r_json "$T_DIR/dead.json" 'r["total"]["count"]')" \
    "$(fails "$T_DIR/dead.json" connect)"

# A server that accepts and never answers: request timeouts.
SILENT=$(t_port)
t_bg silent python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
' "$SILENT"
t_wait_port "$SILENT"
r_replay "$SCN" --host "http://127.0.0.1:$SILENT" -u 3 -t 2s --timeout 500ms --report "$T_DIR/silent.json"
t_eq "silent server: exit status (nothing succeeded)" 1 "$R_RC"
t=$(fails "$T_DIR/silent.json" timeout)
t_check "silent server: timeouts ($t)" r_in 3 1e12 "$t"
t_eq "silent server: every request timed out" "$(r_json "$T_DIR/silent.json" 'r["total"]["count"]')" "$t"
p50=$(r_entry "$T_DIR/silent.json" "GET GET /api/item/{id}" p50_ms)
t_check "silent server: latency is the timeout ($p50; a loaded runner fires timers late)" \
    r_in 500 1500 "$p50"

# HTTPS with a certificate nobody trusts: TLS failures, said clearly once.
t_selfsigned bad
t_target --quiet --tls "$T_DIR/bad.crt" "$T_DIR/bad.key"
r_replay "$SCN" --host "https://127.0.0.1:$TARGET_PORT" -u 2 -t 1s --report "$T_DIR/tls.json"
t_eq "bad certificate: exit status (nothing succeeded)" 1 "$R_RC"
t_check "bad certificate: tls failures" r_in 1 1e12 "$(fails "$T_DIR/tls.json" tls)"
t_check "bad certificate: one clear line on stderr" grep -q "TLS handshake with https://127.0.0.1:$TARGET_PORT failed: .*--ca" "$T_DIR/replay.err"
