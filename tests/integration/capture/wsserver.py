"""A real WebSocket echo server (python3-websockets): every message comes
back as it came; each is logged as "<path> <text|binary> <hex>". The server
offers permessage-deflate (the library's default), so a proxy that lets it
through gets compressed frames. A message "close-me" makes the server close
with code 4001. usage: wsserver.py PORT LOG [CERT KEY]"""
import asyncio
import ssl
import sys

import websockets

port, log = int(sys.argv[1]), sys.argv[2]


async def echo(ws, path):
    async for m in ws:
        kind = "text" if isinstance(m, str) else "binary"
        data = m.encode() if isinstance(m, str) else m
        with open(log, "a") as f:
            f.write("%s %s %s %s\n" % (path, kind, data.hex(), ws.request_headers.get("Sec-WebSocket-Extensions", "-")))
        if m == "close-me":
            await ws.close(4001, "asked")
            return
        await ws.send(m)


async def main():
    ctx = None
    if len(sys.argv) > 4:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[3], sys.argv[4])
    async with websockets.serve(echo, "127.0.0.1", port, ssl=ctx):
        print("ready", flush=True)
        await asyncio.Future()


asyncio.run(main())
