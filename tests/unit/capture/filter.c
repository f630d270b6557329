/* Unit tests of capture/filter.c: host patterns, path regexes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "filter.h"

static void no_rules_records_everything(void **state)
{
    (void)state;
    filter_t *f = filter_new();
    assert_true(filter_records(f, "a.example:8080", "/x"));
    assert_false(filter_names_host(f, "a.example"));
    filter_free(f);
}

static void include_and_exclude_hosts(void **state)
{
    (void)state;
    filter_t *f = filter_new();
    filter_include_host(f, "*.shop.example");
    filter_include_host(f, "127.0.0.1");
    filter_exclude_host(f, "cdn.shop.example");
    assert_true(filter_records(f, "shop.example", "/"));          /* the domain itself */
    assert_true(filter_records(f, "API.Shop.Example:443", "/"));  /* case, port ignored */
    assert_true(filter_records(f, "127.0.0.1:8080", "/"));
    assert_false(filter_records(f, "cdn.shop.example", "/"));     /* exclude wins */
    assert_false(filter_records(f, "evilshop.example", "/"));     /* not a subdomain */
    assert_false(filter_records(f, "[::1]:80", "/"));
    filter_free(f);
}

static void ipv6_authority(void **state)
{
    (void)state;
    filter_t *f = filter_new();
    filter_exclude_host(f, "::1");
    assert_false(filter_records(f, "[::1]:8080", "/"));
    assert_true(filter_records(f, "[::2]:8080", "/"));
    filter_free(f);
}

static void exclude_paths(void **state)
{
    (void)state;
    char err[200];
    filter_t *f = filter_new();
    assert_int_equal(filter_exclude_path(f, "\\.(png|css)$", err, sizeof err), 0);
    assert_int_equal(filter_exclude_path(f, "^/health", err, sizeof err), 0);
    assert_false(filter_records(f, "h", "/static/logo.png"));
    assert_false(filter_records(f, "h", "/healthz"));
    assert_true(filter_records(f, "h", "/static/app.js"));
    assert_true(filter_records(f, "h", "/api/health"));
    assert_int_equal(filter_exclude_path(f, "(", err, sizeof err), -1);
    assert_non_null(strstr(err, "--exclude-path '('"));
    filter_free(f);
}

static void names_host_only_for_included_hosts(void **state)
{
    (void)state;
    filter_t *f = filter_new();
    filter_include_host(f, "*.shop.example");
    filter_exclude_host(f, "cdn.shop.example");
    assert_true(filter_names_host(f, "api.shop.example"));
    assert_true(filter_names_host(f, "API.shop.example:8443"));
    assert_false(filter_names_host(f, "cdn.shop.example"));
    assert_false(filter_names_host(f, "other.example"));
    filter_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_rules_records_everything),
        cmocka_unit_test(include_and_exclude_hosts),
        cmocka_unit_test(ipv6_authority),
        cmocka_unit_test(exclude_paths),
        cmocka_unit_test(names_host_only_for_included_hosts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
