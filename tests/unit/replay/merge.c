/* Tests of replay/merge.c: user samples summed at each instant, classes merged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "merge.h"

/* A report with samples every 0.2 s from t0 (n of them) of users u (split over
 * two classes as [u - 1, 1]), target tg and rate rt. */
static json_t *report(double t0, int n, int u, int tg, double rt, int started0, int peak0)
{
    json_t *s = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(s, json_pack("{s:f, s:i, s:i, s:f, s:[i, i]}", "t", t0 + 0.2 * i,
                                           "users", u, "target", tg, "rate", rt, "per_class",
                                           u - 1, 1));
    return json_pack("{s:o, s:[{s:s, s:i, s:i, s:i}, {s:s, s:i, s:i, s:i}]}", "user_samples", s,
                     "classes", "name", "buyer", "weight", 3, "users_peak", peak0,
                     "users_started", started0, "name", "reader", "weight", 1, "users_peak", 1,
                     "users_started", 1);
}

static json_int_t ival(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static void test_samples_summed(void **state)
{
    (void)state;
    /* a: 0.0 .. 1.8 s, 3 users; b started 0.5 s later: 0.5 .. 1.3 s, 5 users. */
    json_t *a = report(0, 10, 3, 4, 0, 2, 2), *b = report(0, 5, 5, 6, 2.5, 4, 4);
    const json_t *in[] = {a, b};
    double off[] = {0, 0.5};
    json_t *m = merge_user_samples(in, off, 2);
    assert_non_null(m);
    assert_int_equal(json_array_size(m), 10); /* 0.0 .. 1.8 */
    const json_t *s0 = json_array_get(m, 0), *s4 = json_array_get(m, 4), *s9 = json_array_get(m, 9);
    assert_int_equal(ival(s0, "users"), 3);   /* b not started yet */
    assert_int_equal(ival(s4, "users"), 8);   /* 0.8 s: both */
    assert_int_equal(ival(s4, "target"), 10);
    assert_true(json_real_value(json_object_get(s4, "rate")) == 2.5);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(s4, "per_class"), 0)), 6);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(s4, "per_class"), 1)), 2);
    assert_int_equal(ival(s9, "users"), 8);   /* b's last sample holds after its end */
    assert_true(json_real_value(json_object_get(s9, "t")) > 1.79);

    json_t *c = merge_classes(in, 2, m);
    assert_int_equal(json_array_size(c), 2);
    const json_t *buyer = json_array_get(c, 0), *reader = json_array_get(c, 1);
    assert_string_equal(json_string_value(json_object_get(buyer, "name")), "buyer");
    assert_int_equal(ival(buyer, "weight"), 3);
    assert_int_equal(ival(buyer, "users_started"), 6);
    assert_int_equal(ival(buyer, "users_peak"), 6);   /* 2 + 4 at the same instant */
    assert_int_equal(ival(reader, "users_started"), 2);
    assert_int_equal(ival(reader, "users_peak"), 2);
    json_decref(c);
    json_decref(m);
    json_decref(a);
    json_decref(b);
}

/* Reports without samples or classes (older files) merge to empty arrays. */
static void test_empty(void **state)
{
    (void)state;
    json_t *a = json_object();
    const json_t *in[] = {a};
    double off[] = {0};
    json_t *m = merge_user_samples(in, off, 1);
    assert_int_equal(json_array_size(m), 0);
    json_t *c = merge_classes(in, 1, m);
    assert_int_equal(json_array_size(c), 0);
    json_decref(c);
    json_decref(m);
    json_decref(a);
}

/* Long runs: after 3000 samples one every 2 s, as a run thins them. */
static void test_thinned(void **state)
{
    (void)state;
    json_t *a = report(0, 4000, 1, 1, 0, 1, 1); /* 800 s */
    const json_t *in[] = {a};
    double off[] = {0};
    json_t *m = merge_user_samples(in, off, 1);
    size_t n = json_array_size(m);
    assert_true(n > 3000 && n < 3000 + 200 / 2 + 2);
    double last = json_real_value(json_object_get(json_array_get(m, n - 1), "t"));
    assert_true(last > 797 && last < 800);
    json_decref(m);
    json_decref(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_samples_summed),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_thinned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
