#!/usr/bin/env bash
# Live passive capture of cleartext HTTP/2: nghttp talks to nghttpd with
# prior knowledge (three files on one connection; curl 7.88 fails at several
# URLs with prior knowledge), then curl on a second connection;
# aiotest-capture -i lo records every stream as an exchange with its stream id
# and identical response bodies (sha256). (nghttpd does not answer an
# Upgrade: h2c; the upgrade is tested on real captures in pcap_files.sh.)
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
t_need curl nghttpd nghttp
[ "$(id -u)" = 0 ] || t_skip "live capture needs root"
mkdir -p "$T_DIR/www"
head -c 100000 /dev/urandom >"$T_DIR/www/big.bin"
printf 'small\n' >"$T_DIR/www/a.txt"
printf 'other\n' >"$T_DIR/www/b.txt"
P=$(t_port)
t_bg nghttpd nghttpd --no-tls -d "$T_DIR/www" "$P"
t_wait_port "$P"

REC="$T_DIR/h2.mp"
t_bg live "$T_CAPTURE" -i lo --filter "tcp port $P" -o "$REC"
CAP_PID=$T_LAST_PID
for _ in $(seq 100); do grep -q 'capturing on lo' "$T_DIR/live.log" && break; sleep 0.1; done
grep -q 'capturing on lo' "$T_DIR/live.log" || t_fail "capture did not start: $(cat "$T_DIR/live.log")"
sleep 0.3

U="http://127.0.0.1:$P"
nghttp -n --no-dep "$U/a.txt" "$U/big.bin" "$U/b.txt" || t_fail "nghttp prior knowledge"
curl -sS --http2-prior-knowledge -o "$T_DIR/4" "$U/big.bin" || t_fail "curl prior knowledge"
cmp -s "$T_DIR/4" "$T_DIR/www/big.bin" || t_fail "curl got another big.bin"
sleep 0.5
kill -INT "$CAP_PID"
rc=0
wait "$CAP_PID" || rc=$?
[ "$rc" = 0 ] || { cat "$T_DIR/live.log" >&2; t_fail "aiotest-capture exited $rc"; }
t_log "$(grep 'done:' "$T_DIR/live.log")"

cap_dump "$REC" >"$T_DIR/dump"
# method url status resp-sha flags stream version
cut -f1,2,3,5,6,7,19 "$T_DIR/dump" | tr '\t' ' ' >"$T_DIR/got"
cat >"$T_DIR/want" <<W
GET $U/a.txt 200 $(sha "$T_DIR/www/a.txt") h2 1 HTTP/2
GET $U/big.bin 200 $(sha "$T_DIR/www/big.bin") h2 3 HTTP/2
GET $U/b.txt 200 $(sha "$T_DIR/www/b.txt") h2 5 HTTP/2
GET $U/big.bin 200 $(sha "$T_DIR/www/big.bin") h2 1 HTTP/2
W
diff -u "$T_DIR/want" "$T_DIR/got" || t_fail "recorded h2c exchanges differ"
t_log "ok: 4 streams on 2 connections recorded with their stream ids and bodies"
t_eq "two connections" 2 "$(cut -f8 "$T_DIR/dump" | sort -u | wc -l)"
