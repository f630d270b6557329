#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"

static void test_parse(void **state)
{
    (void)state;
    url_t u;
    char err[256], buf[300];
    const char *s = "https://Example.com:8443/a/b?x=1";
    assert_int_equal(url_parse(s, &u, err, sizeof(err)), 0);
    assert_string_equal(u.scheme, "https");
    assert_string_equal(u.host, "Example.com");
    assert_int_equal(u.port, 8443);
    assert_true(u.tls);
    assert_string_equal(u.path, "/a/b?x=1");
    url_host_header(&u, buf, sizeof(buf));
    assert_string_equal(buf, "Example.com:8443");

    assert_int_equal(url_parse("http://127.0.0.1", &u, err, sizeof(err)), 0);
    assert_int_equal(u.port, 80);
    assert_string_equal(u.path, "/");
    url_origin(&u, buf, sizeof(buf));
    assert_string_equal(buf, "http://127.0.0.1");

    assert_int_equal(url_parse("http://[::1]:9000/x", &u, err, sizeof(err)), 0);
    assert_true(u.ipv6);
    assert_string_equal(u.host, "::1");
    url_host_header(&u, buf, sizeof(buf));
    assert_string_equal(buf, "[::1]:9000");

    assert_int_equal(url_parse("http://h?q=1", &u, err, sizeof(err)), 0);
    assert_string_equal(u.path, "?q=1");
}

static void test_errors(void **state)
{
    (void)state;
    url_t u;
    char err[256];
    assert_int_equal(url_parse("ftp://x/", &u, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "http://"));
    assert_int_equal(url_parse("http://:80/", &u, err, sizeof(err)), -1);
    assert_int_equal(url_parse("http://h:0/", &u, err, sizeof(err)), -1);
    assert_int_equal(url_parse("http://h:70000/", &u, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "port"));
    assert_int_equal(url_parse("http://[::1/", &u, err, sizeof(err)), -1);
}

/* Credentials in the URL are named for what they are, not taken for a bad port
 * ("user:pw@host" has a colon before the '@'), and the password is not echoed. */
static void test_userinfo(void **state)
{
    (void)state;
    url_t u;
    char err[256];
    assert_int_equal(url_parse("http://user:s3cret@example.com:8080/x", &u, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "userinfo"));
    assert_null(strstr(err, "port must"));
    assert_null(strstr(err, "s3cret"));
    assert_non_null(strstr(err, "example.com:8080"));
    assert_int_equal(url_parse("https://user@example.com/", &u, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "userinfo"));
    /* An '@' after the authority is path or query, not userinfo. */
    assert_int_equal(url_parse("http://h/a@b?c=@", &u, err, sizeof(err)), 0);
    assert_string_equal(u.host, "h");
    assert_string_equal(u.path, "/a@b?c=@");
}

static void resolves(const char *base, const char *ref, const char *want)
{
    char out[256];
    long n = url_resolve(base, ref, strlen(ref), out, sizeof out);
    assert_true(n > 0);
    assert_string_equal(out, want);
    assert_int_equal((size_t)n, strlen(want));
}

/* RFC 3986 5.4's examples that a Location header can carry. */
static void test_resolve(void **state)
{
    (void)state;
    const char *b = "http://a:8080/b/c/d;p?q";
    resolves(b, "g", "http://a:8080/b/c/g");
    resolves(b, "./g", "http://a:8080/b/c/g");
    resolves(b, "g/", "http://a:8080/b/c/g/");
    resolves(b, "/g", "http://a:8080/g");
    resolves(b, "//g/x", "http://g/x");
    resolves(b, "?y", "http://a:8080/b/c/d;p?y");
    resolves(b, "g?y", "http://a:8080/b/c/g?y");
    resolves(b, "g#s", "http://a:8080/b/c/g");
    resolves(b, "", "http://a:8080/b/c/d;p?q");
    resolves(b, ".", "http://a:8080/b/c/");
    resolves(b, "..", "http://a:8080/b/");
    resolves(b, "../g", "http://a:8080/b/g");
    resolves(b, "../..", "http://a:8080/");
    resolves(b, "../../g", "http://a:8080/g");
    resolves(b, "../../../g", "http://a:8080/g");
    resolves(b, "/./g", "http://a:8080/g");
    resolves(b, "g/../h?x=/../", "http://a:8080/b/c/h?x=/../");
    resolves(b, "HTTPS://other/x?y", "HTTPS://other/x?y");
    resolves("https://h", "x", "https://h/x");
    /* ref is a slice of a header value: nothing past ref_len is read (an
     * exactly-sized heap copy lets AddressSanitizer see an overread). */
    char big[256];
    char *slice = malloc(4);
    memcpy(slice, "../g", 4);
    assert_true(url_resolve(b, slice, 4, big, sizeof big) > 0);
    assert_string_equal(big, "http://a:8080/b/g");
    memcpy(slice, "x?yz", 4);
    assert_true(url_resolve(b, slice, 1, big, sizeof big) > 0);
    assert_string_equal(big, "http://a:8080/b/c/x");
    free(slice);
    char out[16];
    assert_int_equal(url_resolve(b, "mailto:x@y", 10, out, sizeof out), -1);
    assert_int_equal(url_resolve("/rel", "g", 1, out, sizeof out), -1);
    assert_int_equal(url_resolve(b, "/a-long-path-that-does-not-fit", 30, out, sizeof out), -1);
}

static void test_listen(void **state)
{
    (void)state;
    char host[64], err[256];
    unsigned short port;
    assert_int_equal(url_parse_listen(":9646", "127.0.0.1", host, sizeof(host), &port, err, sizeof(err)), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 9646);
    assert_int_equal(url_parse_listen("0.0.0.0:80", "127.0.0.1", host, sizeof(host), &port, err, sizeof(err)), 0);
    assert_string_equal(host, "0.0.0.0");
    assert_int_equal(url_parse_listen("[::1]:81", "127.0.0.1", host, sizeof(host), &port, err, sizeof(err)), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(url_parse_listen("8080", "127.0.0.1", host, sizeof(host), &port, err, sizeof(err)), 0);
    assert_int_equal(port, 8080);
    assert_int_equal(url_parse_listen(":0", "127.0.0.1", host, sizeof(host), &port, err, sizeof(err)), 0);
    assert_int_equal(port, 0);
    assert_int_equal(url_parse_listen(":65536", "127.0.0.1", host, sizeof(host), &port, err, sizeof(err)), -1);
    assert_int_equal(url_parse_listen("x:y", "127.0.0.1", host, sizeof(host), &port, err, sizeof(err)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_listen),
        cmocka_unit_test(test_userinfo),
        cmocka_unit_test(test_resolve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
