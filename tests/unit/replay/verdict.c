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

static char *run_check(const char *spec, const json_t *report, bool *result)
{
    char err[256], *buf = NULL;
    size_t len = 0;
    verdict_t *v = verdict_parse(spec, err, sizeof(err));
    if (v == NULL)
        fail_msg("parse '%s': %s", spec, err);
    FILE *out = open_memstream(&buf, &len);
    *result = verdict_check(v, report, out);
    fclose(out);
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

static bool run_baseline(const json_t *cur, const json_t *base, double tol, char **text)
{
    size_t len = 0;
    FILE *out = open_memstream(text, &len);
    bool ok = verdict_baseline(cur, base, tol, out);
    fclose(out);
    return ok;
}

static void test_baseline(void **state)
{
    (void)state;
    json_t *base = make_report(100000, 0, 500);
    json_t *same = make_report(105000, 0, 500);
    json_t *slow = make_report(200000, 0, 500);
    json_t *failing = make_report(100000, 10, 500);
    char *text;
    assert_true(run_baseline(same, base, 0.10, &text));
    assert_non_null(strstr(text, "PASS baseline: no regression in 4 entries (tolerance 10%)"));
    free(text);
    assert_false(run_baseline(slow, base, 0.10, &text));
    assert_non_null(strstr(text, "REGRESSION GET /api/search p99: 200.0ms, baseline 100.0ms"));
    assert_non_null(strstr(text, "REGRESSION GET /api/search p50"));
    assert_null(strstr(text, "GET /fast"));
    free(text);
    assert_false(run_baseline(failing, base, 0.10, &text));
    assert_non_null(strstr(text, "REGRESSION POST /order errors: 10.00%, baseline 0.00%"));
    free(text);
    /* A tolerance of 150 % accepts the 2x slower run. */
    assert_true(run_baseline(slow, base, 1.5, &text));
    free(text);
    json_decref(base);
    json_decref(same);
    json_decref(slow);
    json_decref(failing);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_lost),
        cmocka_unit_test(test_baseline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
