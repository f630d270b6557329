"""An HTTP/1.1 origin that answers 413 to a request without reading its body,
once the body has backed up behind it: it takes the head, then waits until
its socket's receive queue has stopped growing (the senders in front of it
are blocked) for half a second, at most 30 s, then answers 413 and keeps the
connection open, unread, for 5 s more. Listens on 127.0.0.1:argv[1]; one
request per connection."""
import fcntl
import socket
import struct
import sys
import termios
import threading
import time


def queued(conn):
    return struct.unpack("i", fcntl.ioctl(conn.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]


def serve(conn):
    with conn:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(1)  # byte by byte: leaves the body in the queue
            if not chunk:
                return
            head += chunk
        deadline = time.monotonic() + 30
        last, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            n = queued(conn)
            if n != last:
                last, since = n, time.monotonic()
            elif n > 0 and time.monotonic() - since >= 0.5:
                break
            time.sleep(0.05)
        body = b"too large\n"
        conn.sendall(b"HTTP/1.1 413 Payload Too Large\r\nContent-Type: text/plain\r\n"
                     b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
        time.sleep(5)


def main():
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # A small receive buffer (inherited by accepted sockets): the body backs
    # up into nginx, and from there into the proxy, after a few hundred KB.
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    # A small segment size: the sender's kernel sizes its send buffer by it
    # (with loopback's 64 KiB segments it takes about 3 MB unread).
    srv.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
    srv.bind(("127.0.0.1", int(sys.argv[1])))
    srv.listen(256)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


main()
