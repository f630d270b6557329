"""HTTP/1.1 server for the connect-ahead test: answers every GET "ok", keeps
a connection open 0.2 s after an answer, then closes it; logs, per
connection that carried a request, the monotonic time of its accept and of
its first request, in seconds, to LOG.

usage: connahead_server.py PORT LOG"""
import socket
import sys
import threading
import time

port, log = int(sys.argv[1]), sys.argv[2]
lock = threading.Lock()


def serve(conn, accepted):
    first = None
    conn.settimeout(30)
    buf = b""
    try:
        while True:
            while b"\r\n\r\n" not in buf:
                data = conn.recv(4096)
                if not data:
                    return
                if first is None:
                    first = time.monotonic()
                buf += data
            _, buf = buf.split(b"\r\n\r\n", 1)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok")
            conn.settimeout(0.2)  # idle: the next request soon, or the connection closes
    except (socket.timeout, OSError):
        pass
    finally:
        conn.close()
        if first is not None:
            with lock, open(log, "a") as f:
                f.write("%.6f %.6f\n" % (accepted, first))


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(256)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c, time.monotonic()), daemon=True).start()
