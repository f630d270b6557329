"""A small chat server for the WebSocket end-to-end test (python3-websockets).
Text messages are JSON: {"op": "join", "room": R} is answered {"op":
"joined", "sid": S, "room": R} (after a "presence" message nobody asked for),
{"op": "say", "sid": S, ...} is answered {"op": "said", ...} and counted as
"say" when S is the sid this connection was given, else "say-wrong-sid"; a
binary message comes back as it came. Every message received is counted: one
line "<connection> <kind> <length>" appended to COUNTS, so the test sees what
each replayed user sent.
usage: chatserver.py PORT COUNTS [CERT KEY]"""
import asyncio
import itertools
import json
import secrets
import ssl
import sys

import websockets

port, counts = int(sys.argv[1]), sys.argv[2]
conn_ids = itertools.count(1)


def count(cid, kind, n):
    with open(counts, "a") as f:
        f.write("conn%d %s %d\n" % (cid, kind, n))


async def chat(ws, path):
    cid = next(conn_ids)
    sid = None
    async for m in ws:
        if isinstance(m, bytes):
            count(cid, "binary", len(m))
            await ws.send(m)
            continue
        msg = json.loads(m)
        op = msg.get("op", "?")
        if op == "say" and msg.get("sid") != sid:
            op = "say-wrong-sid"
        count(cid, op, len(m))
        if msg.get("op") == "join":
            sid = secrets.token_hex(4)
            await ws.send(json.dumps({"op": "presence", "room": msg.get("room")}))
            await ws.send(json.dumps({"op": "joined", "sid": sid, "room": msg.get("room")}))
        elif msg.get("op") == "say":
            await ws.send(json.dumps({"op": "said", "text": msg.get("text")}))


async def main():
    ctx = None
    if len(sys.argv) > 4:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[3], sys.argv[4])
    async with websockets.serve(chat, "127.0.0.1", port, ssl=ctx, subprotocols=["chat.v1"]):
        print("ready", flush=True)
        await asyncio.Future()


asyncio.run(main())
