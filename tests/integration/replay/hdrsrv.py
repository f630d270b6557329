"""A loopback HTTP/1.1 server that answers 200 to any method and path (a 302 to
URL for .../away?to=URL) and logs one tab-separated line per request: METHOD, path,
Host, Referer, Origin ("-" when absent). Usage: hdrsrv.py PORT LOG."""
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, log_path = int(sys.argv[1]), sys.argv[2]
log = open(log_path, "a", buffering=1)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def handle_one_request(self):
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline or not self.parse_request():
            self.close_connection = True
            return
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        h = self.headers
        log.write("\t".join([self.command, self.path, h.get("Host", "-"), h.get("Referer", "-"),
                             h.get("Origin", "-")]) + "\n")
        body = b"ok"
        to = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query).get("to")
        if urllib.parse.urlsplit(self.path).path.endswith("/away") and to:
            self.send_response(302)
            self.send_header("Location", to[0])
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
