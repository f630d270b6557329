/* Tests of replay/cookies.c: RFC 6265 jar scenarios. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cookies.h"

#define NOW 1700000000 /* 2023-11-14T22:13:20Z */

static void set(cookie_jar_t *j, const char *v, const char *host, const char *path, bool tls)
{
    cookie_jar_set(j, v, strlen(v), host, path, tls, NOW);
}

/* The Cookie header for host/path at time now, in a static buffer. */
static const char *header_at(cookie_jar_t *j, const char *host, const char *path, bool tls, int64_t now)
{
    static char buf[512];
    size_t n = cookie_jar_header(j, host, path, tls, now, buf, sizeof(buf));
    assert_int_equal(n, strlen(buf));
    return buf;
}

static const char *header(cookie_jar_t *j, const char *host, const char *path, bool tls)
{
    return header_at(j, host, path, tls, NOW);
}

static int setup(void **state)
{
    *state = cookie_jar_new();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    cookie_jar_free(*state);
    return 0;
}

static void test_host_only(void **state)
{
    cookie_jar_t *j = *state;
    set(j, "a=1", "Shop.Example.com", "/", false);
    assert_string_equal(header(j, "shop.example.com", "/", false), "a=1");
    assert_string_equal(header(j, "shop.example.com:8080", "/x", false), "a=1");
    assert_string_equal(header(j, "sub.shop.example.com", "/", false), ""); /* host-only */
    assert_string_equal(header(j, "example.com", "/", false), "");
    assert_string_equal(header(j, "other.com", "/", false), "");
}

static void test_domain(void **state)
{
    cookie_jar_t *j = *state;
    set(j, "d=1; Domain=.Example.COM", "shop.example.com", "/", false);
    assert_int_equal(cookie_jar_count(j), 1);
    assert_string_equal(header(j, "example.com", "/", false), "d=1");
    assert_string_equal(header(j, "a.b.example.com", "/", false), "d=1");
    assert_string_equal(header(j, "badexample.com", "/", false), "");
    /* a server may not set a cookie for a site that is not its own */
    set(j, "evil=1; Domain=other.com", "shop.example.com", "/", false);
    set(j, "sub=1; Domain=deep.shop.example.com", "shop.example.com", "/", false);
    assert_int_equal(cookie_jar_count(j), 1);
    /* IP addresses only match themselves */
    set(j, "ip=1; Domain=0.0.1", "10.0.0.1", "/", false);
    assert_int_equal(cookie_jar_count(j), 1);
    set(j, "ip=2; Domain=10.0.0.1", "10.0.0.1", "/", false);
    assert_string_equal(header(j, "10.0.0.1", "/", false), "ip=2");
}

static void test_path(void **state)
{
    cookie_jar_t *j = *state;
    set(j, "root=r; Path=/", "h.test", "/a/b", false);
    set(j, "api=1; Path=/api", "h.test", "/", false);
    set(j, "dflt=2", "h.test", "/docs/guide/page.html?x=/y", false); /* default path /docs/guide */
    set(j, "bad=3; Path=relative", "h.test", "/x/y", false);           /* not absolute: default /x */
    assert_string_equal(header(j, "h.test", "/api", false), "api=1; root=r");
    assert_string_equal(header(j, "h.test", "/api/v1/items?q=1", false), "api=1; root=r");
    assert_string_equal(header(j, "h.test", "/apix", false), "root=r"); /* not a path-match */
    assert_string_equal(header(j, "h.test", "/docs/guide", false), "dflt=2; root=r");
    assert_string_equal(header(j, "h.test", "/docs/guide/x", false), "dflt=2; root=r");
    assert_string_equal(header(j, "h.test", "/docs", false), "root=r");
    assert_string_equal(header(j, "h.test", "/x/z", false), "bad=3; root=r");
    assert_string_equal(header(j, "h.test", "", false), "root=r");
}

static void test_order(void **state)
{
    cookie_jar_t *j = *state;
    set(j, "first=1; Path=/", "h.test", "/", false);
    set(j, "deep=2; Path=/a/b", "h.test", "/", false);
    set(j, "mid=3; Path=/a", "h.test", "/", false);
    set(j, "second=4; Path=/", "h.test", "/", false);
    assert_string_equal(header(j, "h.test", "/a/b/c", false), "deep=2; mid=3; first=1; second=4");
    /* a replaced cookie keeps its creation time, hence its place */
    set(j, "first=9; Path=/", "h.test", "/", false);
    assert_string_equal(header(j, "h.test", "/a/b/c", false), "deep=2; mid=3; first=9; second=4");
}

static void test_secure(void **state)
{
    cookie_jar_t *j = *state;
    set(j, "s=1; Secure; HttpOnly", "h.test", "/", true);
    set(j, "p=2", "h.test", "/", true);
    assert_string_equal(header(j, "h.test", "/", true), "s=1; p=2");
    assert_string_equal(header(j, "h.test", "/", false), "p=2");
    /* plain http may not set a Secure cookie */
    set(j, "t=3; secure", "h.test", "/", false);
    assert_int_equal(cookie_jar_count(j), 2);
}

static void test_expiry(void **state)
{
    cookie_jar_t *j = *state;
    set(j, "e=1; Expires=Wed, 15 Nov 2023 22:13:20 GMT", "h.test", "/", false); /* NOW + 1 day */
    set(j, "m=2; Max-Age=60", "h.test", "/", false);
    set(j, "s=3", "h.test", "/", false);
    assert_string_equal(header_at(j, "h.test", "/", false, NOW + 59), "e=1; m=2; s=3");
    assert_string_equal(header_at(j, "h.test", "/", false, NOW + 60), "e=1; s=3");
    assert_string_equal(header_at(j, "h.test", "/", false, NOW + 86400), "s=3");
    /* Max-Age wins over Expires whatever the order */
    set(j, "w=4; Max-Age=10; Expires=Wed, 15 Nov 2023 22:13:20 GMT", "h.test", "/", false);
    set(j, "x=5; Expires=Wed, 15 Nov 2023 22:13:20 GMT; max-age=10", "h.test", "/", false);
    assert_string_equal(header_at(j, "h.test", "/", false, NOW + 11), "e=1; m=2; s=3");
    /* the other date forms servers send */
    set(j, "r850=6; expires=Wednesday, 15-Nov-23 22:13:20 GMT", "h.test", "/", false);
    set(j, "asc=7; expires=Wed Nov 15 22:13:20 2023", "h.test", "/", false);
    set(j, "dash=8; expires=Wed, 15-Nov-2023 22:13:20 GMT", "h.test", "/", false);
    assert_string_equal(header_at(j, "h.test", "/", false, NOW + 86399), "e=1; s=3; r850=6; asc=7; dash=8");
    assert_string_equal(header_at(j, "h.test", "/", false, NOW + 86400), "s=3");
    /* an unparsable date is ignored: a session cookie */
    set(j, "bad=9; expires=someday", "h.test", "/", false);
    assert_string_equal(header_at(j, "h.test", "/", false, NOW + 999999), "s=3; bad=9");
}

static void test_delete_and_replace(void **state)
{
    cookie_jar_t *j = *state;
    set(j, "sid=old", "h.test", "/", false);
    set(j, "sid=api; Path=/api", "h.test", "/", false);
    set(j, "sid=new", "h.test", "/x", false); /* same name, domain, path "/": replaces */
    assert_int_equal(cookie_jar_count(j), 2);
    assert_string_equal(header(j, "h.test", "/api", false), "sid=api; sid=new");
    set(j, "sid=; Max-Age=0", "h.test", "/", false);
    assert_int_equal(cookie_jar_count(j), 1);
    assert_string_equal(header(j, "h.test", "/api", false), "sid=api");
    set(j, "sid=gone; Path=/api; Expires=Thu, 01 Jan 1970 00:00:00 GMT", "h.test", "/", false);
    assert_int_equal(cookie_jar_count(j), 0);
    assert_string_equal(header(j, "h.test", "/api", false), "");
    set(j, "neg=1; Max-Age=-5", "h.test", "/", false);
    assert_int_equal(cookie_jar_count(j), 0);
    /* deleting an unknown cookie is harmless */
    set(j, "none=; Max-Age=0", "h.test", "/", false);
    assert_int_equal(cookie_jar_count(j), 0);
    /* a domain cookie is another cookie than a host-only one of the same name */
    set(j, "k=host", "h.test", "/", false);
    set(j, "k=dom; Domain=h.test", "h.test", "/", false);
    assert_int_equal(cookie_jar_count(j), 1); /* same (name, domain, path): replaced */
    assert_string_equal(header(j, "a.h.test", "/", false), "k=dom");
}

static void test_malformed(void **state)
{
    cookie_jar_t *j = *state;
    set(j, "novalue", "h.test", "/", false);
    set(j, "=nameless", "h.test", "/", false);
    set(j, "  ; a=b", "h.test", "/", false);
    set(j, "", "h.test", "/", false);
    assert_int_equal(cookie_jar_count(j), 0);
    set(j, " spaced = v v ;Path=/", "h.test", "/", false);
    set(j, "q=\"quoted\"", "h.test", "/", false);
    set(j, "empty=", "h.test", "/", false);
    assert_string_equal(header(j, "h.test", "/", false), "spaced=v v; q=\"quoted\"; empty=");
}

static void test_cut_and_size(void **state)
{
    cookie_jar_t *j = *state;
    assert_int_equal(cookie_jar_size(NULL), 0);
    assert_int_equal(cookie_jar_count(NULL), 0);
    char small[5] = "zzzz";
    assert_int_equal(cookie_jar_header(NULL, "h", "/", false, NOW, small, sizeof(small)), 0);
    assert_string_equal(small, "");
    size_t empty = cookie_jar_size(j);
    set(j, "abc=123456", "h.test", "/", false);
    assert_true(cookie_jar_size(j) > empty + 10);
    assert_int_equal(cookie_jar_header(j, "h.test", "/", false, NOW, small, sizeof(small)), 10);
    assert_string_equal(small, "abc=");
}

static void test_bounded(void **state)
{
    cookie_jar_t *j = *state;
    char v[32];
    for (int i = 0; i < 200; i++) {
        snprintf(v, sizeof(v), "c%d=%d", i, i);
        set(j, v, "h.test", "/", false);
    }
    assert_int_equal(cookie_jar_count(j), 64);
    /* the oldest went first */
    char buf[4096];
    cookie_jar_header(j, "h.test", "/", false, NOW, buf, sizeof(buf));
    assert_null(strstr(buf, "c135="));
    assert_non_null(strstr(buf, "c136=136"));
    assert_non_null(strstr(buf, "c199=199"));
}

static void test_too_big(void **state)
{
    cookie_jar_t *j = *state;
    char *v = malloc(5000);
    memset(v, 'x', 4999);
    v[4999] = '\0';
    v[0] = 'k';
    v[1] = '=';
    set(j, v, "h.test", "/", false); /* 1 + 4997 bytes: over the limit */
    assert_int_equal(cookie_jar_count(j), 0);
    v[4097] = '\0';                  /* 1 + 4095 bytes: at the limit */
    set(j, v, "h.test", "/", false);
    assert_int_equal(cookie_jar_count(j), 1);
    free(v);
}

static void test_parse_pair(void **state)
{
    (void)state;
    const char *n, *v;
    size_t nl, vl;
    const char *s = " tok = a=b ; Path=/";
    assert_int_equal(cookie_parse_pair(s, strlen(s), &n, &nl, &v, &vl), 0);
    assert_int_equal(nl, 3);
    assert_memory_equal(n, "tok", 3);
    assert_int_equal(vl, 3);
    assert_memory_equal(v, "a=b", 3);
    assert_int_equal(cookie_parse_pair("x; a=b", 6, &n, &nl, &v, &vl), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_host_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_domain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_and_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cut_and_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_big, setup, teardown),
        cmocka_unit_test(test_parse_pair),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
