/* Unit tests of capture/pcap/tcpflow.c: segments in order, out of order,
 * retransmitted, overlapping (with the same or other bytes), held until
 * acknowledged, with holes (also one at the end that only an ACK shows),
 * without a handshake, past the memory limit, across sequence number
 * wraparound. Every callback appends to a log that the tests compare whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tcpflow.h"

static char events[4096];
static int flow_state; /* the per-flow pointer handed back by open */

static void logf_(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = strlen(events);
    vsnprintf(events + n, sizeof events - n, fmt, ap);
    va_end(ap);
}

static void *on_open(void *ctx, const tcpflow_ends_t *e)
{
    (void)ctx;
    logf_("open(%u>%u%s) ", e->port[0], e->port[1], e->syn ? ",syn" : "");
    return &flow_state;
}
static void on_data(void *f, int side, const uint8_t *p, size_t n, int64_t ts)
{
    (void)f;
    (void)ts;
    logf_("%d:%.*s ", side, (int)n, (const char *)p);
}
static void on_gap(void *f, int side, uint64_t n, int64_t ts)
{
    (void)f;
    (void)ts;
    logf_("%d:gap%llu ", side, (unsigned long long)n);
}
static void on_fin(void *f, int side, int64_t ts)
{
    (void)f;
    (void)ts;
    logf_("%d:fin ", side);
}
static void on_conflict(void *f, int side, int64_t ts)
{
    (void)f;
    (void)ts;
    logf_("%d:conflict ", side);
}
static void on_close(void *f, int64_t ts)
{
    (void)f;
    (void)ts;
    logf_("close");
}

static const tcpflow_ops_t ops = { on_open, on_data, on_gap, on_fin, on_close, on_conflict, NULL };

enum { CLIENT, SERVER };

/* A segment from the client (port 40000) or the server (port 80). */
static void seg(tcpflow_table_t *t, int from, uint8_t flags, uint32_t seq, uint32_t ack, const char *data)
{
    ip_tcpseg_t s = { .family = 4, .flags = flags, .seq = seq, .ack = ack };
    uint8_t c[16] = { 10, 0, 0, 1 }, sv[16] = { 10, 0, 0, 2 };
    memcpy(s.src, from == CLIENT ? c : sv, 16);
    memcpy(s.dst, from == CLIENT ? sv : c, 16);
    s.sport = from == CLIENT ? 40000 : 80;
    s.dport = from == CLIENT ? 80 : 40000;
    s.payload = (const uint8_t *)data;
    s.len = data ? strlen(data) : 0;
    tcpflow_segment(t, &s, 1);
}

static tcpflow_table_t *table(size_t max_flow)
{
    events[0] = '\0';
    tcpflow_table_t *t = tcpflow_new(&ops, NULL, max_flow, 1 << 20);
    assert_non_null(t);
    return t;
}

static void handshake(tcpflow_table_t *t)
{
    seg(t, CLIENT, TCP_SYN, 100, 0, NULL);
    seg(t, SERVER, TCP_SYN | TCP_ACK, 500, 101, NULL);
    seg(t, CLIENT, TCP_ACK, 101, 501, NULL);
}

static void in_order_with_fin(void **state)
{
    (void)state;
    tcpflow_table_t *t = table(1 << 16);
    handshake(t);
    seg(t, CLIENT, TCP_ACK, 101, 501, "GET");
    seg(t, SERVER, TCP_ACK, 501, 104, "OK");
    seg(t, CLIENT, TCP_ACK | TCP_FIN, 104, 503, NULL);
    seg(t, SERVER, TCP_ACK | TCP_FIN, 503, 105, NULL);
    assert_string_equal(events, "open(40000>80,syn) 0:GET 1:OK 0:fin 1:fin close");
    seg(t, CLIENT, TCP_ACK, 105, 504, NULL); /* the last ACK opens nothing */
    tcpflow_stats_t st;
    tcpflow_get_stats(t, &st);
    assert_int_equal(st.flows, 1);
    assert_int_equal(st.after_close, 1);
    tcpflow_free(t, 2);
    assert_string_equal(events, "open(40000>80,syn) 0:GET 1:OK 0:fin 1:fin close");
}

static void out_of_order_waits(void **state)
{
    (void)state;
    tcpflow_table_t *t = table(1 << 16);
    handshake(t);
    seg(t, CLIENT, TCP_ACK, 105, 501, "EF");
    seg(t, CLIENT, TCP_ACK, 103, 501, "CD");
    seg(t, CLIENT, TCP_ACK, 101, 501, "AB");
    assert_string_equal(events, "open(40000>80,syn) "); /* held until acknowledged */
    seg(t, SERVER, TCP_ACK, 501, 107, NULL);
    assert_string_equal(events, "open(40000>80,syn) 0:AB 0:CD 0:EF ");
    tcpflow_free(t, 2);
}

static void retransmission_and_overlap(void **state)
{
    (void)state;
    tcpflow_table_t *t = table(1 << 16);
    handshake(t);
    seg(t, CLIENT, TCP_ACK, 101, 501, "ABCD");
    seg(t, CLIENT, TCP_ACK, 101, 501, "ABCD");  /* retransmitted */
    seg(t, CLIENT, TCP_ACK, 103, 501, "CDEF");  /* overlaps: EF is new */
    seg(t, CLIENT, TCP_ACK, 109, 501, "IJ");    /* waits */
    seg(t, CLIENT, TCP_ACK, 109, 501, "IJ");    /* waits already */
    seg(t, CLIENT, TCP_ACK, 106, 501, "FGH");   /* overlaps both sides */
    seg(t, SERVER, TCP_ACK, 501, 111, NULL);
    assert_string_equal(events, "open(40000>80,syn) 0:ABCD 0:EF 0:GH 0:IJ ");
    tcpflow_stats_t st;
    tcpflow_get_stats(t, &st);
    assert_int_equal(st.retrans, 2);
    tcpflow_free(t, 2);
}

static void hole_given_up_when_acked(void **state)
{
    (void)state;
    tcpflow_table_t *t = table(1 << 16);
    handshake(t);
    seg(t, CLIENT, TCP_ACK, 101, 501, "AB");
    seg(t, CLIENT, TCP_ACK, 105, 501, "EF");   /* 103..104 never captured */
    seg(t, SERVER, TCP_ACK, 501, 103, NULL);
    assert_string_equal(events, "open(40000>80,syn) 0:AB ");
    seg(t, SERVER, TCP_ACK, 501, 107, NULL);   /* the server had them */
    assert_string_equal(events, "open(40000>80,syn) 0:AB 0:gap2 0:EF ");
    tcpflow_free(t, 2);
}

static void hole_given_up_at_the_end(void **state)
{
    (void)state;
    tcpflow_table_t *t = table(1 << 16);
    handshake(t);
    seg(t, SERVER, TCP_ACK, 501, 101, "HTTP");
    seg(t, SERVER, TCP_ACK | TCP_FIN, 510, 101, "END"); /* 505..509 missing */
    tcpflow_free(t, 2);
    assert_string_equal(events, "open(40000>80,syn) 1:HTTP 1:gap5 1:END 1:fin close");
}

static void no_handshake_starts_at_first_data(void **state)
{
    (void)state;
    tcpflow_table_t *t = table(1 << 16);
    seg(t, SERVER, TCP_ACK, 7000, 300, NULL);  /* a bare ACK opens nothing */
    assert_string_equal(events, "");
    seg(t, SERVER, TCP_ACK, 7000, 300, "tail");
    seg(t, CLIENT, TCP_ACK, 300, 7004, "GET");
    seg(t, SERVER, TCP_ACK, 6990, 303, "0123456789"); /* older than the start */
    seg(t, SERVER, TCP_ACK, 7004, 303, "OK");  /* held: the client acknowledges the server */
    assert_string_equal(events, "open(80>40000) 0:tail 1:GET ");
    seg(t, CLIENT, TCP_RST, 303, 0, NULL);
    assert_string_equal(events, "open(80>40000) 0:tail 1:GET 0:OK close");
    tcpflow_free(t, 2);
}

static void memory_limit_gives_up_holes(void **state)
{
    (void)state;
    tcpflow_table_t *t = table(8);
    handshake(t);
    seg(t, CLIENT, TCP_ACK, 111, 501, "KLMN");
    seg(t, CLIENT, TCP_ACK, 115, 501, "OPQRS");  /* 9 bytes wait: over 8 */
    assert_string_equal(events, "open(40000>80,syn) 0:gap10 0:KLMN ");
    tcpflow_stats_t st;
    tcpflow_get_stats(t, &st);
    assert_int_equal(st.over_limit, 1);
    assert_int_equal(st.gap_bytes, 10);
    tcpflow_free(t, 2);
    assert_string_equal(events, "open(40000>80,syn) 0:gap10 0:KLMN 0:OPQRS close");
}

static void sequence_wraps(void **state)
{
    (void)state;
    tcpflow_table_t *t = table(1 << 16);
    seg(t, CLIENT, TCP_SYN, 0xfffffffdu, 0, NULL);
    seg(t, CLIENT, TCP_ACK, 0xfffffffeu, 0, "AB");
    seg(t, CLIENT, TCP_ACK, 2, 0, "EF");
    seg(t, CLIENT, TCP_ACK, 0, 0, "CD");
    assert_string_equal(events, "open(40000>80,syn) 0:AB 0:CD 0:EF ");
    tcpflow_free(t, 2);
}

/* A segment that overlaps bytes still waiting with other bytes: the first
 * seen are kept (as most IDSes do), the conflict is counted and announced
 * before the chunk that holds those bytes. The old code handed on the later
 * segment's bytes (the longer segment won) and said nothing. */
static void conflicting_overlap_keeps_first_seen(void **state)
{
    (void)state;
    tcpflow_table_t *t = table(1 << 16);
    handshake(t);
    seg(t, CLIENT, TCP_ACK, 105, 501, "EF");   /* waits behind 101..104 */
    seg(t, CLIENT, TCP_ACK, 105, 501, "XYZ");  /* EF again, other bytes, and Z */
    seg(t, CLIENT, TCP_ACK, 103, 501, "CD");
    seg(t, CLIENT, TCP_ACK, 101, 501, "AB");
    seg(t, SERVER, TCP_ACK, 501, 108, NULL);
    assert_string_equal(events, "open(40000>80,syn) 0:AB 0:CD 0:conflict 0:EF 0:Z ");
    tcpflow_stats_t st;
    tcpflow_get_stats(t, &st);
    assert_int_equal(st.conflicts, 1);
    assert_int_equal(st.gaps, 0);
    tcpflow_free(t, 2);
}

/* The segment sequence of the live loopback capture on a loaded machine: a
 * segment is captured, the receiver drops it (its backlog is full) and the
 * sender retransmits. When the two copies differ, which one the receiver
 * took is unknown: the bytes handed on are the first seen and flagged. They
 * are held until the receiver acknowledges them, so a retransmission that
 * comes before that is compared; the old code handed the first copy on at
 * once and counted the second as a plain retransmission. */
static void retransmission_with_other_bytes_is_a_conflict(void **state)
{
    (void)state;
    tcpflow_table_t *t = table(1 << 16);
    handshake(t);
    seg(t, SERVER, TCP_ACK, 501, 101, "HTTP/1.1 200");
    seg(t, SERVER, TCP_ACK, 513, 101, " OK\r\n");
    seg(t, SERVER, TCP_ACK, 501, 101, "HTTP/1.1 500"); /* retransmitted, other bytes */
    seg(t, SERVER, TCP_ACK, 501, 101, "HTTP/1.1 200"); /* retransmitted, the same */
    seg(t, CLIENT, TCP_ACK, 101, 518, NULL);
    assert_string_equal(events, "open(40000>80,syn) 1:conflict 1:HTTP/1.1 200 1: OK\r\n ");
    tcpflow_stats_t st;
    tcpflow_get_stats(t, &st);
    assert_int_equal(st.conflicts, 1);
    assert_int_equal(st.retrans, 2);
    tcpflow_free(t, 2);
}

/* The receiver acknowledged bytes that no captured segment carried and none
 * follows them (the capture lost the tail of a response): a gap, announced
 * when the ACK is seen. The old code only noticed holes with bytes behind
 * them, so the response ended short with "0 gaps". */
static void acked_tail_without_segments_is_a_gap(void **state)
{
    (void)state;
    tcpflow_table_t *t = table(1 << 16);
    handshake(t);
    seg(t, SERVER, TCP_ACK, 501, 101, "AB");
    seg(t, CLIENT, TCP_ACK, 101, 507, NULL);   /* 503..506 were delivered */
    assert_string_equal(events, "open(40000>80,syn) 1:AB 1:gap4 ");
    seg(t, CLIENT, TCP_RST, 101, 0, NULL);
    tcpflow_stats_t st;
    tcpflow_get_stats(t, &st);
    assert_int_equal(st.gaps, 1);
    assert_int_equal(st.gap_bytes, 4);
    tcpflow_free(t, 2);
}

/* The ACK of a FIN is one past the last byte: not a missing byte. */
static void ack_of_fin_is_not_a_gap(void **state)
{
    (void)state;
    tcpflow_table_t *t = table(1 << 16);
    handshake(t);
    seg(t, SERVER, TCP_ACK | TCP_FIN, 501, 101, "AB");
    seg(t, CLIENT, TCP_ACK, 101, 504, NULL);
    assert_string_equal(events, "open(40000>80,syn) 1:AB 1:fin ");
    tcpflow_free(t, 2);
}

/* Bytes wait for their ACK, but a receiver that never acknowledges (a
 * one-sided capture) or a window larger than the limit does not hold them
 * back: past max_flow the oldest are handed on, nothing is lost. */
static void unacked_bytes_past_the_limit_are_handed_on(void **state)
{
    (void)state;
    tcpflow_table_t *t = table(8);
    handshake(t);
    seg(t, CLIENT, TCP_ACK, 101, 501, "ABCDEF");
    seg(t, CLIENT, TCP_ACK, 107, 501, "GHIJ");
    assert_string_equal(events, "open(40000>80,syn) 0:ABCDEF ");
    tcpflow_stats_t st;
    tcpflow_get_stats(t, &st);
    assert_int_equal(st.gaps, 0);
    assert_int_equal(st.over_limit, 0);
    tcpflow_free(t, 2);
    assert_string_equal(events, "open(40000>80,syn) 0:ABCDEF 0:GHIJ close");
}

/* A large segment acknowledged in parts (a sender's TSO segment, as captured
 * on its host) is handed on in parts; what is left is still compared. */
static void partial_ack_hands_on_part(void **state)
{
    (void)state;
    tcpflow_table_t *t = table(1 << 16);
    handshake(t);
    seg(t, CLIENT, TCP_ACK, 101, 501, "ABCDEF");
    seg(t, SERVER, TCP_ACK, 501, 104, NULL);
    assert_string_equal(events, "open(40000>80,syn) 0:ABC ");
    seg(t, CLIENT, TCP_ACK, 101, 501, "ABCDXF"); /* AB C handed on; DXF against DEF */
    seg(t, SERVER, TCP_ACK, 501, 107, NULL);
    assert_string_equal(events, "open(40000>80,syn) 0:ABC 0:conflict 0:DEF ");
    tcpflow_stats_t st;
    tcpflow_get_stats(t, &st);
    assert_int_equal(st.conflicts, 1);
    tcpflow_free(t, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(in_order_with_fin),
        cmocka_unit_test(out_of_order_waits),
        cmocka_unit_test(retransmission_and_overlap),
        cmocka_unit_test(hole_given_up_when_acked),
        cmocka_unit_test(hole_given_up_at_the_end),
        cmocka_unit_test(no_handshake_starts_at_first_data),
        cmocka_unit_test(memory_limit_gives_up_holes),
        cmocka_unit_test(sequence_wraps),
        cmocka_unit_test(conflicting_overlap_keeps_first_seen),
        cmocka_unit_test(retransmission_with_other_bytes_is_a_conflict),
        cmocka_unit_test(acked_tail_without_segments_is_a_gap),
        cmocka_unit_test(ack_of_fin_is_not_a_gap),
        cmocka_unit_test(unacked_bytes_past_the_limit_are_handed_on),
        cmocka_unit_test(partial_ack_hands_on_part),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
