/* Unit tests of capture/session.c: session keys from cookies and headers,
 * the original client from Forwarded and X-Forwarded-For. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "session.h"

static rec_headers_t hdrs(const char *name, const char *value, const char *name2, const char *value2)
{
    rec_headers_t h = { 0 };
    assert_int_equal(rec_headers_add(&h, name, value), 0);
    if (name2)
        assert_int_equal(rec_headers_add(&h, name2, value2), 0);
    return h;
}

static void expect_for(const char *name, const char *value, const char *want)
{
    session_opts_t o = { .forwarded = true };
    rec_headers_t h = hdrs(name, value, NULL, NULL);
    char *got = session_forwarded_for(&o, &h);
    if (want == NULL)
        assert_null(got);
    else
        assert_string_equal(got, want);
    free(got);
    rec_headers_fini(&h);
}

static void forwarded_for(void **state)
{
    (void)state;
    expect_for("X-Forwarded-For", "10.0.0.1, 127.0.0.1", "10.0.0.1");
    expect_for("x-forwarded-for", " 2001:db8::1 ", "2001:db8::1");
    expect_for("X-Forwarded-For", "192.0.2.7:4711", "192.0.2.7");
    expect_for("Forwarded", "for=\"[2001:db8:cafe::17]:4711\";proto=http, for=1.2.3.4", "2001:db8:cafe::17");
    expect_for("Forwarded", "proto=https;For=192.0.2.60:8080;by=203.0.113.43", "192.0.2.60");
    expect_for("Forwarded", "for=unknown", "unknown");
    expect_for("Forwarded", "by=203.0.113.43", NULL);
    expect_for("X-Real-IP", "10.0.0.1", NULL);
}

static void forwarded_wins_and_needs_the_option(void **state)
{
    (void)state;
    rec_headers_t h = hdrs("X-Forwarded-For", "10.0.0.1", "Forwarded", "for=10.0.0.2");
    session_opts_t off = { 0 }, on = { .forwarded = true };
    assert_null(session_forwarded_for(&off, &h));
    char *k = session_forwarded_for(&on, &h);
    assert_string_equal(k, "10.0.0.2");
    free(k);
    rec_headers_fini(&h);
}

static void cookie_and_header_are_hashed(void **state)
{
    (void)state;
    session_opts_t c = { .cookie = "sid" }, hd = { .header = "X-Tenant" };
    rec_headers_t a = hdrs("Cookie", "x=1; sid=abc; y=2", "X-Tenant", "alpha");
    rec_headers_t b = hdrs("Cookie", "sid=abc", NULL, NULL);
    rec_headers_t set = hdrs("Set-Cookie", "sid=abc; Path=/; HttpOnly", NULL, NULL);
    char *ka = session_from_request(&c, &a), *kb = session_from_request(&c, &b);
    char *ks = session_from_response(&c, &set), *kt = session_from_request(&hd, &a);
    assert_non_null(ka);
    assert_int_equal(strncmp(ka, "session:", 8), 0);
    assert_int_equal(strlen(ka), 24);
    assert_string_equal(ka, kb);
    assert_string_equal(ka, ks); /* the login that sets it starts the same session */
    assert_string_not_equal(ka, kt);
    assert_null(strstr(ka, "abc"));
    assert_null(session_from_request(&c, &set));
    free(ka);
    free(kb);
    free(ks);
    free(kt);
    rec_headers_fini(&a);
    rec_headers_fini(&b);
    rec_headers_fini(&set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(forwarded_for),
        cmocka_unit_test(forwarded_wins_and_needs_the_option),
        cmocka_unit_test(cookie_and_header_are_hashed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
