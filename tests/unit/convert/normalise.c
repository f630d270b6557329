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
    assert_int_equal(norm_path("/a/123456/b-0123456789abcdef", 0, out, 6), 5);
    assert_string_equal(out, "/a/{i");
    assert_int_equal(norm_path("/x/b-0123456789abcdef?k=v", 1, out, sizeof out), 13);
    assert_string_equal(out, "/x/b-{hash}?k");
    assert_int_equal(norm_path("/x", 0, out, 1), 0);
    assert_string_equal(out, "");
}

/* Real-world paths (from the HARs of shared/testdata and issue 13): ids are
 * recognised by their shape, not by holding a digit, and ids inside a file
 * name (a bundler's content hash) are replaced there, the name kept. */
static void path_is(const char *target, const char *want)
{
    char out[512];
    norm_path(target, 0, out, sizeof out);
    if (strcmp(out, want) != 0)
        fail_msg("%s -> '%s', expected '%s'", target, out, want);
}

static void test_real_world_paths(void **state)
{
    (void)state;
    /* Words with a digit stay. */
    path_is("/classic/static/vendor/bootstrap3-typeahead/bootstrap3-typeahead.js",
            "/classic/static/vendor/bootstrap3-typeahead/bootstrap3-typeahead.js");
    path_is("/ajax/libs/jquery/1.11.1/jquery-1.11.1.min.js", "/ajax/libs/jquery/1.11.1/jquery-1.11.1.min.js");
    path_is("/static/images/project-logos/Wikibooks-logo-35px.png", "/static/images/project-logos/Wikibooks-logo-35px.png");
    path_is("/wikipedia/commons/thumb/120px-Minnis_Bay.jpg", "/wikipedia/commons/thumb/120px-Minnis_Bay.jpg");
    path_is("/fonts/NeueHaasGroteskDisplayBold.woff2", "/fonts/NeueHaasGroteskDisplayBold.woff2");
    path_is("/fonts/MyMuseoSans700-SemiBold.woff2", "/fonts/MyMuseoSans700-SemiBold.woff2");
    path_is("/packages/tqdm-4.66.1-py3-none-any.whl", "/packages/tqdm-4.66.1-py3-none-any.whl");
    path_is("/phones/Samsung_Galaxy_S8_Plus_Black", "/phones/Samsung_Galaxy_S8_Plus_Black");
    path_is("/promo/14392-valentines-day-android-generic-bogo-gridwall-d-cta",
            "/promo/14392-valentines-day-android-generic-bogo-gridwall-d-cta");
    path_is("/img/googlelogo_light_color_272x92dp.png", "/img/googlelogo_light_color_272x92dp.png");
    path_is("/inq/inqChatLaunch10004593.js", "/inq/inqChatLaunch10004593.js");
    path_is("/static/1.26wmf20/resources/assets/poweredby_mediawiki_88x31.png",
            "/static/1.26wmf20/resources/assets/poweredby_mediawiki_88x31.png");
    path_is("/api/v2/h2load/html5shiv.min.js", "/api/v2/h2load/html5shiv.min.js");
    /* Ids: numbers, UUIDs, long hex, random-looking tokens. */
    path_is("/api/v2/users/42/orders/530e5ff1-7b5e-4441-b4c2-31f9c84f5aba",
            "/api/v2/users/{id}/orders/{uuid}");
    path_is("/u/5f3a9c0e71b24d88a1c2e3f4", "/u/{hash}");
    path_is("/watch/dQw4w9WgXcQ", "/watch/{token}");
    path_is("/b/ss/vzwiglobal/1/JS-1.8.0/s22099724422235", "/b/ss/vzwiglobal/{id}/JS-1.8.0/{token}");
    path_is("/dl/Z2l0aHViLmNvbS9hYmMxMjM", "/dl/{token}");
    path_is("/t/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
            "/t/{token}");
    /* Ids inside file names: the name stays readable. */
    path_is("/assets/cp_ny.bundle.e69dbbeec06f7920555b.js", "/assets/cp_ny.bundle.{hash}.js");
    path_is("/js/gt-ie9-507b16b6be.js", "/js/gt-ie9-{hash}.js");
    path_is("/f/00628a00b02511e6907c1227d54986f3.js", "/f/{hash}.js");
    path_is("/image/upload/fnhhbs3h69pydyxxdfuw.jpg", "/image/upload/{token}.jpg");
    path_is("/image/upload/xhxt0ore0j9xtpv9qytu.jpg", "/image/upload/{token}.jpg");
    path_is("/sess/a1b2c3d4e5/cart", "/sess/{token}/cart");
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
        cmocka_unit_test(test_real_world_paths),
        cmocka_unit_test(test_path),
        cmocka_unit_test(test_name_and_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
