# gRPC is judged by grpc-status, never by the HTTP status alone: a real grpcio
# server (unary, server-streaming, and a method that aborts UNAVAILABLE)
# replayed over h2c. Before the fix the scenario's te: trailers was refused,
# and without it the server answered HTTP 200 + grpc-status 3 ("Missing :te
# header") to every call: 30 calls, 0 failures, 0 handler calls.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
PY=/usr/bin/python3
$PY -c 'import grpc' 2>/dev/null || t_skip "python3-grpcio is not installed"
PORT=$(t_port)
t_bg grpcserver $PY "$AIOTEST_SRC/tests/integration/replay/grpcserver.py" "$PORT" "$T_DIR/calls.log"
t_wait_port "$PORT" 20
: >"$T_DIR/calls.log"

r_replay "$AIOTEST_SRC/tests/integration/replay/grpc.json" --host "http://127.0.0.1:$PORT" \
    -u 2 --iterations 5 --timeout 7s --report "$T_DIR/r.json"
t_check "replay ran (exit 0 or 1, not a usage error)" [ "$R_RC" -eq 0 -o "$R_RC" -eq 1 ]
cat "$T_DIR/replay.out"
t_eq "unary calls reached the handler" 10 "$(grep -c '^Unary 6869 ' "$T_DIR/calls.log")"
t_eq "server-streaming calls reached the handler" 10 "$(grep -c '^Stream 616263 ' "$T_DIR/calls.log")"
t_eq "failing calls reached the handler" 10 "$(grep -c '^Down ' "$T_DIR/calls.log")"
t_eq "unary: grpc-status 0 is a success" 0 "$(r_entry "$T_DIR/r.json" 'POST /aiotest.Echo/Unary' failures)"
t_eq "streaming: grpc-status 0 in the trailers is a success" 0 \
    "$(r_entry "$T_DIR/r.json" 'POST /aiotest.Echo/Stream' failures)"
t_eq "UNAVAILABLE is a failure of category grpc" "{'grpc': 10}" \
    "$(r_entry "$T_DIR/r.json" 'POST /aiotest.Echo/Down' fail)"
t_eq "the status names are counted" "{'UNAVAILABLE': 10}" \
    "$(r_entry "$T_DIR/r.json" 'POST /aiotest.Echo/Down' grpc_status)"
t_eq "OK counted per method" "{'OK': 10}" "$(r_entry "$T_DIR/r.json" 'POST /aiotest.Echo/Unary' grpc_status)"
t_eq "total failures" 10 "$(r_json "$T_DIR/r.json" 'r["total"]["failures"]')"
t_check "the summary names the status" grep -q 'grpc UNAVAILABLE' "$T_DIR/replay.out"
# grpc-timeout from --timeout: every handler saw a deadline of at most 7 s.
t_eq "every call carried grpc-timeout" 0 "$(awk '$NF == "none" || $NF > 7.0 || $NF <= 0 {n++} END {print n+0}' "$T_DIR/calls.log")"

# A scenario without te: trailers (hand-written) still reaches the handlers:
# the engine adds it to a request whose content-type is application/grpc.
sed 's/, \["te", "trailers"\]//' "$AIOTEST_SRC/tests/integration/replay/grpc.json" >"$T_DIR/note.json"
: >"$T_DIR/calls.log"
r_replay "$T_DIR/note.json" --host "http://127.0.0.1:$PORT" -u 1 --iterations 2 --timeout 0 --report "$T_DIR/r2.json"
t_eq "without te in the scenario: handlers reached" 6 "$(wc -l <"$T_DIR/calls.log")"
t_eq "without te: only the UNAVAILABLE calls fail" 2 "$(r_json "$T_DIR/r2.json" 'r["total"]["failures"]')"
t_eq "no grpc-timeout with --timeout 0" 6 "$(grep -c ' none$' "$T_DIR/calls.log")"

# te takes only "trailers": anything else is refused at load, naming the place.
sed 's/\["te", "trailers"\]/["te", "gzip"]/' "$AIOTEST_SRC/tests/integration/replay/grpc.json" >"$T_DIR/bad.json"
r_replay "$T_DIR/bad.json" --host "http://127.0.0.1:$PORT" -u 1 --iterations 1
t_eq "te: gzip refused" 2 "$R_RC"
t_check "the error names the header" grep -q "headers\[1\].*te" "$T_DIR/replay.err"

# Over TLS (h2 by ALPN): the same calls reach a TLS server's handlers.
t_selfsigned grpc
TPORT=$(t_port)
t_bg grpctls $PY "$AIOTEST_SRC/tests/integration/replay/grpcserver.py" "$TPORT" "$T_DIR/tls-calls.log" \
    "$T_DIR/grpc.crt" "$T_DIR/grpc.key"
t_wait_port "$TPORT" 20
sed -e "s|\"proto\": \"h2c\"|\"proto\": \"h2\"|" -e "s|http://127.0.0.1:1|https://localhost:1|" "$AIOTEST_SRC/tests/integration/replay/grpc.json" >"$T_DIR/tls.json"
: >"$T_DIR/tls-calls.log"
r_replay "$T_DIR/tls.json" --host "https://localhost:$TPORT" --ca "$T_DIR/grpc.crt" -u 2 --iterations 2 \
    --report "$T_DIR/r3.json"
t_eq "over TLS: handlers reached" 12 "$(wc -l <"$T_DIR/tls-calls.log")"
t_eq "over TLS: carried by h2" 12 "$(r_json "$T_DIR/r3.json" 'r["total"]["protocols"].get("h2", 0)')"
t_eq "over TLS: only the UNAVAILABLE calls fail, as grpc" "4 {'UNAVAILABLE': 4}" \
    "$(r_json "$T_DIR/r3.json" 'str(r["total"]["failures"]) + " " + str([e for e in r["entries"] if e["name"].endswith("Down")][0]["grpc_status"])')"
