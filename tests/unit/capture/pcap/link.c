/* Unit tests of capture/pcap/link.c: where the IP packet starts in frames of
 * the link layers that the Scapy pcaps of pcap_links.sh do not vary: 802.11
 * address layouts and QoS/HT control fields, radiotap lengths, PPP framing,
 * MPLS stacks, 802.3 LLC/SNAP, and the names of what is not IP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <pcap/dlt.h>

#include "link.h"

static const uint8_t ip4[20] = { 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2 };
static const uint8_t ip6[40] = { 0x60 };
static const uint8_t snap4[8] = { 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00 };

static uint8_t frame[512];
static size_t flen;

static void put(const void *p, size_t n)
{
    memcpy(frame + flen, p, n);
    flen += n;
}

/* Frame = head + (LLC/SNAP) + IPv4; the IP packet must be found right after. */
static void expect_ip_after(int dlt, const uint8_t *head, size_t hn, bool snap)
{
    flen = 0;
    put(head, hn);
    if (snap)
        put(snap4, sizeof snap4);
    size_t at = flen;
    put(ip4, sizeof ip4);
    const uint8_t *ip = NULL;
    size_t iplen = 0;
    const char *what = "x";
    assert_int_equal(link_ip(dlt, frame, flen, &ip, &iplen, &what), LINK_IP);
    assert_ptr_equal(ip, frame + at);
    assert_int_equal(iplen, sizeof ip4);
}

static void expect_not_ip(int dlt, const uint8_t *p, size_t n, const char *name)
{
    const uint8_t *ip;
    size_t iplen;
    const char *what = NULL;
    assert_int_equal(link_ip(dlt, p, n, &ip, &iplen, &what), LINK_NOT_IP);
    assert_string_equal(what, name);
}

static void wifi_layouts(void **state)
{
    (void)state;
    uint8_t h[40] = { 0x08, 0x01 }; /* data, to-DS: 24-byte header */
    expect_ip_after(DLT_IEEE802_11, h, 24, true);
    h[1] = 0x03;                    /* to and from the DS: a fourth address */
    expect_ip_after(DLT_IEEE802_11, h, 30, true);
    h[0] = 0x88;                    /* QoS data: 2 more bytes */
    expect_ip_after(DLT_IEEE802_11, h, 32, true);
    h[1] = 0x83;                    /* +HTC: 4 more */
    expect_ip_after(DLT_IEEE802_11, h, 36, true);
    uint8_t prot[40] = { 0x08, 0x41 };
    expect_not_ip(DLT_IEEE802_11, prot, sizeof prot, "802.11 encrypted data");
    uint8_t beacon[40] = { 0x80, 0x00 };
    expect_not_ip(DLT_IEEE802_11, beacon, sizeof beacon, "802.11 management");
    uint8_t null[40] = { 0x48, 0x01 };
    expect_not_ip(DLT_IEEE802_11, null, sizeof null, "802.11 null data");
    uint8_t amsdu[40] = { 0x88, 0x01 };
    amsdu[24] = 0x80;
    expect_not_ip(DLT_IEEE802_11, amsdu, sizeof amsdu, "802.11 A-MSDU");
}

static void radiotap_length(void **state)
{
    (void)state;
    uint8_t h[64] = { 0, 0, 36, 0 }; /* a 36-byte radiotap header, then the frame */
    h[36] = 0x08;
    h[37] = 0x02; /* from the DS */
    expect_ip_after(DLT_IEEE802_11_RADIO, h, 36 + 24, true);
    uint8_t cut[8] = { 0, 0, 200, 0 };
    const uint8_t *ip;
    size_t iplen;
    assert_int_equal(link_ip(DLT_IEEE802_11_RADIO, cut, sizeof cut, &ip, &iplen, NULL), LINK_SHORT);
}

static void ppp_and_pppoe(void **state)
{
    (void)state;
    uint8_t pppoe[20] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x88, 0x64, 0x11, 0, 0, 7, 0, 22 };
    uint8_t h[24];
    memcpy(h, pppoe, 20);
    h[20] = 0x00;
    h[21] = 0x21; /* a two-byte protocol field */
    expect_ip_after(DLT_EN10MB, h, 22, false);
    h[19] = 21;
    h[20] = 0x21; /* compressed to one byte */
    expect_ip_after(DLT_EN10MB, h, 21, false);
    uint8_t hdlc_ppp[4] = { 0xff, 0x03, 0x00, 0x21 };
    expect_ip_after(DLT_PPP, hdlc_ppp, 4, false);
    uint8_t chdlc[4] = { 0x0f, 0x00, 0x08, 0x00 };
    expect_ip_after(DLT_C_HDLC, chdlc, 4, false);
    expect_ip_after(DLT_PPP_SERIAL, chdlc, 4, false);
    uint8_t lcp[30] = { 0xff, 0x03, 0xc0, 0x21 };
    expect_not_ip(DLT_PPP, lcp, sizeof lcp, "PPP control (LCP, PAP, CHAP)");
}

static void mpls_and_snap(void **state)
{
    (void)state;
    uint8_t f[14 + 8 + 40] = { 0 };
    f[12] = 0x88;
    f[13] = 0x47;
    f[14 + 2] = 0x00;       /* first label, S = 0 */
    f[18 + 2] = 0x01;       /* second label, S = 1 */
    memcpy(f + 22, ip6, sizeof ip6);
    const uint8_t *ip;
    size_t iplen;
    assert_int_equal(link_ip(DLT_EN10MB, f, sizeof f, &ip, &iplen, NULL), LINK_IP);
    assert_ptr_equal(ip, f + 22);
    f[22] = 0x00; /* an Ethernet pseudowire's control word: not IP */
    expect_not_ip(DLT_EN10MB, f, sizeof f, "MPLS payload not IP (pseudowire)");
    uint8_t llc[14] = { 0 };
    llc[12] = 0x00;
    llc[13] = 0x40; /* an 802.3 length */
    expect_ip_after(DLT_EN10MB, llc, 14, true);
    uint8_t arp[60] = { 0 };
    arp[12] = 0x08;
    arp[13] = 0x06;
    expect_not_ip(DLT_EN10MB, arp, sizeof arp, "ARP");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wifi_layouts),
        cmocka_unit_test(radiotap_length),
        cmocka_unit_test(ppp_and_pppoe),
        cmocka_unit_test(mpls_and_snap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
