/* Tests of http/hc_racc.c: headers in pieces and whole, reuse, body NUL,
 * the --max-body bound and Content-Encoding decoding of the view. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <zlib.h>

#include "hc_racc.h"

static void expect_header(const hc_resp_t *v, size_t i, const char *name, const char *value)
{
    assert_true(i < v->n_headers);
    assert_int_equal(v->headers[i].name_len, strlen(name));
    assert_memory_equal(v->headers[i].name, name, strlen(name));
    assert_int_equal(v->headers[i].value_len, strlen(value));
    if (*value)
        assert_memory_equal(v->headers[i].value, value, strlen(value));
}

/* http_parser may split a name or a value over several reads. */
static void test_pieces_join(void **state)
{
    (void)state;
    hc_racc_t a = {0};
    hc_env_t env = {0};
    assert_int_equal(hc_racc_field(&a, "Cont", 4), 0);
    assert_int_equal(hc_racc_field(&a, "ent-Type", 8), 0);
    assert_int_equal(hc_racc_value(&a, "appli", 5), 0);
    assert_int_equal(hc_racc_value(&a, "cation/json", 11), 0);
    assert_int_equal(hc_racc_field(&a, "Set-Cookie", 10), 0);
    assert_int_equal(hc_racc_value(&a, "a=1", 3), 0);
    assert_int_equal(hc_racc_body(&a, "{\"x\":", 5, SIZE_MAX), 0);
    assert_int_equal(hc_racc_body(&a, "1}", 2, SIZE_MAX), 0);
    hc_resp_t v;
    assert_int_equal(hc_racc_view(&a, &env, 200, &v), 0);
    assert_int_equal(v.status, 200);
    assert_int_equal(v.n_headers, 2);
    expect_header(&v, 0, "Content-Type", "application/json");
    expect_header(&v, 1, "Set-Cookie", "a=1");
    assert_int_equal(v.body_len, 7);
    assert_memory_equal(v.body, "{\"x\":1}", 7);
    assert_int_equal(v.body[7], '\0'); /* for regexec, not counted */
    hc_racc_fini(&a);
    free(env.hdrs);
}

/* h2 gives whole headers, empty values included; many force growth. */
static void test_whole_headers_grow(void **state)
{
    (void)state;
    hc_racc_t a = {0};
    hc_env_t env = {0};
    char name[32], value[64];
    for (int i = 0; i < 100; i++) {
        int nl = snprintf(name, sizeof name, "x-h%d", i);
        int vl = i % 7 ? snprintf(value, sizeof value, "value number %d", i) : 0;
        assert_int_equal(hc_racc_header(&a, name, (size_t)nl, value, (size_t)vl), 0);
    }
    hc_resp_t v;
    assert_int_equal(hc_racc_view(&a, &env, 404, &v), 0);
    assert_int_equal(v.n_headers, 100);
    assert_int_equal(v.body_len, 0);
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof name, "x-h%d", i);
        if (i % 7)
            snprintf(value, sizeof value, "value number %d", i);
        else
            value[0] = '\0';
        expect_header(&v, (size_t)i, name, value);
    }
    hc_racc_fini(&a);
    free(env.hdrs);
}

/* A reset accumulator keeps its memory and holds only the next response;
 * a value before any field is refused. */
static void test_reset_reuses(void **state)
{
    (void)state;
    hc_racc_t a = {0};
    hc_env_t env = {0};
    assert_int_equal(hc_racc_value(&a, "orphan", 6), -1);
    assert_int_equal(hc_racc_header(&a, "a", 1, "1", 1), 0);
    assert_int_equal(hc_racc_body(&a, "first", 5, SIZE_MAX), 0);
    char *hb = a.hb;
    hc_racc_reset(&a);
    assert_ptr_equal(a.hb, hb);
    assert_int_equal(hc_racc_field(&a, "b", 1), 0);
    assert_int_equal(hc_racc_value(&a, "2", 1), 0);
    hc_resp_t v;
    assert_int_equal(hc_racc_view(&a, &env, 204, &v), 0);
    assert_int_equal(v.n_headers, 1);
    expect_header(&v, 0, "b", "2");
    assert_int_equal(v.body_len, 0);
    hc_racc_fini(&a);
    assert_null(a.hb);
    assert_int_equal(a.n_hdrs, 0);
    free(env.hdrs);
}

/* Beyond max the body is counted, not kept; the view says it was cut. */
static void test_body_bound(void **state)
{
    (void)state;
    hc_racc_t a = {0};
    hc_env_t env = {0};
    env.max_body = 10;
    bodydec_init(&env.dec);
    assert_int_equal(hc_racc_body(&a, "0123456", 7, 10), 0);
    assert_int_equal(hc_racc_body(&a, "789abcdef", 9, 10), 0);
    assert_int_equal(hc_racc_body(&a, "ghij", 4, 10), 0);
    assert_int_equal(a.body_len, 10);
    assert_int_equal(a.body_dropped, 10);
    assert_true(a.body_cap < 1024);
    hc_resp_t v;
    assert_int_equal(hc_racc_view(&a, &env, 200, &v), 0);
    assert_int_equal(v.body_len, 10);
    assert_memory_equal(v.body, "0123456789", 10);
    assert_true(v.body_cut);
    assert_false(v.body_undecoded);
    assert_int_equal(v.body_dropped, 10);
    hc_racc_reset(&a);
    assert_int_equal(hc_racc_body(&a, "x", 1, 10), 0);
    assert_int_equal(hc_racc_view(&a, &env, 200, &v), 0);
    assert_false(v.body_cut);
    assert_int_equal(v.body_dropped, 0);
    hc_racc_fini(&a);
    bodydec_fini(&env.dec);
    free(env.hdrs);
}

static size_t gzip_of(const char *in, size_t len, unsigned char *out, size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (unsigned char *)(uintptr_t)in;
    z.avail_in = (unsigned)len;
    z.next_out = out;
    z.avail_out = (unsigned)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t n = z.total_out;
    deflateEnd(&z);
    return n;
}

/* The view holds the decoded body; what cannot be decoded is said so; a
 * decoded body past max_body is cut like a received one. */
static void test_view_decodes(void **state)
{
    (void)state;
    hc_racc_t a = {0};
    hc_env_t env = {0};
    env.max_body = 1 << 20;
    bodydec_init(&env.dec);
    const char *json = "{\"token\":\"abc123def456\"}";
    unsigned char gz[256];
    size_t n = gzip_of(json, strlen(json), gz, sizeof gz);
    assert_int_equal(hc_racc_header(&a, "Content-Encoding", 16, "gzip", 4), 0);
    assert_int_equal(hc_racc_body(&a, gz, n, env.max_body), 0);
    hc_resp_t v;
    assert_int_equal(hc_racc_view(&a, &env, 200, &v), 0);
    assert_int_equal(v.body_len, strlen(json));
    assert_memory_equal(v.body, json, v.body_len);
    assert_int_equal(v.body[v.body_len], '\0');
    assert_false(v.body_cut || v.body_undecoded);

    hc_racc_reset(&a);
    assert_int_equal(hc_racc_header(&a, "content-encoding", 16, "compress", 8), 0);
    assert_int_equal(hc_racc_body(&a, gz, n, env.max_body), 0);
    assert_int_equal(hc_racc_view(&a, &env, 200, &v), 0);
    assert_true(v.body_undecoded);
    assert_int_equal(v.body_len, n);  /* as received */

    /* 1 MiB of 'a' decoded with max_body 1000. */
    size_t big = 1 << 20;
    char *plain = malloc(big);
    unsigned char *bomb = malloc(big);
    memset(plain, 'a', big);
    size_t bn = gzip_of(plain, big, bomb, big);
    env.max_body = 1000;
    hc_racc_reset(&a);
    assert_int_equal(hc_racc_header(&a, "Content-Encoding", 16, "gzip", 4), 0);
    assert_int_equal(hc_racc_body(&a, bomb, bn, env.max_body), 0);
    assert_int_equal(hc_racc_view(&a, &env, 200, &v), 0);
    assert_true(v.body_cut);
    assert_int_equal(v.body_len, 1000);
    assert_int_equal(v.body[999], 'a');
    free(plain);
    free(bomb);
    hc_racc_fini(&a);
    bodydec_fini(&env.dec);
    free(env.hdrs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pieces_join),
        cmocka_unit_test(test_whole_headers_grow),
        cmocka_unit_test(test_reset_reuses),
        cmocka_unit_test(test_body_bound),
        cmocka_unit_test(test_view_decodes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
