#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
