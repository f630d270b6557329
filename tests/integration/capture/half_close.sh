#!/usr/bin/env bash
# The client connection's half-closed state (client.c CL_HALF_CLOSED): a
# client that sends a whole request and then its FIN (shutdown(SHUT_WR))
# before the origin answers still gets the whole response, the proxy closes
# the connection after it, and the exchange is recorded complete. A client
# that closes in the middle of its request body is recorded incomplete.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
t_need python3
# A slow origin: it answers 0.5 s after reading the request head, so the
# client's FIN reaches the proxy while the exchange is in flight.
SLOW_PORT=$(t_port)
t_bg slow-origin python3 -c '
import socket, sys, time, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
def serve(c):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = c.recv(65536)
        if not chunk:
            c.close(); return
        data += chunk
    time.sleep(0.5)
    body = b"slow answer\n"
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
' "$SLOW_PORT"
t_wait_port "$SLOW_PORT"
REC="$T_DIR/rec.mp"
cap_start -o "$REC"

python3 - "$CAP_PORT" "$SLOW_PORT" >"$T_DIR/client.txt" <<'PY' || t_fail "half-closing client"
import socket, sys
cap, origin = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", cap))
s.settimeout(20)
s.sendall(b"GET http://127.0.0.1:%d/half HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % (origin, origin))
s.shutdown(socket.SHUT_WR)  # FIN right after the request: half-closed
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break  # the proxy closed after the response
    data += chunk
print(data.split(b"\r\n")[0].decode(), data.endswith(b"slow answer\n"))
# A request body cut by the client's close: recorded incomplete.
s = socket.create_connection(("127.0.0.1", cap))
s.sendall(b"POST http://127.0.0.1:%d/cut HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: 100\r\n\r\nabc" % (origin, origin))
s.close()
PY
t_eq "half-closed client: status, whole body" "HTTP/1.1 200 OK True" "$(sed -n 1p "$T_DIR/client.txt")"
# The cut POST is recorded when the proxy sees the close; give it a moment.
for _ in $(seq 1 50); do
    sleep 0.1
    cap_dump "$REC" 2>/dev/null | grep -q '/cut' && break
done
cap_stop INT
cap_dump "$REC" >"$T_DIR/dump.txt"
line=$(grep -P '/half\t' "$T_DIR/dump.txt") || t_fail "no /half exchange: $(cat "$T_DIR/dump.txt")"
t_eq "half-closed: recorded status, flags (none: complete)" "200 -" "$(echo "$line" | cut -f3,6 | tr '\t' ' ')"
line=$(grep -P '/cut\t' "$T_DIR/dump.txt") || t_fail "no /cut exchange: $(cat "$T_DIR/dump.txt")"
echo "$line" | cut -f6 | grep -q incomplete || t_fail "cut request not flagged incomplete: $line"
t_log "ok: cut request recorded incomplete: $(echo "$line" | cut -f18)"
