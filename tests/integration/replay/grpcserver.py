"""A real grpcio server without .proto: bytes in, bytes out.
Methods of aiotest.Echo: Unary (echoes the message), Stream (three messages),
Down (aborts with UNAVAILABLE). Every handler call appends a line to the log
file, so a test counts the calls that reached the handlers.
usage: grpcserver.py PORT LOG [CERT KEY]"""
import sys
import threading
from concurrent import futures

import grpc

port, log = int(sys.argv[1]), sys.argv[2]
lock = threading.Lock()


def note(name, req, ctx):
    left = ctx.time_remaining()
    # grpcio reports "no deadline" as None or as a huge number
    none = left is None or left > 1e9
    with lock, open(log, "a") as f:
        f.write("%s %s %s\n" % (name, req.hex(), "none" if none else "%.3f" % left))


def unary(req, ctx):
    note("Unary", req, ctx)
    return b"echo:" + req


def stream(req, ctx):
    note("Stream", req, ctx)
    for i in range(3):
        yield b"part%d:" % i + req


def down(req, ctx):
    note("Down", req, ctx)
    ctx.abort(grpc.StatusCode.UNAVAILABLE, "down for the test")


handler = grpc.method_handlers_generic_handler("aiotest.Echo", {
    "Unary": grpc.unary_unary_rpc_method_handler(unary),
    "Stream": grpc.unary_stream_rpc_method_handler(stream),
    "Down": grpc.unary_unary_rpc_method_handler(down),
})
server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
server.add_generic_rpc_handlers((handler,))
if len(sys.argv) > 4:
    creds = grpc.ssl_server_credentials([(open(sys.argv[4], "rb").read(), open(sys.argv[3], "rb").read())])
    server.add_secure_port("127.0.0.1:%d" % port, creds)
else:
    server.add_insecure_port("127.0.0.1:%d" % port)
server.start()
print("ready", flush=True)
server.wait_for_termination()
