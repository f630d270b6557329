# WebSocket through the capture: a real python3-websockets echo server and
# client. Before, the proxy stripped Upgrade and the server answered 426: an
# application broke while it was recorded. Now the 101 comes back, messages
# flow both ways, and the recording holds every message byte for byte:
# forward proxy (absolute-URI GET), CONNECT with TLS interception (wss) and
# --reverse. permessage-deflate is negotiated away (the server sees no
# Sec-WebSocket-Extensions), so payloads are recorded as sent.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
PY=/usr/bin/python3
$PY -c 'import websockets' 2>/dev/null || t_skip "python3-websockets is not installed"
t_need openssl
D="$AIOTEST_SRC/tests/integration/capture"
t_selfsigned ws
WPORT=$(t_port)
t_bg wsserver $PY "$D/wsserver.py" "$WPORT" "$T_DIR/calls.log"
SPORT=$(t_port)
t_bg wssserver $PY "$D/wsserver.py" "$SPORT" "$T_DIR/calls.log" "$T_DIR/ws.crt" "$T_DIR/ws.key"
t_wait_port "$WPORT" 20
t_wait_port "$SPORT" 20

t_eq "direct" "ok 3" "$(timeout 30 $PY "$D/wsclient.py" "ws://127.0.0.1:$WPORT/direct")"
t_check "direct: the library negotiates permessage-deflate" grep -q '^/direct text 68656c6c6f permessage-deflate' "$T_DIR/calls.log"

check() { # FILE PATH LABEL
    "$T_CONVERT" --dump "$1" >"$T_DIR/$3.json" || t_fail "--dump $1"
    $PY "$D/wsrec.py" "$T_DIR/$3.json" "$2" "$3" || t_fail "$3: recording"
    t_eq "$3: the server got no extension offer" "-" \
        "$(awk -v p="$2" '$1 == p {print $4}' "$T_DIR/calls.log" | sort -u)"
}

# Forward proxy: absolute-URI GET with Upgrade.
cap_start -o "$T_DIR/fwd.mp"
t_eq "forward proxy" "ok 3" "$(timeout 30 $PY "$D/wsclient.py" "ws://127.0.0.1:$WPORT/fwd" --absolute "$CAP_PROXY")"
cap_stop INT
grep -q '1 WebSocket sessions' "$CAP_LOG" || t_fail "end line does not count the session: $(tail -1 "$CAP_LOG")"
check "$T_DIR/fwd.mp" /fwd forward

# CONNECT with TLS interception: wss with the capture's CA.
CA="$T_DIR/ca"
"$T_CAPTURE" --init-ca "$CA" >/dev/null || t_fail "--init-ca"
cap_start -o "$T_DIR/mitm.mp" --ca "$CA" --upstream-ca "$T_DIR/ws.crt" --connect-ports "$SPORT"
t_eq "CONNECT MITM (wss)" "ok 3" \
    "$(timeout 30 $PY "$D/wsclient.py" "wss://localhost:$SPORT/secure" --connect "$CAP_PROXY" --ca "$CA/ca.pem")"
cap_stop INT
check "$T_DIR/mitm.mp" /secure mitm

# --reverse in front of the plain server.
RPORT=$(t_port)
t_bg reverse "$T_CAPTURE" --reverse "http://127.0.0.1:$WPORT" --proxy ":$RPORT" -o "$T_DIR/rev.mp"
RPID=$T_LAST_PID
t_wait_port "$RPORT"
t_eq "--reverse" "ok 3" "$(timeout 30 $PY "$D/wsclient.py" "ws://127.0.0.1:$RPORT/rev")"
kill -INT "$RPID"; wait "$RPID" || t_fail "reverse capture exit status"
check "$T_DIR/rev.mp" /rev reverse

# A refused Upgrade (no Sec-WebSocket-Key): the server's answer and body come
# back, the connection closes, the exchange is recorded with that status.
cap_start -o "$T_DIR/refused.mp"
code=$(timeout 30 curl -sS -x "$CAP_PROXY" -o "$T_DIR/refused.body" -w '%{http_code}' \
    -H 'Upgrade: websocket' -H 'Connection: Upgrade' "http://127.0.0.1:$WPORT/nokey")
t_eq "refused upgrade: the server's status" 400 "$code"
t_check "refused upgrade: the server's body" grep -qi 'sec-websocket-key' "$T_DIR/refused.body"
cap_stop INT
t_eq "refused upgrade recorded" "400" "$(cap_dump "$T_DIR/refused.mp" | cut -f3)"

# Another protocol (a raw echo after "101 Switching Protocols" to echo/1): piped
# blind, counted, recorded as a tunnel with its byte counts.
EPORT=$(t_port)
t_bg echoserver $PY -c '
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4)
def serve(c):
    f = b""
    while b"\r\n\r\n" not in f:
        d = c.recv(4096)
        if not d: return
        f += d
    c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo/1\r\n\r\n")
    while True:
        d = c.recv(4096)
        if not d: break
        c.sendall(d)
    c.close()
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
' "$EPORT"
t_wait_port "$EPORT"
cap_start -o "$T_DIR/other.mp"
got=$(timeout 30 $PY -c '
import socket, sys
from urllib.parse import urlparse
p = urlparse(sys.argv[1]); s = socket.create_connection((p.hostname, p.port))
s.sendall(("GET http://127.0.0.1:%s/raw HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nUpgrade: echo/1\r\nConnection: Upgrade\r\n\r\n" % (sys.argv[2], sys.argv[2])).encode())
f = b""
while b"\r\n\r\n" not in f:
    f += s.recv(4096)
head, rest = f.split(b"\r\n\r\n", 1)
s.sendall(b"raw bytes 0123456789")
while len(rest) < 20:
    rest += s.recv(4096)
s.close()
print(head.split(b"\r\n")[0].decode(), rest.decode())
' "$CAP_PROXY" "$EPORT")
t_eq "other upgrade piped" "HTTP/1.1 101 Switching Protocols raw bytes 0123456789" "$got"
sleep 0.3
cap_stop INT
grep -q '0 WebSocket sessions, 1 other upgrades piped' "$CAP_LOG" || t_fail "end line: $(tail -1 "$CAP_LOG")"
t_eq "recorded as a tunnel of 20 bytes each way" "101 tunnel 20 20" \
    "$("$T_CONVERT" --dump "$T_DIR/other.mp" | $PY -c '
import json,sys; x=json.load(sys.stdin)["exchanges"][0]
print(x["status"], ",".join(x.get("flags", [])), x.get("tunnel_bytes_up"), x.get("tunnel_bytes_down"))')"

# The capture stops while a session is open: the session ends, its messages so
# far are written, and the exchange says it was cut.
RPORT=$(t_port)
t_bg reverse2 "$T_CAPTURE" --reverse "http://127.0.0.1:$WPORT" --proxy ":$RPORT" -o "$T_DIR/cut.mp"
RPID=$T_LAST_PID
t_wait_port "$RPORT"
t_bg holder $PY -c '
import asyncio, sys, websockets
async def main():
    async with websockets.connect(sys.argv[1], compression=None) as ws:
        await ws.send("held")
        print("echo", await ws.recv(), flush=True)
        try:
            await asyncio.wait_for(ws.recv(), 20)
        except Exception as e:
            print("ended", type(e).__name__, flush=True)
asyncio.run(main())
' "ws://127.0.0.1:$RPORT/held"
HPID=$T_LAST_PID
for _ in $(seq 100); do grep -q '^echo held' "$T_DIR/holder.log" && break; sleep 0.1; done
t_check "the held session echoed" grep -q '^echo held' "$T_DIR/holder.log"
kill -INT "$RPID"; wait "$RPID" || t_fail "capture exit status with a session open"
wait "$HPID"
t_check "the client saw its connection end" grep -q '^ended' "$T_DIR/holder.log"
t_eq "cut session recorded with its messages" "101 2 capture stopped during the session" "$("$T_CONVERT" --dump "$T_DIR/cut.mp" | $PY -c '
import json,sys; x=json.load(sys.stdin)["exchanges"][0]
print(x["status"], len(x.get("ws", [])), x.get("error"))')"
