#!/usr/bin/env bash
# Session keys in passive capture: two users and a health-check scraper reach
# aiotest-target through an nginx load balancer that adds X-Forwarded-For and
# keeps its upstream connections alive (so one connection carries several
# users, and every packet comes from 127.0.0.1). Live capture (-i lo) and
# --pcap on tcpdump's file of the balancer-to-target side must key each
# user's exchanges apart: --session-cookie (the login's Set-Cookie starts the
# session), --session-header, --session-forwarded; --exclude-path drops the
# scraper. Without an option every exchange is one client, 127.0.0.1.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
t_need curl tcpdump nginx
[ "$(id -u)" = 0 ] || t_skip "live capture needs root"
t_target --quiet
LB_PORT=$(t_port)
t_nginx "
    upstream shop { server 127.0.0.1:$TARGET_PORT; keepalive 2; }
    server {
        listen 127.0.0.1:$LB_PORT;
        location / {
            proxy_pass http://shop;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
        }
    }"
t_wait_port "$LB_PORT"
LB="http://127.0.0.1:$LB_PORT"
F="tcp port $TARGET_PORT"

t_bg live "$T_CAPTURE" -i lo --filter "$F" --session-cookie session -o "$T_DIR/live.mp"
CAP_PID=$T_LAST_PID
t_bg tcpdump tcpdump -i lo -B 131072 -U --immediate-mode -w "$T_DIR/f.pcap" "$F"
TD_PID=$T_LAST_PID
for _ in $(seq 100); do
    grep -q 'capturing on lo' "$T_DIR/live.log" && grep -q 'listening on' "$T_DIR/tcpdump.log" && break
    sleep 0.1
done
grep -q 'listening on' "$T_DIR/tcpdump.log" || t_fail "tcpdump did not start"
grep -q 'capturing on lo' "$T_DIR/live.log" || t_fail "capture did not start: $(cat "$T_DIR/live.log")"
sleep 0.3

# user NAME XFF TENANT: login (sets the session cookie), search, cart, in turn
user() {
    local jar="$T_DIR/$1.jar" h=(-H "X-Forwarded-For: $2" -H "X-Tenant: $3")
    curl -sS -o /dev/null -c "$jar" "${h[@]}" -H 'Content-Type: application/json' \
        --data "{\"user\": \"$1\", \"password\": \"secret\"}" "$LB/api/login" || t_fail "$1: login"
    curl -sS -o /dev/null -b "$jar" "${h[@]}" "$LB/api/search?q=$1" || t_fail "$1: search"
    curl -sS -o /dev/null -b "$jar" "${h[@]}" -H 'Content-Type: application/json' \
        --data '{"item": 1, "qty": 1}' "$LB/api/cart" || t_fail "$1: cart"
}
for round in 1 2; do
    user alice 10.0.0.1 alpha
    user bob 10.0.0.2 beta
    curl -sS -o /dev/null -H 'X-Forwarded-For: 10.9.9.9' "$LB/health" || t_fail "scraper"
done
size=-1; stable=0
for _ in $(seq 150); do
    now=$(stat -c %s "$T_DIR/f.pcap")
    if [ "$now" = "$size" ]; then stable=$((stable + 1)); else stable=0; size=$now; fi
    [ "$stable" -ge 10 ] && break
    sleep 0.1
done
kill -INT "$CAP_PID"
wait "$CAP_PID" || t_fail "live capture exit: $(cat "$T_DIR/live.log")"
kill -INT "$TD_PID"
wait "$TD_PID" 2>/dev/null

# keys FILE: "path key" per exchange (query cut), in order
keys() { cap_dump "$1" | awk -F'\t' '{ sub(/\?.*/, "", $2); sub(/^http:\/\/[^\/]*/, "", $2); print $2, $9 }'; }
pcap() { "$T_CAPTURE" --pcap "$T_DIR/f.pcap" -o "$T_DIR/$1.mp" "${@:2}" 2>"$T_DIR/$1.log" || t_fail "--pcap $*: $(cat "$T_DIR/$1.log")"; }

keys "$T_DIR/live.mp" >"$T_DIR/live.keys"
t_eq "live: exchanges" 14 "$(wc -l <"$T_DIR/live.keys")"
conns=$(cap_dump "$T_DIR/live.mp" | cut -f8 | sort -u | wc -l)
[ "$conns" -le 2 ] || t_fail "nginx did not reuse its upstream connections ($conns)"
# each login starts a session: per round, alice's 3 exchanges (the login
# included) share a key, bob's 3 another; 4 sessions in all
for r in 0 7; do
    a=$(sed -n "$((r + 1)),$((r + 3))p" "$T_DIR/live.keys" | cut -d' ' -f2 | sort -u)
    b=$(sed -n "$((r + 4)),$((r + 6))p" "$T_DIR/live.keys" | cut -d' ' -f2 | sort -u)
    [ "$(echo "$a" | wc -l)" = 1 ] && [ "$(echo "$b" | wc -l)" = 1 ] && [ "$a" != "$b" ] ||
        t_fail "--session-cookie, live: alice and bob not one key each: $(cat "$T_DIR/live.keys")"
done
t_eq "-i lo --session-cookie: distinct sessions" 4 "$(grep -v '^/health' "$T_DIR/live.keys" | cut -d' ' -f2 | grep '^session:' | sort -u | wc -l)"
t_log "ok: -i lo --session-cookie keys each user's exchanges apart, logins included"

pcap cookie --session-cookie session
t_eq "--pcap --session-cookie: the same keys as live" "$(cat "$T_DIR/live.keys")" "$(keys "$T_DIR/cookie.mp")"

pcap fwd --session-forwarded
t_eq "--pcap --session-forwarded: the balancer's clients" \
    "$(printf '10.0.0.1\n10.0.0.2\n10.9.9.9\n')" "$(keys "$T_DIR/fwd.mp" | cut -d' ' -f2 | sort -u)"
t_eq "--session-forwarded: the scraper's key" "/health 10.9.9.9" "$(keys "$T_DIR/fwd.mp" | grep '^/health' | sort -u)"

# the scraper's request has no cookie: with the cookie alone it takes the last
# session of the balancer's connection (a user's), with --session-forwarded its own
pcap both --session-cookie session --session-forwarded
t_eq "--session-cookie --session-forwarded: the scraper is itself" "/health 10.9.9.9" \
    "$(keys "$T_DIR/both.mp" | grep '^/health' | sort -u)"
t_eq "--session-cookie --session-forwarded: users keep their sessions" \
    "$(grep -v '^/health' "$T_DIR/live.keys")" "$(keys "$T_DIR/both.mp" | grep -v '^/health')"

pcap tenant --session-header X-Tenant
keys "$T_DIR/tenant.mp" | grep -v '^/health' | cut -d' ' -f2 >"$T_DIR/tenant.keys"
t_eq "--pcap --session-header: one key per tenant, across both rounds" "1 1 2" \
    "$(sed -n '1,3p;7,9p' "$T_DIR/tenant.keys" | sort -u | wc -l) $(sed -n '4,6p;10,12p' "$T_DIR/tenant.keys" | sort -u | wc -l) $(sort -u "$T_DIR/tenant.keys" | wc -l)"

pcap plain
t_eq "without an option: one client" "127.0.0.1" "$(keys "$T_DIR/plain.mp" | cut -d' ' -f2 | sort -u)"

pcap noscraper --session-forwarded --exclude-path '^/health'
t_eq "--exclude-path drops the scraper" "12 0" \
    "$(keys "$T_DIR/noscraper.mp" | wc -l) $(keys "$T_DIR/noscraper.mp" | grep -c '^/health')"
grep -q '2 filtered out' "$T_DIR/noscraper.log" || t_fail "filtered count: $(cat "$T_DIR/noscraper.log")"
t_log "ok: --exclude-path '^/health' leaves the scraper out (2 filtered out)"
