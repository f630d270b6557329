/* Unit tests of capture/access.c: CIDR lists, loopback, CONNECT ports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "access.h"

static struct sockaddr_storage sa(const char *addr)
{
    struct sockaddr_storage s;
    memset(&s, 0, sizeof s);
    if (strchr(addr, ':')) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&s;
        a->sin6_family = AF_INET6;
        assert_int_equal(inet_pton(AF_INET6, addr, &a->sin6_addr), 1);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&s;
        a->sin_family = AF_INET;
        assert_int_equal(inet_pton(AF_INET, addr, &a->sin_addr), 1);
    }
    return s;
}

static bool ok(const access_t *a, const char *addr)
{
    struct sockaddr_storage s = sa(addr);
    return access_client_ok(a, (struct sockaddr *)&s);
}

static bool loop(const char *addr)
{
    struct sockaddr_storage s = sa(addr);
    return access_is_loopback((struct sockaddr *)&s);
}

static void clients(void **state)
{
    (void)state;
    access_t *a = access_new();
    char err[200];
    assert_false(access_limits_clients(a));
    assert_true(ok(a, "203.0.113.9"));
    assert_int_equal(access_allow_clients(a, "10.0.0.0/8,192.0.2.7,fd00::/8,172.16.0.0/12", err, sizeof err), 0);
    assert_true(access_limits_clients(a));
    assert_true(ok(a, "10.200.3.4"));
    assert_true(ok(a, "::ffff:10.1.2.3"));   /* IPv4-mapped */
    assert_true(ok(a, "192.0.2.7"));
    assert_false(ok(a, "192.0.2.8"));
    assert_true(ok(a, "172.31.255.255"));
    assert_false(ok(a, "172.32.0.0"));
    assert_true(ok(a, "fd12::1"));
    assert_false(ok(a, "fe80::1"));
    assert_false(ok(a, "127.0.0.1"));
    access_free(a);
}

static void bad_cidrs(void **state)
{
    (void)state;
    access_t *a = access_new();
    char err[200];
    assert_int_equal(access_allow_clients(a, "10.0.0.0/33", err, sizeof err), -1);
    assert_non_null(strstr(err, "'10.0.0.0/33'"));
    assert_int_equal(access_allow_clients(a, "example.com", err, sizeof err), -1);
    assert_int_equal(access_allow_clients(a, "10.0.0.1,,", err, sizeof err), -1);
    assert_int_equal(access_allow_clients(a, "::1/129", err, sizeof err), -1);
    access_free(a);
}

static void loopback(void **state)
{
    (void)state;
    assert_true(loop("127.0.0.1"));
    assert_true(loop("127.3.2.1"));
    assert_true(loop("::1"));
    assert_true(loop("::ffff:127.0.0.1"));
    assert_false(loop("0.0.0.0"));
    assert_false(loop("::"));
    assert_false(loop("192.168.1.1"));
}

static void connect_ports(void **state)
{
    (void)state;
    access_t *a = access_new();
    filter_t *f = filter_new();
    char err[200];
    assert_true(access_connect_ok(a, f, "a.example", 443));
    assert_true(access_connect_ok(a, f, "a.example", 80));
    assert_false(access_connect_ok(a, f, "a.example", 22));
    assert_string_equal(access_connect_ports_text(a), "80,443");
    filter_include_host(f, "*.shop.example");
    assert_true(access_connect_ok(a, f, "api.shop.example", 8443));
    assert_false(access_connect_ok(a, f, "a.example", 8443));
    assert_int_equal(access_connect_ports(a, "8000-8100,9443", err, sizeof err), 0);
    assert_true(access_connect_ok(a, NULL, "a.example", 8050));
    assert_true(access_connect_ok(a, NULL, "a.example", 9443));
    assert_false(access_connect_ok(a, NULL, "a.example", 443));
    assert_int_equal(access_connect_ports(a, "any", err, sizeof err), 0);
    assert_true(access_connect_ok(a, NULL, "a.example", 22));
    assert_int_equal(access_connect_ports(a, "9000-8000", err, sizeof err), -1);
    assert_int_equal(access_connect_ports(a, "0", err, sizeof err), -1);
    assert_int_equal(access_connect_ports(a, "65536", err, sizeof err), -1);
    assert_non_null(strstr(err, "--connect-ports"));
    filter_free(f);
    access_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clients),
        cmocka_unit_test(bad_cidrs),
        cmocka_unit_test(loopback),
        cmocka_unit_test(connect_ports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
