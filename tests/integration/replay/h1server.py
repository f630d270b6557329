"""A tiny HTTP/1.1 server with the response framings a client must handle:
chunked, close-delimited, HEAD, 204, redirects, cookies, and a keep-alive
socket closed by the server between requests. Logs "METHOD PATH conn" lines."""
import socket, sys, threading

port, log_path = int(sys.argv[1]), sys.argv[2]
log = open(log_path, "a", buffering=1)
lock = threading.Lock()
conn_ids = iter(range(1, 1 << 30))

def reply(status, headers=(), body=b"", length=True):
    head = "HTTP/1.1 %s\r\n" % status
    for k, v in headers:
        head += "%s: %s\r\n" % (k, v)
    if length:
        head += "Content-Length: %d\r\n" % len(body)
    return head.encode() + b"\r\n" + body

def serve(c, cid):
    buf, served = b"", 0
    while True:
        while b"\r\n\r\n" not in buf:
            d = c.recv(65536)
            if not d:
                return
            buf += d
        head, buf = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        hdrs = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip() for l in lines[1:]}
        n = int(hdrs.get("content-length", "0"))
        while len(buf) < n:
            buf += c.recv(65536)
        buf = buf[n:]
        with lock:
            log.write("%s %s %d\n" % (method, path, cid))
        served += 1
        close = False
        if path == "/chunked":
            out = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                   b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        elif path == "/close":
            out = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbody until close"
            close = True
        elif path == "/head":
            out = reply("200 OK", [("Content-Length", "100")], b"" if method == "HEAD" else b"x" * 100, length=False)
        elif path == "/nocontent":
            out = reply("204 No Content", length=False)
        elif path == "/redir":
            out = reply("302 Found", [("Location", "/chunked")])
        elif path == "/seeother":
            out = reply("303 See Other", [("Location", "/echo-method")])
        elif path == "/echo-method":
            out = reply("200 OK", body=method.encode())
        elif path == "/setcookie":
            out = reply("200 OK", [("Set-Cookie", "k=v42; Path=/")])
        elif path == "/needcookie":
            ok = "k=v42" in hdrs.get("cookie", "")
            out = reply("200 OK" if ok else "403 Forbidden")
        elif path == "/drop":
            # Answers, then drops the kept-alive socket without saying so.
            out = reply("200 OK", body=b"dropped next")
            c.sendall(out)
            c.close()
            return
        else:
            out = reply("404 Not Found")
        c.sendall(out)
        if close:
            c.close()
            return

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(128)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c, next(conn_ids)), daemon=True).start()
