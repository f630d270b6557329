#include "link.h"

#include <pcap/dlt.h>

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define NFULA_PAYLOAD 9
#define DLT_PRISM 119
#define DLT_AVS 163

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

bool link_supported(int dlt)
{
    switch (dlt) {
    case DLT_EN10MB: case DLT_LINUX_SLL: case DLT_LINUX_SLL2: case DLT_NULL: case DLT_LOOP:
    case DLT_RAW: case DLT_IPV4: case DLT_IPV6: case DLT_NFLOG: case DLT_C_HDLC: case DLT_PPP:
    case DLT_PPP_SERIAL: case DLT_PPP_ETHER: case DLT_IEEE802_11: case DLT_IEEE802_11_RADIO:
    case DLT_PRISM: case DLT_AVS:
        return true;
    default:
        /* DLT_RAW as other systems number it, and LINKTYPE_RAW unmapped */
        return dlt == 12 || dlt == 14 || dlt == 101;
    }
}

static enum link_result not_ip(const char **what, const char *name)
{
    if (what)
        *what = name;
    return LINK_NOT_IP;
}

/* Raw IP: the version nibble says which. */
static enum link_result raw(const uint8_t *p, size_t len, const uint8_t **ip, size_t *iplen,
                            const char **what)
{
    if (len < 1)
        return LINK_SHORT;
    if ((p[0] >> 4) != 4 && (p[0] >> 4) != 6)
        return not_ip(what, "not IPv4 or IPv6");
    *ip = p;
    *iplen = len;
    return LINK_IP;
}

/* A PPP protocol number (RFC 1661; 0x0021 IPv4, 0x0057 IPv6). */
static enum link_result ppp_proto(uint16_t proto, const uint8_t *p, size_t len, const uint8_t **ip,
                                  size_t *iplen, const char **what)
{
    if (proto == 0x0021 || proto == 0x0057)
        return raw(p, len, ip, iplen, what);
    return not_ip(what, proto >= 0xc000 ? "PPP control (LCP, PAP, CHAP)" :
                        proto >= 0x8000 ? "PPP network control (IPCP, IPV6CP)" : "PPP other protocol");
}

/* A PPP protocol field, two bytes or one when compressed (RFC 1661 PFC:
 * an odd first byte), then the packet. */
static enum link_result ppp_field(const uint8_t *p, size_t len, const uint8_t **ip, size_t *iplen,
                                  const char **what)
{
    if (len >= 1 && (p[0] & 1))
        return ppp_proto(p[0], p + 1, len - 1, ip, iplen, what);
    if (len < 2)
        return LINK_SHORT;
    return ppp_proto(be16(p), p + 2, len - 2, ip, iplen, what);
}

/* An MPLS label stack: labels until the bottom-of-stack bit, then IP by its
 * version nibble (an Ethernet pseudowire is not read). */
static enum link_result mpls(const uint8_t *p, size_t len, const uint8_t **ip, size_t *iplen,
                             const char **what)
{
    size_t at = 0;
    for (;;) {
        if (len < at + 4)
            return LINK_SHORT;
        bool bottom = (be32(p + at) & 0x100) != 0;
        at += 4;
        if (bottom)
            break;
    }
    if (len <= at || ((p[at] >> 4) != 4 && (p[at] >> 4) != 6))
        return not_ip(what, "MPLS payload not IP (pseudowire)");
    *ip = p + at;
    *iplen = len - at;
    return LINK_IP;
}

/* An ethertype at p[at - 2], after skipping any number of VLAN tags
 * (802.1Q, 802.1ad QinQ and the older 0x9100/0x9200 stacking); MPLS and PPPoE
 * sessions inside. */
static enum link_result by_ethertype(const uint8_t *p, size_t len, size_t at,
                                     const uint8_t **ip, size_t *iplen, const char **what)
{
    uint16_t type = be16(p + at - 2);
    while (type == 0x8100 || type == 0x88a8 || type == 0x9100 || type == 0x9200) {
        if (len < at + 4)
            return LINK_SHORT;
        type = be16(p + at + 2);
        at += 4;
    }
    switch (type) {
    case ETH_IPV4: case ETH_IPV6:
        *ip = p + at;
        *iplen = len - at;
        return LINK_IP;
    case 0x8847: case 0x8848:
        return mpls(p + at, len - at, ip, iplen, what);
    case 0x8864: { /* PPPoE session: ver/type, code, session id, length, then PPP */
        if (len < at + 8)
            return LINK_SHORT;
        size_t plen = be16(p + at + 4);
        if (at + 6 + plen > len)
            return LINK_SHORT;
        return ppp_field(p + at + 6, plen, ip, iplen, what);
    }
    case 0x8863: return not_ip(what, "PPPoE discovery");
    case 0x0806: return not_ip(what, "ARP");
    case 0x88cc: return not_ip(what, "LLDP");
    case 0x888e: return not_ip(what, "EAPOL");
    default:
        return not_ip(what, type < 0x0600 ? "802.3 LLC (not IP)" : "other ethertype");
    }
}

/* An Ethernet frame (also the inner frame of VXLAN and GRE). */
static enum link_result ethernet(const uint8_t *p, size_t len, const uint8_t **ip, size_t *iplen,
                                 const char **what)
{
    if (len < 14)
        return LINK_SHORT;
    /* 802.3 length with LLC/SNAP: the ethertype follows the SNAP header */
    if (be16(p + 12) < 0x0600 && len >= 22 && p[14] == 0xaa && p[15] == 0xaa && p[16] == 0x03)
        return by_ethertype(p, len, 22, ip, iplen, what);
    return by_ethertype(p, len, 14, ip, iplen, what);
}

/* NFLOG: a 4-byte header, then TLVs in host byte order (the capturing
 * machine's, little-endian in practice); the packet is the PAYLOAD TLV. */
static enum link_result nflog(const uint8_t *p, size_t len, const uint8_t **ip, size_t *iplen,
                              const char **what)
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
            return raw(p + at + 4, tlen - 4, ip, iplen, what);
        at += (tlen + 3) & ~(size_t)3;
    }
    return not_ip(what, "NFLOG without a packet");
}

/* BSD NULL: the address family in the byte order of the machine that wrote
 * the file; LOOP: in network order. AF_INET is 2 everywhere; AF_INET6 is
 * 10 (Linux), 24 (NetBSD, OpenBSD), 28 (FreeBSD) or 30 (macOS). */
static enum link_result null_family(const uint8_t *p, size_t len, const uint8_t **ip, size_t *iplen,
                                    const char **what)
{
    if (len < 4)
        return LINK_SHORT;
    uint32_t le = (uint32_t)(p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24);
    uint32_t be = (uint32_t)((uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]);
    uint32_t fam = le < 256 ? le : be;
    if (fam != 2 && fam != 10 && fam != 24 && fam != 28 && fam != 30)
        return not_ip(what, "loopback family not IP");
    return raw(p + 4, len - 4, ip, iplen, what);
}

/* Cisco HDLC: address, control, then an ethertype. */
static enum link_result chdlc(const uint8_t *p, size_t len, const uint8_t **ip, size_t *iplen,
                              const char **what)
{
    if (len < 4)
        return LINK_SHORT;
    if (be16(p + 2) == 0x8035)
        return not_ip(what, "Cisco HDLC keepalive (SLARP)");
    return by_ethertype(p, len, 4, ip, iplen, what);
}

/* PPP in HDLC-like framing (RFC 1662): ff 03 (may be left out), then the
 * protocol (one byte when compressed: odd first byte). Cisco HDLC in a
 * PPP_SERIAL file starts with 0x0f or 0x8f. */
static enum link_result ppp(const uint8_t *p, size_t len, const uint8_t **ip, size_t *iplen,
                            const char **what)
{
    if (len >= 1 && (p[0] == 0x0f || p[0] == 0x8f))
        return chdlc(p, len, ip, iplen, what);
    size_t at = len >= 2 && p[0] == 0xff && p[1] == 0x03 ? 2 : 0;
    return ppp_field(p + at, len - at, ip, iplen, what);
}

/* An 802.11 frame: data frames (QoS or not, any address layout) that are
 * not protected and carry LLC/SNAP. Control fields are little-endian. */
static enum link_result wifi(const uint8_t *p, size_t len, const uint8_t **ip, size_t *iplen,
                             const char **what)
{
    if (len < 2)
        return LINK_SHORT;
    unsigned type = (p[0] >> 2) & 3, subtype = p[0] >> 4, flags = p[1];
    if (type == 0)
        return not_ip(what, "802.11 management");
    if (type == 1)
        return not_ip(what, "802.11 control");
    if (type != 2)
        return not_ip(what, "802.11 extension");
    if (subtype & 0x4)
        return not_ip(what, "802.11 null data");
    if (flags & 0x40)
        return not_ip(what, "802.11 encrypted data");
    size_t hl = 24;
    if ((flags & 3) == 3)
        hl += 6; /* to and from the DS: a fourth address */
    bool qos = (subtype & 0x8) != 0;
    if (qos) {
        if (len < hl + 2)
            return LINK_SHORT;
        if (p[hl] & 0x80)
            return not_ip(what, "802.11 A-MSDU");
        hl += 2;
        if (flags & 0x80)
            hl += 4; /* +HTC */
    }
    if (len < hl + 8)
        return LINK_SHORT;
    const uint8_t *llc = p + hl;
    if (llc[0] != 0xaa || llc[1] != 0xaa || llc[2] != 0x03)
        return not_ip(what, "802.11 data without LLC/SNAP");
    return by_ethertype(p, len, hl + 8, ip, iplen, what);
}

/* The radio header before an 802.11 frame: radiotap (its length at 2..3,
 * little-endian; FCS flag in its Flags field is left alone: the IP length
 * wins over trailing bytes), AVS (length at 4..7, big-endian), Prism (144
 * bytes, length at 4..7 in host order). */
static enum link_result radio(int dlt, const uint8_t *p, size_t len, const uint8_t **ip,
                              size_t *iplen, const char **what)
{
    size_t hl;
    if (dlt == DLT_IEEE802_11_RADIO) {
        if (len < 8)
            return LINK_SHORT;
        hl = le16(p + 2);
    } else if (dlt == DLT_AVS) {
        if (len < 8)
            return LINK_SHORT;
        hl = be32(p + 4);
    } else {
        hl = 144;
    }
    if (hl > len)
        return LINK_SHORT;
    return wifi(p + hl, len - hl, ip, iplen, what);
}

enum link_result link_ip(int dlt, const uint8_t *p, size_t len, const uint8_t **ip, size_t *iplen,
                         const char **what)
{
    const char *ignored;
    if (what == NULL)
        what = &ignored;
    *what = NULL;
    switch (dlt) {
    case DLT_EN10MB:
        return ethernet(p, len, ip, iplen, what);
    case DLT_LINUX_SLL:
        return len < 16 ? LINK_SHORT : by_ethertype(p, len, 16, ip, iplen, what);
    case DLT_LINUX_SLL2:
        /* the protocol type is the first field; the header is 20 bytes */
        if (len < 20)
            return LINK_SHORT;
        switch (be16(p)) {
        case ETH_IPV4: case ETH_IPV6: *ip = p + 20; *iplen = len - 20; return LINK_IP;
        default: return not_ip(what, "other ethertype");
        }
    case DLT_NULL: case DLT_LOOP:
        return null_family(p, len, ip, iplen, what);
    case DLT_NFLOG:
        return nflog(p, len, ip, iplen, what);
    case DLT_C_HDLC:
        return chdlc(p, len, ip, iplen, what);
    case DLT_PPP: case DLT_PPP_SERIAL:
        return ppp(p, len, ip, iplen, what);
    case DLT_PPP_ETHER: /* PPPoE session header without the Ethernet header */
        if (len < 6)
            return LINK_SHORT;
        return ppp_field(p + 6, len - 6, ip, iplen, what);
    case DLT_IEEE802_11:
        return wifi(p, len, ip, iplen, what);
    case DLT_IEEE802_11_RADIO: case DLT_AVS: case DLT_PRISM:
        return radio(dlt, p, len, ip, iplen, what);
    default:
        return raw(p, len, ip, iplen, what);
    }
}

enum link_result link_ethernet(const uint8_t *p, size_t len, const uint8_t **ip, size_t *iplen,
                               const char **what)
{
    const char *ignored;
    if (what == NULL)
        what = &ignored;
    *what = NULL;
    return ethernet(p, len, ip, iplen, what);
}
