#!/usr/bin/env bash
# The demo: start the demo shop (aiotest-target) on loopback, record scripted
# shopping sessions through the capture proxy, convert the recording into a
# scenario, replay it under a small shape, and print the summary.
# Installs what it needs (as root), builds into build/, keeps its files in demo-out/.
set -u
cd "$(dirname "$0")/.."
src=$(pwd)
out=$src/demo-out
mkdir -p "$out"

say() { printf '\n== %s\n' "$*"; }
missing() { printf '   NOT THERE YET: %s\n' "$*"; }

# AIOTEST_BUILD (set by the test suite) names an existing build to use as is.
b=${AIOTEST_BUILD:-}
if [ -z "$b" ]; then
    say "1. install and build"
    b=build
    bash scripts/install-deps.sh build || exit 1
    [ -f build/build.ninja ] || meson setup build >/dev/null || exit 1
    ninja -C build >/dev/null || { echo "build failed: run 'ninja -C build' to see why"; exit 1; }
fi
out=${DEMO_OUT:-$out}
mkdir -p "$out"
TARGET=$b/target/aiotest-target CAPTURE=$b/capture/aiotest-capture
CONVERT=$b/convert/aiotest-convert REPLAY=$b/replay/aiotest-replay

pids=()
cleanup() { for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

say "2. start the demo shop"
if [ ! -x "$TARGET" ]; then missing "aiotest-target is not built in this checkout"; exit 1; fi
tport=$(port)
"$TARGET" --port "$tport" --quiet >"$out/target.log" 2>&1 & pids+=($!)
wait_port "$tport" || { echo "aiotest-target did not start: $out/target.log"; exit 1; }
shop=http://127.0.0.1:$tport
echo "   aiotest-target on $shop"

say "3. record shopping sessions through aiotest-capture --proxy"
recording=$out/shop.mp
proxy=()
if [ -x "$CAPTURE" ]; then
    pport=$(port)
    rm -f "$recording"
    "$CAPTURE" --proxy "127.0.0.1:$pport" -o "$recording" --session-cookie session >"$out/capture.log" 2>&1 & cpid=$!
    pids+=($cpid)
    wait_port "$pport" || { echo "aiotest-capture did not start: $out/capture.log"; exit 1; }
    proxy=(-x "http://127.0.0.1:$pport")
    echo "   proxy on 127.0.0.1:$pport, recording to $recording"
else
    missing "aiotest-capture: the sessions below go straight to the shop and nothing is recorded"
fi
# One buyer visit: login, search, profile, cart, checkout, order, logout.
buyer() {
    local jar=$out/cookies.$1 tok csrf
    rm -f "$jar"
    tok=$(curl -s "${proxy[@]}" -c "$jar" -b "$jar" -H 'Content-Type: application/json' \
          -d "{\"user\":\"user$1\",\"password\":\"secret\"}" "$shop/api/login" |
          python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
    curl -s "${proxy[@]}" -b "$jar" "$shop/api/search?q=shoes" >/dev/null
    curl -s "${proxy[@]}" -b "$jar" -H "Authorization: Bearer $tok" "$shop/api/profile" >/dev/null
    curl -s "${proxy[@]}" -b "$jar" -c "$jar" -H 'Content-Type: application/json' \
         -d '{"item":42,"qty":1}' "$shop/api/cart" >/dev/null
    csrf=$(curl -s "${proxy[@]}" -b "$jar" "$shop/checkout" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p')
    curl -s "${proxy[@]}" -b "$jar" -d "csrf=$csrf" "$shop/api/order" >/dev/null
    curl -s "${proxy[@]}" -b "$jar" -X POST "$shop/api/logout" >/dev/null
}
# One browser visit: the page, its assets, a search and two items.
browser() {
    local p
    for p in / /static/app.js /static/style.css /static/logo.png "/api/search?q=hats" /api/item/7 /api/item/9; do
        curl -s "${proxy[@]}" "$shop$p" >/dev/null
    done
}
for i in 1 2 3; do buyer "$i"; done
browser
echo "   3 buyer visits and 1 browsing visit sent"
if [ -n "${cpid:-}" ]; then
    kill -INT "$cpid"; wait "$cpid" 2>/dev/null
    tail -1 "$out/capture.log" | sed 's/^/   /'
fi

say "4. convert the recording into a scenario"
scenario=""
if [ -x "$CONVERT" ] && [ -s "$recording" ]; then
    if "$CONVERT" "$recording" -o "$out/shop-scenario.mp" 2>"$out/convert.log"; then
        sed 's/^/   /' "$out/convert.log"
        "$CONVERT" --dump "$out/shop-scenario.mp" >"$out/shop-scenario.json" 2>/dev/null &&
            echo "   scenario: $out/shop-scenario.mp (JSON view: $out/shop-scenario.json)"
        scenario=$out/shop-scenario.mp
    else
        sed 's/^/   /' "$out/convert.log"; echo "   conversion failed"
    fi
else
    [ -x "$CONVERT" ] || missing "aiotest-convert is not built in this checkout"
    [ -s "$recording" ] || missing "no recording to convert"
    if [ -f scenarios/examples/shop.json ]; then
        scenario=$src/scenarios/examples/shop.json
        echo "   using the hand-written example scenario instead: $scenario"
    fi
fi

say "5. replay it under a small shape"
cat >"$out/stages.conf" <<'STAGES'
# duration  users  spawn-rate
4s          10     10
4s          20     10
2s          0      20
STAGES
if [ -x "$REPLAY" ] && [ -n "$scenario" ]; then
    curl -s -X POST "$shop/stats/reset" >/dev/null
    "$REPLAY" "$scenario" --shape "$out/stages.conf" --host "$shop" \
        --report "$out/run.json" --html "$out/report.html"
    echo "   exit code $?; report: $out/run.json, $out/report.html"
    echo "   what the shop saw: $(curl -s "$shop/stats")"
else
    [ -x "$REPLAY" ] || missing "aiotest-replay is not built in this checkout"
    [ -n "$scenario" ] || missing "no scenario to replay"
fi
