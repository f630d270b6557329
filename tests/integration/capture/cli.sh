#!/usr/bin/env bash
# The command line: --help names every option the manual documents, --version,
# one-line usage errors with exit 2 (passive capture's too), --init-ca
# refuses to overwrite a key, a busy port is an error.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
t_need openssl
DOC="$AIOTEST_SRC/docs/aiotest-capture.md"
"$T_CAPTURE" --help >"$T_DIR/help.txt" || t_fail "--help exit $?"
"$T_CAPTURE" --version | grep -q '^aiotest-capture [0-9]' || t_fail "--version"
opts=$(grep -oE -- '--[a-z][a-z0-9-]+' "$T_DIR/help.txt" | sort -u)
for o in $opts; do
    grep -q -- "\`$o" "$DOC" || t_fail "$o is in --help but not in docs/aiotest-capture.md"
done
for o in $(grep -oE -- '^\| `--[a-z][a-z0-9-]+' "$DOC" | sed 's/^| `//' | sort -u); do
    grep -q -- "$o" "$T_DIR/help.txt" || t_fail "$o is documented but not in --help"
done
t_log "ok: $(echo "$opts" | wc -l) options in --help and in the manual"

expect_usage() { # expect_usage WHAT PATTERN ARGS...: exit 2 and a one-line error matching PATTERN
    local what=$1 pat=$2 rc=0; shift 2
    "$T_CAPTURE" "$@" >"$T_DIR/out.txt" 2>"$T_DIR/err.txt" </dev/null || rc=$?
    [ "$rc" = 2 ] || t_fail "$what: exit $rc, expected 2 ($(cat "$T_DIR/err.txt"))"
    head -1 "$T_DIR/err.txt" | grep -q -- "$pat" || t_fail "$what: message '$(head -1 "$T_DIR/err.txt")' lacks '$pat'"
    t_log "ok: $what: $(head -1 "$T_DIR/err.txt")"
}
expect_usage "no output" "-o FILE is required" --proxy :0
expect_usage "unknown option" "unknown option" --bogus
expect_usage "bad listen address" "--proxy" --proxy 'x:99999' -o "$T_DIR/r.mp"
expect_usage "bad reverse URL" "--reverse" --reverse 'ftp://x' -o "$T_DIR/r.mp"
expect_usage "bad duration" "--upstream-timeout 'soon'" --upstream-timeout soon -o "$T_DIR/r.mp"
expect_usage "bad size" "--max-body" --max-body lots -o "$T_DIR/r.mp"
expect_usage "bad regex" "--exclude-path '('" --exclude-path '(' -o "$T_DIR/r.mp"
expect_usage "two session keys" "exclude each other" --session-cookie a --session-header b -o "$T_DIR/r.mp"
expect_usage "missing pcap" "--pcap $T_DIR/x.pcap: .*No such file" --pcap "$T_DIR/x.pcap" -o "$T_DIR/r.mp"
printf 'not a capture file at all' >"$T_DIR/bad.pcap"
expect_usage "not a pcap" "--pcap $T_DIR/bad.pcap: " --pcap "$T_DIR/bad.pcap" -o "$T_DIR/r.mp"
expect_usage "no such interface" "-i nosuchif0: " -i nosuchif0 -o "$T_DIR/r.mp"
expect_usage "pcap and proxy" "exclude --proxy" --pcap "$T_DIR/x.pcap" --proxy :0 -o "$T_DIR/r.mp"
expect_usage "session-forwarded without pcap" "need --pcap or -i" --session-forwarded --proxy :0 -o "$T_DIR/r.mp"
expect_usage "pcap, cookie and header" "exclude each other" --pcap "$T_DIR/x.pcap" --session-cookie s --session-header h -o "$T_DIR/r.mp"
expect_usage "filter without source" "need --pcap or -i" --filter 'tcp' --proxy :0 -o "$T_DIR/r.mp"
expect_usage "duration of a file" "live capture" --pcap "$T_DIR/x.pcap" --duration 1s -o "$T_DIR/r.mp"
expect_usage "missing CA" "ca.pem" --ca "$T_DIR/none" -o "$T_DIR/r.mp" --proxy ":$(t_port)"
expect_usage "unwritable output" "$T_DIR/no/r.mp" -o "$T_DIR/no/r.mp" --proxy ":$(t_port)"

"$T_CAPTURE" --init-ca "$T_DIR/ca" >/dev/null || t_fail "--init-ca"
t_eq "CA directory mode" 700 "$(stat -c %a "$T_DIR/ca")"
t_eq "ca.key mode" 600 "$(stat -c %a "$T_DIR/ca/ca.key")"
openssl x509 -in "$T_DIR/ca/ca.pem" -noout -ext basicConstraints | grep -q 'CA:TRUE' || t_fail "ca.pem is not a CA"
before=$(sha "$T_DIR/ca/ca.key")
expect_usage "--init-ca twice" "already exists" --init-ca "$T_DIR/ca"
t_eq "existing key untouched" "$before" "$(sha "$T_DIR/ca/ca.key")"

# A busy port.
cap_start -o "$T_DIR/r1.mp"
expect_usage "port in use" "cannot listen" --proxy "127.0.0.1:$CAP_PORT" -o "$T_DIR/r2.mp"
# Binds loopback unless told: the listener is on 127.0.0.1 only.
if command -v ss >/dev/null; then
    ss -ltn "sport = :$CAP_PORT" | grep -q "127.0.0.1:$CAP_PORT" || t_fail "not bound to 127.0.0.1: $(ss -ltn "sport = :$CAP_PORT")"
    t_log "ok: --proxy :PORT binds 127.0.0.1"
fi
cap_stop INT

# --proxy :0 lets the kernel choose, and the start line says which port
# (forward and reverse listeners alike); the port it names works.
t_target --quiet
for mode in forward reverse; do
    extra=(); [ "$mode" = reverse ] && extra=(--reverse "$TARGET_URL")
    t_bg "zero-$mode" "$T_CAPTURE" --proxy :0 -o "$T_DIR/zero-$mode.mp" "${extra[@]}"
    pid=$T_LAST_PID
    port=""
    for _ in $(seq 1 100); do
        port=$(sed -nE 's/.*listening on 127\.0\.0\.1:([0-9]+) .*/\1/p' "$T_DIR/zero-$mode.log")
        [ -n "$port" ] && break
        sleep 0.1
    done
    [ -n "$port" ] && [ "$port" != 0 ] || t_fail "--proxy :0 ($mode): no port in '$(cat "$T_DIR/zero-$mode.log")'"
    if [ "$mode" = forward ]; then
        code=$(curl -sS -x "http://127.0.0.1:$port" -o /dev/null -w '%{http_code}' "$TARGET_URL/health")
    else
        code=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health")
    fi
    t_eq "--proxy :0 ($mode) serves on the port it printed ($port)" 200 "$code"
    kill -INT "$pid"; wait "$pid" || t_fail "capture on :0 exit $?"
done
