/* Tests of replay/smetric.c: a series is found by name and label set in any
 * order, the same on every writer; values are the sums over writers; the
 * bound per metric refuses new label sets and counts their updates; usage
 * errors name the metric; counters "x" and "x_total" are one; histogram
 * buckets are cumulative; threads registering and adding at once lose
 * nothing; the JSON form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "smetric.h"

static void test_series_and_sums(void **state)
{
    (void)state;
    smet_t *m = smet_new(3);
    assert_non_null(m);
    char err[300];
    smet_handle_t a, b, c;
    smet_label_t l1[] = {{"status", "200"}, {"name", "GET /x"}};
    smet_label_t l2[] = {{"name", "GET /x"}, {"status", "200"}};
    assert_int_equal(smet_series(m, SMET_COUNTER, "orders", l1, 2, NULL, 0, &a, err, sizeof err), 0);
    assert_int_equal(smet_series(m, SMET_COUNTER, "orders", l2, 2, NULL, 0, &b, err, sizeof err), 0);
    assert_int_equal(a.slot, b.slot); /* label order does not matter */
    assert_int_equal(smet_series(m, SMET_COUNTER, "orders_total", NULL, 0, NULL, 0, &c, err,
                                 sizeof err), 0);
    assert_int_not_equal(a.slot, c.slot); /* same metric, other (empty) label set */
    smet_inc(smet_slots(m, 0), &a, 2);
    smet_inc(smet_slots(m, 1), &b, 3.5);
    smet_inc(smet_slots(m, 2), &c, 1);
    assert_int_equal(smet_metrics(m), 1);
    smet_info_t in;
    smet_metric(m, 0, &in);
    assert_string_equal(in.name, "orders");
    assert_int_equal(in.n_series, 2);
    assert_true(in.refused == 0);
    smet_values_t v;
    smet_read(m, 0, 0, &v, NULL);
    assert_true(v.value == 5.5);
    assert_int_equal(v.n_labels, 2);
    assert_string_equal(v.labels[0].name, "name"); /* sorted */
    assert_string_equal(v.labels[1].value, "200");
    smet_read(m, 0, 1, &v, NULL);
    assert_true(v.value == 1);
    smet_free(m);
}

static void test_histogram(void **state)
{
    (void)state;
    smet_t *m = smet_new(2);
    char err[300];
    smet_handle_t h, d;
    double b[] = {1, 10, 100};
    assert_int_equal(smet_series(m, SMET_HISTOGRAM, "size", NULL, 0, b, 3, &h, err, sizeof err), 0);
    double obs[] = {0.5, 1, 5, 50, 500, 10};
    for (size_t i = 0; i < 6; i++)
        smet_observe(smet_slots(m, i % 2), &h, obs[i]);
    smet_values_t v;
    double buckets[4];
    smet_read(m, 0, 0, &v, buckets);
    assert_true(buckets[0] == 2 && buckets[1] == 4 && buckets[2] == 5 && buckets[3] == 6);
    assert_true(v.count == 6);
    assert_true(v.sum == 566.5);
    /* Default bounds, and other bounds for the same name are refused. */
    assert_int_equal(smet_series(m, SMET_HISTOGRAM, "lat", NULL, 0, NULL, 0, &d, err, sizeof err), 0);
    assert_int_equal(d.nb, 11);
    double other[] = {1, 2};
    assert_int_equal(smet_series(m, SMET_HISTOGRAM, "size", NULL, 0, other, 2, &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "size"));
    double bad[] = {5, 1};
    assert_int_equal(smet_series(m, SMET_HISTOGRAM, "x", NULL, 0, bad, 2, &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "increasing"));
    smet_free(m);
}

static void test_errors(void **state)
{
    (void)state;
    smet_t *m = smet_new(1);
    char err[300];
    smet_handle_t h;
    assert_int_equal(smet_series(m, SMET_COUNTER, "c", NULL, 0, NULL, 0, &h, err, sizeof err), 0);
    assert_int_equal(smet_series(m, SMET_HISTOGRAM, "c", NULL, 0, NULL, 0, &h, err, sizeof err), -1);
    assert_non_null(strstr(err, "metric c is a counter, not a histogram"));
    const char *bad_names[] = {"", "1x", "a-b", "a b", "updates_refused"};
    for (size_t i = 0; i < sizeof bad_names / sizeof *bad_names; i++)
        assert_int_equal(smet_series(m, SMET_COUNTER, bad_names[i], NULL, 0, NULL, 0, &h, err,
                                     sizeof err), -1);
    smet_label_t bl[][2] = {{{"__x", "1"}, {"a", "1"}}, {{"a", "1"}, {"a", "2"}},
                            {{"a", "\xff"}, {"b", "1"}}, {{"a-b", "1"}, {"b", "1"}}};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(smet_series(m, SMET_COUNTER, "c", bl[i], 2, NULL, 0, &h, err, sizeof err), -1);
        assert_non_null(strstr(err, "metric c"));
    }
    smet_label_t le[] = {{"le", "1"}};
    assert_int_equal(smet_series(m, SMET_HISTOGRAM, "h", le, 1, NULL, 0, &h, err, sizeof err), -1);
    /* The number of names is bounded too. */
    char name[32];
    int rc = 0;
    for (int i = 0; i < SMET_METRICS_MAX + 1 && rc == 0; i++) {
        snprintf(name, sizeof name, "m%d", i);
        rc = smet_series(m, SMET_COUNTER, name, NULL, 0, NULL, 0, &h, err, sizeof err);
    }
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err, "at most"));
    assert_int_equal(smet_metrics(m), SMET_METRICS_MAX);
    smet_free(m);
}

static void test_bound_refuses(void **state)
{
    (void)state;
    smet_t *m = smet_new(1);
    char err[300], val[16];
    smet_handle_t h;
    for (int i = 0; i < SMET_SERIES_MAX; i++) {
        snprintf(val, sizeof val, "%d", i);
        smet_label_t l = {"user", val};
        assert_int_equal(smet_series(m, SMET_COUNTER, "by_user", &l, 1, NULL, 0, &h, err, sizeof err), 0);
        smet_inc(smet_slots(m, 0), &h, 1);
    }
    smet_label_t l = {"user", "extra"};
    assert_int_equal(smet_series(m, SMET_COUNTER, "by_user", &l, 1, NULL, 0, &h, err, sizeof err), 1);
    assert_true(h.refused);
    assert_non_null(strstr(err, "by_user"));
    smet_inc(smet_slots(m, 0), &h, 7);
    smet_inc(smet_slots(m, 0), &h, 7);
    /* A known set still works past the bound. */
    smet_label_t l0 = {"user", "0"};
    assert_int_equal(smet_series(m, SMET_COUNTER, "by_user", &l0, 1, NULL, 0, &h, err, sizeof err), 0);
    smet_info_t in;
    smet_metric(m, 0, &in);
    assert_int_equal(in.n_series, SMET_SERIES_MAX);
    assert_true(in.refused == 2); /* updates, not their amounts */
    assert_true(smet_refused(m) == 2);
    json_t *j = smet_json(m);
    assert_non_null(j);
    json_t *m0 = json_array_get(j, 0);
    assert_string_equal(json_string_value(json_object_get(m0, "type")), "counter");
    assert_true(json_number_value(json_object_get(m0, "refused")) == 2);
    assert_int_equal(json_array_size(json_object_get(m0, "series")), SMET_SERIES_MAX);
    json_decref(j);
    smet_free(m);
}

#define THREADS 4
#define ROUNDS 20000

typedef struct arg {
    smet_t *m;
    unsigned w;
} arg_t;

static void *writer(void *p)
{
    arg_t *a = p;
    char err[300], val[16];
    for (int i = 0; i < ROUNDS; i++) {
        smet_handle_t h;
        snprintf(val, sizeof val, "%d", i % 50);
        smet_label_t l = {"k", val};
        if (smet_series(a->m, SMET_COUNTER, "hits", &l, 1, NULL, 0, &h, err, sizeof err) != 0)
            return (void *)1;
        smet_inc(smet_slots(a->m, a->w), &h, 1);
    }
    return NULL;
}

/* Writers registering and adding while a reader sums: the end totals are exact. */
static void test_threads(void **state)
{
    (void)state;
    smet_t *m = smet_new(THREADS);
    pthread_t t[THREADS];
    arg_t a[THREADS];
    for (unsigned i = 0; i < THREADS; i++) {
        a[i] = (arg_t){m, i};
        assert_int_equal(pthread_create(&t[i], NULL, writer, &a[i]), 0);
    }
    for (int r = 0; r < 50; r++) {
        json_t *j = smet_json(m); /* reads while they write */
        json_decref(j);
    }
    for (unsigned i = 0; i < THREADS; i++) {
        void *rv;
        pthread_join(t[i], &rv);
        assert_null(rv);
    }
    smet_info_t in;
    smet_metric(m, 0, &in);
    assert_int_equal(in.n_series, 50);
    double total = 0;
    for (size_t j = 0; j < in.n_series; j++) {
        smet_values_t v;
        smet_read(m, 0, j, &v, NULL);
        assert_true(v.value == THREADS * ROUNDS / 50);
        total += v.value;
    }
    assert_true(total == THREADS * ROUNDS);
    smet_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_series_and_sums), cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_errors), cmocka_unit_test(test_bound_refuses),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
