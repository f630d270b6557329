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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_form_field),
        cmocka_unit_test(test_form_field_is_bounded_by_len),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
