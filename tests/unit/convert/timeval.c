/* Tests of convert/timeval.c: which numbers are timestamps, and the template
 * each becomes relative to the request's recording time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "timeval.h"

/* The request was recorded at 1733400000.500 s. */
#define AT_US 1733400000500000LL

static size_t match(const char *s)
{
    return timeval_match(s, strlen(s));
}

static void test_match(void **state)
{
    (void)state;
    assert_int_equal(match("1733400000"), 10);
    assert_int_equal(match("1733400000&x"), 10);
    assert_int_equal(match("1733400000.123&end"), 14);
    assert_int_equal(match("1733400000.123456789"), 20);
    assert_int_equal(match("1733400000123"), 13);
    assert_int_equal(match("1733400000."), 10);         /* a full stop after it */
    assert_int_equal(match("1733400000.1234567890"), 0); /* a longer decimal */
    assert_int_equal(match("173340000"), 0);
    assert_int_equal(match("17334000001"), 0);
    assert_int_equal(match("17334000001234"), 0);
    assert_int_equal(match("x1733400000"), 0);
}

static const char *tpl(const char *s)
{
    static char out[64];
    if (!timeval_template(s, strlen(s), AT_US, out, sizeof out))
        return "(none)";
    return out;
}

static void test_templates(void **state)
{
    (void)state;
    /* now, within the client's clock and delay */
    assert_string_equal(tpl("1733400000"), "{{now_s}}");
    assert_string_equal(tpl("1733400003.250"), "{{now_s.3}}");
    assert_string_equal(tpl("1733400000500"), "{{now_ms}}");
    assert_string_equal(tpl("1733399995000"), "{{now_ms}}");
    /* the last hour stays the last hour; rounded to the second */
    assert_string_equal(tpl("1733396400.123"), "{{now_s.3 -3600}}");
    assert_string_equal(tpl("1733396400"), "{{now_s -3601}}"); /* 3600.5 s before */
    assert_string_equal(tpl("1733403600.5"), "{{now_s.1 +3600}}");
    assert_string_equal(tpl("1733400300000"), "{{now_ms +300000}}");
    assert_string_equal(tpl("1733396400123456789"), "(none)");
    assert_string_equal(tpl("1733396400.123456789"), "{{now_s.9 -3600}}");
    /* a day away and more: not a clock reading of this request */
    assert_string_equal(tpl("1733300000"), "(none)");
    assert_string_equal(tpl("1000000000000"), "(none)");
    assert_string_equal(tpl("1733486401"), "(none)");
    assert_string_equal(tpl("1733486399"), "{{now_s +86399}}");
    /* too small an output buffer */
    char small[8];
    assert_false(timeval_template("1733400000", 10, AT_US, small, sizeof small));
}

/* The client's own "now" in the request is the reference: "from=now-600"
 * keeps exactly 600 s whatever the fraction of the recording time. */
static void test_reference(void **state)
{
    (void)state;
    const char *stamps[] = {"1733399400", "1733400000", "1733400300000"};
    int64_t ref = timeval_reference(stamps, 3, AT_US);
    assert_int_equal(ref, 1733400000000000LL);
    char out[64];
    assert_true(timeval_template(stamps[0], 10, ref, out, sizeof out));
    assert_string_equal(out, "{{now_s -600}}"); /* -600.5 from the recording time */
    assert_true(timeval_template(stamps[2], 13, ref, out, sizeof out));
    assert_string_equal(out, "{{now_ms +300000}}");
    /* no "now" among them: the recording time */
    const char *old[] = {"1733396400", "x"};
    assert_int_equal(timeval_reference(old, 2, AT_US), AT_US);
    assert_int_equal(timeval_us("1733400000.123456789", 20), 1733400000123456LL);
    assert_int_equal(timeval_us("1733400000123", 13), 1733400000123000LL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_templates),
        cmocka_unit_test(test_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
