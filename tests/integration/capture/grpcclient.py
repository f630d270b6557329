"""A real grpcio client for the capture tests: calls aiotest.Echo's Unary,
Stream and Down (bytes in and out, no .proto) and prints one line per call:
"<method> <status name> <reply bytes as hex, comma-separated>".
usage: grpcclient.py TARGET [--ca PEM] [--proxy URL] [--n N]"""
import argparse

import grpc

ap = argparse.ArgumentParser()
ap.add_argument("target")
ap.add_argument("--ca")
ap.add_argument("--proxy")
ap.add_argument("--n", type=int, default=1)
a = ap.parse_args()

opts = [("grpc.enable_http_proxy", 1 if a.proxy else 0)]
if a.proxy:
    opts.append(("grpc.http_proxy", a.proxy))
if a.ca:
    creds = grpc.ssl_channel_credentials(root_certificates=open(a.ca, "rb").read())
    ch = grpc.secure_channel(a.target, creds, options=opts)
else:
    ch = grpc.insecure_channel(a.target, options=opts)

ident = lambda b: b
unary = ch.unary_unary("/aiotest.Echo/Unary", request_serializer=ident, response_deserializer=ident)
stream = ch.unary_stream("/aiotest.Echo/Stream", request_serializer=ident, response_deserializer=ident)
down = ch.unary_unary("/aiotest.Echo/Down", request_serializer=ident, response_deserializer=ident)

for _ in range(a.n):
    try:
        r = unary(b"hi", timeout=10)
        print("Unary OK", r.hex())
    except grpc.RpcError as e:
        print("Unary", e.code().name, e.details())
    try:
        r = list(stream(b"abc", timeout=10))
        print("Stream OK", ",".join(x.hex() for x in r))
    except grpc.RpcError as e:
        print("Stream", e.code().name, e.details())
    try:
        down(b"", timeout=10)
        print("Down OK")
    except grpc.RpcError as e:
        print("Down", e.code().name)
