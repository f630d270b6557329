/* ip: reads an IPv4 or IPv6 packet down to its TCP segment, through the
 * tunnels that carry IP in IP: IP-in-IP (4, 41), GRE (IP, or Ethernet with
 * transparent bridging) and VXLAN (UDP port 4789). An Ethernet frame inside a
 * tunnel is handed back (IP_ETHERNET) for the link layer to read. Fragments
 * are not reassembled (HTTP over TCP practically never fragments: TCP sizes
 * its segments to the path MTU); they are reported so the caller can count
 * them. */
#ifndef CAPTURE_PCAP_IP_H
#define CAPTURE_PCAP_IP_H

#include <stddef.h>
#include <stdint.h>

enum ip_result {
    IP_TCP = 0,     /* *seg is filled */
    IP_NOT_TCP,     /* UDP, ICMP, ... */
    IP_FRAGMENT,    /* an IPv4 or IPv6 fragment: skipped */
    IP_MALFORMED,   /* header cut short or inconsistent */
    IP_ETHERNET,    /* a tunnel carries an Ethernet frame: seg->payload, seg->len */
};

enum { TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_ACK = 0x10 };

/* One TCP segment; payload is a slice of the packet. Addresses are 16 bytes
 * for both families (IPv4 in the first 4, the rest zero). */
typedef struct ip_tcpseg {
    uint8_t family;          /* 4 or 6 */
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;           /* TCP_* */
    const uint8_t *payload;
    size_t len;
    const char *what;        /* IP_NOT_TCP: what the packet carried ("UDP", "ICMP", ...) */
} ip_tcpseg_t;

/* Parses p[0..len) (a capture may add link padding after the IP packet; the
 * IP length wins). */
enum ip_result ip_tcp(const uint8_t *p, size_t len, ip_tcpseg_t *seg);

/* "1.2.3.4" or "::1" into buf. */
void ip_addr_str(uint8_t family, const uint8_t addr[16], char *buf, size_t len);

#endif
