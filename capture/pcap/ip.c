#include "ip.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#define PROTO_TCP 6

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

static enum ip_result ipv4(const uint8_t *p, size_t len, ip_tcpseg_t *seg)
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
    if (p[9] != PROTO_TCP)
        return IP_NOT_TCP;
    seg->family = 4;
    memset(seg->src, 0, sizeof seg->src);
    memset(seg->dst, 0, sizeof seg->dst);
    memcpy(seg->src, p + 12, 4);
    memcpy(seg->dst, p + 16, 4);
    return tcp(p + hl, total - hl, seg);
}

/* Walks the extension headers that may precede TCP. */
static enum ip_result ipv6(const uint8_t *p, size_t len, ip_tcpseg_t *seg)
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
        case PROTO_TCP:
            return tcp(p + at, total - at, seg);
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
            return IP_NOT_TCP;
        }
    }
}

enum ip_result ip_tcp(const uint8_t *p, size_t len, ip_tcpseg_t *seg)
{
    if (len < 1)
        return IP_MALFORMED;
    switch (p[0] >> 4) {
    case 4: return ipv4(p, len, seg);
    case 6: return ipv6(p, len, seg);
    default: return IP_MALFORMED;
    }
}

void ip_addr_str(uint8_t family, const uint8_t addr[16], char *buf, size_t len)
{
    if (inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, buf, (socklen_t)len) == NULL && len > 0)
        buf[0] = '\0';
}
