#!/usr/bin/env bash
# Pooled origin connections (capture/upstream.c on the http/ client): a
# keep-alive connection is reused for the next request, and when the origin
# closed it meanwhile (its keep-alive timeout racing the request) a body-less
# request goes once more on a fresh connection; a request with a body is not
# sent twice: it gets the 502 and is recorded as an error.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
t_need python3
t_need curl
# The origin answers the first request of each connection and closes the
# connection on reading the second, without a byte of answer. It logs
# "conn N path" per request read.
ORIGIN_PORT=$(t_port)
t_bg reuse-origin python3 -c '
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
log = open(sys.argv[2], "a", buffering=1)
def read_request(c, buf):
    while b"\r\n\r\n" not in buf:
        chunk = c.recv(65536)
        if not chunk:
            return None, b""
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    n = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v)
    while len(rest) < n:
        chunk = c.recv(65536)
        if not chunk:
            return None, b""
        rest += chunk
    return head.split(b" ")[1].decode(), rest[n:]
def serve(c, idx):
    buf = b""
    path, buf = read_request(c, buf)
    if path is None:
        c.close(); return
    log.write("conn %d %s\n" % (idx, path))
    body = ("answer %s\n" % path).encode()
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    path, buf = read_request(c, buf)
    if path is not None:
        log.write("conn %d %s\n" % (idx, path))
    c.close()
idx = 0
while True:
    c, _ = s.accept()
    idx += 1
    threading.Thread(target=serve, args=(c, idx), daemon=True).start()
' "$ORIGIN_PORT" "$T_DIR/origin.log"
t_wait_port "$ORIGIN_PORT"
REC="$T_DIR/rec.mp"
cap_start -o "$REC"
O="http://127.0.0.1:$ORIGIN_PORT"
get() { curl -sS -x "$CAP_PROXY" -o "$T_DIR/$2.out" -w '%{http_code}' "${@:3}" "$O/$1"; }

t_eq "first request" 200 "$(get a a)"
t_eq "first answer" "answer /a" "$(cat "$T_DIR/a.out")"
# Reused connection, closed by the origin on reading /b: sent again on a new one.
t_eq "GET on a connection the origin closed: retried" 200 "$(get b b)"
t_eq "retried answer" "answer /b" "$(cat "$T_DIR/b.out")"
# Same again for a POST: a body is never sent twice.
t_eq "POST on a connection the origin closed: not retried" 502 "$(get c c --data-binary 'x=1')"

for _ in $(seq 1 50); do
    [ "$(wc -l <"$T_DIR/origin.log")" -ge 4 ] && break
    sleep 0.1
done
# Connections named A, B... in the order they carried a request (the port
# probe of t_wait_port was one too).
seen=$(awk '{ if (!($2 in n)) n[$2] = sprintf("%c", 65 + k++); printf "%s%s %s", (NR > 1 ? "," : ""), n[$2], $3 }' "$T_DIR/origin.log")
t_eq "origin saw: /a and /b on one connection, /b again and /c on a second" \
    "A /a,A /b,B /b,B /c" "$seen"
t_log "ok: one retry of the body-less request, none of the POST"

cap_stop INT
cap_dump "$REC" >"$T_DIR/dump.txt"
t_eq "recorded /b: status, flags" "200 -" "$(grep -P '/b\t' "$T_DIR/dump.txt" | cut -f3,6 | tr '\t' ' ')"
t_eq "recorded /c: status, flags" "502 error" "$(grep -P '/c\t' "$T_DIR/dump.txt" | cut -f3,6 | tr '\t' ' ')"
grep -P '/c\t' "$T_DIR/dump.txt" | cut -f18 | grep -q "closed the connection before responding" ||
    t_fail "reason of /c: $(grep -P '/c\t' "$T_DIR/dump.txt" | cut -f18)"
t_log "ok: recorded, /c with its reason"
