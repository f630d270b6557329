#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "units.h"

static void test_durations(void **state)
{
    (void)state;
    uint64_t us;
    assert_int_equal(units_parse_duration("30s", &us), 0);
    assert_int_equal(us, 30000000);
    assert_int_equal(units_parse_duration("5m", &us), 0);
    assert_int_equal(us, 300000000);
    assert_int_equal(units_parse_duration("1h", &us), 0);
    assert_int_equal(us, 3600000000ull);
    assert_int_equal(units_parse_duration("300ms", &us), 0);
    assert_int_equal(us, 300000);
    assert_int_equal(units_parse_duration("1.5s", &us), 0);
    assert_int_equal(us, 1500000);
    assert_int_equal(units_parse_duration("250us", &us), 0);
    assert_int_equal(us, 250);
    assert_int_equal(units_parse_duration("2", &us), 0);
    assert_int_equal(us, 2000000);
    assert_int_equal(units_parse_duration("", &us), -1);
    assert_int_equal(units_parse_duration("s", &us), -1);
    assert_int_equal(units_parse_duration("10x", &us), -1);
    assert_int_equal(units_parse_duration("-1s", &us), -1);
    assert_int_equal(units_parse_duration("1s ", &us), -1);
}

static void test_counts_bytes(void **state)
{
    (void)state;
    uint64_t n;
    assert_int_equal(units_parse_count("10k", &n), 0);
    assert_int_equal(n, 10000);
    assert_int_equal(units_parse_count("2M", &n), 0);
    assert_int_equal(n, 2000000);
    assert_int_equal(units_parse_count("1.5", &n), -1);
    assert_int_equal(units_parse_bytes("64KiB", &n), 0);
    assert_int_equal(n, 65536);
    assert_int_equal(units_parse_bytes("1M", &n), 0);
    assert_int_equal(n, 1048576);
    assert_int_equal(units_parse_bytes("12", &n), 0);
    assert_int_equal(n, 12);
    double v;
    assert_int_equal(units_parse_double("2.5", &v), 0);
    assert_true(v == 2.5);
    assert_int_equal(units_parse_double("x", &v), -1);
}

static void test_format(void **state)
{
    (void)state;
    char buf[32];
    assert_string_equal(units_fmt_duration(999, buf, sizeof(buf)), "999us");
    assert_string_equal(units_fmt_duration(1500, buf, sizeof(buf)), "1.50ms");
    assert_string_equal(units_fmt_duration(2500000, buf, sizeof(buf)), "2.50s");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_counts_bytes),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
