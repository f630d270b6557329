#!/bin/bash
# Issue 13 item 1: compressed answers. For each content coding (gzip, br,
# zstd, deflate) aiotest-target answers its API compressed (--compress), a
# shopping session by curl --compressed is recorded through aiotest-capture
# --proxy, converted and replayed against a fresh compressing target: the
# login token (JSON) and the checkout's CSRF field (HTML) must be correlated
# from the compressed bodies, and the replay's extractors must read the
# compressed answers, with zero failures. The recording keeps the bytes as
# sent. Then a coding nobody decodes ("compress") is named in the converter's
# summary line, never silent.
. "$AIOTEST_SRC/tests/integration/lib.sh"
for b in "$T_TARGET" "$T_CAPTURE" "$T_REPLAY"; do
    [ -x "$b" ] || t_skip "$(basename "$b") is not built yet"
done
t_need curl python3
curl --version | grep -q 'brotli' && curl --version | grep -q 'zstd' || t_skip "curl without brotli or zstd"
Q="python3 $AIOTEST_SRC/tests/integration/convert/scnq.py"

# record CODING: one session through the proxy into $T_DIR/CODING.mp.
record() {
    local e=$1
    t_target --quiet --compress "$e"
    local url=$TARGET_URL cp
    cp=$(t_port)
    t_bg "capture-$e" "$T_CAPTURE" --proxy "127.0.0.1:$cp" -o "$T_DIR/$e.mp" --session-cookie session
    local cpid=$T_LAST_PID
    t_wait_port "$cp"
    c() { curl -sS -f --compressed --max-time 10 -x "http://127.0.0.1:$cp" -b "$T_DIR/jar-$e" -c "$T_DIR/jar-$e" "$@"; }
    local login token page csrf
    login=$(c -H 'Content-Type: application/json' -d '{"user": "alice", "password": "secret"}' "$url/api/login") ||
        t_fail "$e: login through the proxy"
    token=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["token"])' "$login") || t_fail "$e: no token: $login"
    c "$url/api/search?q=shoes" >/dev/null || t_fail "$e: search"
    c -H "Authorization: Bearer $token" "$url/api/profile" >/dev/null || t_fail "$e: profile"
    c -H 'Content-Type: application/json' -d '{"item": 3, "qty": 1}' "$url/api/cart" >/dev/null || t_fail "$e: cart"
    page=$(c "$url/checkout") || t_fail "$e: checkout"
    csrf=$(sed -nE 's/.*name="csrf" value="([0-9a-f]+)".*/\1/p' <<<"$page" | head -1)
    [ -n "$csrf" ] || t_fail "$e: no CSRF field in the checkout page"
    c -d "csrf=$csrf" "$url/api/order" >/dev/null || t_fail "$e: order"
    kill "$cpid"
    wait "$cpid" 2>/dev/null
    kill "$TARGET_PID"
    # The recording keeps the bytes as sent: the login answer is coded.
    "$T_CONVERT" --dump "$T_DIR/$e.mp" >"$T_DIR/$e-rec.json"
    python3 - "$T_DIR/$e-rec.json" "$e" <<'PY' || t_fail "$e: the recording does not keep the coded login answer"
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["exchanges"]) == 6, len(d["exchanges"])
x = d["exchanges"][0]
enc = [v for k, v in x["resp_headers"] if k.lower() == "content-encoding"]
assert enc == [sys.argv[2]], enc
body = x.get("resp_body")
assert body is not None and "token" not in json.dumps(body), body
PY
}

for e in gzip br zstd deflate; do
    record "$e"
    "$T_CONVERT" "$T_DIR/$e.mp" -o "$T_DIR/$e-scn.mp" 2>"$T_DIR/$e-convert.log" ||
        t_fail "$e: convert: $(cat "$T_DIR/$e-convert.log")"
    summary=$(grep -E 'correlated' "$T_DIR/$e-convert.log" | tail -1)
    t_log "$e: $summary"
    "$T_CONVERT" --dump "$T_DIR/$e-scn.mp" >"$T_DIR/$e-scn.json"
    $Q "$T_DIR/$e-scn.json" extractors >"$T_DIR/$e-extractors"
    grep -qP '^token\tjson\t\$\.token\tPOST /api/login$' "$T_DIR/$e-extractors" ||
        t_fail "$e: no token extractor from the coded login answer: $(cat "$T_DIR/$e-extractors") / $summary"
    grep -qP '^csrf\tregex\t.*\tGET /checkout$' "$T_DIR/$e-extractors" ||
        t_fail "$e: no CSRF extractor from the coded checkout page: $(cat "$T_DIR/$e-extractors")"
    grep -q 'undecoded' <<<"$summary" && t_fail "$e: the summary names an undecoded coding: $summary"
    # The scenario keeps asking for compressed answers (as the browser did):
    # the replay's extractors must decode them.
    python3 - "$T_DIR/$e-scn.json" <<'PY' || t_fail "$e: a request of the scenario lost its Accept-Encoding"
import json, sys
scn = json.load(open(sys.argv[1]))
n = 0
for c in scn["classes"]:
    for sec in ("on_start", "tasks", "on_stop"):
        for step in c.get(sec, []):
            for r in step["requests"]:
                hs = r.get("headers", [])
                hs = hs.items() if isinstance(hs, dict) else hs
                assert any(k.lower() == "accept-encoding" for k, v in hs), r
                n += 1
assert n == 6, n
PY

    t_target --quiet --compress "$e"
    rc=0
    "$T_REPLAY" "$T_DIR/$e-scn.mp" --host "$TARGET_URL" -u 4 --iterations 2 --think-scale 0 --timeout 10s \
        --report "$T_DIR/$e-run.json" -q >"$T_DIR/$e-run.out" 2>&1 || rc=$?
    curl -sS "$TARGET_URL/stats" >"$T_DIR/$e-stats.json" || t_fail "/stats"
    kill "$TARGET_PID"
    python3 - "$T_DIR/$e-run.json" "$T_DIR/$e-stats.json" "$e" <<'PY' || t_fail "$e: the replay failed (exit $rc): $(tail -3 "$T_DIR/$e-run.out")"
import json, sys
r = json.load(open(sys.argv[1]))
st = json.load(open(sys.argv[2]))
bad = [(e["method"], e["name"], e["fail"]) for e in r["entries"] if e["failures"]]
print("[encoding] %s: replay %d requests, %d failures %s; target statuses %s" % (
    sys.argv[3], r["total"]["count"], r["total"]["failures"], bad, st["status"]))
assert r["total"]["count"] > 0 and r["total"]["failures"] == 0
assert r["bodies"] == {"cut": 0, "undecoded": 0, "dropped_bytes": 0}, r["bodies"]
assert list(st["status"]) == ["200"], st["status"]
PY
    t_eq "$e: replay exit" 0 "$rc"
done

# ---- a coding nobody decodes is named in the summary line.
python3 - "$T_DIR/gzip-rec.json" "$T_DIR/odd-rec.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for x in d["exchanges"]:
    x["resp_headers"] = [[k, "compress" if k.lower() == "content-encoding" else v] for k, v in x["resp_headers"]]
json.dump(d, open(sys.argv[2], "w"))
PY
"$T_CONVERT" --from-json "$T_DIR/odd-rec.json" -o "$T_DIR/odd.mp" || t_fail "--from-json of the edited recording"
"$T_CONVERT" "$T_DIR/odd.mp" -o "$T_DIR/odd-scn.mp" 2>"$T_DIR/odd-convert.log" || t_fail "convert odd: $(cat "$T_DIR/odd-convert.log")"
summary=$(grep -E 'correlated' "$T_DIR/odd-convert.log" | tail -1)
t_log "compress: $summary"
grep -qE '[0-9]+ undecoded \(compress [0-9]+\)' <<<"$summary" || t_fail "the summary does not name the undecoded coding: $summary"
