"""HTTP/1.1 server for the header-injection test. /login answers a token that
holds CR LF (in a JSON body and in a response header); every other request's
raw head is appended to LOG as one Python repr() line, so the test sees exactly
what arrived on the wire."""
import socket, sys, threading

port, log_path = int(sys.argv[1]), sys.argv[2]
log = open(log_path, "a", buffering=1)
lock = threading.Lock()
TOKEN = "abc\\r\\nX-Injected: evil"  # JSON escapes: the decoded value holds CR LF

def serve(c):
    buf = b""
    while True:
        while b"\r\n\r\n" not in buf:
            d = c.recv(65536)
            if not d:
                return
            buf += d
        head, buf = buf.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        n = 0
        for l in lines[1:]:
            if l.lower().startswith(b"content-length:"):
                n = int(l.split(b":", 1)[1])
        while len(buf) < n:
            buf += c.recv(65536)
        body, buf = buf[:n], buf[n:]
        path = lines[0].split(b" ")[1] if len(lines[0].split(b" ")) > 1 else b""
        if path.startswith(b"/login"):
            out = ('{"token": "%s"}' % TOKEN).encode()
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(out) + out)
            continue
        with lock:
            log.write(repr(head + b"\r\n\r\n" + body) + "\n")
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(64)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
