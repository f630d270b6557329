/* Unit tests of capture/pcap/h2frame.c: frames cut at every byte, padding and
 * priority removed, several frames in one chunk, and padding that does not
 * fit refused with the frame named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "h2frame.h"

static char seen[1024];

static int on_frame(void *ctx, const h2frame_hdr_t *h, const uint8_t *p, size_t n)
{
    (void)ctx;
    size_t k = strlen(seen);
    snprintf(seen + k, sizeof seen - k, "t%u f%u s%u [%.*s] ", h->type, h->flags, h->stream, (int)n,
             (const char *)p);
    return 0;
}

/* A frame header followed by payload into buf; returns the length. */
static size_t frame(uint8_t *buf, uint8_t type, uint8_t flags, uint32_t stream, const void *payload, size_t n)
{
    buf[0] = (uint8_t)(n >> 16);
    buf[1] = (uint8_t)(n >> 8);
    buf[2] = (uint8_t)n;
    buf[3] = type;
    buf[4] = flags;
    buf[5] = (uint8_t)(stream >> 24);
    buf[6] = (uint8_t)(stream >> 16);
    buf[7] = (uint8_t)(stream >> 8);
    buf[8] = (uint8_t)stream;
    memcpy(buf + 9, payload, n);
    return 9 + n;
}

/* Three frames: padded DATA, HEADERS with priority and padding, SETTINGS. */
static size_t sample(uint8_t *buf)
{
    size_t n = 0;
    n += frame(buf + n, H2F_DATA, H2F_PADDED | H2F_END_STREAM, 1, "\x03" "hello" "\0\0\0", 9);
    n += frame(buf + n, H2F_HEADERS, H2F_PADDED | H2F_PRIO | H2F_END_HEADERS, 3,
               "\x02" "\x80\0\0\x01" "\x10" "hpack" "\0\0", 13);
    n += frame(buf + n, H2F_SETTINGS, 0, 0, "", 0);
    return n;
}

static const char expected[] = "t0 f9 s1 [hello] t1 f44 s3 [hpack] t4 f0 s0 [] ";

static void whole_chunk(void **state)
{
    (void)state;
    uint8_t buf[128];
    size_t n = sample(buf);
    h2frame_t r;
    h2frame_init(&r);
    seen[0] = '\0';
    assert_int_equal(h2frame_feed(&r, buf, n, on_frame, NULL), 0);
    assert_string_equal(seen, expected);
    h2frame_fini(&r);
}

static void cut_at_every_byte(void **state)
{
    (void)state;
    uint8_t buf[128];
    size_t n = sample(buf);
    for (size_t cut = 0; cut <= n; cut++) {
        h2frame_t r;
        h2frame_init(&r);
        seen[0] = '\0';
        assert_int_equal(h2frame_feed(&r, buf, cut, on_frame, NULL), 0);
        assert_int_equal(h2frame_feed(&r, buf + cut, n - cut, on_frame, NULL), 0);
        assert_string_equal(seen, expected);
        h2frame_fini(&r);
    }
    /* and one byte at a time */
    h2frame_t r;
    h2frame_init(&r);
    seen[0] = '\0';
    for (size_t i = 0; i < n; i++)
        assert_int_equal(h2frame_feed(&r, buf + i, 1, on_frame, NULL), 0);
    assert_string_equal(seen, expected);
    h2frame_fini(&r);
}

static void padding_longer_than_frame(void **state)
{
    (void)state;
    uint8_t buf[64];
    size_t n = frame(buf, H2F_DATA, H2F_PADDED, 5, "\x09" "abc", 4);
    h2frame_t r;
    h2frame_init(&r);
    seen[0] = '\0';
    assert_int_equal(h2frame_feed(&r, buf, n, on_frame, NULL), -1);
    assert_string_equal(seen, "");
    assert_non_null(strstr(r.error, "frame type 0 on stream 5"));
    h2frame_fini(&r);
}

static int refuse(void *ctx, const h2frame_hdr_t *h, const uint8_t *p, size_t n)
{
    (void)ctx;
    (void)h;
    (void)p;
    (void)n;
    return -1;
}

static void callback_refuses(void **state)
{
    (void)state;
    uint8_t buf[64];
    size_t n = frame(buf, H2F_PING, 0, 0, "12345678", 8);
    h2frame_t r;
    h2frame_init(&r);
    assert_int_equal(h2frame_feed(&r, buf, n, refuse, NULL), -1);
    assert_non_null(strstr(r.error, "frame type 6 on stream 0 refused"));
    h2frame_fini(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(whole_chunk),
        cmocka_unit_test(cut_at_every_byte),
        cmocka_unit_test(padding_longer_than_frame),
        cmocka_unit_test(callback_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
