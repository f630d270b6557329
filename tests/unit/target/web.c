/* Unit tests of target/web.c: the form field decoder used for the CSRF field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "web.h"

#include <string.h>

static int field(const char *body, const char *name, char *out, size_t size)
{
    return web_form_field(body, strlen(body), name, out, size);
}

static void test_form_field(void **state)
{
    (void)state;
    char out[16];
    assert_int_equal(field("csrf=abc", "csrf", out, sizeof(out)), 0);
    assert_string_equal(out, "abc");
    assert_int_equal(field("a=1&csrf=x%2By+z&b=2", "csrf", out, sizeof(out)), 0);
    assert_string_equal(out, "x+y z");
    assert_int_equal(field("xcsrf=1&csrf=2", "csrf", out, sizeof(out)), 0);
    assert_string_equal(out, "2");
    assert_int_equal(field("csrf=", "csrf", out, sizeof(out)), 0);
    assert_string_equal(out, "");
    /* A lone or short escape is kept as it is. */
    assert_int_equal(field("csrf=%4", "csrf", out, sizeof(out)), 0);
    assert_string_equal(out, "%4");
    assert_int_equal(field("csrf=%zz", "csrf", out, sizeof(out)), 0);
    assert_string_equal(out, "%zz");
    assert_int_equal(field("csrfx=1&other=2", "csrf", out, sizeof(out)), -1);
    assert_int_equal(field("csrf", "csrf", out, sizeof(out)), -1);
    assert_int_equal(field("", "csrf", out, sizeof(out)), -1);
    assert_int_equal(field("csrf=0123456789abcdef", "csrf", out, sizeof(out)), -1);
    assert_int_equal(field("csrf=0123456789abcde", "csrf", out, sizeof(out)), 0);
}

static void test_form_field_is_bounded_by_len(void **state)
{
    (void)state;
    char out[8];
    /* The length, not a NUL, ends the body. */
    assert_int_equal(web_form_field("csrf=abcdef", 7, "csrf", out, sizeof(out)), 0);
    assert_string_equal(out, "ab");
    assert_int_equal(web_form_field("csrf=%41", 7, "csrf", out, sizeof(out)), 0);
    assert_string_equal(out, "%4");
}

static void test_utf8_clean(void **state)
{
    (void)state;
    char out[8];
    assert_string_equal(web_utf8_clean("abc", out, sizeof(out)), "abc");
    assert_string_equal(web_utf8_clean("caf\xc3\xa9", out, sizeof(out)), "caf\xc3\xa9");
    assert_string_equal(web_utf8_clean("a\xff" "b", out, sizeof(out)), "a?b");
    assert_string_equal(web_utf8_clean("\xc3", out, sizeof(out)), "?");           /* cut */
    assert_string_equal(web_utf8_clean("\xc0\xaf", out, sizeof(out)), "??");     /* overlong */
    assert_string_equal(web_utf8_clean("\xed\xa0\x80", out, sizeof(out)), "???"); /* surrogate */
    assert_string_equal(web_utf8_clean("\xf4\x90\x80\x80", out, sizeof(out)), "????");
    assert_string_equal(web_utf8_clean("\xf0\x9f\x98\x80", out, sizeof(out)), "\xf0\x9f\x98\x80");
    /* A sequence that does not fit is left out whole. */
    assert_string_equal(web_utf8_clean("abcdef\xc3\xa9", out, sizeof(out)), "abcdef");
    assert_string_equal(web_utf8_clean("abcdefghij", out, sizeof(out)), "abcdefg");
    assert_string_equal(web_utf8_clean("", out, sizeof(out)), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_form_field),
        cmocka_unit_test(test_form_field_is_bounded_by_len),
        cmocka_unit_test(test_utf8_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
