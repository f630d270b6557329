# HTTP/1.1 framings and connection handling against a small python server:
# chunked, close-delimited, HEAD, 204, redirects (302, 303 POST->GET, not
# followed), the cookie jar, keep-alive reuse and a silently dropped socket.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
PORT=$(t_port)
t_bg h1server python3 "$AIOTEST_SRC/tests/integration/replay/h1server.py" "$PORT" "$T_DIR/server.log"
t_wait_port "$PORT"
: >"$T_DIR/server.log"

r_replay "$AIOTEST_SRC/tests/integration/replay/h1.json" --host "http://127.0.0.1:$PORT" \
    -u 2 --iterations 3 --report "$T_DIR/r.json"
t_eq "exit status" 0 "$R_RC"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); [print(e["method"], e["name"], e["count"], e["fail"]) for e in r["entries"] if e["failures"]]' "$T_DIR/r.json"
t_eq "no failure: every framing parsed, checks pass" 0 "$(r_json "$T_DIR/r.json" 'r["total"]["failures"]')"
t_eq "ten requests x 3 iterations x 2 users" 60 "$(r_json "$T_DIR/r.json" 'r["total"]["count"]')"
# Two steps use /redir (followed, not followed): 12 in the report, one entry per chain.
t_eq "redirect chains count once" 12 "$(r_entry "$T_DIR/r.json" 'GET GET /redir' count)"
t_eq "the server saw the redirect hops (6 direct + 6 followed)" 12 "$(grep -c '^GET /chunked ' "$T_DIR/server.log")"
t_eq "303 turned POST into GET" 6 "$(grep -c '^GET /echo-method ' "$T_DIR/server.log")"
t_eq "the cookie came back" 6 "$(grep -c '^GET /needcookie ' "$T_DIR/server.log")"
# Keep-alive: requests share sockets; /close and /drop end them. Per user and
# iteration: one socket from /chunked to /close, one from /head to /drop: 2 x 3 x 2.
conns=$(awk '{print $3}' "$T_DIR/server.log" | sort -u | wc -l)
t_eq "sockets reused between requests, reopened after close" 12 "$conns"
