"""An HTTP/1.1 server that answers /ok at once and never answers /hang (it
reads the request and keeps the socket open): requests to /hang stay in flight
until the client gives up. Usage: hangserver.py PORT."""
import http.server, sys, threading, time

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path.startswith("/hang"):
            while True:
                time.sleep(3600)
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass

srv = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
srv.daemon_threads = True
srv.serve_forever()
