#!/bin/bash
# Issue 13 item 1 with a real compressing server: nginx `gzip on` (and its
# brotli filter module where Debian's libnginx-mod-http-brotli-filter is
# installed) answers JSON compressed over HTTP/1.1 and over h2 (TLS). The
# replay's JSON extractor and body check must read the decoded body: zero
# failures, nothing left coded, and nginx's log shows it did compress.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
[ -x "$T_REPLAY" ] || t_skip "aiotest-replay is not built"
t_need nginx openssl python3

BROTLI_SO=/usr/lib/nginx/modules/ngx_http_brotli_filter_module.so
codings="gzip"
if [ -f "$BROTLI_SO" ]; then codings="gzip br"; else t_log "no nginx brotli module: gzip only"; fi

mkdir -p "$T_DIR/doc" "$T_DIR/nginx-tmp"
python3 -c '
import json, sys
items = [{"id": i, "name": "item %d" % i, "price_cents": 100 + i} for i in range(60)]
json.dump({"token": "tok-4f2a9c81e0b7", "items": items}, open(sys.argv[1], "w"))' "$T_DIR/doc/api.json"
t_selfsigned srv
HP=$(t_port)
SP=$(t_port)
cat >"$T_DIR/nginx.conf" <<NGX
daemon off;
master_process off;
worker_processes 1;
pid $T_DIR/nginx.pid;
error_log $T_DIR/nginx-error.log warn;
$([ -f "$BROTLI_SO" ] && echo "load_module $BROTLI_SO;")
events { worker_connections 1024; }
http {
    client_body_temp_path $T_DIR/nginx-tmp/body;
    proxy_temp_path $T_DIR/nginx-tmp/proxy;
    fastcgi_temp_path $T_DIR/nginx-tmp/fastcgi;
    uwsgi_temp_path $T_DIR/nginx-tmp/uwsgi;
    scgi_temp_path $T_DIR/nginx-tmp/scgi;
    types { application/json json; }
    log_format enc '\$server_protocol \$status \$sent_http_content_encoding \$body_bytes_sent';
    gzip on;
    gzip_types application/json;
    gzip_min_length 1;
    $([ -f "$BROTLI_SO" ] && echo "brotli on; brotli_types application/json; brotli_min_length 1;")
    server {
        listen 127.0.0.1:$HP;
        listen 127.0.0.1:$SP ssl http2;
        ssl_certificate $T_DIR/srv.crt;
        ssl_certificate_key $T_DIR/srv.key;
        access_log $T_DIR/access.log enc;
        root $T_DIR/doc;
    }
}
NGX
t_bg nginx nginx -c "$T_DIR/nginx.conf" -e "$T_DIR/nginx-error.log"
t_wait_port "$HP"
t_wait_port "$SP"
plain=$(stat -c %s "$T_DIR/doc/api.json")

for e in $codings; do
    for url in "http://127.0.0.1:$HP" "https://localhost:$SP"; do
        proto=HTTP/1.1
        [ "${url%%:*}" = https ] && proto=HTTP/2.0
        cat >"$T_DIR/s.json" <<JSON
{"format": "aiotest-scenario", "version": [1, 0],
 "hosts": [{"base_url": "$url"}],
 "classes": [{"name": "api", "weight": 1, "wait": {"kind": "none"},
   "tasks": [{"requests": [{"name": "GET api", "method": "GET", "url": "/api.json",
     "headers": [["Accept-Encoding", "$e"]],
     "extract": [{"var": "token", "kind": "json", "expr": "\$.token"},
                 {"var": "last", "kind": "json", "expr": "\$.items[59].name"}],
     "check": {"status": [200], "body_contains": ["\"price_cents\": 159"]}}]}]}]}
JSON
        : >"$T_DIR/access.log"
        r_replay "$T_DIR/s.json" --ca "$T_DIR/srv.crt" -u 2 --iterations 5 --timeout 10s --report "$T_DIR/r.json" -q
        t_eq "$e $proto: exit" 0 "$R_RC"
        t_eq "$e $proto: requests, failures, bodies" "10 0 {'cut': 0, 'undecoded': 0, 'dropped_bytes': 0}" \
            "$(r_json "$T_DIR/r.json" '" ".join(map(str, (r["total"]["count"], r["total"]["failures"], r["bodies"])))')"
        t_eq "$e $proto: nginx compressed every answer" 10 "$(grep -c "^$proto 200 $e " "$T_DIR/access.log" || true)"
        sent=$(awk '{print $4; exit}' "$T_DIR/access.log")
        [ "$sent" -lt "$plain" ] || t_fail "$e $proto: $sent bytes sent for a $plain-byte file: not compressed"
    done
done
