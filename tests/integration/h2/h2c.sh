# Cleartext h2 with prior knowledge (--h2c): against nghttpd --no-tls (counted
# from its verbose frame log) and nginx 'listen ... http2' without ssl (counted
# from $server_protocol); a host whose scenario proto is "h2c" needs no option.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
. "$AIOTEST_SRC/tests/integration/h2/lib-h2.sh"
t_need nghttpd
mkdir -p "$T_DIR/doc"
echo "index page" >"$T_DIR/doc/index.html"
echo "first" >"$T_DIR/doc/a.txt"
echo "second" >"$T_DIR/doc/b.txt"
head -c 300000 /dev/urandom >"$T_DIR/doc/c.bin"
PORT=$(t_port)
t_bg nghttpd nghttpd -v --no-tls -d "$T_DIR/doc" "$PORT"
t_wait_port "$PORT"
scenario() { # $1 base URL, $2 host proto
cat <<JSON
{"format": "aiotest-scenario", "version": [1, 0],
 "hosts": [{"base_url": "$1", "proto": "$2"}],
 "classes": [{"name": "site", "weight": 1, "wait": {"kind": "none"},
   "tasks": [
     {"requests": [{"method": "GET", "url": "/index.html", "check": {"status": [200], "body_contains": ["index page"]}}]},
     {"parallel": true, "requests": [
       {"method": "GET", "url": "/a.txt", "check": {"status": [200], "body_contains": ["first"]}},
       {"method": "GET", "url": "/b.txt", "check": {"status": [200], "body_contains": ["second"]}},
       {"method": "GET", "url": "/c.bin", "check": {"status": [200]}}]}]}]}
JSON
}
scenario "http://127.0.0.1:$PORT" auto >"$T_DIR/auto.json"
r_replay "$T_DIR/auto.json" --h2c -u 2 --iterations 10 --report "$T_DIR/ng.json"
t_eq "nghttpd: exit status" 0 "$R_RC"
t_eq "nghttpd: requests" 80 "$(r_json "$T_DIR/ng.json" 'r["total"]["count"]')"
t_eq "nghttpd: no failure" 0 "$(r_json "$T_DIR/ng.json" 'r["total"]["failures"]')"
t_eq "nghttpd: report says h2" 80 "$(h2_proto_count "$T_DIR/ng.json" h2)"
for f in index.html a.txt b.txt c.bin; do
    t_eq "nghttpd received /$f" 20 "$(h2_count "$T_DIR/nghttpd.log" "recv \(stream_id=[0-9]+\) :path: /$f\$")"
done
t_eq "nghttpd: one connection per user" 2 "$(h2_count "$T_DIR/nghttpd.log" 'recv \(stream_id=1\) :path:')"
t_check "bodies counted" r_in 6000000 7000000 "$(r_entry "$T_DIR/ng.json" "GET GET /c.bin" bytes_received)"

# The same with the proto in the scenario, against nginx.
NPORT=$(t_port)
h2_nginx "
    server {
        listen 127.0.0.1:$NPORT http2;
        access_log $T_DIR/n.log proto;
        root $T_DIR/doc;
    }"
t_wait_port "$NPORT"
scenario "http://127.0.0.1:$NPORT" h2c >"$T_DIR/h2c.json"
r_replay "$T_DIR/h2c.json" -u 2 --iterations 5 --report "$T_DIR/n.json"
t_eq "nginx h2c: no failure" 0 "$(r_json "$T_DIR/n.json" 'r["total"]["failures"]')"
t_eq "nginx h2c: report says h2" 40 "$(h2_proto_count "$T_DIR/n.json" h2)"
t_eq "nginx h2c: every request over HTTP/2.0" 40 "$(h2_count "$T_DIR/n.log" ' 200 HTTP/2.0$')"

# A server that does not speak h2 (answers HTTP/1.1 to the preface): every
# request fails as h2_protocol, and the run ends normally.
BPORT=$(t_port)
t_bg noth2 python3 "$AIOTEST_SRC/tests/integration/h2/noth2.py" "$BPORT"
t_wait_port "$BPORT"
r_replay "$T_DIR/auto.json" --h2c --host "http://127.0.0.1:$BPORT" -u 2 --iterations 3 --report "$T_DIR/bad.json"
# Every request failed: exit 1 (issue 12: nothing succeeded), after a normal end.
t_eq "not h2: the run ends normally, exit 1" 1 "$R_RC"
t_eq "not h2: every request is an h2_protocol failure" 24 \
    "$(r_json "$T_DIR/bad.json" 'r["total"]["fail"].get("h2_protocol", 0)')"
