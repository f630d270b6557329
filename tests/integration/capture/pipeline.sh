#!/usr/bin/env bash
# HTTP/1.x details on real sockets: pipelined requests are answered and
# recorded in order; an HTTP/1.0 client gets a close-delimited answer; origin
# connections are reused across requests and clients (nginx logs its
# connection numbers); --include-host keeps other hosts out of the file; an
# origin that cuts its response or answers garbage gives recorded failures.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
t_need curl nginx python3
NG_PORT=$(t_port)
mkdir -p "$T_DIR/www"
for f in a b c; do printf 'file %s\n' "$f" >"$T_DIR/www/$f.txt"; done
t_nginx "
    log_format conn '\$connection \$request';
    access_log $T_DIR/access.log conn;
    server { listen 127.0.0.1:$NG_PORT; root $T_DIR/www; keepalive_requests 1000; }"
t_wait_port "$NG_PORT"
# A broken origin: /cut promises 100000 bytes and sends 5, /garbage is not HTTP.
BAD_PORT=$(t_port)
t_bg bad-origin python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
while True:
    c, _ = s.accept()
    req = c.recv(65536)
    if b"/cut" in req:
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nhello")
    else:
        c.sendall(b"SMTP ready\r\n\r\n")
    c.close()
' "$BAD_PORT"
t_wait_port "$BAD_PORT"
REC="$T_DIR/rec.mp"
cap_start -o "$REC" --include-host localhost

python3 - "$CAP_PORT" "$NG_PORT" >"$T_DIR/pipelined.txt" <<'PY' || t_fail "pipelined requests"
import socket, sys
cap, ng = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", cap))
reqs = b"".join(b"GET http://localhost:%d/%s.txt HTTP/1.1\r\nHost: localhost:%d\r\n\r\n" % (ng, n, ng) for n in (b"a", b"b", b"c"))
s.sendall(reqs)  # three requests in one write
data = b""
while data.count(b"file ") < 3:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
order = [l for l in data.split(b"\n") if l.startswith(b"file ")]
print(b" ".join(order).decode())
s.close()
# HTTP/1.0 without keep-alive: the answer ends with the connection.
s = socket.create_connection(("127.0.0.1", cap))
s.sendall(b"GET http://localhost:%d/a.txt HTTP/1.0\r\n\r\n" % ng)
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print(data.split(b"\r\n")[0].decode(), data.endswith(b"file a\n"))
PY
t_eq "pipelined answers in order" "file a file b file c" "$(sed -n 1p "$T_DIR/pipelined.txt")"
t_eq "HTTP/1.0 client" "HTTP/1.1 200 OK True" "$(sed -n 2p "$T_DIR/pipelined.txt")"

for i in 1 2 3 4 5; do
    curl -sS -x "$CAP_PROXY" -o /dev/null "http://localhost:$NG_PORT/b.txt" || t_fail "curl $i"
done
curl -sS -x "$CAP_PROXY" -o /dev/null "http://127.0.0.1:$NG_PORT/c.txt" || t_fail "curl to 127.0.0.1"
out=$(curl -sS -x "$CAP_PROXY" -o "$T_DIR/cut.out" -w '%{http_code}' "http://localhost:$BAD_PORT/cut" 2>/dev/null)
t_eq "cut response: status, bytes delivered" "200 5" "$out $(stat -c %s "$T_DIR/cut.out")"
code=$(curl -sS -x "$CAP_PROXY" -o /dev/null -w '%{http_code}' "http://localhost:$BAD_PORT/garbage")
t_eq "garbage from the origin" 502 "$code"
cap_stop INT
conns=$(cut -d' ' -f1 "$T_DIR/access.log" | sort -u | wc -l)
reqs=$(wc -l <"$T_DIR/access.log")
t_log "nginx saw $reqs requests on $conns connections"
[ "$reqs" = 10 ] || t_fail "nginx saw $reqs requests, expected 10"
[ "$conns" -le 3 ] || t_fail "origin connections not reused: $conns connections for $reqs requests"
t_log "ok: origin connections reused"
cap_dump "$REC" >"$T_DIR/dump.txt"
t_eq "recorded (127.0.0.1 left out by --include-host)" \
    "/a.txt /b.txt /c.txt /a.txt /b.txt /b.txt /b.txt /b.txt /b.txt /cut /garbage" \
    "$(cut -f2 "$T_DIR/dump.txt" | sed 's#.*localhost:[0-9]*##' | tr '\n' ' ' | sed 's/ $//')"
t_eq "HTTP/1.0 recorded with its version" "HTTP/1.0" "$(sed -n 4p "$T_DIR/dump.txt" | cut -f19)"
line=$(grep -P '/cut\t' "$T_DIR/dump.txt")
t_eq "cut: status, flags, bytes recorded" "200 incomplete 5" "$(echo "$line" | cut -f3,6,14 | tr '\t' ' ')"
echo "$line" | cut -f18 | grep -q 'in the middle of the response' || t_fail "cut reason: $(echo "$line" | cut -f18)"
line=$(grep -P '/garbage\t' "$T_DIR/dump.txt")
t_eq "garbage: status, flags" "502 error" "$(echo "$line" | cut -f3,6 | tr '\t' ' ')"
t_log "ok: failures recorded: $(echo "$line" | cut -f18)"
