"""A chat session for the WebSocket end-to-end test, python3-websockets as
the client, through aiotest-capture's forward proxy: CONNECT, then TLS with
the capture's CA (wss, intercepted and recorded). Joins a room, says
something, sends binary bytes that are not UTF-8, pausing between them, and
closes with 1000. Every message sent or received is written to LOG as
"<up|down> <text|binary> <hex>" for the test to compare with the recording.
usage: chatclient.py URL PROXY CA LOG"""
import asyncio
import json
import socket
import ssl
import sys
from urllib.parse import urlparse

import websockets

url, proxy, ca, log = sys.argv[1:5]
u = urlparse(url)
p = urlparse(proxy)


def note(f, d, m):
    kind = "binary" if isinstance(m, bytes) else "text"
    f.write("%s %s %s\n" % (d, kind, (m if isinstance(m, bytes) else m.encode()).hex()))


def tunnel():
    s = socket.create_connection((p.hostname, p.port))
    s.sendall(("CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (u.hostname, u.port, u.hostname, u.port)).encode())
    resp = b""
    while b"\r\n\r\n" not in resp:
        d = s.recv(4096)
        if not d:
            break
        resp += d
    if not resp.startswith(b"HTTP/1.1 200"):
        sys.exit("CONNECT refused: %r" % resp[:80])
    return s


async def main():
    ctx = ssl.create_default_context(cafile=ca)
    with open(log, "w") as f:
        async with websockets.connect(url, sock=tunnel(), ssl=ctx, server_hostname=u.hostname,
                                      subprotocols=["chat.v1"]) as ws:
            async def send(m):
                await ws.send(m)
                note(f, "up", m)

            async def recv():
                m = await ws.recv()
                note(f, "down", m)
                return m

            await send(json.dumps({"op": "join", "room": "lobby"}))
            assert json.loads(await recv())["op"] == "presence"
            joined = json.loads(await recv())
            assert joined["op"] == "joined", joined
            await asyncio.sleep(0.3)
            await send(json.dumps({"op": "say", "sid": joined["sid"], "text": "hi \u00e9"}))
            assert json.loads(await recv())["op"] == "said"
            await asyncio.sleep(0.3)
            await send(b"\x00\xff\x80 bytes")
            assert await recv() == b"\x00\xff\x80 bytes"
            await asyncio.sleep(0.2)
            await ws.close(1000, "bye")
    print("ok")


asyncio.run(main())
