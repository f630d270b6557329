/* Tests of replay/shape.c: stages.conf parsing and errors, ramps, distribution. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "shape.h"

static void test_parse_ok(void **state)
{
    (void)state;
    char err[256];
    shape_t s;
    const char *text = "# warm up\n"
                       "\n"
                       "30s 10 5      # ramp to 10 users\n"
                       "1m\t100 2.5\n"
                       "rate 10s 200\n"
                       "  500ms 0 100\n";
    assert_int_equal(shape_parse(text, "stages.conf", &s, err, sizeof(err)), 0);
    assert_int_equal(s.n, 4);
    assert_int_equal(s.stages[0].kind, SHAPE_USERS);
    assert_int_equal(s.stages[0].duration_us, 30000000);
    assert_int_equal(s.stages[0].users, 10);
    assert_true(s.stages[0].spawn_rate == 5.0);
    assert_int_equal(s.stages[0].line, 3);
    assert_int_equal(s.stages[1].duration_us, 60000000);
    assert_true(s.stages[1].spawn_rate == 2.5);
    assert_int_equal(s.stages[2].kind, SHAPE_RATE);
    assert_true(s.stages[2].rate == 200.0);
    assert_int_equal(s.stages[2].line, 5);
    assert_int_equal(s.stages[3].users, 0);
    assert_int_equal(shape_total_us(&s), 100500000);
    shape_fini(&s);

    /* Windows editors: a byte order mark and CRLF line ends. */
    assert_int_equal(shape_parse("\xEF\xBB\xBF" "10s 2k 50\r\nrate 5m 0.5\r\n", "w.conf", &s, err,
                                 sizeof(err)), 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.stages[0].users, 2000);
    assert_int_equal(s.stages[1].duration_us, 300000000);
    assert_true(s.stages[1].rate == 0.5);
    assert_int_equal(s.stages[1].line, 2);
    shape_fini(&s);
}

static void test_parse_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"10s 5 1\n30 users 2\n", "f.conf:2:4: expected a user count"},
        {"# only\n\n", "f.conf:2:1: no stages"},
        {"10s 5\n", "f.conf:1:1: expected '<duration> <users> <spawn-rate>' or 'rate <duration> <iterations/s> [<to iterations/s>]'"},
        {"10s 5 1 9\n", "f.conf:1:9: expected '<duration>"},
        {"\n\n\nrate 10x 5\n", "f.conf:4:6: expected a duration > 0 after 'rate'"},
        {"rate 10s fast\n", "f.conf:1:10: expected iterations/s"},
        {"rate 10s 5 fast\n", "f.conf:1:12: expected the iterations/s to ramp to"},
        {"rate 10s 5 6 7\n", "f.conf:1:14: expected '<duration>"},
        {"0s 5 1\n", "f.conf:1:1: expected a duration > 0 first"},
        {"10s 5 0\n", "f.conf:1:7: expected a spawn rate"},
        {"10s 5 -1\n", "f.conf:1:7: expected a spawn rate"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char err[256] = "";
        shape_t s;
        assert_int_equal(shape_parse(bad[i].text, "f.conf", &s, err, sizeof(err)), -1);
        if (strstr(err, bad[i].msg) == NULL)
            fail_msg("case %zu: message '%s' lacks '%s'", i, err, bad[i].msg);
    }
}

/* Numbers a shape file refuses (issue 21): out of range (a tiny rate overflowed
 * the scheduler's interval cast and started 20 552 iterations in 2 s), and
 * spellings strtod takes but a person does not mean (hex, +5, -0). Each error
 * names line:column of the bad word. */
static void test_parse_numbers(void **state)
{
    (void)state;
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"rate 2s 1e-15\n", "f.conf:1:9: expected iterations/s of 0 or from 0.001 to 10000000"},
        {"rate 2s 1e300\n", "f.conf:1:9: expected iterations/s of 0 or from 0.001 to 10000000"},
        {"rate 2s 5 1e-9\n", "f.conf:1:11: expected the iterations/s to ramp to"},
        {"rate 2s 5 2e7\n", "f.conf:1:11: expected the iterations/s to ramp to"},
        {"rate 2s 0x10\n", "f.conf:1:9: expected iterations/s"},
        {"rate 2s +5\n", "f.conf:1:9: expected iterations/s"},
        {"rate 2s -0\n", "f.conf:1:9: expected iterations/s"},
        {"rate 0x2s 5\n", "f.conf:1:6: expected a duration > 0 after 'rate'"},
        {"rate 1e300s 5\n", "f.conf:1:6: expected a duration > 0 after 'rate'"},
        {"rate 745h 5\n", "f.conf:1:6: expected a duration > 0 after 'rate'"},
        {"  +10s 5 1\n", "f.conf:1:3: expected a duration > 0 first"},
        {"10s 0x5 1\n", "f.conf:1:5: expected a user count"},
        {"10s +5 1\n", "f.conf:1:5: expected a user count"},
        {"10s -0 1\n", "f.conf:1:5: expected a user count"},
        {"10s 20M 1\n", "f.conf:1:5: expected a user count"},
        {"10s 5 -0\n", "f.conf:1:7: expected a spawn rate"},
        {"10s 5 0x1p3\n", "f.conf:1:7: expected a spawn rate"},
        {"10s 5 1e-300\n", "f.conf:1:7: expected a spawn rate"},
        {"10s 5 inf\n", "f.conf:1:7: expected a spawn rate"},
        {"10s 5 nan\n", "f.conf:1:7: expected a spawn rate"},
        {"\t10s\t5\t1\t2\n", "f.conf:1:10: expected '<duration>"},
        {"# none\n", "f.conf:1:1: no stages"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char err[256] = "";
        shape_t s;
        assert_int_equal(shape_parse(bad[i].text, "f.conf", &s, err, sizeof(err)), -1);
        if (strstr(err, bad[i].msg) == NULL)
            fail_msg("case %zu: message '%s' lacks '%s'", i, err, bad[i].msg);
    }
    /* The edges of the ranges, and the spellings that stay. */
    static const char *const good[] = {
        "rate 2s 0\n", "rate 2s 0.001\n", "rate 2s 1e7\n", "rate 2s 0 10000000\n",
        "rate 744h 5\n", "10s 10M 1\n", "10s 5 0.001\n", "10s 5 1e6\n", "10s 2.5k 1.5\n",
        "rate .5s 1.\n", "10s 5 1E2\n",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char err[256] = "";
        shape_t s;
        if (shape_parse(good[i], "f.conf", &s, err, sizeof(err)) != 0)
            fail_msg("'%s' refused: %s", good[i], err);
        shape_fini(&s);
    }
}

static void test_load_file(void **state)
{
    (void)state;
    char path[] = "/tmp/aiotest-shape-XXXXXX", err[256];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "5s 3 1\nrate 2s 50\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    shape_t s;
    assert_int_equal(shape_load(path, &s, err, sizeof(err)), 0);
    assert_int_equal(s.n, 2);
    shape_fini(&s);
    unlink(path);
    assert_int_equal(shape_load(path, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "No such file"));
    assert_non_null(strstr(err, path));
}

static void test_shape_at_ramps(void **state)
{
    (void)state;
    char err[256];
    shape_t s;
    /* Up to 10 at 2/s, up to 20 at 10/s, down to 4 at 4/s, open 100/s, then 6 users at 3/s. */
    assert_int_equal(shape_parse("10s 10 2\n5s 20 10\n10s 4 4\nrate 3s 100\n4s 6 3\n", "s", &s,
                                 err, sizeof(err)), 0);
    static const struct {
        double t;
        size_t stage;
        uint32_t users, target;
    } want[] = {
        {0, 0, 0, 10},     {0.49, 0, 0, 10},  {0.5, 0, 1, 10},  {2.0, 0, 4, 10},
        {4.99, 0, 9, 10},  {5.0, 0, 10, 10},  {9.99, 0, 10, 10}, {10.0, 1, 10, 20},
        {10.5, 1, 15, 20}, {11.0, 1, 20, 20}, {14.9, 1, 20, 20}, {15.0, 2, 20, 4},
        {16.0, 2, 16, 4},  {18.9, 2, 5, 4},   {19.0, 2, 4, 4},   {28.0, 4, 0, 6},
        {28.34, 4, 1, 6},  {29.0, 4, 3, 6},   {31.9, 4, 6, 6},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        shape_point_t p = shape_at(&s, (uint64_t)(want[i].t * 1e6));
        if (p.stage != want[i].stage || p.users != want[i].users || p.target != want[i].target)
            fail_msg("t=%.2f: stage %zu users %u target %u, expected %zu %u %u", want[i].t,
                     p.stage, p.users, p.target, want[i].stage, want[i].users, want[i].target);
        assert_int_equal(p.kind, SHAPE_USERS);
    }
    shape_point_t p = shape_at(&s, 26000000);
    assert_int_equal(p.stage, 3);
    assert_int_equal(p.kind, SHAPE_RATE);
    assert_true(p.rate == 100.0);
    p = shape_at(&s, 32000000);
    assert_int_equal(p.stage, s.n);
    shape_fini(&s);

    /* A stage too short to reach its target hands on what it reached. */
    assert_int_equal(shape_parse("2s 100 10\n2s 0 5\n", "s", &s, err, sizeof(err)), 0);
    assert_int_equal(shape_at(&s, 1999999).users, 19);
    assert_int_equal(shape_at(&s, 2000000).users, 20);
    assert_int_equal(shape_at(&s, 3000000).users, 15);
    shape_fini(&s);

    /* -u/-r/-t, and without -t a stage that never ends. */
    shape_single(&s, 50, 10, 0);
    assert_int_equal(shape_at(&s, 2500000).users, 25);
    assert_int_equal(shape_at(&s, 3600000000ull).users, 50);
    assert_int_equal(shape_at(&s, 3600000000ull).stage, 0);
    shape_fini(&s);
}

static void test_rate_ramps(void **state)
{
    (void)state;
    char err[256];
    shape_t s;
    /* 10 -> 90 over 8 s, then a flat 40, then down to 0 over 2 s. */
    assert_int_equal(shape_parse("rate 8s 10 90\nrate 2s 40\nrate 2s 20 0\n", "r", &s, err,
                                 sizeof(err)), 0);
    assert_int_equal(s.n, 3);
    assert_true(s.stages[0].rate == 10.0 && s.stages[0].rate_to == 90.0);
    assert_true(s.stages[1].rate == 40.0 && s.stages[1].rate_to == 40.0);
    static const struct {
        double t;
        size_t stage;
        double rate;
    } want[] = {
        {0, 0, 10}, {1, 0, 20}, {4, 0, 50}, {7.5, 0, 85}, {8, 1, 40}, {9.9, 1, 40},
        {10, 2, 20}, {11, 2, 10}, {11.5, 2, 5},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        shape_point_t p = shape_at(&s, (uint64_t)(want[i].t * 1e6));
        if (p.stage != want[i].stage || p.kind != SHAPE_RATE || fabs(p.rate - want[i].rate) > 1e-9)
            fail_msg("t=%.1f: stage %zu rate %g, expected %zu %g", want[i].t, p.stage, p.rate,
                     want[i].stage, want[i].rate);
    }
    assert_int_equal(shape_at(&s, 12000000).stage, s.n);
    shape_fini(&s);
}

static void test_distribute(void **state)
{
    (void)state;
    uint32_t out[4];
    const uint32_t w31[] = {3, 1};
    static const uint32_t totals[][3] = {{8, 6, 2}, {100, 75, 25}, {1000, 750, 250}, {1, 1, 0},
                                         {2, 2, 0}, {3, 2, 1},     {0, 0, 0}};
    for (size_t i = 0; i < sizeof(totals) / sizeof(totals[0]); i++) {
        shape_distribute(w31, 2, totals[i][0], out);
        if (out[0] != totals[i][1] || out[1] != totals[i][2])
            fail_msg("3:1 of %u gave %u/%u", totals[i][0], out[0], out[1]);
    }
    /* The lighter class first: the heavier still wins the single user. */
    const uint32_t w13[] = {1, 3};
    shape_distribute(w13, 2, 1, out);
    assert_int_equal(out[0], 0);
    assert_int_equal(out[1], 1);
    /* Ties go to the earlier class; the sum is always the total. */
    const uint32_t w111[] = {1, 1, 1};
    shape_distribute(w111, 3, 2, out);
    assert_int_equal(out[0], 1);
    assert_int_equal(out[1], 1);
    assert_int_equal(out[2], 0);
    const uint32_t w[] = {5, 3, 2, 1};
    for (uint32_t total = 0; total < 500; total++) {
        shape_distribute(w, 4, total, out);
        uint32_t sum = out[0] + out[1] + out[2] + out[3];
        assert_int_equal(sum, total);
        for (int k = 0; k < 4; k++) {
            double exact = (double)total * w[k] / 11.0;
            assert_true(out[k] >= (uint32_t)exact && out[k] <= (uint32_t)exact + 1);
        }
    }
    const uint32_t zero[] = {0, 0};
    shape_distribute(zero, 2, 5, out);
    assert_int_equal(out[0], 3);
    assert_int_equal(out[1], 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_ok),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_numbers),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_shape_at_ramps),
        cmocka_unit_test(test_rate_ramps),
        cmocka_unit_test(test_distribute),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
