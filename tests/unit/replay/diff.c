/* Tests of replay/diff.c: JSON shapes, and each kind of difference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "diff.h"
#include "stats.h"

static void test_shape(void **state)
{
    (void)state;
    const char *j = "{\"b\": [1, {\"x\": null}, 2.5], \"a\": {\"s\": \"t\", \"ok\": true}}";
    char *s = diff_json_shape(j, strlen(j));
    assert_non_null(s);
    assert_string_equal(s, "$.a.ok:bool\n$.a.s:string\n$.a:object\n$.b:array\n$.b[].x:null\n"
                           "$.b[]:number\n$.b[]:object\n$:object");
    free(s);
    /* values do not change a shape; key order neither */
    char *a = diff_json_shape("{\"x\": 1, \"y\": \"a\"}", 18);
    char *b = diff_json_shape("{\"y\": \"zz\", \"x\": 99}", 20);
    assert_string_equal(a, b);
    free(a);
    free(b);
    assert_null(diff_json_shape("<html>", 6));
}

static resp_view_t resp(int status, const char *ct, const char *body)
{
    static resp_header_t h;
    h = (resp_header_t){.name = "Content-Type", .name_len = 12, .value = ct, .value_len = strlen(ct)};
    return (resp_view_t){.status = status, .headers = &h, .n_headers = 1, .body = body,
                         .body_len = strlen(body)};
}

static void test_compare(void **state)
{
    (void)state;
    scn_request_t r[4];
    diff_opts_t o = {.values = true, .length_tolerance = 0.1};
    diff_t *d = diff_new(&o);
    const char *json = "{\"user\": \"ann\", \"n\": 1}";
    assert_int_equal(diff_add(d, &r[0], 200, "application/json; charset=utf-8", (const uint8_t *)json,
                              strlen(json), false), 0);
    assert_int_equal(diff_add(d, &r[1], 200, "text/html", (const uint8_t *)"0123456789", 10, false), 0);
    assert_int_equal(diff_add(d, &r[2], 200, "text/plain", (const uint8_t *)"abc", 3, true), 0);
    assert_int_equal(diff_seal(d), 0);
    char ex[600];
    resp_view_t v = resp(200, "application/json", "{\"n\": 1, \"user\": \"ann\"}");
    assert_int_equal(diff_compare(d, &r[0], "GET", "/u", &v, ex, sizeof ex), 0);
    v = resp(200, "application/json", "{\"n\": 2, \"user\": \"ann\"}");
    assert_int_equal(diff_compare(d, &r[0], "GET", "/u", &v, ex, sizeof ex), 1u << STATS_DIFF_VALUES);
    v = resp(500, "text/html", "{\"n\": 1, \"login\": \"ann\"}");
    unsigned k = diff_compare(d, &r[0], "GET", "/u", &v, ex, sizeof ex);
    assert_int_equal(k, (1u << STATS_DIFF_STATUS) | (1u << STATS_DIFF_TYPE) | (1u << STATS_DIFF_SHAPE));
    assert_string_equal(ex, "GET /u: status: recorded 200, replayed 500");
    v = resp(200, "application/json", "{\"n\": 1, \"login\": \"ann\"}");
    diff_compare(d, &r[0], "GET", "/u", &v, ex, sizeof ex);
    assert_string_equal(ex, "GET /u: shape: recorded has $.user:string, replayed has $.login:string");
    v = resp(200, "application/json", "not json");
    assert_int_equal(diff_compare(d, &r[0], "GET", "/u", &v, ex, sizeof ex), 1u << STATS_DIFF_SHAPE);
    /* other bodies: length within 10% */
    v = resp(200, "text/html", "01234567890");
    assert_int_equal(diff_compare(d, &r[1], "GET", "/p", &v, ex, sizeof ex), 0);
    v = resp(200, "text/html", "012345678901");
    assert_int_equal(diff_compare(d, &r[1], "GET", "/p", &v, ex, sizeof ex), 1u << STATS_DIFF_LENGTH);
    assert_string_equal(ex, "GET /p: length: recorded 10 bytes, replayed 12");
    /* a truncated recording: status and type only */
    v = resp(200, "text/plain", "a much longer body");
    assert_int_equal(diff_compare(d, &r[2], "GET", "/t", &v, ex, sizeof ex), 0);
    /* no recorded response: nothing to say */
    assert_int_equal(diff_compare(d, &r[3], "GET", "/x", &v, ex, sizeof ex), 0);
    diff_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape),
        cmocka_unit_test(test_compare),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
