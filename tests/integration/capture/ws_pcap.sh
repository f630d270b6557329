# Passive capture of WebSocket: tcpdump records a real python3-websockets
# client and echo server on loopback; aiotest-capture --pcap parses the frames
# after the 101 into the same message records as the proxy (masking removed,
# byte-exact). Before, only the 101 exchange was recorded, with no message.
# A session that negotiated permessage-deflate cannot be read from the wire:
# it is recorded incomplete with the reason, never as wrong bytes.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
PY=/usr/bin/python3
$PY -c 'import websockets' 2>/dev/null || t_skip "python3-websockets is not installed"
t_need tcpdump
[ "$(id -u)" = 0 ] || t_skip "tcpdump on lo needs root"
D="$AIOTEST_SRC/tests/integration/capture"
WPORT=$(t_port)
t_bg wsserver $PY "$D/wsserver.py" "$WPORT" "$T_DIR/calls.log"
t_wait_port "$WPORT" 20
t_bg tcpdump tcpdump -i lo -B 131072 -U --immediate-mode -w "$T_DIR/ws.pcap" "tcp port $WPORT"
TD=$T_LAST_PID
for _ in $(seq 100); do grep -q 'listening on' "$T_DIR/tcpdump.log" && break; sleep 0.1; done
grep -q 'listening on' "$T_DIR/tcpdump.log" || t_fail "tcpdump did not start"
t_eq "plain session" "ok 3" "$(timeout 30 $PY "$D/wsclient.py" "ws://127.0.0.1:$WPORT/plain" --no-compression)"
t_eq "deflate session" "ok 3" "$(timeout 30 $PY "$D/wsclient.py" "ws://127.0.0.1:$WPORT/deflate")"
sleep 0.5
kill -INT "$TD"; wait "$TD"
grep -q '^0 packets dropped by kernel' "$T_DIR/tcpdump.log" || t_log "note: $(grep dropped "$T_DIR/tcpdump.log")"
"$T_CAPTURE" --pcap "$T_DIR/ws.pcap" -o "$T_DIR/rec.mp" >"$T_DIR/cap.out" 2>&1 || t_fail "--pcap: $(cat "$T_DIR/cap.out")"
"$T_CONVERT" --dump "$T_DIR/rec.mp" >"$T_DIR/rec.json" || t_fail "--dump"
$PY "$D/wsrec.py" "$T_DIR/rec.json" /plain pcap || t_fail "the pcap's recording"
t_eq "the compressed session is incomplete, named" "101 WebSocket frames from the client unreadable" "$($PY -c '
import json,sys
x=[x for x in json.load(open(sys.argv[1]))["exchanges"] if x["target"]=="/deflate"][0]
print(x["status"], x.get("error","")[:43])' "$T_DIR/rec.json")"
