/* Tests of common/wsframe.c: frames in any split make the same messages;
 * masking, fragments with control frames between them, lengths of 7, 16 and
 * 64 bits, close codes, the kept-bytes limit, and every protocol error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "wsframe.h"

typedef struct got {
    int n;
    uint8_t op[16];
    char data[16][80];
    size_t len[16];
    uint64_t full[16];
    bool cut[16];
    uint16_t code[16];
} got_t;

static int on_msg(void *ctx, const wsf_msg_t *m)
{
    got_t *g = ctx;
    if (g->n >= 16)
        return 1;
    g->op[g->n] = m->opcode;
    g->len[g->n] = m->len;
    g->full[g->n] = m->full_len;
    g->cut[g->n] = m->truncated;
    g->code[g->n] = m->close_code;
    if (m->len)
        memcpy(g->data[g->n], m->data, m->len < 79 ? m->len : 79);
    g->n++;
    return 0;
}

static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};

/* A client's session: a masked text, a binary in 3 fragments with a ping
 * between them, a 300-byte message (16-bit length), a close with a code. */
static size_t session(uint8_t *out)
{
    size_t at = 0;
    at += wsf_frame(out + at, WSF_TEXT, "Hello", 5, true, key);
    /* fragments: first (opcode 2, FIN clear), continuation, ping, last */
    size_t f = wsf_frame(out + at, WSF_BINARY, "ab", 2, true, key);
    out[at] &= 0x7f;
    at += f;
    f = wsf_frame(out + at, WSF_CONT, "cd", 2, true, key);
    out[at] &= 0x7f;
    at += f;
    at += wsf_frame(out + at, WSF_PING, "p", 1, true, key);
    at += wsf_frame(out + at, WSF_CONT, "ef", 2, true, key);
    uint8_t big[300];
    memset(big, 'z', sizeof big);
    at += wsf_frame(out + at, WSF_TEXT, big, sizeof big, false, key);
    at += wsf_frame(out + at, WSF_CLOSE, "\x03\xe8" "bye", 5, true, key);
    return at;
}

static void check_session(const got_t *g)
{
    assert_int_equal(g->n, 5);
    assert_int_equal(g->op[0], WSF_TEXT);
    assert_memory_equal(g->data[0], "Hello", 5);
    assert_int_equal(g->op[1], WSF_PING); /* a control frame comes as it arrives */
    assert_int_equal(g->op[2], WSF_BINARY);
    assert_int_equal(g->len[2], 6);
    assert_memory_equal(g->data[2], "abcdef", 6);
    assert_int_equal(g->op[3], WSF_TEXT);
    assert_int_equal(g->full[3], 300);
    assert_int_equal(g->len[3], 100); /* kept up to max */
    assert_true(g->cut[3]);
    assert_int_equal(g->op[4], WSF_CLOSE);
    assert_int_equal(g->code[4], 1000);
    assert_int_equal(g->len[4], 3);
    assert_memory_equal(g->data[4], "bye", 3);
}

static void test_any_split(void **state)
{
    (void)state;
    uint8_t buf[1024];
    size_t n = session(buf);
    for (size_t cut = 0; cut <= n; cut++) {
        wsf_t p;
        got_t g = {0};
        wsf_init(&p, 100);
        assert_int_equal(wsf_feed(&p, buf, cut, on_msg, &g), 0);
        assert_int_equal(wsf_feed(&p, buf + cut, n - cut, on_msg, &g), 0);
        check_session(&g);
        assert_true(wsf_idle(&p));
        wsf_fini(&p);
    }
    /* Byte by byte. */
    wsf_t p;
    got_t g = {0};
    wsf_init(&p, 100);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(wsf_feed(&p, buf + i, 1, on_msg, &g), 0);
    check_session(&g);
    wsf_fini(&p);
}

static void test_lengths(void **state)
{
    (void)state;
    size_t sizes[] = {0, 125, 126, 65535, 65536, 70000};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        size_t len = sizes[k];
        uint8_t *payload = malloc(len + 1), *frame = malloc(wsf_frame_size(len, true));
        for (size_t i = 0; i < len; i++)
            payload[i] = (uint8_t)(i * 7);
        size_t fl = wsf_frame(frame, WSF_BINARY, payload, len, true, key);
        assert_int_equal(fl, wsf_frame_size(len, true));
        wsf_t p;
        got_t g = {0};
        wsf_init(&p, 1 << 20);
        assert_int_equal(wsf_feed(&p, frame, fl, on_msg, &g), 0);
        assert_int_equal(g.n, 1);
        assert_int_equal(g.full[0], len);
        assert_false(g.cut[0]);
        assert_memory_equal(g.data[0], payload, len < 79 ? len : 79);
        wsf_fini(&p);
        free(payload);
        free(frame);
    }
}

static void expect_error(const uint8_t *d, size_t n, const char *want)
{
    wsf_t p;
    got_t g = {0};
    wsf_init(&p, 100);
    assert_int_equal(wsf_feed(&p, d, n, on_msg, &g), -1);
    if (!strstr(p.error, want))
        fail_msg("error \"%s\", want \"%s\"", p.error, want);
    /* Broken for good. */
    assert_int_equal(wsf_feed(&p, (const uint8_t *)"\x81\x00", 2, on_msg, &g), -1);
    wsf_fini(&p);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error((const uint8_t *)"\xc1\x00", 2, "RSV");
    expect_error((const uint8_t *)"\x80\x00", 2, "continuation frame without");
    expect_error((const uint8_t *)"\x01\x00\x01\x00", 4, "inside a fragmented message");
    expect_error((const uint8_t *)"\x83\x00", 2, "unknown data opcode 3");
    expect_error((const uint8_t *)"\x8b\x00", 2, "unknown control opcode 11");
    expect_error((const uint8_t *)"\x09\x00", 2, "fragmented control frame");
    expect_error((const uint8_t *)"\x89\x7e\x00\x80", 4, "control frame of 128 bytes");
    expect_error((const uint8_t *)"\x88\x01x", 3, "1-byte payload");
    expect_error((const uint8_t *)"\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00", 10, "most significant bit");
}

/* A client's parser refuses a masked frame (RFC 6455 5.1); a recorder of
 * both directions reads it. */
static void test_masked_from_server(void **state)
{
    (void)state;
    static const uint8_t masked[] = {0x81, 0x82, 1, 2, 3, 4, 'o' ^ 1, 'k' ^ 2};
    got_t g = {0};
    wsf_t p;
    wsf_init(&p, 10);
    wsf_from_server(&p);
    assert_int_equal(wsf_feed(&p, masked, sizeof masked, on_msg, &g), -1);
    assert_non_null(strstr(p.error, "masked frame from the server"));
    assert_int_equal(g.n, 0);
    wsf_fini(&p);
    wsf_init(&p, 10);
    wsf_from_server(&p);
    assert_int_equal(wsf_feed(&p, (const uint8_t *)"\x81\x02ok", 4, on_msg, &g), 0);
    assert_int_equal(g.n, 1);
    wsf_fini(&p);
    wsf_init(&p, 10);
    assert_int_equal(wsf_feed(&p, masked, sizeof masked, on_msg, &g), 0);
    assert_int_equal(g.n, 2);
    assert_memory_equal(g.data[1], "ok", 2);
    wsf_fini(&p);
}

static int stop_at_once(void *ctx, const wsf_msg_t *m)
{
    (void)ctx, (void)m;
    return 1;
}

static void test_reader_stops(void **state)
{
    (void)state;
    wsf_t p;
    wsf_init(&p, 10);
    assert_int_equal(wsf_feed(&p, (const uint8_t *)"\x81\x01x", 3, stop_at_once, NULL), -1);
    assert_non_null(strstr(p.error, "stopped"));
    wsf_fini(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_any_split),
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_masked_from_server),
        cmocka_unit_test(test_reader_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
