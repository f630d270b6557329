#!/usr/bin/env bash
# A cold burst to an https origin opens one origin connection, not one per
# request: 20 parallel h2 streams through the proxy to an nginx that speaks h2
# wait for the first connection's ALPN and go on it as streams, so nginx
# accepts exactly 1 connection from the proxy (stub_status "accepts", and
# $connection in the access log). When ALPN gives HTTP/1.1 (an nginx without
# http2, or --no-upstream-h2), the burst is spread over several pooled
# connections as before. When the first connection fails (a port that refuses,
# an origin that closes during the TLS handshake), every request waiting on it
# is answered 502 with the reason, none hangs. Cold uploads wait and move with
# their buffered bodies; clients that give up during a stalled handshake are
# recorded incomplete, and the next burst waits on that same handshake.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
t_need curl nginx
t_selfsigned nginx
mkdir -p "$T_DIR/www"
head -c 300000 /dev/urandom >"$T_DIR/www/f.bin"
H2_PORT=$(t_port)
H1_PORT=$(t_port)
ST_PORT=$(t_port)
DOWN_PORT=$(t_port)
HS_PORT=$(t_port)
H2D_PORT=$(t_port)
STALL_PORT=$(t_port)
H1D_PORT=$(t_port)
mkdir -p "$T_DIR/www/dav"
head -c 1000000 /dev/urandom >"$T_DIR/up.bin"
t_nginx "
    log_format conn '\$server_port \$connection \$status \$server_protocol';
    access_log $T_DIR/access.log conn;
    ssl_certificate $T_DIR/nginx.crt;
    ssl_certificate_key $T_DIR/nginx.key;
    server { listen 127.0.0.1:$H2_PORT ssl http2; root $T_DIR/www; }
    server { listen 127.0.0.1:$H1_PORT ssl; root $T_DIR/www; }
    server { listen 127.0.0.1:$H2D_PORT ssl http2; root $T_DIR/www; location /dav/ { dav_methods PUT; } }
    server { listen 127.0.0.1:$H1D_PORT ssl; root $T_DIR/www; location /dav/ { dav_methods PUT; } }
    server { listen 127.0.0.1:$ST_PORT; access_log off; location = /st { stub_status; } }"
t_wait_port "$H2_PORT"
t_wait_port "$H1_PORT"
t_wait_port "$ST_PORT"
t_wait_port "$H2D_PORT"
t_wait_port "$H1D_PORT"

# An origin that accepts and closes at once, during the client's handshake.
t_bg hs-origin /usr/bin/python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
while True:
    c, _ = s.accept()
    c.recv(1024)
    c.close()
' "$HS_PORT"
t_wait_port "$HS_PORT"
# An origin that accepts and never answers the handshake (accepts counted in stall.n).
t_bg stall-origin /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
held = []
while True:
    held.append(s.accept()[0])
    with open(sys.argv[2], "w") as f:
        f.write("%d\n" % len(held))
' "$STALL_PORT" "$T_DIR/stall.n"
t_wait_port "$STALL_PORT"

accepts() { curl -sS "http://127.0.0.1:$ST_PORT/st" | awk 'NR == 3 { print $1 }'; }

CA="$T_DIR/ca"
"$T_CAPTURE" --init-ca "$CA" >/dev/null || t_fail "--init-ca"
PORTS="$STALL_PORT,$H2_PORT,$H1_PORT,$DOWN_PORT,$HS_PORT,$H2D_PORT,$H1D_PORT"

# burst PORT TAG [curl args]: 20 parallel GETs of f.bin through the proxy;
# prints the status codes counted ("20 200"); bodies kept as TAG-N.out.
burst() {
    local port=$1 tag=$2 args=() i
    shift 2
    for i in $(seq 1 20); do args+=("https://localhost:$port/f.bin?$tag$i" -o "$T_DIR/$tag-$i.out"); done
    curl -sS --parallel --parallel-max 20 --http2 --max-time 60 --cacert "$CA/ca.pem" -x "$CAP_PROXY" \
        -w '%{http_code}\n' "$@" "${args[@]}" 2>"$T_DIR/$tag.err" | sort | uniq -c | tr -s ' ' | sed 's/^ //'
}
intact() {
    local i
    for i in $(seq 1 20); do
        [ "$(sha "$T_DIR/$1-$i.out")" = "$(sha "$T_DIR/www/f.bin")" ] || t_fail "$1: download $i differs"
    done
}

cap_start -o "$T_DIR/rec.mp" --connect-ports "$PORTS" --ca "$CA" --upstream-ca "$T_DIR/nginx.crt"

# 1. h2 origin, cold: one connection.
a0=$(accepts)
t_eq "cold h2 burst statuses" "20 200" "$(burst "$H2_PORT" h2)"
intact h2
a1=$(accepts)
t_eq "connections the proxy opened to the h2 origin (stub_status accepts)" 1 $((a1 - a0 - 1))
t_eq "nginx connections that served the h2 burst" 1 \
    "$(awk -v p="$H2_PORT" '$1 == p { print $2 }' "$T_DIR/access.log" | sort -u | wc -l)"
t_eq "protocol of the h2 burst" "20 HTTP/2.0" \
    "$(awk -v p="$H2_PORT" '$1 == p { print $4 }' "$T_DIR/access.log" | sort | uniq -c | tr -s ' ' | sed 's/^ //')"
t_log "ok: a cold burst of 20 h2 streams opened 1 origin connection"

# 2. TLS origin whose ALPN says HTTP/1.1: the burst is spread, all answered.
a0=$(accepts)
t_eq "cold burst to an HTTP/1.1 origin" "20 200" "$(burst "$H1_PORT" h1)"
intact h1
a1=$(accepts)
n=$((a1 - a0 - 1))
[ "$n" -ge 2 ] && [ "$n" -le 20 ] || t_fail "HTTP/1.1 origin: $n connections for 20 parallel requests (want 2..20)"
t_log "ok: ALPN http/1.1: the burst spread over $n connections"

# 2b. Cold uploads, whose bodies wait with them for ALPN: on h2 they go as
# streams of one connection; on HTTP/1.1 they move to other connections
# with what was buffered of their bodies.
uploads() {
    local port=$1 tag=$2 args=() i
    for i in $(seq 1 10); do args+=(-T "$T_DIR/up.bin" "https://localhost:$port/dav/$tag$i.bin"); done
    curl -sS --parallel --parallel-max 10 --http2 --max-time 60 --cacert "$CA/ca.pem" -x "$CAP_PROXY" \
        -o /dev/null -w '%{http_code}\n' "${args[@]}" 2>"$T_DIR/$tag.err" | sort | uniq -c | tr -s ' ' | sed 's/^ //'
    for i in $(seq 1 10); do
        [ "$(sha "$T_DIR/www/dav/$tag$i.bin")" = "$(sha "$T_DIR/up.bin")" ] || t_fail "$tag: upload $i stored differently"
    done
}
a0=$(accepts)
t_eq "cold h2 uploads" "10 201" "$(uploads "$H2D_PORT" uph2)"
a1=$(accepts)
t_eq "connections for 10 cold h2 uploads" 1 $((a1 - a0 - 1))
a0=$(accepts)
t_eq "cold uploads to an HTTP/1.1 origin" "10 201" "$(uploads "$H1D_PORT" uph1)"
a1=$(accepts)
n=$((a1 - a0 - 1))
[ "$n" -ge 2 ] && [ "$n" -le 10 ] || t_fail "HTTP/1.1 uploads: $n connections for 10 parallel uploads (want 2..10)"
t_log "ok: cold uploads stored intact: h2 on 1 connection, HTTP/1.1 spread over $n"

# 3. The first connection fails: every waiting request gets 502, none hangs.
t_eq "cold burst to a refusing port" "20 502" "$(burst "$DOWN_PORT" down)"
grep -q "connect failed" "$T_DIR/down-1.out" || t_fail "refused: reason not given: $(cat "$T_DIR/down-1.out")"
t_eq "cold burst to an origin closing in the handshake" "20 502" "$(burst "$HS_PORT" hs)"
t_log "ok: refused and cut handshakes answered 502 to all 20 ($(head -1 "$T_DIR/hs-1.out"))"
# 3b. Clients that give up while their requests wait for the handshake:
# the proxy lets them go (no crash, no leak) and records them incomplete;
# the next burst waits on the same handshake instead of opening another.
s0=$(cat "$T_DIR/stall.n")
for round in a b; do
    args=()
    for i in $(seq 1 5); do args+=("https://localhost:$STALL_PORT/stall$round$i" -o /dev/null); done
    rc=0
    curl -sS --parallel --http2 --max-time 1 --cacert "$CA/ca.pem" -x "$CAP_PROXY" "${args[@]}" 2>/dev/null || rc=$?
    [ "$rc" = 28 ] || t_fail "requests to a stalled handshake: curl exit $rc, expected 28 (timeout)"
done
sleep 0.3
t_eq "connections to the stalled origin for 2 bursts of 5" 1 $(($(cat "$T_DIR/stall.n") - s0))
cap_stop INT
cap_dump "$T_DIR/rec.mp" >"$T_DIR/dump.txt"
t_eq "abandoned requests recorded incomplete" 10 \
    "$(grep -P '/stall[ab][0-9]\t' "$T_DIR/dump.txt" | cut -f6 | grep -c incomplete)"

# 4. --no-upstream-h2: HTTP/1.1 only, spread over the pool as before.
: >"$T_DIR/access.log"
cap_start -o "$T_DIR/rec-h1.mp" --connect-ports "$PORTS" --ca "$CA" --upstream-ca "$T_DIR/nginx.crt" --no-upstream-h2
a0=$(accepts)
t_eq "--no-upstream-h2 burst statuses" "20 200" "$(burst "$H2_PORT" noh2)"
intact noh2
a1=$(accepts)
n=$((a1 - a0 - 1))
[ "$n" -ge 2 ] && [ "$n" -le 20 ] || t_fail "--no-upstream-h2: $n connections for 20 parallel requests (want 2..20)"
t_eq "protocol with --no-upstream-h2" "20 HTTP/1.1" \
    "$(awk '{ print $4 }' "$T_DIR/access.log" | sort | uniq -c | tr -s ' ' | sed 's/^ //')"
t_log "ok: --no-upstream-h2: the burst spread over $n HTTP/1.1 connections"
cap_stop INT
