#include "ip.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_GRE 47
#define PORT_VXLAN 4789
#define MAX_DEPTH 4   /* tunnels inside tunnels */

static enum ip_result packet(const uint8_t *p, size_t len, ip_tcpseg_t *seg, int depth);

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static enum ip_result tcp(const uint8_t *p, size_t len, ip_tcpseg_t *seg)
{
    if (len < 20)
        return IP_MALFORMED;
    size_t hl = (size_t)(p[12] >> 4) * 4;
    if (hl < 20 || hl > len)
        return IP_MALFORMED;
    seg->sport = be16(p);
    seg->dport = be16(p + 2);
    seg->seq = be32(p + 4);
    seg->ack = be32(p + 8);
    seg->flags = p[13];
    seg->payload = p + hl;
    seg->len = len - hl;
    return IP_TCP;
}

static enum ip_result not_tcp(ip_tcpseg_t *seg, const char *what)
{
    seg->what = what;
    return IP_NOT_TCP;
}

/* GRE (RFC 2784/2890): optional checksum, key and sequence fields, then IP
 * or an Ethernet frame. */
static enum ip_result gre(const uint8_t *p, size_t len, ip_tcpseg_t *seg, int depth)
{
    if (len < 4)
        return IP_MALFORMED;
    if ((p[1] & 7) != 0)
        return not_tcp(seg, "GRE version 1 (PPTP)");
    size_t at = 4 + ((p[0] & 0x80) ? 4 : 0) + ((p[0] & 0x20) ? 4 : 0) + ((p[0] & 0x10) ? 4 : 0);
    if (at > len)
        return IP_MALFORMED;
    switch (be16(p + 2)) {
    case 0x0800: case 0x86dd:
        return packet(p + at, len - at, seg, depth + 1);
    case 0x6558:
        seg->payload = p + at;
        seg->len = len - at;
        return IP_ETHERNET;
    default:
        return not_tcp(seg, "GRE other payload (ERSPAN, PPP, ...)");
    }
}

/* UDP: VXLAN (8-byte header, then an Ethernet frame) is read; the rest is
 * not TCP. */
static enum ip_result udp(const uint8_t *p, size_t len, ip_tcpseg_t *seg)
{
    if (len < 8)
        return IP_MALFORMED;
    if (be16(p + 2) != PORT_VXLAN)
        return not_tcp(seg, "UDP");
    if (len < 16 || !(p[8] & 0x08))
        return not_tcp(seg, "VXLAN without a network id");
    seg->payload = p + 16;
    seg->len = len - 16;
    return IP_ETHERNET;
}

/* The protocol after an IP header. */
static enum ip_result next_proto(uint8_t proto, const uint8_t *p, size_t len, ip_tcpseg_t *seg, int depth)
{
    if (depth >= MAX_DEPTH && proto != PROTO_TCP)
        return not_tcp(seg, "tunnels nested too deep");
    switch (proto) {
    case PROTO_TCP: return tcp(p, len, seg);
    case 4: case 41: return packet(p, len, seg, depth + 1);
    case PROTO_GRE: return gre(p, len, seg, depth);
    case PROTO_UDP: return udp(p, len, seg);
    case 1: case 58: return not_tcp(seg, "ICMP");
    case 50: return not_tcp(seg, "IPsec ESP");
    default: return not_tcp(seg, "other IP protocol");
    }
}

static enum ip_result ipv4(const uint8_t *p, size_t len, ip_tcpseg_t *seg, int depth)
{
    if (len < 20)
        return IP_MALFORMED;
    size_t hl = (size_t)(p[0] & 0x0f) * 4, total = be16(p + 2);
    /* total 0: a TSO packet captured before segmentation; trust the capture */
    if (total == 0)
        total = len;
    if (hl < 20 || total < hl || total > len)
        return IP_MALFORMED;
    if ((be16(p + 6) & 0x3fff) != 0) /* more-fragments flag or an offset */
        return IP_FRAGMENT;
    seg->family = 4;
    memset(seg->src, 0, sizeof seg->src);
    memset(seg->dst, 0, sizeof seg->dst);
    memcpy(seg->src, p + 12, 4);
    memcpy(seg->dst, p + 16, 4);
    return next_proto(p[9], p + hl, total - hl, seg, depth);
}

/* Walks the extension headers that may precede TCP. */
static enum ip_result ipv6(const uint8_t *p, size_t len, ip_tcpseg_t *seg, int depth)
{
    if (len < 40)
        return IP_MALFORMED;
    size_t total = 40 + (size_t)be16(p + 4);
    if (total == 40) /* jumbogram or TSO: trust the capture */
        total = len;
    if (total > len)
        return IP_MALFORMED;
    seg->family = 6;
    memcpy(seg->src, p + 8, 16);
    memcpy(seg->dst, p + 24, 16);
    uint8_t next = p[6];
    size_t at = 40;
    for (;;) {
        switch (next) {
        case 44: /* fragment */
            return IP_FRAGMENT;
        case 0: case 43: case 60: /* hop-by-hop, routing, destination options */
            if (at + 8 > total)
                return IP_MALFORMED;
            next = p[at];
            at += 8 + (size_t)p[at + 1] * 8;
            if (at > total)
                return IP_MALFORMED;
            break;
        default:
            return next_proto(next, p + at, total - at, seg, depth);
        }
    }
}

static enum ip_result packet(const uint8_t *p, size_t len, ip_tcpseg_t *seg, int depth)
{
    if (len < 1)
        return IP_MALFORMED;
    switch (p[0] >> 4) {
    case 4: return ipv4(p, len, seg, depth);
    case 6: return ipv6(p, len, seg, depth);
    default: return IP_MALFORMED;
    }
}

enum ip_result ip_tcp(const uint8_t *p, size_t len, ip_tcpseg_t *seg)
{
    seg->what = NULL;
    return packet(p, len, seg, 0);
}

void ip_addr_str(uint8_t family, const uint8_t addr[16], char *buf, size_t len)
{
    if (inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, buf, (socklen_t)len) == NULL && len > 0)
        buf[0] = '\0';
}
