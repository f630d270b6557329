"""A loopback HTTP/1.1 API gateway for docs/examples/lua/hmac_sign.lua: checks
X-Signature = hex(HMAC-SHA256(secret, METHOD \\n PATH \\n X-Timestamp \\n BODY))
and that X-Timestamp is within 300 s of now. Answers 200 {"ok":true} or 401,
and logs one line per request: METHOD, path, "good" / "bad" / "none".
Usage: hmacsrv.py PORT LOG [SECRET]."""
import hashlib
import hmac
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, log_path = int(sys.argv[1]), sys.argv[2]
secret = (sys.argv[3] if len(sys.argv) > 3 else "s3cret").encode()
log = open(log_path, "a", buffering=1)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def handle_one_request(self):
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline or not self.parse_request():
            self.close_connection = True
            return
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        sig, ts = self.headers.get("X-Signature"), self.headers.get("X-Timestamp")
        if sig is None or ts is None:
            verdict = "none"
        else:
            msg = b"\n".join([self.command.encode(), self.path.encode(), ts.encode(), body])
            want = hmac.new(secret, msg, hashlib.sha256).hexdigest()
            fresh = ts.isdigit() and abs(int(ts) - time.time()) < 300
            verdict = "good" if hmac.compare_digest(sig, want) and fresh else "bad"
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
