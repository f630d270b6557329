/* Unit tests of convert/normalise.c: ids, UUIDs, hashes and tokens in paths
 * become placeholders; words, versions and query values do not count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "normalise.h"

static void seg(const char *s, const char *want)
{
    const char *got = norm_segment(s, strlen(s));
    if (!want)
        assert_null(got);
    else
        assert_string_equal(got, want);
}

static void test_segments(void **state)
{
    (void)state;
    seg("42", "{id}");
    seg("0007", "{id}");
    seg("550e8400-e29b-41d4-a716-446655440000", "{uuid}");
    seg("d41d8cd98f00b204e9800998ecf8427e", "{hash}");
    seg("eyJhbGciOiJIUzI1NiJ9abc123XYZ", "{token}");
    seg("a1b2c3d4e5", "{token}");
    seg("api", NULL);
    seg("v2", NULL);
    seg("h2load", NULL);
    seg("index.html", NULL);
    seg("deadbeefcafebabe", NULL); /* all letters: a word, not a hash */
}

static void test_path(void **state)
{
    (void)state;
    char out[256];
    norm_path("/api/item/42", 0, out, sizeof out);
    assert_string_equal(out, "/api/item/{id}");
    norm_path("/api/search?q=shoes&page=2", 1, out, sizeof out);
    assert_string_equal(out, "/api/search?q&page");
    norm_path("/api/search?q=boots&page=9", 0, out, sizeof out);
    assert_string_equal(out, "/api/search");
    norm_path("/u/550e8400-e29b-41d4-a716-446655440000/orders/7#x", 1, out, sizeof out);
    assert_string_equal(out, "/u/{uuid}/orders/{id}");
    norm_path("", 0, out, sizeof out);
    assert_string_equal(out, "/");
    norm_path("/a/123456", 0, out, 8);   /* cut to the buffer, still terminated */
    assert_int_equal(strlen(out), 7);
}

static void test_name_and_key(void **state)
{
    (void)state;
    char *a = norm_name("GET", NULL, "/api/item/42?x=1");
    char *b = norm_name("GET", "cdn.test", "/img/9.png");
    char *k1 = norm_key("GET", "shop.test", "/api/item/42?x=1");
    char *k2 = norm_key("GET", "shop.test", "/api/item/7?x=2");
    char *k3 = norm_key("POST", "shop.test", "/api/item/7?x=2");
    assert_string_equal(a, "GET /api/item/{id}");
    assert_string_equal(b, "GET cdn.test/img/9.png");
    assert_string_equal(k1, k2);
    assert_string_not_equal(k1, k3);
    free(a);
    free(b);
    free(k1);
    free(k2);
    free(k3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_segments),
        cmocka_unit_test(test_path),
        cmocka_unit_test(test_name_and_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
