# Passive capture of gRPC over h2c: tcpdump records a real grpcio client and
# server on loopback; aiotest-capture --pcap gives the same records as the
# proxy (te: trailers, the framed messages, trailers with grpc-status).
# Before, h2flow.c dropped the trailing HEADERS of a response: no grpc-status.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
PY=/usr/bin/python3
$PY -c 'import grpc' 2>/dev/null || t_skip "python3-grpcio is not installed"
t_need tcpdump
[ "$(id -u)" = 0 ] || t_skip "tcpdump on lo needs root"
GPORT=$(t_port)
t_bg grpcserver $PY "$AIOTEST_SRC/tests/integration/replay/grpcserver.py" "$GPORT" "$T_DIR/calls.log"
t_wait_port "$GPORT" 20
t_bg tcpdump tcpdump -i lo -B 131072 --immediate-mode -U -w "$T_DIR/grpc.pcap" "tcp port $GPORT"
TD=$T_LAST_PID
for _ in $(seq 100); do grep -q 'listening on' "$T_DIR/tcpdump.log" && break; sleep 0.1; done
grep -q 'listening on' "$T_DIR/tcpdump.log" || t_fail "tcpdump did not start"
got=$(timeout 30 $PY "$AIOTEST_SRC/tests/integration/capture/grpcclient.py" "127.0.0.1:$GPORT")
t_eq "the client's calls" "Unary OK 6563686f3a6869
Stream OK 70617274303a616263,70617274313a616263,70617274323a616263
Down UNAVAILABLE" "$got"
sleep 0.5
kill -INT "$TD"; wait "$TD"
grep -q '^0 packets dropped by kernel' "$T_DIR/tcpdump.log" || t_log "note: $(grep dropped "$T_DIR/tcpdump.log")"
"$T_CAPTURE" --pcap "$T_DIR/grpc.pcap" -o "$T_DIR/rec.mp" >"$T_DIR/cap.out" 2>&1 || t_fail "--pcap: $(cat "$T_DIR/cap.out")"
"$T_CONVERT" --dump "$T_DIR/rec.mp" >"$T_DIR/rec.json" || t_fail "--dump"
$PY "$AIOTEST_SRC/tests/integration/capture/grpcrec.py" "$T_DIR/rec.json" pcap || t_fail "the pcap's recording"
t_log "ok: trailers and grpc-status recorded from the wire"

# Converted: one request per call, named /service/method, te: trailers and the
# framed bytes kept; replayed over h2c, every call reaches the handlers and
# Down's UNAVAILABLE is a grpc failure.
"$T_CONVERT" "$T_DIR/rec.mp" --json -o "$T_DIR/scn.json" 2>"$T_DIR/convert.err" || t_fail "convert: $(cat "$T_DIR/convert.err")"
$PY - "$T_DIR/scn.json" <<'PY' || t_fail "converted scenario"
import json, sys
s = json.load(open(sys.argv[1]))
reqs = [r for c in s["classes"] for st in c["tasks"] for r in st["requests"]]
names = sorted(r.get("name", "") for r in reqs)
assert names == ["/aiotest.Echo/Down", "/aiotest.Echo/Stream", "/aiotest.Echo/Unary"], names
for r in reqs:
    hs = {k.lower(): v for k, v in r["headers"]}
    assert hs.get("te") == "trailers", r
    assert hs.get("content-type") == "application/grpc", r
u = [r for r in reqs if r["name"] == "/aiotest.Echo/Unary"][0]
assert u["body"] == "\u0000\u0000\u0000\u0000\u0002hi", u["body"]
print("scenario:", names, "proto:", s["hosts"][0].get("proto", "auto"))
PY
: >"$T_DIR/calls.log"
timeout 120 "$T_REPLAY" "$T_DIR/scn.json" --host "http://127.0.0.1:$GPORT" -u 2 --iterations 3 \
    --report "$T_DIR/r.json" >"$T_DIR/replay.out" 2>"$T_DIR/replay.err"
cat "$T_DIR/replay.out"
t_eq "replayed calls reached the handlers" 18 "$(wc -l <"$T_DIR/calls.log")"
t_eq "only Down's calls failed, as grpc UNAVAILABLE" "6 {'UNAVAILABLE': 6}" "$($PY -c '
import json,sys; r=json.load(open(sys.argv[1]))
d=[e for e in r["entries"] if e["name"].endswith("Down")][0]
print(r["total"]["failures"], d.get("grpc_status"))' "$T_DIR/r.json")"
