/* Unit tests of convert/bodies.c: recorded response bodies are decoded in
 * place once; HAR bodies, plain bodies and dropped exchanges are left alone;
 * what cannot be decoded stays as recorded and is counted by coding; a body
 * cut short keeps its decoded prefix and is marked truncated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "bodies.h"

static const char json[] = "{\"token\":\"abc123def456\",\"user\":\"alice\"}";

static void put(xset_t *xs, const char *unit, const char *enc, const void *body, size_t len)
{
    xs_item_t *it = xs_push(xs);
    assert_non_null(it);
    it->unit = unit;
    if (enc)
        assert_int_equal(rec_headers_add(&it->x.resp_headers, "Content-Encoding", enc), 0);
    it->x.resp_body = malloc(len + 1);
    memcpy(it->x.resp_body, body, len);
    it->x.resp_body_len = len;
}

static size_t gzip_of(const void *in, size_t len, uint8_t *out, size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t n = z.total_out;
    deflateEnd(&z);
    return n;
}

static void test_decode_in_place(void **state)
{
    (void)state;
    xset_t xs;
    xs_init(&xs);
    uint8_t gz[512];
    size_t n = gzip_of(json, strlen(json), gz, sizeof gz);
    put(&xs, "record", "gzip", gz, n);          /* 0: decoded */
    put(&xs, "entry", "gzip", json, strlen(json)); /* 1: HAR: already decoded */
    put(&xs, "record", NULL, json, strlen(json));  /* 2: plain */
    put(&xs, "record", "compress", gz, n);      /* 3: unknown */
    put(&xs, "record", "br", "nonsense", 8);    /* 4: invalid */
    put(&xs, "record", "compress", gz, n);      /* 5: unknown again */
    put(&xs, "record", "gzip", gz, n - 12);     /* 6: cut short */
    put(&xs, "record", "gzip", gz, n);          /* 7: dropped by the filters */
    bool keep[] = {true, true, true, true, true, true, true, false};
    bodies_stats_t st = {0};
    assert_int_equal(bodies_decode(&xs, keep, &st), 0);
    assert_int_equal(xs.v[0].x.resp_body_len, strlen(json));
    assert_memory_equal(xs.v[0].x.resp_body, json, strlen(json));
    assert_false(xs.v[0].x.resp_truncated);
    assert_memory_equal(xs.v[1].x.resp_body, json, strlen(json));
    assert_memory_equal(xs.v[2].x.resp_body, json, strlen(json));
    assert_int_equal(xs.v[3].x.resp_body_len, n);
    assert_memory_equal(xs.v[3].x.resp_body, gz, n);
    assert_true(xs.v[6].x.resp_truncated);
    assert_true(xs.v[6].x.resp_body_len < strlen(json));
    assert_memory_equal(xs.v[6].x.resp_body, json, xs.v[6].x.resp_body_len);
    assert_int_equal(xs.v[7].x.resp_body_len, n);  /* not kept: not touched */
    assert_int_equal(st.decoded, 2);
    assert_int_equal(st.undecoded, 3);
    assert_int_equal(st.limited, 0);
    assert_string_equal(st.names, "compress 2, bad br 1");
    xs_fini(&xs);
}

/* A bomb stops at the limit, the prefix kept and marked truncated. */
static void test_limit(void **state)
{
    (void)state;
    size_t big = BODIES_MAX_DECODED + 4096;
    uint8_t *zeros = calloc(1, big), *gz = malloc(big / 100);
    size_t n = gzip_of(zeros, big, gz, big / 100);
    xset_t xs;
    xs_init(&xs);
    put(&xs, "record", "gzip", gz, n);
    bodies_stats_t st = {0};
    assert_int_equal(bodies_decode(&xs, NULL, &st), 0);
    assert_int_equal(st.limited, 1);
    assert_int_equal(st.decoded, 1);
    assert_int_equal(xs.v[0].x.resp_body_len, BODIES_MAX_DECODED);
    assert_true(xs.v[0].x.resp_truncated);
    xs_fini(&xs);
    free(zeros);
    free(gz);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_in_place),
        cmocka_unit_test(test_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
