#!/bin/bash
# A page's asset burst is one parallel group whether the browser loads it over
# h2 (one connection, every asset at once) or HTTP/1.1 (six connections, each
# asset issued as one of them frees up) — issue 13 item 8. Headless chromium
# loads a page of 19 assets from nginx (TLS) through aiotest-capture --proxy,
# once with h2 offered and once with --no-h2; both recordings convert to the
# same steps: the document, then one parallel group holding all 19 assets.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
t_need chromium openssl python3 nginx
t_target --quiet
Q="python3 $AIOTEST_SRC/tests/integration/convert/scnq.py"
mkdir -p "$T_DIR/www/assets"
{
    echo '<!doctype html><html><head><title>burst</title>'
    for i in 1 2 3 4; do echo "<link rel=stylesheet href=/assets/s$i.css>"; done
    for i in 1 2 3 4 5; do echo "<script src=/assets/a$i.js></script>"; done
    echo '</head><body><p>page</p>'
    for i in 1 2 3 4 5 6 7 8 9 10; do echo "<img src=/assets/i$i.png width=10 height=10>"; done
    echo '</body></html>'
} >"$T_DIR/www/index.html"
for i in 1 2 3 4; do { echo "/*"; head -c 30000 /dev/urandom | base64; echo "*/ p { margin: ${i}px; }"; } >"$T_DIR/www/assets/s$i.css"; done
for i in 1 2 3 4 5; do { echo "/*"; head -c 30000 /dev/urandom | base64; echo "*/ var a$i = $i;"; } >"$T_DIR/www/assets/a$i.js"; done
for i in 1 2 3 4 5 6 7 8 9 10; do head -c 20000 /dev/urandom >"$T_DIR/www/assets/i$i.png"; done
# Every asset takes a while (limit_rate), as over a real network, so that the
# browser has the page's requests in flight together.
cap_nginx_tls "location /assets/ { limit_rate 200k; } location = /index.html { } location = /favicon.ico { return 204; }"
CA="$T_DIR/ca"
"$T_CAPTURE" --init-ca "$CA" >/dev/null || t_fail "--init-ca"
SPKI=$(openssl x509 -in "$CA/ca.pem" -noout -pubkey | openssl pkey -pubin -outform der |
    openssl dgst -sha256 -binary | openssl enc -base64 -A)

# load NAME PATH [capture options]: one page load through a fresh capture into
# NAME.mp. On a loaded runner chromium sometimes ends the page (its virtual time
# budget spent) while assets are still downloading: those are recorded as
# incomplete and are not the page's burst, so such a load is made again (3 tries).
load() {
    local try
    for try in 1 2 3; do
        load_once "$@"
        local cut; cut=$(awk -F'\t' '$6 ~ /incomplete/' "$T_DIR/$1.dump" | wc -l)
        [ "$cut" = 0 ] && return
        t_log "$1: chromium cut $cut download(s) short (try $try)"
    done
}
load_once() {
    local name=$1 path=$2; shift 2
    rm -rf "$T_DIR/chromium-$name"
    cap_start -o "$T_DIR/$name.mp" --connect-ports "$NG_PORT" --ca "$CA" --upstream-ca "$T_DIR/nginx.crt" "$@"
    timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$T_DIR/chromium-$name" --proxy-server="$CAP_PROXY" --proxy-bypass-list='*;<-loopback>' \
        --ignore-certificate-errors-spki-list="$SPKI" --virtual-time-budget=10000 \
        --dump-dom "$NG_URL$path" >"$T_DIR/$name.dom" 2>"$T_DIR/chromium-$name.log" ||
        t_fail "chromium ($name): $(tail -5 "$T_DIR/chromium-$name.log")"
    cap_stop INT
    cap_dump "$T_DIR/$name.mp" >"$T_DIR/$name.dump"
    t_log "$name: $(cut -f6 "$T_DIR/$name.dump" | sort | uniq -c | tr '\n' ' ') over $(cut -f8 "$T_DIR/$name.dump" | sort -u | wc -l) connection(s)"
    "$T_CONVERT" "$T_DIR/$name.mp" --exclude-path '^/favicon' --json -o "$T_DIR/$name.json" 2>"$T_DIR/$name.conv" ||
        t_fail "$name: convert: $(tail -2 "$T_DIR/$name.conv")"
    $Q "$T_DIR/$name.json" steps | cut -f3-5 >"$T_DIR/$name.steps"
    t_log "$name steps (parallel, n, think): $(tr '\t\n' ' ;' <"$T_DIR/$name.steps")"
}

load h2 /index.html
load h1 /index.html --no-h2
for name in h2 h1; do
    t_eq "$name: assets recorded" 19 "$(awk -F'\t' '$2 ~ /\/assets\// && $3 == 200' "$T_DIR/$name.dump" | wc -l)"
done
load shop-h2 /
load shop-h1 / --no-h2
grep -q h2 <(cut -f6 "$T_DIR/h2.dump") || t_fail "h2 run: no h2 exchange recorded"
grep -q h2 <(cut -f6 "$T_DIR/h1.dump") && t_fail "h1 run: h2 exchanges recorded (--no-h2 ignored?)"

# groups NAME: one line per step of NAME.json: parallel, count, sorted names.
groups() {
    $Q "$T_DIR/$1.json" steps | python3 -c 'import sys
for l in sys.stdin:
    f = l.rstrip("\n").split("\t")
    print(f[2] + "\t" + f[3] + "\t" + ",".join(sorted(f[5].split(","))))' >"$T_DIR/$1.groups"
}

# The same steps from both: the document, then the 19 assets as one group.
for name in h2 h1; do
    groups $name
    t_eq "$name: steps (parallel, requests)" "false 1;true 19;" "$(cut -f1,2 "$T_DIR/$name.groups" | tr '\t\n' ' ;')"
done
diff -u "$T_DIR/h2.groups" "$T_DIR/h1.groups" >&2 || t_fail "h2 and HTTP/1.1 loads give different steps"
t_log "ok: one parallel group of the 19 assets over h2 and over HTTP/1.1"

# The demo shop's home page: its three assets are one group in both; the
# page's API calls (fetch: not assets) stay serial steps after it, as each
# needs the login's token.
for name in shop-h2 shop-h1; do
    groups $name
    grep -qP '^true\t\d+\t.*GET /static/app.js,GET /static/logo.png,GET /static/style.css' "$T_DIR/$name.groups" ||
        t_fail "$name: the shop's assets are not one group: $(cat "$T_DIR/$name.groups")"
    for api in "GET /api/search" "GET /api/profile"; do
        grep -qP "^false\t1\t$api\$" "$T_DIR/$name.groups" || t_fail "$name: $api is not a serial step: $(cat "$T_DIR/$name.groups")"
    done
done
t_log "ok: the demo shop's assets are one group over h2 and over HTTP/1.1, its API calls serial"
exit 0
