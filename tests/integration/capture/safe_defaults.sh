#!/usr/bin/env bash
# Capture defaults that protect what they record (issue 21 item 6):
# recordings are written 0600 (proxy and pcap, even over an existing 0644
# file); the counter line says how many exchanges carry Authorization/Cookie
# in clear and points at --redact-defaults, which masks them; a proxy bound to
# a non-loopback address needs --allow-clients and refuses clients outside it;
# CONNECT goes to ports 80/443 (and hosts named by --include-host) unless
# --connect-ports says otherwise, refused ones answered 403 and counted.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
t_need curl
t_target --quiet

# A recording made through the proxy, over a world-readable file left by an
# earlier run: written 0600, and the line names the secrets in clear.
REC="$T_DIR/clear.mp"
: >"$REC"; chmod 0644 "$REC"
cap_start -o "$REC"
curl -sS -x "$CAP_PROXY" -o /dev/null -H 'Authorization: Bearer tok-in-clear' "$TARGET_URL/api/search?q=a" || t_fail curl
curl -sS -x "$CAP_PROXY" -o /dev/null -H 'Cookie: session=cookie-in-clear' "$TARGET_URL/api/search?q=b" || t_fail curl
curl -sS -x "$CAP_PROXY" -o /dev/null "$TARGET_URL/api/search?q=c" || t_fail curl
cap_stop INT
t_eq "proxy recording mode" 600 "$(stat -c %a "$REC")"
grep -q "2 exchanges carry Authorization/Cookie in clear: see --redact-defaults" "$CAP_LOG" ||
    t_fail "the counter line does not say that secrets were recorded: $(tail -2 "$CAP_LOG")"
t_log "ok: $(grep -o '2 exchanges carry.*' "$CAP_LOG")"

# --redact-defaults masks them, and the line says nothing of secrets.
REC="$T_DIR/masked.mp"
cap_start -o "$REC" --redact-defaults
curl -sS -x "$CAP_PROXY" -o /dev/null -H 'Authorization: Bearer tok-in-clear' -H 'Proxy-Authorization: Basic cHJveHk=' \
    -H 'Cookie: session=cookie-in-clear' "$TARGET_URL/api/search?q=a" || t_fail curl
curl -sS -x "$CAP_PROXY" -o /dev/null -X POST -H 'Content-Type: application/json' \
    --data '{"user":"u","password":"p"}' "$TARGET_URL/api/login" || t_fail curl
cap_stop INT
! grep -q "in clear" "$CAP_LOG" || t_fail "secrets reported although redacted: $(tail -1 "$CAP_LOG")"
for s in tok-in-clear cookie-in-clear cHJveHk=; do
    ! grep -aq -- "$s" "$REC" || t_fail "--redact-defaults left '$s' in the recording"
done
sid=$(cap_dump "$REC" -H | grep -aio 'set-cookie: session=[0-9a-f][0-9a-f]*' | head -1 || true)
[ -z "$sid" ] || t_fail "--redact-defaults left the login's Set-Cookie in the recording: $sid"
t_log "ok: --redact-defaults masks Authorization, Proxy-Authorization, Cookie and Set-Cookie"

# The pcap path writes 0600 too.
SHARED="$AIOTEST_SRC/../shared/testdata/pcap"
pcap=$(ls "$SHARED"/*.pcap 2>/dev/null | head -1 || true)
if [ -n "$pcap" ]; then
    : >"$T_DIR/pcap.mp"; chmod 0644 "$T_DIR/pcap.mp"
    "$T_CAPTURE" --pcap "$pcap" -o "$T_DIR/pcap.mp" >/dev/null 2>&1 || t_fail "--pcap $pcap"
    t_eq "pcap recording mode" 600 "$(stat -c %a "$T_DIR/pcap.mp")"
    # A capture whose requests carry cookies: the passive path says so too,
    # and --redact-defaults masks them there as well.
    up="$SHARED/arkime__http-post-upload.pcap"
    if [ -f "$up" ]; then
        "$T_CAPTURE" --pcap "$up" -o "$T_DIR/up.mp" >"$T_DIR/up.log" 2>&1 || t_fail "--pcap $up"
        grep -q "exchanges carry Authorization/Cookie in clear: see --redact-defaults" "$T_DIR/up.log" ||
            t_fail "passive capture does not say that cookies were recorded: $(cat "$T_DIR/up.log")"
        "$T_CAPTURE" --pcap "$up" -o "$T_DIR/up2.mp" --redact-defaults >"$T_DIR/up2.log" 2>&1 || t_fail "--pcap --redact-defaults"
        ! grep -q "in clear" "$T_DIR/up2.log" || t_fail "--redact-defaults on a pcap left secrets: $(cat "$T_DIR/up2.log")"
        cap_dump "$T_DIR/up2.mp" -H | grep -q $'^\t> Cookie: {{secret.cookie}}$' || t_fail "pcap Cookie not redacted"
        t_log "ok: passive capture: $(grep -o '[0-9]* exchanges carry.*' "$T_DIR/up.log"); masked with --redact-defaults"
    fi
else
    t_log "no shared pcap: pcap file mode not checked"
fi

# A non-loopback bind without --allow-clients refuses to start.
rc=0
"$T_CAPTURE" --proxy "0.0.0.0:$(t_port)" -o "$T_DIR/open.mp" >"$T_DIR/open.out" 2>&1 </dev/null || rc=$?
t_eq "0.0.0.0 without --allow-clients: exit" 2 "$rc"
grep -q -- "--allow-clients" "$T_DIR/open.out" || t_fail "the refusal does not name --allow-clients: $(cat "$T_DIR/open.out")"
[ ! -e "$T_DIR/open.mp" ] || t_fail "a refused start created the recording"
rc=0
"$T_CAPTURE" --proxy "0.0.0.0:$(t_port)" --allow-clients 10.0.0.0/33 -o "$T_DIR/open.mp" >"$T_DIR/open.out" 2>&1 </dev/null || rc=$?
t_eq "bad CIDR: exit" 2 "$rc"
t_log "ok: $(head -1 "$T_DIR/open.out")"

# Bound to all addresses, clients outside the CIDRs are refused (closed).
REC="$T_DIR/allow.mp"
CAP_PORT=$(t_port)
t_bg "capture-$CAP_PORT" "$T_CAPTURE" --proxy "0.0.0.0:$CAP_PORT" --allow-clients 192.0.2.0/24,10.0.0.0/8 -o "$REC"
CAP_PID=$T_LAST_PID CAP_LOG="$T_DIR/capture-$CAP_PORT.log" CAP_PROXY="http://127.0.0.1:$CAP_PORT"
t_wait_port "$CAP_PORT"
if curl -sS -m 5 -x "$CAP_PROXY" -o /dev/null "$TARGET_URL/api/search?q=a" 2>/dev/null; then
    t_fail "a client outside --allow-clients was served"
fi
cap_stop INT
grep -q "clients refused" "$CAP_LOG" || t_fail "refused clients not counted: $(tail -1 "$CAP_LOG")"
t_log "ok: client outside --allow-clients refused: $(grep -o '[0-9]* clients refused' "$CAP_LOG")"
REC="$T_DIR/allow2.mp"
CAP_PORT=$(t_port)
t_bg "capture-$CAP_PORT" "$T_CAPTURE" --proxy "0.0.0.0:$CAP_PORT" --allow-clients 127.0.0.0/8 -o "$REC"
CAP_PID=$T_LAST_PID CAP_LOG="$T_DIR/capture-$CAP_PORT.log" CAP_PROXY="http://127.0.0.1:$CAP_PORT"
t_wait_port "$CAP_PORT"
code=$(curl -sS -m 5 -x "$CAP_PROXY" -o /dev/null -w '%{http_code}' "$TARGET_URL/api/search?q=a") || t_fail "allowed client refused"
t_eq "client inside --allow-clients" 200 "$code"
cap_stop INT

# CONNECT: port 22 refused with 403 and counted; the target's port too unless
# --connect-ports or --include-host names it.
REC="$T_DIR/connect.mp"
cap_start -o "$REC"
code=$(curl -sS -x "$CAP_PROXY" -p -o /dev/null -w '%{http_connect}' "http://127.0.0.1:22/" 2>/dev/null)
t_eq "CONNECT to port 22" 403 "$code"
code=$(curl -sS -x "$CAP_PROXY" -p -o /dev/null -w '%{http_connect}' "$TARGET_URL/health" 2>/dev/null)
t_eq "CONNECT to the target's port by default" 403 "$code"
cap_stop INT
grep -q "2 CONNECTs refused" "$CAP_LOG" || t_fail "refused CONNECTs not counted: $(tail -1 "$CAP_LOG")"
cap_start -o "$T_DIR/connect2.mp" --connect-ports "443,$TARGET_PORT"
code=$(curl -sS -x "$CAP_PROXY" -p -o /dev/null -w '%{http_code}' "$TARGET_URL/health")
t_eq "CONNECT to a port of --connect-ports" 200 "$code"
code=$(curl -sS -x "$CAP_PROXY" -p -o /dev/null -w '%{http_connect}' "http://127.0.0.1:22/" 2>/dev/null)
t_eq "CONNECT to port 22 with --connect-ports" 403 "$code"
cap_stop INT
cap_start -o "$T_DIR/connect3.mp" --include-host 127.0.0.1
code=$(curl -sS -x "$CAP_PROXY" -p -o /dev/null -w '%{http_code}' "$TARGET_URL/health")
t_eq "CONNECT to a host of --include-host" 200 "$code"
cap_stop INT
rc=0
"$T_CAPTURE" --proxy ":$(t_port)" --connect-ports 0,70000 -o "$T_DIR/x.mp" >"$T_DIR/cp.out" 2>&1 </dev/null || rc=$?
t_eq "bad --connect-ports: exit" 2 "$rc"
t_log "ok: $(head -1 "$T_DIR/cp.out")"
