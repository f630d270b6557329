# Helpers of the capture tests, on top of lib.sh. Source after lib.sh.
T_RECDUMP="$AIOTEST_BUILD/tests/integration/capture/recdump"
[ -x "$T_CAPTURE" ] || t_fail "aiotest-capture not built"
[ -x "$T_RECDUMP" ] || t_fail "recdump not built"

# cap_start ARGS...: starts aiotest-capture on a free port with ARGS; sets
# CAP_PORT, CAP_PID, CAP_PROXY (the -x value), CAP_LOG.
cap_start() {
    CAP_PORT=$(t_port)
    t_bg "capture-$CAP_PORT" "$T_CAPTURE" --proxy ":$CAP_PORT" "$@"
    CAP_PID=$T_LAST_PID
    CAP_LOG="$T_DIR/capture-$CAP_PORT.log"
    CAP_PROXY="http://127.0.0.1:$CAP_PORT"
    t_wait_port "$CAP_PORT"
}

# cap_stop [SIGNAL]: stops the capture (SIGINT by default) and checks it exits 0.
cap_stop() {
    kill -"${1:-INT}" "$CAP_PID"
    local rc=0
    wait "$CAP_PID" || rc=$?
    [ "$rc" = 0 ] || { cat "$CAP_LOG" >&2; t_fail "aiotest-capture exited $rc after SIG${1:-INT}"; }
    t_log "ok: capture stopped by SIG${1:-INT}, exit 0: $(tail -1 "$CAP_LOG")"
}

# cap_dump FILE [-H]: recdump's lines of FILE on stdout (fails on an unreadable file).
cap_dump() {
    "$T_RECDUMP" ${2:-} "$1" 2>"$T_DIR/recdump.err" || t_fail "recdump $1: $(cat "$T_DIR/recdump.err")"
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# shop_step NAME METHOD URL REQ_BODY_FILE|- [curl args...]: one request through
# the proxy; the response body goes to $T_DIR/shop/NAME.resp and one expected
# line "METHOD URL STATUS sha(req) sha(resp)" is appended to $T_DIR/shop/expected.
shop_step() {
    local name=$1 method=$2 url=$3 body=$4; shift 4
    local resp="$T_DIR/shop/$name.resp" req="$T_DIR/shop/$name.req" code
    if [ "$body" = - ]; then : >"$req"; set -- "$@"; else cp "$body" "$req"; set -- "$@" --data-binary "@$req"; fi
    code=$(curl -sS -x "$CAP_PROXY" -X "$method" -b "$T_DIR/shop/jar" -c "$T_DIR/shop/jar" \
        -o "$resp" -w '%{http_code}' "$@" "$url") || t_fail "curl $method $url"
    [ "$code" = 200 ] || t_fail "$method $url through the proxy: status $code: $(cat "$resp")"
    printf '%s\t%s\t%s\t%s\t%s\n' "$method" "$url" "$code" "$(sha "$req")" "$(sha "$resp")" >>"$T_DIR/shop/expected"
}

# shop_session BASE_URL [curl args...]: login, search, profile, cart, checkout,
# order against aiotest-target's API at BASE_URL, through the proxy.
shop_session() {
    local base=$1; shift
    mkdir -p "$T_DIR/shop"
    : >"$T_DIR/shop/expected"
    rm -f "$T_DIR/shop/jar"
    printf '{"user": "alice", "password": "secret"}' >"$T_DIR/shop/login.json"
    shop_step login POST "$base/api/login" "$T_DIR/shop/login.json" -H 'Content-Type: application/json' "$@"
    local token
    token=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$T_DIR/shop/login.resp") ||
        t_fail "login answered no token"
    shop_step search GET "$base/api/search?q=shoes" - "$@"
    shop_step profile GET "$base/api/profile" - -H "Authorization: Bearer $token" "$@"
    printf '{"item": 3, "qty": 2}' >"$T_DIR/shop/cart.json"
    shop_step cart POST "$base/api/cart" "$T_DIR/shop/cart.json" -H 'Content-Type: application/json' "$@"
    shop_step checkout GET "$base/checkout" - "$@"
    local csrf
    csrf=$(grep -o 'name="csrf" value="[0-9a-f]*"' "$T_DIR/shop/checkout.resp" | sed 's/.*value="//; s/"$//')
    [ -n "$csrf" ] || t_fail "checkout page has no csrf field"
    printf 'csrf=%s' "$csrf" >"$T_DIR/shop/order.form"
    shop_step order POST "$base/api/order" "$T_DIR/shop/order.form" \
        -H 'Content-Type: application/x-www-form-urlencoded' "$@"
}

# shop_check DUMP: the first recorded exchanges to the shop session's URLs
# equal the expected ones, in order.
shop_check() {
    local dump=$1
    cut -f2 "$T_DIR/shop/expected" | sort -u >"$T_DIR/shop/urls"
    awk -F'\t' 'NR==FNR { want[$1] = 1; next } ($2 in want) { print $1 "\t" $2 "\t" $3 "\t" $4 "\t" $5 }' \
        "$T_DIR/shop/urls" "$dump" | head -n "$(wc -l <"$T_DIR/shop/expected")" >"$T_DIR/shop/recorded"
    if ! diff -u "$T_DIR/shop/expected" "$T_DIR/shop/recorded" >"$T_DIR/shop/diff"; then
        cat "$T_DIR/shop/diff" >&2
        t_fail "recorded exchanges differ from what curl sent and received"
    fi
    t_log "ok: $(wc -l <"$T_DIR/shop/expected") shop exchanges recorded with identical bodies (sha256)"
}

# cap_nginx_tls [LOCATIONS]: nginx with TLS and h2 on a free port (certificate
# $T_DIR/nginx.crt for localhost and 127.0.0.1) serving $T_DIR/www, with
# /api/, /checkout and / proxied to aiotest-target when TARGET_URL is set.
# Sets NG_PORT and NG_URL (https://localhost:NG_PORT).
cap_nginx_tls() {
    t_selfsigned nginx
    NG_PORT=$(t_port)
    mkdir -p "$T_DIR/www"
    local proxied=""
    if [ -n "${TARGET_URL:-}" ]; then
        proxied="location / { proxy_pass $TARGET_URL; proxy_http_version 1.1; proxy_set_header Connection \"\"; }"
    fi
    t_nginx "
    access_log $T_DIR/nginx-access.log proto;
    server {
        listen 127.0.0.1:$NG_PORT ssl http2;
        ssl_certificate $T_DIR/nginx.crt;
        ssl_certificate_key $T_DIR/nginx.key;
        root $T_DIR/www;
        client_max_body_size 200m;
        location /www/ { alias $T_DIR/www/; }
        ${1:-}
        $proxied
    }"
    t_wait_port "$NG_PORT"
    NG_URL="https://localhost:$NG_PORT"
}
