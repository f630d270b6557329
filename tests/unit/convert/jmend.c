/* Unit tests of convert/jmend.c: strings of a JSON text mended for jansson
 * (raw control characters escaped, invalid UTF-8 and lone surrogates as
 * U+FFFD), valid text and escapes untouched, offsets mapped back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "jmend.h"

static void mended(const char *in, const char *want, size_t fixed)
{
    jmend_t m;
    assert_int_equal(jmend_text(in, strlen(in), &m), 0);
    assert_int_equal(m.fixed, fixed);
    if (!fixed) {
        assert_null(m.text);
    } else {
        assert_int_equal(m.len, strlen(want));
        assert_memory_equal(m.text, want, m.len);
    }
    jmend_fini(&m);
}

static void test_mend(void **state)
{
    (void)state;
    /* Valid: UTF-8 of 2, 3 and 4 bytes, escapes, a surrogate pair, odd bytes outside strings. */
    mended("{\"a\": \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 \\\" \\n \\ud83d\\ude00\"} \x01", NULL, 0);
    mended("[\"a\x01" "b\"]", "[\"a\\u0001b\"]", 1);
    mended("[\"tab\there\"]", "[\"tab\\u0009here\"]", 1);
    mended("[\"\xff\xfe\"]", "[\"\\ufffd\\ufffd\"]", 2);
    mended("[\"\xc0\xaf\"]", "[\"\\ufffd\\ufffd\"]", 2);           /* overlong '/' */
    mended("[\"\xed\xa0\x80\"]", "[\"\\ufffd\\ufffd\\ufffd\"]", 3); /* an encoded surrogate */
    mended("[\"\xe2\x82\"]", "[\"\\ufffd\\ufffd\"]", 2);           /* cut short */
    mended("[\"\\udcff x \\ud800\"]", "[\"\\ufffd x \\ufffd\"]", 2);
    mended("[\"\\ud800\\u0041\"]", "[\"\\ufffd\\u0041\"]", 1);
}

static void test_offsets(void **state)
{
    (void)state;
    const char *in = "[\"\x01\", \"\xff\",\n x]";
    jmend_t m;
    assert_int_equal(jmend_text(in, strlen(in), &m), 0);
    assert_int_equal(m.fixed, 2);
    assert_int_equal(m.first_at, 2);
    assert_string_equal(m.first_what, "control character 0x01");
    /* 'x' is at 12 in the input; the mended text is 10 bytes longer before it. */
    const char *x = memchr(m.text, 'x', m.len);
    assert_non_null(x);
    assert_int_equal((size_t)(x - m.text), 22);
    assert_int_equal(jmend_input_offset(&m, (size_t)(x - m.text)), 12);
    assert_int_equal(jmend_input_offset(&m, 1), 1);
    jmend_fini(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mend),
        cmocka_unit_test(test_offsets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
