# A recording given to aiotest-replay is converted in memory with default
# settings: capture -> replay without a convert step.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
[ -x "$T_CONVERT" ] || t_skip "aiotest-convert not built (needed to write the test recording)"
t_target --quiet
ex() { # ex CLIENT T_START_US TARGET
    printf '{"client": "%s", "conn": 1, "t_start_us": %s, "t_first_byte_us": %s, "t_end_us": %s,
      "scheme": "http", "authority": "shop.test:9", "method": "GET", "target": "%s",
      "http_version": "HTTP/1.1", "req_headers": [["Host", "shop.test:9"]], "status": 200,
      "resp_headers": [["Content-Length", "2"]], "resp_body": "ok"}' "$1" "$2" $(($2 + 500)) $(($2 + 1000)) "$3"
}
cat >"$T_DIR/rec.json" <<JSON
{"header": {"format": "aiotest-recording", "version": [1, 0], "created_us": 1, "source": "proxy", "tool": "test"},
 "exchanges": [
  $(ex 10.0.0.1 1000000 /health), $(ex 10.0.0.1 1100000 /api/item/5),
  $(ex 10.0.0.2 1000000 /health), $(ex 10.0.0.2 1100000 /api/item/5)
 ]}
JSON
"$T_CONVERT" --from-json "$T_DIR/rec.json" -o "$T_DIR/rec.mp" 2>"$T_DIR/conv.err" || { cat "$T_DIR/conv.err"; t_fail "writing the recording"; }

r_replay "$T_DIR/rec.mp" --host "$TARGET_URL" -u 3 --iterations 2 --report "$T_DIR/r.json"
t_eq "exit status" 0 "$R_RC"
t_check "said it converted the recording" grep -q "converted with default settings" "$T_DIR/replay.err"
curl -s "$TARGET_URL/stats" >"$T_DIR/stats.json"
t_eq "/health: 3 users x 2 iterations" 6 "$(r_json "$T_DIR/stats.json" 'r["endpoints"]["GET /health"]')"
t_eq "/api/item: 3 users x 2 iterations" 6 "$(r_json "$T_DIR/stats.json" 'r["endpoints"]["GET /api/item/{id}"]')"
t_eq "the report agrees" 12 "$(r_json "$T_DIR/r.json" 'r["total"]["count"]')"
