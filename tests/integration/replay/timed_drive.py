"""Drives aiotest-target with sessions at known times, for the timed-replay test.

usage: timed_drive.py BASE_URL SESSIONS
Session i starts at i * 80 ms on its own connection: login (the answer sets the
session cookie), then 40 ms later a search and the profile at once at once, the
profile on a second connection (overlapping requests), 60 ms later the cart.
Every session comes from 127.0.0.1, as users behind one proxy would: only
their cookies tell them apart. Prints the number of requests made."""
import http.client
import json
import sys
import threading
import time
import urllib.parse

base = urllib.parse.urlparse(sys.argv[1])
n = int(sys.argv[2])
t0 = time.monotonic() + 0.2
lock = threading.Lock()
made = [0]


def req(conn, method, path, body=None, headers=None):
    h = dict(headers or {})
    if body is not None:
        h["Content-Type"] = "application/json"
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse()
    data = r.read()
    with lock:
        made[0] += 1
    return r, data


def session(i):
    time.sleep(max(0, t0 + i * 0.08 - time.monotonic()))
    c = http.client.HTTPConnection(base.hostname, base.port)
    r, data = req(c, "POST", "/api/login", json.dumps({"user": "u%d" % i, "password": "pw"}))
    cookie = r.getheader("Set-Cookie").split(";")[0]
    token = json.loads(data)["token"]
    time.sleep(0.04)
    c2 = http.client.HTTPConnection(base.hostname, base.port)
    th = threading.Thread(target=req, args=(c2, "GET", "/api/profile", None,
                                            {"Cookie": cookie, "Authorization": "Bearer " + token}))
    th.start()
    req(c, "GET", "/api/search?q=s%d" % i, None, {"Cookie": cookie})
    th.join()
    time.sleep(0.06)
    req(c, "POST", "/api/cart", json.dumps({"item": 1, "qty": 1}),
        {"Cookie": cookie, "Authorization": "Bearer " + token})
    c.close()
    c2.close()


threads = [threading.Thread(target=session, args=(i,)) for i in range(n)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(made[0])
