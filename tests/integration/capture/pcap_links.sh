#!/usr/bin/env bash
# Link layers and tunnels in --pcap: Ethernet, VLAN (QinQ), MPLS, PPPoE (IPv4
# and IPv6), Cisco HDLC (link type 104), 802.11 with radiotap (127) and plain
# QoS data (105), VXLAN and GRE (IP and Ethernet inside). pcap_links.py writes
# one pcap per kind with Scapy, each holding one HTTP exchange; each must give
# that exchange with its body, complete; the frames that are not TCP/IP in
# them are counted by name.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
/usr/bin/python3 -c 'import scapy' 2>/dev/null || t_skip "python3-scapy is not installed"
mkdir -p "$T_DIR/pcaps"
kinds=$(/usr/bin/python3 "$AIOTEST_SRC/tests/integration/capture/pcap_links.py" "$T_DIR/pcaps" 2>"$T_DIR/scapy.log") ||
    t_fail "pcap_links.py: $(cat "$T_DIR/scapy.log")"

# kind -> what its frames that are not the exchange must be counted as
declare -A named=(
    [ethernet]='ARP 1' [pppoe]='PPPoE discovery 1' [chdlc]='Cisco HDLC keepalive (SLARP) 1'
    [radiotap]='802.11 encrypted data 1' [wifi-qos]='802.11 management 1' [vxlan]='UDP 1'
)
n=0
for k in $kinds; do
    "$T_CAPTURE" --pcap "$T_DIR/pcaps/$k.pcap" -o "$T_DIR/$k.mp" 2>"$T_DIR/$k.log" ||
        t_fail "$k: aiotest-capture: $(cat "$T_DIR/$k.log")"
    body=$(printf 'body of %s\n' "$k" "$k" "$k" | sha256sum | cut -d' ' -f1)
    t_eq "$k: the exchange, its body, complete" \
        "$(printf 'GET\thttp://shop.test/enc/%s\t200\t%s\t-' "$k" "$body")" \
        "$(cap_dump "$T_DIR/$k.mp" | cut -f1-3,5,6)"
    if [ -n "${named[$k]:-}" ]; then
        grep -qF "not TCP/IP: ${named[$k]}" "$T_DIR/$k.log" ||
            t_fail "$k: expected '${named[$k]}' counted by name: $(cat "$T_DIR/$k.log")"
    else
        ! grep -q 'not TCP/IP' "$T_DIR/$k.log" || t_fail "$k: frames not read: $(cat "$T_DIR/$k.log")"
    fi
    n=$((n + 1))
done
t_eq "kinds of pcap read" 11 "$n"

# A pcapng interface counting seconds with a 64-bit time (2^63 s) cannot be
# held in µs: the packet is read with its time clamped, and counted.
"$T_CAPTURE" --pcap "$AIOTEST_SRC/tests/fuzz/capture/corpus/pcapfile/ts_overflow.pcapng" -o "$T_DIR/ts.mp" \
    2>"$T_DIR/ts.log" || t_fail "time out of range: $(cat "$T_DIR/ts.log")"
grep -q '^aiotest-capture: 1 packets have a time out of range (clamped)$' "$T_DIR/ts.log" ||
    t_fail "clamped time not counted: $(cat "$T_DIR/ts.log")"
t_log "ok: a time out of range is clamped and counted"
