# gRPC through the capture: a real grpcio client and server (TLS, h2 on both
# sides of the MITM proxy; h2c through --reverse). Before, trailers were not
# forwarded (uph2.c) and te: trailers was dropped: every call failed at the
# client. Now the client sees OK (and UNAVAILABLE where the server says so),
# and the recording holds te: trailers, the trailers and grpc-status.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
PY=/usr/bin/python3
$PY -c 'import grpc' 2>/dev/null || t_skip "python3-grpcio is not installed"
t_need openssl
t_selfsigned grpc
CA="$T_DIR/ca"
"$T_CAPTURE" --init-ca "$CA" >/dev/null || t_fail "--init-ca"
GPORT=$(t_port)
t_bg grpcserver $PY "$AIOTEST_SRC/tests/integration/replay/grpcserver.py" "$GPORT" "$T_DIR/calls.log" \
    "$T_DIR/grpc.crt" "$T_DIR/grpc.key"
t_wait_port "$GPORT" 20
CLIENT="$AIOTEST_SRC/tests/integration/capture/grpcclient.py"
want="Unary OK 6563686f3a6869
Stream OK 70617274303a616263,70617274313a616263,70617274323a616263
Down UNAVAILABLE"
t_eq "direct: the client sees OK" "$want" "$(timeout 30 $PY "$CLIENT" "localhost:$GPORT" --ca "$T_DIR/grpc.crt")"

# The recording: one exchange per call, as JSON.
check_rec() { # FILE LABEL
    "$T_CONVERT" --dump "$1" >"$T_DIR/$2.json" || t_fail "--dump $1"
    $PY "$AIOTEST_SRC/tests/integration/capture/grpcrec.py" "$T_DIR/$2.json" "$2" || t_fail "$2: recording"
}

# MITM: CONNECT, TLS with the capture's CA on both sides, h2 both ways.
cap_start -o "$T_DIR/mitm.mp" --connect-ports "$GPORT" --ca "$CA" --upstream-ca "$T_DIR/grpc.crt"
got=$(timeout 30 $PY "$CLIENT" "localhost:$GPORT" --ca "$CA/ca.pem" --proxy "$CAP_PROXY")
t_eq "through --proxy --ca: the client sees what it sees directly" "$want" "$got"
cap_stop INT
check_rec "$T_DIR/mitm.mp" mitm

# --reverse: the client speaks h2c to the capture, the capture h2 over TLS upstream.
RPORT=$(t_port)
t_bg reverse "$T_CAPTURE" --reverse "https://localhost:$GPORT" --proxy ":$RPORT" -o "$T_DIR/rev.mp" \
    --upstream-ca "$T_DIR/grpc.crt"
RPID=$T_LAST_PID
t_wait_port "$RPORT"
got=$(timeout 30 $PY "$CLIENT" "127.0.0.1:$RPORT")
t_eq "through --reverse (h2c in front)" "$want" "$got"
kill -INT "$RPID"; wait "$RPID" || t_fail "reverse capture exit status"
check_rec "$T_DIR/rev.mp" reverse
t_eq "every call reached the server's handlers (3 direct, 3 MITM, 3 reverse)" 9 "$(wc -l <"$T_DIR/calls.log")"
