/* Tests of replay/hist.c: accuracy against exact percentiles, merging, JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#include "hist.h"

#define N 200000

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    /* xorshift64*: deterministic, so a failure reproduces. */
    rnd_state ^= rnd_state >> 12;
    rnd_state ^= rnd_state << 25;
    rnd_state ^= rnd_state >> 27;
    return rnd_state * 2685821657736338717ull;
}

/* Latency-like values spread over 1 µs .. ~20 s on a log scale. */
static uint64_t rnd_latency(void)
{
    double e = (double)(rnd() % 1000000) / 1000000.0 * 7.3; /* 10^0 .. 10^7.3 */
    return (uint64_t)pow(10.0, e);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_percentiles_match_exact(void **state)
{
    (void)state;
    uint64_t *v = malloc(N * sizeof(*v));
    hist_t *h = hist_new();
    assert_non_null(v);
    assert_non_null(h);
    uint64_t sum = 0;
    for (size_t i = 0; i < N; i++) {
        v[i] = rnd_latency();
        if (v[i] == 0)
            v[i] = 1;
        sum += v[i];
        hist_record(h, v[i]);
    }
    qsort(v, N, sizeof(*v), cmp_u64);
    assert_int_equal(hist_count(h), N);
    assert_int_equal(hist_min(h), v[0]);
    assert_int_equal(hist_max(h), v[N - 1]);
    assert_true(fabs(hist_mean(h) - (double)sum / N) < 1e-6);
    static const double ps[] = {0, 1, 10, 25, 50, 66, 75, 90, 95, 99, 99.9, 99.99, 100};
    for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
        size_t rank = (size_t)(ps[k] / 100.0 * N + 0.5);
        if (rank < 1)
            rank = 1;
        double exact = (double)v[rank - 1];
        double got = (double)hist_percentile(h, ps[k]);
        if (fabs(got - exact) > exact * 0.001)
            fail_msg("p%g: histogram %.0f, exact %.0f", ps[k], got, exact);
    }
    /* count_le against the exact count, within the bucket width at the bound. */
    static const uint64_t bounds[] = {5, 1000, 5000, 25000, 100000, 2500000};
    uint64_t many[6];
    hist_count_le_many(h, bounds, 6, many);
    for (size_t k = 0; k < 6; k++) {
        size_t lo = 0, hi = 0;
        while (lo < N && (double)v[lo] <= (double)bounds[k] * 0.999)
            lo++;
        while (hi < N && v[hi] <= bounds[k])
            hi++;
        uint64_t got = hist_count_le(h, bounds[k]);
        assert_int_equal(got, many[k]);
        if (got < lo || got > hi)
            fail_msg("count_le(%llu) = %llu, exact %zu", (unsigned long long)bounds[k],
                     (unsigned long long)got, hi);
    }
    free(v);
    hist_free(h);
}

static void test_clamp_and_empty(void **state)
{
    (void)state;
    hist_t *h = hist_new();
    assert_int_equal(hist_percentile(h, 50), 0);
    assert_int_equal(hist_min(h), 0);
    assert_true(hist_mean(h) == 0.0);
    hist_record(h, 0);
    assert_int_equal(hist_min(h), 1);
    hist_record(h, HIST_MAX_US * 10);
    assert_int_equal(hist_max(h), HIST_MAX_US);
    assert_int_equal(hist_percentile(h, 100), HIST_MAX_US);
    assert_int_equal(hist_count_le(h, 1), 1);
    hist_reset(h);
    assert_int_equal(hist_count(h), 0);
    assert_int_equal(hist_count_le(h, HIST_MAX_US), 0);
    hist_record_n(h, 2000, 5);
    assert_int_equal(hist_count(h), 5);
    assert_int_equal(hist_percentile(h, 1), 2000);
    assert_int_equal(hist_sum(h), 10000);
    hist_free(h);
}

static void test_merge_equals_one(void **state)
{
    (void)state;
    hist_t *a = hist_new(), *b = hist_new(), *one = hist_new();
    for (int i = 0; i < 50000; i++) {
        uint64_t x = rnd_latency();
        hist_record(i % 3 ? a : b, x);
        hist_record(one, x);
    }
    hist_merge(a, b);
    json_t *ja = hist_to_json(a), *jo = hist_to_json(one);
    assert_true(json_equal(ja, jo));
    for (double p = 0; p <= 100; p += 0.5)
        assert_int_equal(hist_percentile(a, p), hist_percentile(one, p));
    json_decref(ja);
    json_decref(jo);
    hist_free(a);
    hist_free(b);
    hist_free(one);
}

static void test_json_round_trip(void **state)
{
    (void)state;
    char err[256];
    hist_t *h = hist_new();
    for (int i = 0; i < 10000; i++)
        hist_record(h, rnd_latency());
    json_t *j = hist_to_json(h);
    char *text = json_dumps(j, JSON_COMPACT);
    json_t *parsed = json_loads(text, 0, NULL);
    hist_t *back = hist_from_json(parsed, err, sizeof(err));
    assert_non_null(back);
    json_t *j2 = hist_to_json(back);
    assert_true(json_equal(j, j2));
    assert_int_equal(hist_percentile(back, 99.9), hist_percentile(h, 99.9));
    assert_true(hist_mean(back) == hist_mean(h));
    free(text);
    json_decref(j);
    json_decref(j2);
    json_decref(parsed);
    hist_free(back);
    hist_free(h);
}

static void test_json_errors(void **state)
{
    (void)state;
    char err[256];
    static const struct {
        const char *json, *msg;
    } bad[] = {
        {"[]", "expected an object"},
        {"{\"sub_bucket_bits\": 7, \"counts\": [], \"sum_us\": 0, \"min_us\": 0, \"max_us\": 0}", "sub_bucket_bits 7"},
        {"{\"sub_bucket_bits\": 11, \"counts\": {}, \"sum_us\": 0, \"min_us\": 0, \"max_us\": 0}", "\"counts\" must be"},
        {"{\"sub_bucket_bits\": 11, \"counts\": [[99999999, 1]], \"sum_us\": 1, \"min_us\": 1, \"max_us\": 1}", "counts[0]"},
        {"{\"sub_bucket_bits\": 11, \"counts\": [[5000, 1]], \"sum_us\": 1, \"min_us\": 1, \"max_us\": 1}", "outside"},
        {"{\"sub_bucket_bits\": 11, \"counts\": [], \"min_us\": 0, \"max_us\": 0}", "\"sum_us\""},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *j = json_loads(bad[i].json, 0, NULL);
        assert_non_null(j);
        err[0] = '\0';
        assert_null(hist_from_json(j, err, sizeof(err)));
        if (strstr(err, bad[i].msg) == NULL)
            fail_msg("case %zu: message '%s' lacks '%s'", i, err, bad[i].msg);
        json_decref(j);
    }
}

/* Runs: those of two histograms added (through their text, as --merge does)
 * equal the runs of one histogram of all values; percentiles within 1/128 of
 * the exact histogram's and never outside min..max. */
static void test_runs_merge_equals_one(void **state)
{
    (void)state;
    char err[200];
    hist_t *a = hist_new(), *b = hist_new(), *one = hist_new();
    for (int i = 0; i < 20000; i++) {
        uint64_t v = rnd_latency();
        hist_record(i % 3 ? a : b, v);
        hist_record(one, v);
    }
    hist_runs_t *ra = hist_runs_new(), *rb = hist_runs_new(), *sum = hist_runs_new(),
                *ro = hist_runs_new();
    hist_runs_add(ra, a);
    hist_runs_add(rb, b);
    hist_runs_add(ro, one);
    char *ta = hist_runs_text(ra), *tb = hist_runs_text(rb), *to = hist_runs_text(ro);
    assert_int_equal(hist_runs_add_text(sum, ta, hist_min(a), hist_max(a), err, sizeof err), 0);
    assert_int_equal(hist_runs_add_text(sum, tb, hist_min(b), hist_max(b), err, sizeof err), 0);
    char *ts = hist_runs_text(sum);
    assert_string_equal(ts, to);
    assert_int_equal(hist_runs_count(sum), 20000);
    assert_int_equal(hist_runs_min(sum), hist_min(one));
    assert_int_equal(hist_runs_max(sum), hist_max(one));
    static const double ps[] = {0, 1, 50, 90, 95, 99, 99.9, 100};
    for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++) {
        uint64_t got = hist_runs_percentile(sum, ps[k]), fine = hist_percentile(one, ps[k]);
        assert_int_equal(got, hist_runs_percentile(ro, ps[k]));
        assert_true(got >= hist_min(one) && got <= hist_max(one));
        assert_true(fabs((double)got - (double)fine) <= (double)fine / 100.0 + 8);
    }
    /* A percentile lands on the run's highest value: 1000 and 1001 share a run. */
    hist_runs_t *r = hist_runs_new();
    assert_int_equal(hist_runs_add_text(r, "125:2", 1000, 1001, err, sizeof err), 0);
    assert_int_equal(hist_runs_percentile(r, 50), 1001);
    assert_int_equal(hist_runs_add_text(r, "150", 1200, 1200, err, sizeof err), 0);
    assert_int_equal(hist_runs_percentile(r, 50), 1007); /* run 125 ends at 1007 */
    char *t = hist_runs_text(r);
    assert_string_equal(t, "125:2 25");
    free(t);
    hist_runs_reset(r);
    t = hist_runs_text(r);
    assert_string_equal(t, "");
    assert_int_equal(hist_runs_percentile(r, 99), 0);
    free(t);
    hist_runs_free(r);
    free(ta);
    free(tb);
    free(to);
    free(ts);
    hist_runs_free(ra);
    hist_runs_free(rb);
    hist_runs_free(ro);
    hist_runs_free(sum);
    hist_free(a);
    hist_free(b);
    hist_free(one);
}

/* Bad texts: rejected with a message, the runs unchanged. */
static void test_runs_text_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        uint64_t min, max;
        const char *msg;
    } bad[] = {
        {"x", 1, 10, "offset 0"},
        {"1  2", 1, 10, "offset 2"},
        {"1:", 1, 10, "offset 1"},
        {"1:0", 1, 10, "counts 0"},
        {"1 0", 1, 10, "repeats"},
        {"200", 1, 10, "outside"},
        {"0", 100, 200, "outside"},
        {"1", 0, 10, "min_us/max_us"},
        {"1", 10, 5, "min_us/max_us"},
        {"99999999999999999999", 1, 10, "outside"},
    };
    hist_runs_t *r = hist_runs_new();
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[200] = "";
        assert_int_equal(hist_runs_add_text(r, bad[i].text, bad[i].min, bad[i].max, err,
                                            sizeof err), -1);
        if (strstr(err, bad[i].msg) == NULL)
            fail_msg("case %zu: message '%s' lacks '%s'", i, err, bad[i].msg);
        assert_int_equal(hist_runs_count(r), 0);
    }
    char err[200];
    assert_int_equal(hist_runs_add_text(NULL, "0:3 1", 1, 10, err, sizeof err), 0);
    assert_int_equal(hist_runs_add_text(NULL, "", 0, 0, err, sizeof err), 0);
    hist_runs_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentiles_match_exact),
        cmocka_unit_test(test_clamp_and_empty),
        cmocka_unit_test(test_merge_equals_one),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_runs_merge_equals_one),
        cmocka_unit_test(test_runs_text_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
