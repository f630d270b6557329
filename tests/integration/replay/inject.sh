# Header injection: a value extracted from a response that holds CR LF never
# reaches the wire (the request fails as "extract"), on HTTP/1.1 and h2c; a
# scenario file with a bad header name, value or URL is refused at load; a HAR
# header with CR LF is skipped with a counted warning.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || t_skip "$PY is missing"
fails() { r_json "$1" "r['total']['fail'].get('$2', 0)"; }
entry() { r_json "$1" "[e for e in r['entries'] if e['name'] == '$2'][0]['$3']"; }

# on_start logs in and extracts a token holding CR LF; the tasks send it in a
# header and in the request target, beside a request that does not use it.
scenario() {
    cat >"$T_DIR/scn.json" <<JSON
{"format":"aiotest-scenario","version":[1,0],"hosts":[{"base_url":"$1"}],
 "classes":[{"name":"c","weight":1,"wait":{"kind":"none"},
  "on_start":[{"requests":[{"name":"login","method":"POST","url":"/login","body":"{}",
     "extract":[{"var":"token","kind":"json","expr":"\$.token"}]}]}],
  "tasks":[{"requests":[{"name":"hdr","method":"GET","url":"/api/next",
                         "headers":[["Authorization","Bearer {{token}}"]]}]},
           {"requests":[{"name":"target","method":"GET","url":"/api/q?t={{token}}"}]},
           {"requests":[{"name":"plain","method":"GET","url":"/api/ok"}]}]}]}
JSON
}

# HTTP/1.1 against a python server that logs every request head as received.
PORT=$(t_port)
t_bg injectsrv "$PY" "$AIOTEST_SRC/tests/integration/replay/injectserver.py" "$PORT" "$T_DIR/wire.log"
t_wait_port "$PORT"
scenario "http://127.0.0.1:$PORT"
r_replay "$T_DIR/scn.json" -u 1 --iterations 3 -q --report "$T_DIR/h1.json"
t_eq "h1: exit status (requests failed, the run went on)" 1 "$([ "$R_RC" -le 1 ] && echo 1 || echo "$R_RC")"
t_eq "h1: the plain request reached the server 3 times" 3 "$(grep -c "GET /api/ok " "$T_DIR/wire.log" || true)"
t_eq "h1: nothing injected on the wire" 0 "$(grep -c "X-Injected" "$T_DIR/wire.log" || true)"
t_eq "h1: the header request never went out" 0 "$(grep -c "/api/next" "$T_DIR/wire.log" || true)"
t_eq "h1: the target request never went out" 0 "$(grep -c "/api/q" "$T_DIR/wire.log" || true)"
t_eq "h1: header request failed as extract" 3 "$(entry "$T_DIR/h1.json" hdr fail | $PY -c 'import sys,ast; print(ast.literal_eval(sys.stdin.read()).get("extract", 0))')"
t_eq "h1: target request failed as extract" 3 "$(entry "$T_DIR/h1.json" target fail | $PY -c 'import sys,ast; print(ast.literal_eval(sys.stdin.read()).get("extract", 0))')"
t_eq "h1: plain request succeeded" 0 "$(entry "$T_DIR/h1.json" plain failures)"
t_check "h1: the reason is said" grep -q "CR, LF" "$T_DIR/replay.err"

# h2c against nginx (prior knowledge): the same requests fail the same way
# before nghttp2 or the server sees them.
if command -v nginx >/dev/null 2>&1; then
    NPORT=$(t_port)
    mkdir -p "$T_DIR/www/api"
    printf '{"token": "abc\\r\\nX-Injected: evil"}' >"$T_DIR/www/login"
    echo ok >"$T_DIR/www/api/ok"
    t_nginx "log_format p '\$request \$server_protocol \$status';
        server { listen 127.0.0.1:$NPORT http2; access_log $T_DIR/h2c.log p;
                 location / { root $T_DIR/www; error_page 405 =200 \$uri; } }"
    t_wait_port "$NPORT"
    scenario "http://127.0.0.1:$NPORT"
    r_replay "$T_DIR/scn.json" -u 1 --iterations 3 -q --h2c --report "$T_DIR/h2.json"
    t_eq "h2c: login extracted" 0 "$(entry "$T_DIR/h2.json" login failures)"
    t_eq "h2c: header request failed as extract" 3 "$(entry "$T_DIR/h2.json" hdr fail | $PY -c 'import sys,ast; print(ast.literal_eval(sys.stdin.read()).get("extract", 0))')"
    t_eq "h2c: target request failed as extract" 3 "$(entry "$T_DIR/h2.json" target fail | $PY -c 'import sys,ast; print(ast.literal_eval(sys.stdin.read()).get("extract", 0))')"
    t_eq "h2c: nothing of them reached nginx" 0 "$(grep -cE "/api/(next|q)" "$T_DIR/h2c.log" || true)"
    t_eq "h2c: the plain request reached nginx over h2" 3 "$(grep -cE "GET /api/ok .*HTTP/2.0 200" "$T_DIR/h2c.log" || true)"
else
    t_log "nginx missing: h2c part skipped"
fi

# A scenario file with a bad header or URL is refused at load, naming the place.
bad() { # NAME HEADER_NAME HEADER_VALUE URL EXPECTED_FIELD
    cat >"$T_DIR/bad-$1.json" <<JSON
{"format":"aiotest-scenario","version":[1,0],"hosts":[{"base_url":"http://127.0.0.1:$PORT"}],
 "classes":[{"name":"c","weight":1,"wait":{"kind":"none"},
  "tasks":[{"requests":[{"name":"x","method":"GET","url":"$4","headers":[["$2","$3"]]}]}]}]}
JSON
    r_replay "$T_DIR/bad-$1.json" -u 1 --iterations 1 -q
    t_eq "load $1: exit status" 2 "$R_RC"
    t_check "load $1: names the place ($(head -1 "$T_DIR/replay.err"))" grep -q "$5" "$T_DIR/replay.err"
}
bad crlf-value "X-A" 'a\r\nX-Injected: evil' /ok "tasks\[0\].requests\[0\].headers\[0\]"
bad nul-value "X-A" 'a\u0000b' /ok "tasks\[0\].requests\[0\].headers\[0\]"
bad bad-name "X A" 'v' /ok "tasks\[0\].requests\[0\].headers\[0\]"
bad colon-name "X:A" 'v' /ok "tasks\[0\].requests\[0\].headers\[0\]"
bad crlf-url "X-A" 'v' '/ok\r\nX-Injected: evil' "tasks\[0\].requests\[0\].url"
bad space-url "X-A" 'v' '/ok HTTP/1.0' "tasks\[0\].requests\[0\].url"
t_eq "nothing from the bad scenarios reached the server" 3 "$(grep -c "GET /api/ok " "$T_DIR/wire.log" || true)"

# HAR import: the header with CR LF is skipped with a counted warning; the rest stays.
cat >"$T_DIR/in.har" <<JSON
{"log":{"version":"1.2","creator":{"name":"t","version":"1"},"entries":[
 {"startedDateTime":"2024-01-01T00:00:00.000Z","time":1,
  "request":{"method":"GET","url":"http://127.0.0.1:$PORT/api/ok","httpVersion":"HTTP/1.1",
    "headers":[{"name":"X-Good","value":"yes"},{"name":"X-Bad","value":"a\r\nX-Injected: evil"},
               {"name":"X Bad Name","value":"v"}],
    "queryString":[],"cookies":[],"headersSize":-1,"bodySize":0},
  "response":{"status":200,"statusText":"OK","httpVersion":"HTTP/1.1","headers":[],"cookies":[],
    "content":{"size":2,"mimeType":"text/plain","text":"ok"},"redirectURL":"","headersSize":-1,"bodySize":2},
  "cache":{},"timings":{"send":0,"wait":1,"receive":0}}]}}
JSON
timeout 60 "$T_CONVERT" "$T_DIR/in.har" -o "$T_DIR/har.mp" 2>"$T_DIR/convert.err"
t_eq "har: converted" 0 "$?"
t_check "har: warning counts the skipped headers ($(grep -i skipped "$T_DIR/convert.err"))" \
    grep -qE "2 request header\(s\) skipped.*X-Bad" "$T_DIR/convert.err"
timeout 60 "$T_CONVERT" --dump "$T_DIR/har.mp" >"$T_DIR/har.view.json" 2>/dev/null
t_check "har: the good header kept" grep -q "X-Good" "$T_DIR/har.view.json"
t_eq "har: no injected header in the scenario" 0 "$(grep -c "X-Injected" "$T_DIR/har.view.json" || true)"
r_replay "$T_DIR/har.mp" -u 1 --iterations 1 -q
t_eq "har: scenario replays" 0 "$R_RC"
t_eq "nothing injected on the wire at the end" 0 "$(grep -c "X-Injected" "$T_DIR/wire.log" || true)"
