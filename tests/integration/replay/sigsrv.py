"""A loopback HTTP/1.1 server that checks a request signature, as an API gateway
would: X-Signature must be the keyed hash (below; the same as lua/sign.lua
computes) of METHOD, path and body. Answers 200 {"ok":true} or 401, and logs one
line per request: METHOD, path, "good" / "bad" / "none", the X-Skip header or "-".
Usage: sigsrv.py PORT LOG."""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, log_path = int(sys.argv[1]), sys.argv[2]
log = open(log_path, "a", buffering=1)
KEY = b"s3cret"


def sign(data):
    h = 0
    for b in KEY + data:
        h = (h * 31 + b) % 2147483648
    return "%08x" % h


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def handle_one_request(self):
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline or not self.parse_request():
            self.close_connection = True
            return
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        sig = self.headers.get("X-Signature")
        want = sign(self.command.encode() + self.path.encode() + body)
        verdict = "none" if sig is None else ("good" if sig == want else "bad")
        log.write("\t".join([self.command, self.path, verdict]) + "\n")
        out = b'{"ok":true}' if verdict == "good" else b'{"ok":false}'
        self.send_response(200 if verdict == "good" else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
