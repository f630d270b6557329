/* Unit tests of convert/pick.c: hosts, path regexes, static assets, broken
 * records, and the headers left to the replay. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pick.h"
#include "fixture.h"

static void test_verdicts(void **state)
{
    (void)state;
    rec_exchange_t api, js, png, tunnel, cdn;
    fx_make(&api, "GET", "/api/search?q=a", 0, 1, 200, "application/json", "{}");
    fx_make(&js, "GET", "/bundle", 0, 1, 200, "application/javascript; charset=utf-8", NULL);
    fx_make(&png, "GET", "/img/logo.PNG?v=3", 0, 1, 200, NULL, NULL);
    fx_make(&tunnel, "CONNECT", "shop.test:443", 0, 1, 200, NULL, NULL);
    tunnel.flags = REC_F_TUNNEL;
    fx_make(&cdn, "GET", "/x", 0, 1, 200, "text/plain", NULL);
    free(cdn.authority);
    cdn.authority = strdup("img.cdn.test:8080");

    conv_opts_t o;
    conv_opts_init(&o);
    mp_error_t err = {0};
    pick_t *f = pick_new(&o, &err);
    assert_int_equal(pick_check(f, &api), PICK_KEEP);
    assert_int_equal(pick_check(f, &js), PICK_KEEP);
    assert_int_equal(pick_check(f, &tunnel), PICK_DROP_ERROR);
    pick_free(f);

    const char *paths[] = {"^/api/sea"};
    const char *exc[] = {".cdn.test"};
    o.no_static = true;
    o.exclude_paths = paths;
    o.n_exclude_paths = 1;
    o.exclude_hosts = exc;
    o.n_exclude_hosts = 1;
    f = pick_new(&o, &err);
    assert_int_equal(pick_check(f, &api), PICK_DROP_PATH);
    assert_int_equal(pick_check(f, &js), PICK_DROP_STATIC);
    assert_int_equal(pick_check(f, &png), PICK_DROP_STATIC);
    assert_int_equal(pick_check(f, &cdn), PICK_DROP_HOST);
    pick_free(f);

    const char *inc[] = {"img.cdn.test"};
    conv_opts_init(&o);
    o.include_hosts = inc;
    o.n_include_hosts = 1;
    f = pick_new(&o, &err);
    assert_int_equal(pick_check(f, &cdn), PICK_KEEP);
    assert_int_equal(pick_check(f, &api), PICK_DROP_HOST);
    pick_free(f);

    const char *badre[] = {"(unclosed"};
    o.exclude_paths = badre;
    o.n_exclude_paths = 1;
    assert_null(pick_new(&o, &err));
    assert_non_null(strstr(err.msg, "--exclude-path '(unclosed'"));

    rec_exchange_fini(&api);
    rec_exchange_fini(&js);
    rec_exchange_fini(&png);
    rec_exchange_fini(&tunnel);
    rec_exchange_fini(&cdn);
}

static void test_headers(void **state)
{
    (void)state;
    const char *dropped[] = {"Content-Length", "transfer-encoding", "Connection", "Keep-Alive", "Host",
                             "Proxy-Authorization", "TE", "Upgrade", ":authority", ":path", "Cookie"};
    const char *kept[] = {"Authorization", "Accept", "User-Agent", "Content-Type", "X-CSRFToken"};
    for (size_t i = 0; i < sizeof dropped / sizeof *dropped; i++)
        assert_true(pick_header_dropped(dropped[i]));
    for (size_t i = 0; i < sizeof kept / sizeof *kept; i++)
        assert_false(pick_header_dropped(kept[i]));
    char host[64];
    assert_string_equal(pick_host("[::1]:8080", host, sizeof host), "::1");
    assert_string_equal(pick_host("shop.test:80", host, sizeof host), "shop.test");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verdicts),
        cmocka_unit_test(test_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
