"""A WebSocket client session for the capture tests: sends a text, a binary
message with bytes that are not UTF-8, and a 70 000-byte text (64-bit frame
length), checks each echo byte for byte, then closes with 1000. Prints
"ok <n>" or the mismatch.
  wsclient.py URL [--no-compression]    python3-websockets, direct or --reverse
  wsclient.py URL --connect PROXY [--ca PEM]
                                        CONNECT through the proxy first (wss: TLS
                                        with the capture's CA), then python3-websockets
  wsclient.py URL --absolute PROXY      a hand-made client: absolute-URI GET with
                                        Upgrade to a forward proxy (no library
                                        speaks that form)"""
import argparse
import asyncio
import base64
import os
import socket
import ssl
import struct
import sys
from urllib.parse import urlparse

MSGS = ["hello", b"\x00\xff\x80\x7f binary", "x" * 70000]

ap = argparse.ArgumentParser()
ap.add_argument("url")
ap.add_argument("--connect")
ap.add_argument("--ca")
ap.add_argument("--absolute")
ap.add_argument("--no-compression", action="store_true")
a = ap.parse_args()
u = urlparse(a.url)
port = u.port or (443 if u.scheme == "wss" else 80)


async def with_library(sock=None):
    import websockets
    ctx = None
    if u.scheme == "wss":
        ctx = ssl.create_default_context(cafile=a.ca)
    kw = {"sock": sock, "server_hostname": u.hostname} if sock and ctx else ({"sock": sock} if sock else {})
    if a.no_compression:
        kw["compression"] = None
    async with websockets.connect(a.url, ssl=ctx, max_size=None, **kw) as ws:
        for m in MSGS:
            await ws.send(m)
            got = await ws.recv()
            if got != m:
                print("mismatch", repr(m)[:40], repr(got)[:40])
                sys.exit(1)
        await ws.close(1000, "done")
    print("ok", len(MSGS))


def connect_tunnel():
    pu = urlparse(a.connect)
    s = socket.create_connection((pu.hostname, pu.port))
    s.sendall(("CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (u.hostname, port, u.hostname, port)).encode())
    resp = b""
    while b"\r\n\r\n" not in resp:
        d = s.recv(4096)
        if not d:
            break
        resp += d
    if not resp.startswith(b"HTTP/1.1 200"):
        print("CONNECT refused:", resp[:80])
        sys.exit(1)
    return s


def frame(op, payload):
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([0x80 | op])
    head += bytes([0x80 | n]) if n < 126 else (bytes([0x80 | 126]) + struct.pack(">H", n) if n < 65536
                                                else bytes([0x80 | 127]) + struct.pack(">Q", n))
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def read_frame(f):
    b0, b1 = f.read(2)
    n = b1 & 0x7f
    if n == 126:
        n = struct.unpack(">H", f.read(2))[0]
    elif n == 127:
        n = struct.unpack(">Q", f.read(8))[0]
    return b0 & 0x0f, f.read(n)


def absolute():
    pu = urlparse(a.absolute)
    s = socket.create_connection((pu.hostname, pu.port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
               % (a.url.replace("ws://", "http://"), u.netloc, key)).encode())
    f = s.makefile("rb")
    status = f.readline()
    if b" 101 " not in status:
        print("no 101:", status)
        sys.exit(1)
    while f.readline() not in (b"\r\n", b""):
        pass
    for m in MSGS:
        data = m.encode() if isinstance(m, str) else m
        s.sendall(frame(1 if isinstance(m, str) else 2, data))
        op, got = read_frame(f)
        if got != data:
            print("mismatch", op, got[:40])
            sys.exit(1)
    s.sendall(frame(8, struct.pack(">H", 1000) + b"done"))
    op, got = read_frame(f)
    if op != 8:
        print("no close echo", op)
        sys.exit(1)
    print("ok", len(MSGS))


if a.absolute:
    absolute()
elif a.connect:
    asyncio.run(with_library(connect_tunnel()))
else:
    asyncio.run(with_library())
