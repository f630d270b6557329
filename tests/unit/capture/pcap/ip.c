/* Unit tests of capture/pcap/ip.c: TCP inside tunnels (GRE with its optional
 * fields, IP-in-IP, VXLAN handing back an Ethernet frame), the nesting bound,
 * and the names of what is not TCP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ip.h"

static uint8_t pkt[1024];
static size_t plen;

static void put(const void *p, size_t n)
{
    memcpy(pkt + plen, p, n);
    plen += n;
}

/* An IPv4 header of proto with total length total, 10.0.0.a -> 10.0.0.b. */
static void ipv4(uint8_t proto, size_t total, uint8_t a, uint8_t b)
{
    uint8_t h[20] = { 0x45, 0, (uint8_t)(total >> 8), (uint8_t)total, 0, 0, 0, 0, 64, proto, 0, 0,
                      10, 0, 0, a, 10, 0, 0, b };
    put(h, sizeof h);
}

static const uint8_t tcp_syn[20] = { 0x9c, 0x40, 0, 80, 0, 0, 3, 0xe8, 0, 0, 0, 0, 0x50, 0x02 };

static void gre_with_all_fields(void **state)
{
    (void)state;
    plen = 0;
    ipv4(47, 20 + 16 + 20 + 20, 1, 2);
    uint8_t gre[16] = { 0xb0, 0x00, 0x08, 0x00 }; /* checksum, key, sequence present; IPv4 */
    put(gre, sizeof gre);
    ipv4(6, 40, 7, 8);
    put(tcp_syn, sizeof tcp_syn);
    ip_tcpseg_t seg;
    assert_int_equal(ip_tcp(pkt, plen, &seg), IP_TCP);
    assert_int_equal(seg.src[3], 7); /* the inner packet's addresses */
    assert_int_equal(seg.dst[3], 8);
    assert_int_equal(seg.sport, 40000);
    assert_int_equal(seg.dport, 80);
    assert_int_equal(seg.flags, TCP_SYN);
    pkt[20 + 1] = 0x01; /* GRE version 1 (PPTP) */
    assert_int_equal(ip_tcp(pkt, plen, &seg), IP_NOT_TCP);
    assert_string_equal(seg.what, "GRE version 1 (PPTP)");
}

static void vxlan_hands_back_ethernet(void **state)
{
    (void)state;
    plen = 0;
    ipv4(17, 20 + 8 + 8 + 14, 1, 2);
    uint8_t udp[8] = { 0xc7, 0x38, 0x12, 0xb5 }; /* port 4789 */
    uint8_t vx[8] = { 0x08, 0, 0, 0, 0, 0, 42, 0 };
    uint8_t eth[14] = { 0 };
    put(udp, sizeof udp);
    put(vx, sizeof vx);
    put(eth, sizeof eth);
    ip_tcpseg_t seg;
    assert_int_equal(ip_tcp(pkt, plen, &seg), IP_ETHERNET);
    assert_ptr_equal(seg.payload, pkt + 36);
    assert_int_equal(seg.len, 14);
    pkt[22] = 0;
    pkt[23] = 53; /* DNS: plain UDP */
    assert_int_equal(ip_tcp(pkt, plen, &seg), IP_NOT_TCP);
    assert_string_equal(seg.what, "UDP");
}

static void ip_in_ip_nesting_is_bounded(void **state)
{
    (void)state;
    ip_tcpseg_t seg;
    for (int depth = 1; depth <= 6; depth++) {
        plen = 0;
        for (int i = 0; i < depth; i++)
            ipv4(4, (size_t)(20 * (depth - i) + 40), 1, 2);
        ipv4(6, 40, 3, 4);
        put(tcp_syn, sizeof tcp_syn);
        enum ip_result r = ip_tcp(pkt, plen, &seg);
        if (depth <= 4) { /* four tunnels deep, as documented */
            assert_int_equal(r, IP_TCP);
            assert_int_equal(seg.src[3], 3);
        } else {
            assert_int_equal(r, IP_NOT_TCP);
            assert_string_equal(seg.what, "tunnels nested too deep");
        }
    }
    plen = 0;
    ipv4(1, 28, 1, 2);
    uint8_t icmp[8] = { 8 };
    put(icmp, sizeof icmp);
    assert_int_equal(ip_tcp(pkt, plen, &seg), IP_NOT_TCP);
    assert_string_equal(seg.what, "ICMP");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gre_with_all_fields),
        cmocka_unit_test(vxlan_hands_back_ethernet),
        cmocka_unit_test(ip_in_ip_nesting_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
