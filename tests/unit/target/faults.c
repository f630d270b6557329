/* Unit tests of target/faults.c: option syntax, delay range, fail rate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "faults.h"

static void test_parse_delay(void **state)
{
    (void)state;
    uint32_t lo = 7, hi = 7;
    assert_int_equal(faults_parse_delay("50", &lo, &hi), 0);
    assert_int_equal(lo, 50);
    assert_int_equal(hi, 50);
    assert_int_equal(faults_parse_delay("100-300", &lo, &hi), 0);
    assert_int_equal(lo, 100);
    assert_int_equal(hi, 300);
    assert_int_equal(faults_parse_delay("0", &lo, &hi), 0);
    assert_int_equal(faults_parse_delay("3600000", &lo, &hi), 0);
    assert_int_equal(hi, FAULTS_DELAY_MAX_MS);
    static const char *bad[] = {"", "-", "x", "5-", "-5", "5-2", "1.5", "3600001", "10 ",
                                " 10", "1-2-3", "+5", "99999999999999999999", NULL};
    for (int i = 0; bad[i]; i++) {
        lo = hi = 7;
        assert_int_equal(faults_parse_delay(bad[i], &lo, &hi), -1);
        assert_int_equal(lo, 7); /* untouched on error */
    }
    assert_int_equal(faults_parse_delay(NULL, &lo, &hi), -1);
}

static void test_parse_rate(void **state)
{
    (void)state;
    double r;
    assert_int_equal(faults_parse_rate("0.5", &r), 0);
    assert_true(r == 0.5);
    assert_int_equal(faults_parse_rate("1", &r), 0);
    assert_int_equal(faults_parse_rate(".25", &r), 0);
    assert_true(r == 0.25);
    static const char *bad[] = {"", "-0.1", "1.01", "half", "0.5x", "nan", "inf", NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(faults_parse_rate(bad[i], &r), -1);
}

static void test_delay_stays_in_range(void **state)
{
    (void)state;
    struct faults *f = faults_new();
    uint64_t min = UINT64_MAX, max = 0;
    assert_int_equal(faults_pick_delay_us(f), 0);
    faults_set_delay(f, 100, 300);
    for (int i = 0; i < 10000; i++) {
        uint64_t d = faults_pick_delay_us(f);
        assert_true(d >= 100000 && d <= 300000);
        min = d < min ? d : min;
        max = d > max ? d : max;
    }
    /* Uniform: 10000 draws reach near both ends. */
    assert_true(min < 110000 && max > 290000);
    faults_set_delay(f, 40, 40);
    assert_int_equal(faults_pick_delay_us(f), 40000);
    faults_free(f);
}

static void test_fail_rate(void **state)
{
    (void)state;
    struct faults *f = faults_new();
    uint32_t lo, hi;
    double r;
    int fails = 0;
    for (int i = 0; i < 1000; i++)
        assert_false(faults_roll_fail(f));
    faults_set_fail_rate(f, 1.0);
    for (int i = 0; i < 1000; i++)
        assert_true(faults_roll_fail(f));
    faults_set_fail_rate(f, 0.3);
    for (int i = 0; i < 100000; i++)
        fails += faults_roll_fail(f);
    assert_true(fails > 28500 && fails < 31500);
    faults_set_delay(f, 5, 9);
    faults_get(f, &lo, &hi, &r);
    assert_int_equal(lo, 5);
    assert_int_equal(hi, 9);
    assert_true(r > 0.2999 && r < 0.3001);
    faults_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_delay),
        cmocka_unit_test(test_parse_rate),
        cmocka_unit_test(test_delay_stays_in_range),
        cmocka_unit_test(test_fail_rate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
