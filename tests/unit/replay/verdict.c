/* Tests of replay/verdict.c: --fail-on parsing, evaluation, --fail-fast, baseline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "stats.h"
#include "verdict.h"

/* A real report: GET /fast at 10 ms, GET /api/search at `slow_us`, POST /order
 * with one failure in `fail_every` requests, over 10 s. */
static json_t *make_report(uint64_t slow_us, int fail_every, int n)
{
    stats_names_t *names = stats_names_new();
    uint32_t fast = stats_names_intern(names, "GET", "/fast");
    uint32_t search = stats_names_intern(names, "GET", "/api/search");
    uint32_t order = stats_names_intern(names, "POST", "/order");
    uint32_t full = stats_names_intern(names, "GET", "GET /api/item/{id}");
    stats_t *s = stats_new(names);
    for (int i = 0; i < n; i++) {
        stats_record(s, fast, STATS_PROTO_H1, 200, STATS_OK, 10000, 100, 100);
        stats_record(s, full, STATS_PROTO_H1, 200, STATS_OK, 30000, 100, 100);
        stats_record(s, search, STATS_PROTO_H1, 200, STATS_OK, slow_us + (uint64_t)(i % 10), 100, 100);
        bool bad = fail_every > 0 && i % fail_every == 0;
        stats_record(s, order, STATS_PROTO_H1, bad ? 500 : 201, bad ? STATS_FAIL_HTTP : STATS_OK,
                     20000, 100, 100);
    }
    json_t *r = stats_report_json(s, names, NULL, 10.0, 0, NULL);
    stats_free(s);
    stats_names_free(names);
    return r;
}

/* Items of a --fail-on list (commas outside [ ]). */
static size_t verdict_count(const char *spec)
{
    size_t n = 1;
    int depth = 0;
    for (const char *p = spec; *p; p++) {
        depth += (*p == '[') - (*p == ']');
        n += *p == ',' && depth == 0;
    }
    return n;
}

static char *run_check(const char *spec, const json_t *report, bool *result)
{
    char err[256], *buf = NULL;
    size_t len = 0;
    verdict_t *v = verdict_parse(spec, err, sizeof(err));
    if (v == NULL)
        fail_msg("parse '%s': %s", spec, err);
    FILE *out = open_memstream(&buf, &len);
    json_t *lines = json_array();
    *result = verdict_check(v, report, out, lines);
    fclose(out);
    /* The report's "thresholds" say the same as the printed lines. */
    assert_int_equal(json_array_size(lines), verdict_count(spec));
    size_t i;
    json_t *l;
    json_array_foreach(lines, i, l) {
        assert_non_null(strstr(buf, json_string_value(json_object_get(l, "threshold"))));
        assert_non_null(strstr(buf, json_is_true(json_object_get(l, "passed")) ? "PASS" : "FAIL"));
        if (!*result)
            continue;
        assert_true(json_is_true(json_object_get(l, "passed")));
    }
    json_decref(lines);
    verdict_free(v);
    return buf;
}

static void test_parse_errors(void **state)
{
    (void)state;
    static const struct {
        const char *spec, *msg;
    } bad[] = {
        {"p99<300", "'p99<300': expected a duration with a unit"},
        {"p98<300ms", "'p98<300ms': expected a metric: p50 p90"},
        {"p99=300ms", "expected an operator <, <=, > or >="},
        {"errors<1%, p95[GET /x<100ms", "'p95[GET /x<100ms': expected ']'"},
        {"errors<150%", "expected a percentage between 0 and 100"},
        {"rps>fast", "expected requests per second"},
        {"count>=1.5", "expected a request count"},
        {"p50[]<1s", "expected 'METHOD NAME' or 'NAME' inside [ ]"},
        {" , ", "expected thresholds like"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char err[256] = "";
        assert_null(verdict_parse(bad[i].spec, err, sizeof(err)));
        if (strstr(err, bad[i].msg) == NULL || strstr(err, "--fail-on") != NULL)
            fail_msg("case %zu: message '%s' lacks '%s'", i, err, bad[i].msg);
    }
}

static void test_check(void **state)
{
    (void)state;
    json_t *r = make_report(200000, 50, 1000); /* search ~200 ms, 2 % of orders fail */
    bool ok;
    char *out = run_check("p99[GET /api/search]<100ms", r, &ok);
    assert_false(ok);
    assert_non_null(strstr(out, "FAIL p99[GET /api/search]<100ms: 200.0ms"));
    free(out);
    out = run_check("p99[GET /api/search] < 1s, p50[/fast]<=10ms,max<=210ms", r, &ok);
    assert_true(ok);
    assert_non_null(strstr(out, "PASS p50[/fast]<=10ms: 10.0ms"));
    free(out);
    /* Total: 4000 requests in 10 s, 20 failures = 0.50 %. */
    out = run_check("errors < 1 %, rps>=400,count>3999,errors[POST /order]<=2%", r, &ok);
    assert_true(ok);
    assert_non_null(strstr(out, "PASS errors < 1 %: 0.50%"));
    assert_non_null(strstr(out, "PASS rps>=400: 400.0/s"));
    assert_non_null(strstr(out, "PASS errors[POST /order]<=2%: 2.00%"));
    free(out);
    out = run_check("errors[POST /order]<2%,rps>400", r, &ok);
    assert_false(ok);
    assert_non_null(strstr(out, "FAIL errors[POST /order]<2%: 2.00%"));
    assert_non_null(strstr(out, "FAIL rps>400"));
    free(out);
    /* A selector that is a whole name, method included. */
    out = run_check("p50[GET /api/item/{id}]<=30ms,p50[GET GET /api/item/{id}]>29ms", r, &ok);
    assert_true(ok);
    assert_non_null(strstr(out, "PASS p50[GET /api/item/{id}]<=30ms: 30.0ms"));
    free(out);
    out = run_check("p95[GET /nope]<1s", r, &ok);
    assert_false(ok);
    assert_non_null(strstr(out, "no entry GET /nope"));
    free(out);
    json_decref(r);
}

static void test_lost(void **state)
{
    (void)state;
    char err[256];
    json_t *r = make_report(5000, 10, 100); /* 10 of 400 requests failed */
    verdict_t *v = verdict_parse("errors<5%,p99<1ms", err, sizeof(err));
    assert_non_null(v);
    /* Without a plan, errors can always recover; p99 too. */
    assert_false(verdict_lost(v, r));
    json_object_set_new(r, "planned_requests", json_integer(100000));
    assert_false(verdict_lost(v, r));
    /* Fewer planned than made: the count made is the floor; 10 / 400 = 2.5 % < 5 %. */
    json_object_set_new(r, "planned_requests", json_integer(180));
    assert_false(verdict_lost(v, r));
    verdict_free(v);
    v = verdict_parse("errors<2%", err, sizeof(err));
    assert_true(verdict_lost(v, r));
    verdict_free(v);
    v = verdict_parse("count<200", err, sizeof(err));
    assert_true(verdict_lost(v, r));
    verdict_free(v);
    v = verdict_parse("max<5ms", err, sizeof(err));
    assert_true(verdict_lost(v, r));
    verdict_free(v);
    v = verdict_parse("max<50ms,min>1ms,count<=400", err, sizeof(err));
    assert_false(verdict_lost(v, r));
    verdict_free(v);
    json_decref(r);
}

/* Runs a baseline comparison with --tolerance items tol (NULL: none) and
 * --compare cmp; the printed text in *text, the JSON result in *res. */
static bool run_baseline(const json_t *cur, const json_t *base, const char *tol, const char *cmp,
                         char **text, json_t **res)
{
    char err[256], buf[256];
    /* Several --tolerance values, separated by ';' here. */
    const char *tols[4];
    size_t n = 0;
    snprintf(buf, sizeof(buf), "%s", tol ? tol : "");
    for (char *save = NULL, *t = strtok_r(buf, ";", &save); t && n < 4; t = strtok_r(NULL, ";", &save))
        tols[n++] = t;
    verdict_cmp_t *c = verdict_cmp_new(tols, n, cmp, err, sizeof(err));
    if (c == NULL)
        fail_msg("verdict_cmp_new: %s", err);
    size_t len = 0;
    bool ok = false;
    FILE *out = open_memstream(text, &len);
    json_t *j = verdict_baseline(c, cur, base, "base.json", out, &ok);
    fclose(out);
    verdict_cmp_free(c);
    assert_non_null(j);
    assert_int_equal(json_is_true(json_object_get(j, "passed")), ok);
    if (res)
        *res = j;
    else
        json_decref(j);
    return ok;
}

/* The JSON row of (entry label, metric), or NULL. */
static const json_t *row_of(const json_t *res, const char *entry, const char *metric)
{
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(res, "rows"), i, r)
        if (strcmp(json_string_value(json_object_get(r, "entry")), entry) == 0 &&
            strcmp(json_string_value(json_object_get(r, "metric")), metric) == 0)
            return r;
    return NULL;
}

static void test_baseline(void **state)
{
    (void)state;
    json_t *base = make_report(100000, 0, 500);
    json_t *same = make_report(105000, 0, 500);
    json_t *slow = make_report(200000, 0, 500);
    json_t *failing = make_report(100000, 10, 500);
    char *text;
    json_t *res;
    assert_true(run_baseline(same, base, NULL, NULL, &text, &res));
    assert_non_null(strstr(text, "PASS baseline: 16 compared, 0 regressions, 4 skipped (too few requests)"));
    /* 500 requests: p99 needs 20 beyond it, so 2000; named per entry. */
    assert_non_null(strstr(text, "skipped: 500 requests, 2000 needed"));
    assert_string_equal(json_string_value(json_object_get(row_of(res, "GET /api/search", "p99"), "result")),
                        "skipped");
    assert_string_equal(json_string_value(json_object_get(row_of(res, "GET /api/search", "p50"), "result")),
                        "ok");
    /* Reports that do not say they were paced: rps is not compared, and that is said. */
    assert_non_null(strstr(text, "rps not compared"));
    assert_null(row_of(res, "Aggregated", "rps"));
    json_decref(res);
    free(text);

    assert_false(run_baseline(slow, base, NULL, NULL, &text, &res));
    assert_non_null(strstr(text, "REGRESSION GET /api/search p50: 200.0ms, baseline 100.0ms (+100%, allowed <= 112.0ms)"));
    assert_non_null(strstr(text, "REGRESSION GET /api/search p95"));
    assert_null(strstr(text, "REGRESSION GET /fast"));
    assert_non_null(strstr(text, "FAIL baseline"));
    const json_t *row = row_of(res, "GET /api/search", "p50");
    assert_string_equal(json_string_value(json_object_get(row, "result")), "regression");
    assert_true(json_real_value(json_object_get(row, "limit")) > 111.9);
    json_decref(res);
    free(text);

    assert_false(run_baseline(failing, base, NULL, NULL, &text, NULL));
    assert_non_null(strstr(text, "REGRESSION POST /order errors: 10.00%, baseline 0.00%"));
    free(text);
    /* A tolerance of 150 % accepts the 2x slower run. */
    assert_true(run_baseline(slow, base, "150%", NULL, &text, NULL));
    free(text);
    /* Per metric: p50 may be 200 ms worse, p95 keeps its default. */
    assert_false(run_baseline(slow, base, "p50=10%,200ms", NULL, &text, NULL));
    assert_null(strstr(text, "REGRESSION GET /api/search p50"));
    assert_non_null(strstr(text, "REGRESSION GET /api/search p95"));
    free(text);
    /* --compare: only what is asked. */
    assert_true(run_baseline(slow, base, NULL, "errors", &text, &res));
    assert_null(row_of(res, "GET /api/search", "p50"));
    assert_non_null(row_of(res, "POST /order", "errors"));
    json_decref(res);
    free(text);
    json_decref(same);
    json_decref(slow);
    json_decref(failing);

    /* Sub-millisecond latencies: +1.9 ms is under the default 2 ms floor, over a 1 ms one. */
    json_t *quick = make_report(50, 0, 500), *quick2 = make_report(1950, 0, 500);
    assert_true(run_baseline(quick2, quick, NULL, "p50", &text, NULL));
    free(text);
    assert_false(run_baseline(quick2, quick, "10%,1ms", "p50", &text, NULL));
    assert_non_null(strstr(text, "REGRESSION GET /api/search p50"));
    free(text);
    /* A per-metric item wins over a later global one (two --tolerance values). */
    assert_true(run_baseline(quick2, quick, "p50=3ms;1ms", "p50", &text, NULL));
    free(text);

    /* Paced runs compare rps: the same requests in twice the time is half the rate. */
    json_t *paced = make_report(100000, 0, 500), *paced_slow = make_report(100000, 0, 500);
    json_object_set_new(paced, "paced", json_true());
    json_object_set_new(paced_slow, "paced", json_true());
    json_object_set_new(paced_slow, "duration_s", json_real(20.0));
    assert_false(run_baseline(paced_slow, paced, NULL, NULL, &text, NULL));
    assert_non_null(strstr(text, "REGRESSION Aggregated rps: 100.0/s, baseline 200.0/s"));
    assert_null(strstr(text, "rps not compared"));
    free(text);
    assert_true(run_baseline(paced_slow, paced, "rps=60%", NULL, &text, NULL));
    free(text);
    /* One side unpaced: not compared. */
    json_object_set_new(paced, "paced", json_false());
    assert_true(run_baseline(paced_slow, paced, NULL, NULL, &text, NULL));
    assert_non_null(strstr(text, "rps not compared: the baseline was not paced"));
    free(text);
    json_decref(paced);
    json_decref(paced_slow);
    json_decref(quick);
    json_decref(quick2);
    json_decref(base);
}

static void test_tolerance_errors(void **state)
{
    (void)state;
    static const struct {
        const char *tol, *cmp, *msg;
    } bad[] = {
        {"p42=10%", NULL, "expected a metric before '='"},
        {"errors=2ms", NULL, "a duration floor fits latency metrics only"},
        {"p99=1pp", NULL, "a 'pp' floor fits errors only"},
        {"10", NULL, "or a fraction 0..1"},
        {"10%,fast", NULL, "'fast': expected 10% (relative)"},
        {NULL, "p99,bogus", "--compare 'p99,bogus': 'bogus': expected one of p50"},
        {NULL, ",", "--compare ',': expected metrics"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char err[256] = "";
        const char *tols[] = {bad[i].tol};
        verdict_cmp_t *c = verdict_cmp_new(tols, bad[i].tol ? 1 : 0, bad[i].cmp, err, sizeof(err));
        assert_null(c);
        if (strstr(err, bad[i].msg) == NULL)
            fail_msg("'%s'/'%s': got '%s'", bad[i].tol ? bad[i].tol : "", bad[i].cmp ? bad[i].cmp : "", err);
    }
    const char *ok[] = {"10%,2ms", "p99=20%,5ms", "errors=0.5pp,rps=5%,3/s", "0.1"};
    verdict_cmp_t *c = verdict_cmp_new(ok, 4, "p50,p99,errors,rps", NULL, 0);
    assert_non_null(c);
    verdict_cmp_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_lost),
        cmocka_unit_test(test_baseline),
        cmocka_unit_test(test_tolerance_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
