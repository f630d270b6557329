/* Tests of replay/respacc.c: headers in pieces and whole, reuse, body NUL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "respacc.h"

static void expect_header(const resp_view_t *v, size_t i, const char *name, const char *value)
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
    racc_t a = {0};
    conn_env_t env = {0};
    assert_int_equal(racc_field(&a, "Cont", 4), 0);
    assert_int_equal(racc_field(&a, "ent-Type", 8), 0);
    assert_int_equal(racc_value(&a, "appli", 5), 0);
    assert_int_equal(racc_value(&a, "cation/json", 11), 0);
    assert_int_equal(racc_field(&a, "Set-Cookie", 10), 0);
    assert_int_equal(racc_value(&a, "a=1", 3), 0);
    assert_int_equal(racc_body(&a, "{\"x\":", 5), 0);
    assert_int_equal(racc_body(&a, "1}", 2), 0);
    resp_view_t v;
    assert_int_equal(racc_view(&a, &env, 200, &v), 0);
    assert_int_equal(v.status, 200);
    assert_int_equal(v.n_headers, 2);
    expect_header(&v, 0, "Content-Type", "application/json");
    expect_header(&v, 1, "Set-Cookie", "a=1");
    assert_int_equal(v.body_len, 7);
    assert_memory_equal(v.body, "{\"x\":1}", 7);
    assert_int_equal(v.body[7], '\0'); /* for regexec, not counted */
    racc_fini(&a);
    free(env.hdrs);
}

/* h2 gives whole headers, empty values included; many force growth. */
static void test_whole_headers_grow(void **state)
{
    (void)state;
    racc_t a = {0};
    conn_env_t env = {0};
    char name[32], value[64];
    for (int i = 0; i < 100; i++) {
        int nl = snprintf(name, sizeof name, "x-h%d", i);
        int vl = i % 7 ? snprintf(value, sizeof value, "value number %d", i) : 0;
        assert_int_equal(racc_header(&a, name, (size_t)nl, value, (size_t)vl), 0);
    }
    resp_view_t v;
    assert_int_equal(racc_view(&a, &env, 404, &v), 0);
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
    racc_fini(&a);
    free(env.hdrs);
}

/* A reset accumulator keeps its memory and holds only the next response;
 * a value before any field is refused. */
static void test_reset_reuses(void **state)
{
    (void)state;
    racc_t a = {0};
    conn_env_t env = {0};
    assert_int_equal(racc_value(&a, "orphan", 6), -1);
    assert_int_equal(racc_header(&a, "a", 1, "1", 1), 0);
    assert_int_equal(racc_body(&a, "first", 5), 0);
    char *hb = a.hb;
    racc_reset(&a);
    assert_ptr_equal(a.hb, hb);
    assert_int_equal(racc_field(&a, "b", 1), 0);
    assert_int_equal(racc_value(&a, "2", 1), 0);
    resp_view_t v;
    assert_int_equal(racc_view(&a, &env, 204, &v), 0);
    assert_int_equal(v.n_headers, 1);
    expect_header(&v, 0, "b", "2");
    assert_int_equal(v.body_len, 0);
    racc_fini(&a);
    assert_null(a.hb);
    assert_int_equal(a.n_hdrs, 0);
    free(env.hdrs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pieces_join),
        cmocka_unit_test(test_whole_headers_grow),
        cmocka_unit_test(test_reset_reuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
