/* Tests of replay/timed.c: who starts when (speed, copies and their spread,
 * loop passes, threads and segments), and --speed parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "timed.h"

/* Three sessions: first steps at 0 ms, 300 ms and 100 ms; the recording lasts 1 s. */
static const uint64_t s0[] = {0, 500000}, s1[] = {300000}, s2[] = {100000, 200000, 900000};
static const uint64_t *const steps[] = {s0, s1, s2};
static const size_t n_steps[] = {2, 1, 3};

static timed_t sample(void)
{
    return (timed_t){.step_us = steps, .n_steps = n_steps, .n_sessions = 3, .length_us = 1000000,
                     .speed = 1, .copies = 1, .spread_us = 1000000};
}

static void test_order_and_speed(void **state)
{
    (void)state;
    timed_t t = sample();
    t.speed = 2;
    timed_iter_t *it = timed_iter_new(&t, 0, 1, 0, 1, 1000);
    assert_non_null(it);
    timed_start_t s;
    assert_int_equal(timed_iter_due(it), 1000);
    assert_false(timed_iter_next(it, 999, &s));
    assert_true(timed_iter_next(it, 1000, &s));
    assert_int_equal(s.session, 0);
    assert_int_equal(s.base_us, 1000);
    /* session 2 (100 ms) before session 1 (300 ms), both halved */
    assert_int_equal(timed_iter_due(it), 1000 + 50000);
    assert_false(timed_iter_next(it, 1000 + 49999, &s));
    assert_true(timed_iter_next(it, 10000000, &s));
    assert_int_equal(s.session, 2);
    assert_int_equal(s.due_us, 1000 + 50000);
    assert_int_equal(s.base_us, 1000);
    assert_true(timed_iter_next(it, 10000000, &s));
    assert_int_equal(s.session, 1);
    assert_int_equal(s.due_us, 1000 + 150000);
    assert_int_equal(s.local, 2);
    /* no --loop: over */
    assert_false(timed_iter_next(it, UINT64_MAX - 1, &s));
    assert_int_equal(timed_iter_due(it), UINT64_MAX);
    timed_iter_free(it);
}

static void test_copies_spread(void **state)
{
    (void)state;
    timed_t t = sample();
    t.copies = 4;
    t.spread_us = 400000;
    timed_iter_t *it = timed_iter_new(&t, 0, 1, 0, 1, 0);
    timed_start_t s;
    int per_session[3] = {0};
    uint64_t last = 0;
    int n = 0;
    while (timed_iter_next(it, UINT64_MAX - 1, &s)) {
        per_session[s.session]++;
        /* copy k of a session starts k * 100 ms after copy 0 */
        assert_int_equal(s.base_us, s.copy * 100000);
        assert_int_equal(s.due_us, s.base_us + steps[s.session][0]);
        assert_true(s.due_us >= last);
        last = s.due_us;
        n++;
    }
    assert_int_equal(n, 12);
    for (int i = 0; i < 3; i++)
        assert_int_equal(per_session[i], 4);
    timed_iter_free(it);
}

static void test_loop(void **state)
{
    (void)state;
    timed_t t = sample();
    t.loop = true;
    timed_iter_t *it = timed_iter_new(&t, 0, 1, 0, 1, 0);
    timed_start_t s;
    uint64_t seen[7];
    for (int i = 0; i < 7; i++) {
        assert_true(timed_iter_next(it, UINT64_MAX - 1, &s));
        seen[i] = s.due_us;
        assert_int_equal(s.local, (uint64_t)i); /* numbers keep growing over passes */
    }
    /* pass 2 is pass 1 one recording length later */
    assert_int_equal(seen[3], seen[0] + 1000000);
    assert_int_equal(seen[4], seen[1] + 1000000);
    assert_int_equal(seen[6], seen[0] + 2000000);
    assert_int_equal(s.base_us, 2000000);
    assert_true(timed_iter_due(it) != UINT64_MAX);
    timed_iter_free(it);
}

/* Threads and segments split the users without overlap or loss. */
static void test_split(void **state)
{
    (void)state;
    timed_t t = sample();
    t.copies = 5;
    int count[3][5] = {{0}};
    for (unsigned seg = 0; seg < 3; seg++) {
        uint64_t here = 0;
        for (unsigned th = 0; th < 2; th++) {
            timed_iter_t *it = timed_iter_new(&t, th, 2, seg, 3, 0);
            timed_start_t s;
            while (timed_iter_next(it, UINT64_MAX - 1, &s)) {
                count[s.session][s.copy]++;
                here++;
            }
            timed_iter_free(it);
        }
        /* timed_users counts what the iterators start, over all threads */
        assert_int_equal(timed_users(&t, seg, 3), here);
    }
    assert_int_equal(timed_users(&t, 0, 1), 15);
    assert_int_equal(timed_users(&t, 15, 16), 0); /* more segments than users */
    for (int i = 0; i < 3; i++)
        for (int c = 0; c < 5; c++)
            assert_int_equal(count[i][c], 1);
}

static void test_empty_worker(void **state)
{
    (void)state;
    timed_t t = sample();
    t.loop = true;
    timed_iter_t *it = timed_iter_new(&t, 5, 8, 0, 1, 0); /* 3 users, 8 threads: none here */
    assert_int_equal(timed_iter_due(it), UINT64_MAX);
    timed_iter_free(it);
}

static void test_speed(void **state)
{
    (void)state;
    double v = 0;
    assert_int_equal(timed_parse_speed("2", &v), 0);
    assert_true(v == 2.0);
    assert_int_equal(timed_parse_speed("10x", &v), 0);
    assert_true(v == 10.0);
    assert_int_equal(timed_parse_speed("50%", &v), 0);
    assert_true(v == 0.5);
    assert_int_equal(timed_parse_speed("0.25", &v), 0);
    assert_true(v == 0.25);
    assert_int_equal(timed_parse_speed("0", &v), -1);
    assert_int_equal(timed_parse_speed("-2", &v), -1);
    assert_int_equal(timed_parse_speed("x", &v), -1);
    assert_int_equal(timed_parse_speed("2y", &v), -1);
    assert_int_equal(timed_parse_speed("", &v), -1);
    assert_int_equal(timed_parse_speed("nan", &v), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_speed), cmocka_unit_test(test_copies_spread),
        cmocka_unit_test(test_loop),            cmocka_unit_test(test_split),
        cmocka_unit_test(test_empty_worker),    cmocka_unit_test(test_speed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
