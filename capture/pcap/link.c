#include "link.h"

#include <pcap/dlt.h>

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define NFULA_PAYLOAD 9

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

bool link_supported(int dlt)
{
    switch (dlt) {
    case DLT_EN10MB: case DLT_LINUX_SLL: case DLT_LINUX_SLL2: case DLT_NULL: case DLT_LOOP:
    case DLT_RAW: case DLT_IPV4: case DLT_IPV6: case DLT_NFLOG:
        return true;
    default:
        /* DLT_RAW as other systems number it, and LINKTYPE_RAW unmapped */
        return dlt == 12 || dlt == 14 || dlt == 101;
    }
}

/* An ethertype, after skipping any number of VLAN tags (802.1Q, 802.1ad
 * QinQ and the older 0x9100/0x9200 stacking), at p[at] with the type field at
 * p[at - 2]. */
static enum link_result by_ethertype(const uint8_t *p, size_t len, size_t at,
                                     const uint8_t **ip, size_t *iplen)
{
    uint16_t type = be16(p + at - 2);
    while (type == 0x8100 || type == 0x88a8 || type == 0x9100 || type == 0x9200) {
        if (len < at + 4)
            return LINK_SHORT;
        type = be16(p + at + 2);
        at += 4;
    }
    if (type != ETH_IPV4 && type != ETH_IPV6)
        return LINK_NOT_IP;
    *ip = p + at;
    *iplen = len - at;
    return LINK_IP;
}

/* Raw IP: the version nibble says which. */
static enum link_result raw(const uint8_t *p, size_t len, const uint8_t **ip, size_t *iplen)
{
    if (len < 1)
        return LINK_SHORT;
    if ((p[0] >> 4) != 4 && (p[0] >> 4) != 6)
        return LINK_NOT_IP;
    *ip = p;
    *iplen = len;
    return LINK_IP;
}

/* NFLOG: a 4-byte header, then TLVs in host byte order (the capturing
 * machine's, little-endian in practice); the packet is the PAYLOAD TLV. */
static enum link_result nflog(const uint8_t *p, size_t len, const uint8_t **ip, size_t *iplen)
{
    size_t at = 4;
    if (len < at)
        return LINK_SHORT;
    while (at + 4 <= len) {
        size_t tlen = (size_t)(p[at] | p[at + 1] << 8);
        unsigned type = (unsigned)(p[at + 2] | p[at + 3] << 8);
        if (tlen < 4 || at + tlen > len)
            return LINK_SHORT;
        if (type == NFULA_PAYLOAD)
            return raw(p + at + 4, tlen - 4, ip, iplen);
        at += (tlen + 3) & ~(size_t)3;
    }
    return LINK_NOT_IP;
}

/* BSD NULL: the address family in the byte order of the machine that wrote
 * the file; LOOP: in network order. AF_INET is 2 everywhere; AF_INET6 is
 * 10 (Linux), 24 (NetBSD, OpenBSD), 28 (FreeBSD) or 30 (macOS). */
static enum link_result null_family(const uint8_t *p, size_t len, const uint8_t **ip, size_t *iplen)
{
    if (len < 4)
        return LINK_SHORT;
    uint32_t le = (uint32_t)(p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24);
    uint32_t be = (uint32_t)((uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]);
    uint32_t fam = le < 256 ? le : be;
    if (fam != 2 && fam != 10 && fam != 24 && fam != 28 && fam != 30)
        return LINK_NOT_IP;
    return raw(p + 4, len - 4, ip, iplen);
}

enum link_result link_ip(int dlt, const uint8_t *p, size_t len, const uint8_t **ip, size_t *iplen)
{
    switch (dlt) {
    case DLT_EN10MB:
        return len < 14 ? LINK_SHORT : by_ethertype(p, len, 14, ip, iplen);
    case DLT_LINUX_SLL:
        return len < 16 ? LINK_SHORT : by_ethertype(p, len, 16, ip, iplen);
    case DLT_LINUX_SLL2:
        /* the protocol type is the first field; the header is 20 bytes */
        if (len < 20)
            return LINK_SHORT;
        switch (be16(p)) {
        case ETH_IPV4: case ETH_IPV6: *ip = p + 20; *iplen = len - 20; return LINK_IP;
        default: return LINK_NOT_IP;
        }
    case DLT_NULL: case DLT_LOOP:
        return null_family(p, len, ip, iplen);
    case DLT_NFLOG:
        return nflog(p, len, ip, iplen);
    default:
        return raw(p, len, ip, iplen);
    }
}
