/* Unit tests of replay/origins.c: the --map-host, --allow-host, --only-host and
 * --resolve rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "origins.h"

static url_t parse(const char *s)
{
    url_t u;
    char err[200];
    assert_int_equal(url_parse(s, &u, err, sizeof err), 0);
    return u;
}

static void test_match(void **state)
{
    (void)state;
    url_t cdn = parse("https://static.Example.com/x"), api = parse("http://api.example.com:8080/");
    url_t v6 = parse("http://[::1]:9000/");
    assert_true(origins_match("*.example.com", &cdn));
    assert_true(origins_match("STATIC.example.com", &cdn));
    assert_true(origins_match("static.example.com:443", &cdn)); /* the default port counts */
    assert_false(origins_match("static.example.com:80", &cdn));
    assert_true(origins_match("https://*.example.com", &cdn));
    assert_false(origins_match("http://*.example.com", &cdn));
    assert_true(origins_match("http://api.example.com:8080/", &api));
    assert_false(origins_match("example.com", &api));
    assert_true(origins_match("*", &api));
    assert_true(origins_match("[::1]:9000", &v6));
    assert_true(origins_match("[::1]", &v6));
    assert_true(origins_match("*.com", &api));
    assert_false(origins_match("*.com:80", &api));
}

static void test_route(void **state)
{
    (void)state;
    char err[300];
    origins_t *o = origins_new();
    assert_non_null(o);
    assert_int_equal(origins_add_map(o, "*.cdn.test=http://127.0.0.1:8081", err, sizeof err), 0);
    assert_int_equal(origins_add_map(o, "www.shop.test=127.0.0.1:8082", err, sizeof err), 0);
    assert_int_equal(origins_add_allow(o, "api.shop.test", err, sizeof err), 0);
    url_t to, a = parse("https://img.cdn.test/"), b = parse("https://www.shop.test/"),
              c = parse("https://api.shop.test/"), d = parse("https://ads.test/");
    assert_int_equal(origins_route(o, &a, &to), ORIGINS_MAP);
    assert_false(to.tls);
    assert_string_equal(to.host, "127.0.0.1");
    assert_int_equal(to.port, 8081);
    /* A TO without scheme keeps the scheme of the origin it maps. */
    assert_int_equal(origins_route(o, &b, &to), ORIGINS_MAP);
    assert_true(to.tls);
    assert_int_equal(to.port, 8082);
    assert_int_equal(origins_route(o, &c, &to), ORIGINS_ALLOW);
    assert_int_equal(origins_route(o, &d, &to), ORIGINS_REFUSE);
    assert_int_equal(origins_route(NULL, &d, &to), ORIGINS_REFUSE);
    /* --only-host turns what no rule names into a drop. */
    assert_int_equal(origins_add_only(o, "ads.test:443", err, sizeof err), 0);
    assert_int_equal(origins_route(o, &d, &to), ORIGINS_ALLOW);
    url_t e = parse("http://tracker.test/");
    assert_int_equal(origins_route(o, &e, &to), ORIGINS_DROP);
    origins_free(o);
}

static void test_bad(void **state)
{
    (void)state;
    char err[300];
    origins_t *o = origins_new();
    const char *maps[] = {"nofrom", "=http://x", "a=", "a=ftp://x", "a=http://x/path",
                          "a/b=http://x", "a=http://*.x"};
    for (size_t i = 0; i < sizeof maps / sizeof *maps; i++) {
        assert_int_equal(origins_add_map(o, maps[i], err, sizeof err), -1);
        assert_non_null(strstr(err, "--map-host"));
        assert_non_null(strstr(err, "FROM=TO"));
    }
    assert_int_equal(origins_add_allow(o, "", err, sizeof err), -1);
    assert_non_null(strstr(err, "--allow-host"));
    assert_int_equal(origins_add_only(o, "a/b", err, sizeof err), -1);
    assert_non_null(strstr(err, "--only-host"));
    const char *pins[] = {"h", "h:80", "h:80:", ":80:127.0.0.1", "h:x:127.0.0.1", "h:0:127.0.0.1",
                          "h:70000:127.0.0.1", "h:80:not-an-address"};
    for (size_t i = 0; i < sizeof pins / sizeof *pins; i++) {
        assert_int_equal(origins_add_pin(o, pins[i], err, sizeof err), -1);
        assert_non_null(strstr(err, "HOST:PORT:ADDR"));
    }
    origins_free(o);
}

static void test_pin(void **state)
{
    (void)state;
    char err[300];
    origins_t *o = origins_new();
    assert_int_equal(origins_add_pin(o, "shop.test:443:127.0.0.2", err, sizeof err), 0);
    assert_int_equal(origins_add_pin(o, "v6.test:80:[::1]", err, sizeof err), 0);
    struct sockaddr_storage ss;
    socklen_t len = 0;
    assert_true(origins_pinned(o, "SHOP.test", 443, &ss, &len));
    const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
    assert_int_equal(ss.ss_family, AF_INET);
    assert_int_equal(ntohs(in->sin_port), 443);
    assert_int_equal(in->sin_addr.s_addr, htonl(0x7f000002));
    assert_false(origins_pinned(o, "shop.test", 80, &ss, &len));
    assert_true(origins_pinned(o, "v6.test", 80, &ss, &len));
    assert_int_equal(ss.ss_family, AF_INET6);
    assert_false(origins_pinned(NULL, "shop.test", 443, &ss, &len));
    origins_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_route),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_pin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
