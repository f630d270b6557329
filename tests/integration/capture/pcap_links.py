#!/usr/bin/python3
"""Writes one pcap per link layer or encapsulation into DIR, each holding one
HTTP/1.1 exchange (handshake, GET /enc/NAME, a 200 answer whose body names the
file, FINs), plus frames that are not TCP/IP to be counted by name.
Run with Debian's /usr/bin/python3 (python3-scapy)."""
import sys
from scapy.all import (ARP, GRE, IP, IPv6, LLC, PPP, PPPoE, PPPoED, SNAP, TCP, UDP, Dot1Q, Dot11,
                       Dot11QoS, Ether, RadioTap, Raw, wrpcap, conf)
from scapy.contrib.mpls import MPLS
from scapy.layers.vxlan import VXLAN

conf.verb = 0
out = sys.argv[1]
C, S = "10.0.0.1", "10.0.0.2"


def exchange(name, v6=False):
    """The IP packets of one HTTP exchange (as scapy layers)."""
    req = f"GET /enc/{name} HTTP/1.1\r\nHost: shop.test\r\nUser-Agent: t\r\n\r\n".encode()
    body = f"body of {name}\n".encode() * 3
    resp = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    ip_c = IPv6(src="fd00::1", dst="fd00::2") if v6 else IP(src=C, dst=S)
    ip_s = IPv6(src="fd00::2", dst="fd00::1") if v6 else IP(src=S, dst=C)
    cs, ss = 1000, 5000
    return [
        ip_c / TCP(sport=40000, dport=80, flags="S", seq=cs),
        ip_s / TCP(sport=80, dport=40000, flags="SA", seq=ss, ack=cs + 1),
        ip_c / TCP(sport=40000, dport=80, flags="A", seq=cs + 1, ack=ss + 1),
        ip_c / TCP(sport=40000, dport=80, flags="PA", seq=cs + 1, ack=ss + 1) / Raw(req),
        ip_s / TCP(sport=80, dport=40000, flags="A", seq=ss + 1, ack=cs + 1 + len(req)),
        ip_s / TCP(sport=80, dport=40000, flags="PA", seq=ss + 1, ack=cs + 1 + len(req)) / Raw(resp),
        ip_c / TCP(sport=40000, dport=80, flags="A", seq=cs + 1 + len(req), ack=ss + 1 + len(resp)),
        ip_c / TCP(sport=40000, dport=80, flags="FA", seq=cs + 1 + len(req), ack=ss + 1 + len(resp)),
        ip_s / TCP(sport=80, dport=40000, flags="FA", seq=ss + 1 + len(resp), ack=cs + 2 + len(req)),
        ip_c / TCP(sport=40000, dport=80, flags="A", seq=cs + 2 + len(req), ack=ss + 2 + len(resp)),
    ], body


def write(name, frames, linktype=None):
    for i, f in enumerate(frames):
        f.time = 1700000000 + i / 100
    wrpcap(f"{out}/{name}.pcap", frames, linktype=linktype)
    return name


def eth(p, t=None):
    e = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    return e / p if t is None else e / t / p


def wifi_hdr(qos):
    # to-DS data frame: addr1 BSSID, addr2 source, addr3 destination
    d = Dot11(type=2, subtype=8 if qos else 0, FCfield="to-DS",
              addr1="02:00:00:00:00:aa", addr2="02:00:00:00:00:01", addr3="02:00:00:00:00:02")
    return d / Dot11QoS(TID=5) if qos else d


made = {}
pk, body = exchange("ethernet")
made["ethernet"] = write("ethernet", [eth(p) for p in pk] + [Ether() / ARP()])
pk, body = exchange("vlan")
made["vlan"] = write("vlan", [eth(p, Dot1Q(vlan=10) / Dot1Q(vlan=20)) for p in pk])
pk, body = exchange("mpls")
made["mpls"] = write("mpls", [Ether(type=0x8847) / MPLS(label=100, s=0, ttl=64) / MPLS(label=200, s=1, ttl=64) / p
                              for p in pk])
pk, body = exchange("pppoe")
made["pppoe"] = write("pppoe", [Ether(type=0x8864) / PPPoE(sessionid=7) / PPP(proto=0x0021) / p for p in pk] +
                      [Ether(type=0x8863) / PPPoED()])
pk, body = exchange("pppoe6", v6=True)
made["pppoe6"] = write("pppoe6", [Ether(type=0x8864) / PPPoE(sessionid=7) / PPP(proto=0x0057) / p for p in pk])
pk, body = exchange("chdlc")
made["chdlc"] = write("chdlc", [Raw(b"\x0f\x00\x08\x00" + bytes(p)) for p in pk] +
                      [Raw(b"\x8f\x00\x80\x35" + b"\x00" * 14)], linktype=104)
pk, body = exchange("radiotap")
made["radiotap"] = write("radiotap", [RadioTap() / wifi_hdr(False) / LLC() / SNAP() / p for p in pk] +
                         [RadioTap() / Dot11(type=2, subtype=0, FCfield="to-DS+protected") / Raw(b"\x00" * 40)],
                         linktype=127)
pk, body = exchange("wifi-qos")
made["wifi-qos"] = write("wifi-qos", [wifi_hdr(True) / LLC() / SNAP() / p for p in pk] +
                         [Dot11(type=0, subtype=8) / Raw(b"\x00" * 20)], linktype=105)
pk, body = exchange("vxlan")
made["vxlan"] = write("vxlan", [eth(IP(src="192.168.1.1", dst="192.168.1.2") / UDP(sport=51000, dport=4789) /
                                    VXLAN(vni=42) / Ether(src="02:00:00:00:01:01", dst="02:00:00:00:01:02") / p)
                                for p in pk] + [eth(IP(src=C, dst=S) / UDP(sport=5353, dport=53) / Raw(b"dns"))])
pk, body = exchange("gre")
made["gre"] = write("gre", [eth(IP(src="192.168.1.1", dst="192.168.1.2") / GRE() / p) for p in pk])
pk, body = exchange("gre-teb")
made["gre-teb"] = write("gre-teb", [eth(IP(src="192.168.1.1", dst="192.168.1.2") / GRE(proto=0x6558, key_present=1,
                                                                                          key=9) /
                                        Ether(src="02:00:00:00:01:01", dst="02:00:00:00:01:02") / p) for p in pk])
print(" ".join(made))
