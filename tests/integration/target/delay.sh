#!/bin/bash
# --delay-ms delays /api/ and /checkout answers without holding a server thread:
# fixed and ranged delays, many delayed requests at once on one thread, requests
# outside /api/ unaffected, and /_control changing the delay at runtime.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/target/helpers.sh"
t_need curl python3

# time_of PATH: seconds curl took for one GET.
time_of() {
    curl -s -o /dev/null -w '%{time_total}' "$TARGET_URL$1" || t_fail "curl $1"
}
# within LO HI X: LO <= X <= HI (decimals).
within() {
    python3 -c 'import sys; lo, hi, x = map(float, sys.argv[1:]); sys.exit(not lo <= x <= hi)' "$@"
}
# parallel N PATH: N concurrent GETs in one curl; writes "code seconds" lines to
# $T_DIR/parallel and sets WALL to the wall time of the whole batch.
parallel() {
    local n=$1 path=$2 args=() i start
    for i in $(seq "$n"); do args+=("$TARGET_URL$path" -o /dev/null); done
    start=$(date +%s.%N)
    curl -s --parallel --parallel-immediate --parallel-max "$n" \
        -w '%{http_code} %{time_total}\n' "${args[@]}" >"$T_DIR/parallel" || t_fail "curl --parallel"
    WALL=$(python3 -c "import sys; print(round($(date +%s.%N) - $start, 3))")
    t_eq "$n answers" "$n" "$(wc -l <"$T_DIR/parallel")"
    t_eq "all $n answered 200" "$n" "$(grep -c '^200 ' "$T_DIR/parallel")"
}

# A fixed delay; one server thread, so a sleeping thread would serialise everything.
# Upper bounds are wide (a loaded CI runner stalls curl too); what they tell
# apart is a delay served concurrently from one served in turn (10 s, 300 s).
target_start --quiet --threads 1 --delay-ms 50
for i in 1 2 3; do
    t_check "delay 50 ms: API request $i took $(time_of /api/item/$i) s (0.045-5)" \
        within 0.045 5 "$(time_of /api/item/$i)"
done
t_check "delay 50 ms: /checkout is delayed too" within 0.045 5 "$(time_of /checkout)"
t_check "delay 50 ms: a POST is delayed too" within 0.045 5 \
    "$(curl -s -o /dev/null -w '%{time_total}' -X POST -d '{}' "$TARGET_URL/api/login")"
target_stop

target_start --quiet --threads 1 --delay-ms 200
parallel 50 /api/search?q=x
t_check "50 concurrent requests delayed 200 ms finish in < 5 s on one thread, not 10 s ($WALL s)" \
    within 0 5 "$WALL"
t_check "each of them took >= 0.195 s" \
    awk '$2 < 0.195 { exit 1 }' "$T_DIR/parallel"
target_stop

target_start --quiet --threads 1 --delay-ms 1000
parallel 300 /api/item/1
t_check "300 concurrent requests delayed 1 s finish in < 30 s, not 300 s ($WALL s)" within 0 30 "$WALL"
# While API requests sleep, other requests are answered at once.
curl -s -X POST "$TARGET_URL/_control?delay_ms=20000" >/dev/null
curl -s -o /dev/null "$TARGET_URL/api/item/2" &
SLOW=$!
T_PIDS+=("$SLOW")
sleep 0.5
H=$(time_of /health)
t_check "/health answered in < 10 s while an API request is delayed 20 s ($H s)" within 0 10 "$H"
kill "$SLOW" 2>/dev/null; wait "$SLOW" 2>/dev/null
target_stop

# A range: every delay inside it, and not all the same.
target_start --quiet --delay-ms 100-300
for i in $(seq 20); do time_of /api/search?q=r; echo; done >"$T_DIR/range"
t_check "delay 100-300 ms: every request took 0.095-5 s" \
    awk '$1 < 0.095 || $1 > 5 { exit 1 }' "$T_DIR/range"
SPREAD=$(sort -n "$T_DIR/range" | sed -n '1p;$p' | paste -sd' ' | awk '{ print $2 - $1 }')
t_check "delay 100-300 ms: delays vary (spread $SPREAD s > 0.05)" within 0.05 10 "$SPREAD"
target_stop

# /_control changes the delay of a running server; it is not counted.
target_start --quiet
t_check "no delay at start" within 0 2 "$(time_of /api/item/1)"
req - POST "/_control?delay_ms=3000"
expect "_control delay_ms=3000" 200
t_eq "_control answers the delay" '{"min": 3000, "max": 3000}' "$(jget "$BODY" 'v["delay_ms"]')"
t_check "after /_control delay_ms=3000: >= 2.99 s" within 2.99 20 "$(time_of /api/item/1)"
req - POST "/_control?delay_ms=0-0"
t_check "after /_control delay_ms=0-0: < 2 s" within 0 2 "$(time_of /api/item/1)"
req - POST "/_control?delay_ms=9-3"
expect "_control with a reversed range" 400
t_check "the error names delay_ms" grep -q delay_ms <<<"$BODY"
req - POST "/_control?fail_rate=2"
expect "_control with fail_rate 2" 400
req - GET /stats
t_eq "only the three API requests are counted" 3 "$(jget "$BODY" 'v["total"]')"
target_stop
