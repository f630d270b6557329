/* Tests of replay/stats.c: recording, merge, totals, history, summary, report round-trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "stats.h"

/* strdup that fails on demand: replay/stats.c (linked into this program)
 * calls this one, so out of memory can be shown without exhausting memory. */
static int strdup_fails;
char *strdup(const char *s)
{
    if (strdup_fails)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    return p ? memcpy(p, s, n) : NULL;
}

typedef struct fixture {
    stats_names_t *names;
    uint32_t get, post;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    f->names = stats_names_new();
    f->get = stats_names_intern(f->names, "GET", "/item/{id}");
    f->post = stats_names_intern(f->names, "POST", "/cart, \"quoted\"");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    stats_names_free(f->names);
    free(f);
    return 0;
}

/* Records a fixed mix: i-th request of a thread, deterministic. */
static void record_mix(stats_t *s, const fixture_t *f, int n, int seed)
{
    for (int i = 0; i < n; i++) {
        int k = i * 7 + seed;
        if (k % 10 == 0)
            stats_record(s, f->post, STATS_PROTO_H2, 0, STATS_FAIL_CONNECT, 1000 + k, 0, 0);
        else if (k % 10 == 1)
            stats_record(s, f->post, STATS_PROTO_H1, 500, STATS_FAIL_HTTP, 2000 + k, 100, 20);
        else
            stats_record(s, f->get, STATS_PROTO_H1, 200, STATS_OK, 500 + (uint64_t)k * 13, 80, 1000);
        if (i % 4 == 0)
            stats_iteration(s, i % 8 == 0);
        if (k % 9 == 0 || k % 11 == 0)
            stats_body(s, k % 9 == 0, k % 11 == 0, k % 9 == 0 ? 1000 : 0);
    }
}

/* Out of memory while naming an entry is an error the caller reports, not an
 * abort of the program (it aborted before). */
static void test_names_oom(void **state)
{
    fixture_t *f = *state;
    strdup_fails = 1;
    int r = stats_names_intern(f->names, "GET", "/new");
    strdup_fails = 0;
    assert_int_equal(r, -1);
    assert_int_equal(stats_names_count(f->names), 2);
    /* Nothing half-added: the same name interns cleanly afterwards. */
    assert_int_equal(stats_names_intern(f->names, "GET", "/new"), 2);
    assert_int_equal(stats_names_intern(f->names, "GET", "/item/{id}"), f->get);
}

static void test_names(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(stats_names_count(f->names), 2);
    assert_int_equal(stats_names_intern(f->names, "GET", "/item/{id}"), f->get);
    assert_string_equal(stats_names_method(f->names, f->post), "POST");
    assert_string_equal(stats_fail_name(STATS_FAIL_H2_GOAWAY), "h2_goaway");
    assert_int_equal(stats_fail_from_name("tls"), STATS_FAIL_TLS);
    assert_string_equal(stats_fail_name(STATS_FAIL_UNFINISHED), "unfinished");
    assert_int_equal(stats_fail_from_name("unfinished"), STATS_FAIL_UNFINISHED);
    assert_int_equal(stats_fail_from_name("nope"), -1);
    /* The WebSocket categories come after script (issue 15). */
    assert_int_equal(STATS_FAIL_WS_HANDSHAKE, STATS_FAIL_SCRIPT + 1);
    assert_string_equal(stats_fail_name(STATS_FAIL_WS_HANDSHAKE), "ws_handshake");
    assert_string_equal(stats_fail_name(STATS_FAIL_WS_CLOSED), "ws_closed");
    assert_string_equal(stats_fail_name(STATS_FAIL_WS_TIMEOUT), "ws_timeout");
    assert_string_equal(stats_fail_name(STATS_FAIL_WS_PROTOCOL), "ws_protocol");
    assert_int_equal(stats_fail_from_name("ws_closed"), STATS_FAIL_WS_CLOSED);
    assert_int_equal(stats_proto_from_name("h2"), STATS_PROTO_H2);
    assert_string_equal(stats_display_name("GET", "GET /api/search"), "/api/search");
    assert_string_equal(stats_display_name("GET", "/api/search"), "/api/search");
    assert_string_equal(stats_display_name("GET", "GETTER /x"), "GETTER /x");
    assert_string_equal(stats_display_name("GET", "GET "), "GET ");
}

static void test_record_and_total(void **state)
{
    fixture_t *f = *state;
    stats_t *s = stats_new(f->names);
    record_mix(s, f, 1000, 0);
    const stats_entry_t *g = stats_entry(s, f->get), *p = stats_entry(s, f->post);
    assert_int_equal(g->count + p->count, 1000);
    assert_int_equal(p->count, 200);
    assert_int_equal(p->failures, 200);
    assert_int_equal(p->fail[STATS_FAIL_CONNECT], 100);
    assert_int_equal(p->by_proto[STATS_PROTO_H2], 100);
    assert_int_equal(stats_status_count(s, f->post, 500), 100);
    assert_int_equal(stats_noresp_count(s, f->post, STATS_PROTO_H2, STATS_FAIL_CONNECT), 100);
    assert_int_equal(stats_status_count(s, f->get, 200), 800);
    assert_int_equal(g->bytes_received, 800 * 1000);
    const stats_entry_t *t = stats_total(s);
    assert_int_equal(t->count, 1000);
    assert_int_equal(t->failures, 200);
    assert_int_equal(hist_count(t->latency), 1000);
    /* Totals are recomputed, not accumulated, on a second call. */
    assert_int_equal(stats_total(s)->count, 1000);
    assert_int_equal(stats_iterations_started(s) + stats_iterations_completed(s), 250);
    stats_reset(s);
    assert_int_equal(stats_entry(s, f->get)->count, 0);
    assert_int_equal(stats_status_count(s, f->get, 200), 0);
    assert_int_equal(hist_count(stats_entry(s, f->get)->latency), 0);
    stats_free(s);
}

static json_t *report_of(stats_t *s, const fixture_t *f, stats_history_t *h)
{
    return stats_report_json(s, f->names, h, 10.0, 1700000000123456, NULL);
}

static void test_merge_equals_one(void **state)
{
    fixture_t *f = *state;
    stats_t *a = stats_new(f->names), *b = stats_new(f->names), *one = stats_new(f->names);
    record_mix(a, f, 700, 1);
    record_mix(b, f, 300, 2);
    record_mix(one, f, 700, 1);
    record_mix(one, f, 300, 2);
    stats_merge(a, b);
    json_t *ja = report_of(a, f, NULL), *jo = report_of(one, f, NULL);
    assert_true(json_equal(ja, jo));
    json_decref(ja);
    json_decref(jo);
    stats_free(a);
    stats_free(b);
    stats_free(one);
}

static void test_history(void **state)
{
    fixture_t *f = *state;
    stats_history_t *h = stats_history_new();
    stats_t *iv = stats_new(f->names);
    for (int sec = 0; sec < 3; sec++) {
        stats_reset(iv);
        record_mix(iv, f, 100 * (sec + 1), sec);
        stats_history_add(h, sec + 1.0, 10u * (uint32_t)sec, 50, 0.5, iv);
    }
    assert_int_equal(stats_history_len(h), 3);
    const stats_second_t *r = stats_history_at(h, 2);
    assert_true(r->rps == 600.0);
    assert_int_equal(r->users, 20);
    assert_int_equal(r->target_users, 50);
    assert_true(r->fails_per_s == 2 * (double)stats_total(iv)->failures);
    assert_true(r->p50_us > 0 && r->p50_us <= r->p95_us && r->p95_us <= r->p99_us);
    assert_null(stats_history_at(h, 3));
    stats_free(iv);
    stats_history_free(h);
}

/* A history row of count requests (latency lat_us, one in four failed) over interval_s. */
static void add_row(stats_history_t *h, const fixture_t *f, double t, uint32_t users,
                    uint32_t target, int count, double interval_s, uint64_t lat_us)
{
    stats_t *iv = stats_new(f->names);
    for (int i = 0; i < count; i++)
        stats_record(iv, f->get, STATS_PROTO_H1, i % 4 ? 200 : 500,
                     i % 4 ? STATS_OK : STATS_FAIL_HTTP, lat_us, 10, 10);
    stats_history_add(h, t, users, target, interval_s, iv);
    stats_free(iv);
}

static bool near(double a, double b) { return a > b - 1e-9 && a < b + 1e-9; }

/* Segments side by side: rows aligned on the whole second since the earliest
 * start, users/targets/rates summed; an input's last partial second joins its
 * second weighted by its length. */
static void test_history_merge(void **state)
{
    fixture_t *f = *state;
    stats_history_t *a = stats_history_new(), *b = stats_history_new();
    for (int sec = 1; sec <= 3; sec++)
        add_row(a, f, sec, 2, 2, 10, 1.0, 1000);
    add_row(b, f, 1.0, 3, 3, 20, 1.0, 5000);
    add_row(b, f, 2.0, 3, 3, 20, 1.0, 5000);
    add_row(b, f, 2.1, 1, 3, 4, 0.1, 5000); /* the last, partial second */
    const stats_history_t *in[] = {a, NULL, b};
    double off[] = {0, 0, 0.3};
    stats_history_t *m = stats_history_merge(in, off, 3);
    assert_non_null(m);
    assert_int_equal(stats_history_len(m), 3);
    const stats_second_t *r = stats_history_at(m, 0);
    assert_true(near(r->t, 1.3));
    assert_int_equal(r->users, 5);
    assert_int_equal(r->target_users, 5);
    assert_true(near(r->rps, 30));
    assert_true(near(r->fails_per_s, 3 + 5));
    assert_true(r->p99_us >= 4000 && r->p50_us >= 4000); /* of the union: 20 of 30 at 5 ms */
    r = stats_history_at(m, 1);
    assert_true(near(r->t, 2.4));
    assert_int_equal(r->users, 2 + 1);
    assert_int_equal(r->target_users, 5);
    assert_true(near(r->rps, 10 + (20 * 1.0 + 40 * 0.1) / 1.1));
    r = stats_history_at(m, 2);
    assert_true(near(r->t, 3));
    assert_int_equal(r->users, 2);
    assert_true(near(r->rps, 10));
    stats_history_free(m);

    /* One input: its history unchanged. */
    const stats_history_t *one[] = {a};
    m = stats_history_merge(one, off, 1);
    assert_int_equal(stats_history_len(m), 3);
    for (size_t i = 0; i < 3; i++) {
        const stats_second_t *x = stats_history_at(m, i), *y = stats_history_at(a, i);
        assert_true(x->t == y->t && x->rps == y->rps && x->fails_per_s == y->fails_per_s);
        assert_int_equal(x->users, y->users);
        assert_int_equal(x->p50_us, y->p50_us);
        assert_int_equal(x->p99_us, y->p99_us);
        assert_int_equal(x->lat_min_us, y->lat_min_us);
        assert_int_equal(x->lat_max_us, y->lat_max_us);
        assert_string_equal(x->lat_text, y->lat_text);
    }
    stats_history_free(m);
    /* Reports a year apart are not one run. */
    double far[] = {0, 0, 365.0 * 24 * 3600};
    assert_null(stats_history_merge(in, far, 3));
    stats_history_free(a);
    stats_history_free(b);
}

/* A history row whose interval holds count requests with latencies lo, lo+step, ...;
 * also recorded into union_iv when given. */
static void add_spread(stats_history_t *h, stats_t *union_iv, const fixture_t *f, double t,
                       int count, uint64_t lo, uint64_t step)
{
    stats_t *iv = stats_new(f->names);
    for (int i = 0; i < count; i++) {
        stats_record(iv, f->get, STATS_PROTO_H1, 200, STATS_OK, lo + step * (uint64_t)i, 10, 10);
        if (union_iv != NULL)
            stats_record(union_iv, f->get, STATS_PROTO_H1, 200, STATS_OK,
                         lo + step * (uint64_t)i, 10, 10);
    }
    stats_history_add(h, t, 1, 1, 1.0, iv);
    stats_free(iv);
}

/* A history through the report's JSON text, as --merge reads it. */
static stats_history_t *through_report(const fixture_t *f, const stats_history_t *h)
{
    char err[256];
    stats_t *s = stats_new(f->names);
    json_t *r = stats_report_json(s, f->names, h, 2.0, 0, NULL);
    char *text = json_dumps(r, 0);
    json_t *parsed = json_loads(text, 0, NULL);
    stats_names_t *n2;
    stats_t *s2;
    stats_history_t *h2 = NULL;
    assert_int_equal(stats_report_load(parsed, &n2, &s2, &h2, NULL, err, sizeof(err)), 0);
    free(text);
    json_decref(parsed);
    json_decref(r);
    stats_free(s);
    stats_free(s2);
    stats_names_free(n2);
    return h2;
}

/* Issue 18: the per-second percentiles of merged segments are those of one
 * process that saw the union of their requests, not the highest of theirs. */
static void test_history_merge_exact(void **state)
{
    fixture_t *f = *state;
    stats_history_t *a = stats_history_new(), *b = stats_history_new(), *one = stats_history_new();
    stats_t *u1 = stats_new(f->names), *u2 = stats_new(f->names);
    add_spread(a, u1, f, 1.0, 900, 1000, 3);   /* fast segment: 1.0 .. 3.7 ms */
    add_spread(b, u1, f, 1.0, 100, 20000, 97); /* slow segment: 20 .. 29.6 ms */
    add_spread(a, u2, f, 2.0, 50, 4000, 11);
    add_spread(b, u2, f, 2.0, 950, 700, 1);
    stats_history_add(one, 1.0, 2, 2, 1.0, u1);
    stats_history_add(one, 2.0, 2, 2, 1.0, u2);
    stats_history_t *ra = through_report(f, a), *rb = through_report(f, b);
    const stats_history_t *in[] = {ra, rb};
    double off[] = {0, 0.2};
    stats_history_t *m = stats_history_merge(in, off, 2);
    assert_non_null(m);
    assert_int_equal(stats_history_len(m), 2);
    for (size_t i = 0; i < 2; i++) {
        const stats_second_t *got = stats_history_at(m, i), *want = stats_history_at(one, i);
        assert_int_equal(got->p50_us, want->p50_us);
        assert_int_equal(got->p95_us, want->p95_us);
        assert_int_equal(got->p99_us, want->p99_us);
        assert_true(near(got->rps, want->rps));
        assert_int_equal(got->users, want->users);
    }
    /* The merged report carries the merged histograms: merging it again with
     * nothing keeps its percentiles. */
    stats_history_t *rm = through_report(f, m);
    const stats_history_t *again[] = {rm};
    stats_history_t *m2 = stats_history_merge(again, off, 1);
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(stats_history_at(m2, i)->p99_us, stats_history_at(one, i)->p99_us);
    stats_history_free(m2);
    stats_history_free(rm);
    /* An input from before the per-second histograms: the highest of the
     * inputs' percentiles (an upper bound), and no histogram in the row. */
    stats_history_t *old = stats_history_new();
    add_spread(old, NULL, f, 1.0, 100, 20000, 97);
    free(((stats_second_t *)stats_history_at(old, 0))->lat_text);
    ((stats_second_t *)stats_history_at(old, 0))->lat_text = NULL;
    const stats_history_t *mixed[] = {ra, old};
    m2 = stats_history_merge(mixed, off, 2);
    assert_int_equal(stats_history_at(m2, 0)->p50_us, stats_history_at(old, 0)->p50_us);
    assert_null(stats_history_at(m2, 0)->lat_text);
    stats_history_free(m2);
    stats_history_free(old);
    stats_history_free(m);
    stats_history_free(ra);
    stats_history_free(rb);
    stats_history_free(a);
    stats_history_free(b);
    stats_history_free(one);
    stats_free(u1);
    stats_free(u2);
}

static void test_report_round_trip(void **state)
{
    fixture_t *f = *state;
    char err[256];
    stats_t *s = stats_new(f->names);
    stats_history_t *h = stats_history_new();
    record_mix(s, f, 5000, 3);
    stats_history_add(h, 1.0, 5, 5, 1.0, s);
    json_t *meta = json_pack("{s:s, s:s}", "scenario", "shop.mp", "format", "ignored");
    json_t *r = stats_report_json(s, f->names, h, 10.0, 1700000000123456, meta);
    assert_string_equal(json_string_value(json_object_get(r, "format")), "aiotest-report");
    assert_string_equal(json_string_value(json_object_get(r, "scenario")), "shop.mp");
    assert_string_equal(json_string_value(json_object_get(r, "started")), "2023-11-14T22:13:20.123Z");
    json_t *total = json_object_get(r, "total");
    assert_int_equal(json_integer_value(json_object_get(total, "count")), 5000);
    assert_true(json_real_value(json_object_get(total, "rps")) == 500.0);
    json_t *bodies = json_object_get(r, "bodies");
    assert_int_equal(json_integer_value(json_object_get(bodies, "cut")), (json_int_t)stats_bodies_cut(s));
    assert_int_equal(json_integer_value(json_object_get(bodies, "undecoded")), (json_int_t)stats_bodies_undecoded(s));
    assert_int_equal(json_integer_value(json_object_get(bodies, "dropped_bytes")), 1000 * (json_int_t)stats_bodies_cut(s));
    assert_true(stats_bodies_cut(s) > 0 && stats_bodies_undecoded(s) > 0);
    /* Through text, as --merge and --baseline read it. */
    char *text = json_dumps(r, 0);
    json_t *parsed = json_loads(text, 0, NULL);
    stats_names_t *n2;
    stats_t *s2;
    stats_history_t *h2;
    double dur;
    assert_int_equal(stats_report_load(parsed, &n2, &s2, &h2, &dur, err, sizeof(err)), 0);
    assert_true(dur == 10.0);
    assert_int_equal(stats_history_len(h2), 1);
    json_t *r2 = stats_report_json(s2, n2, h2, dur, 1700000000123456, meta);
    assert_true(json_equal(r, r2));
    /* Merging two loaded reports doubles the counts and keeps the percentiles. */
    stats_merge(s2, s);
    const stats_entry_t *t2 = stats_total(s2);
    assert_int_equal(t2->count, 10000);
    assert_int_equal(stats_bodies_cut(s2), 2 * stats_bodies_cut(s));
    assert_int_equal(stats_body_bytes_dropped(s2), 2 * stats_body_bytes_dropped(s));
    assert_int_equal(hist_percentile(t2->latency, 99), hist_percentile(stats_total(s)->latency, 99));
    free(text);
    json_decref(meta);
    json_decref(r);
    json_decref(r2);
    json_decref(parsed);
    stats_free(s2);
    stats_names_free(n2);
    stats_history_free(h2);
    stats_free(s);
    stats_history_free(h);
}

static void test_report_load_errors(void **state)
{
    (void)state;
    char err[256];
    static const struct {
        const char *json, *msg;
    } bad[] = {
        {"{\"format\": \"x\"}", "\"format\""},
        {"{\"format\": \"aiotest-report\", \"version\": 1, \"duration_s\": 1}", "\"entries\""},
        {"{\"format\": \"aiotest-report\", \"version\": 1, \"duration_s\": 1, \"entries\": [{\"method\": \"GET\"}]}",
         "entries[0]: \"method\" and \"name\""},
        {"{\"format\": \"aiotest-report\", \"version\": 1, \"duration_s\": 1, \"entries\": [{\"method\": \"GET\", \"name\": \"/\", \"count\": 1, \"bytes_sent\": 0, \"bytes_received\": 0, \"fail\": {\"bogus\": 1}}]}",
         "entries[0].fail.bogus"},
        {"{\"format\": \"aiotest-report\", \"version\": 1, \"duration_s\": 1, \"entries\": [{\"method\": \"GET\", \"name\": \"/\", \"count\": 1, \"bytes_sent\": 0, \"bytes_received\": 0, \"fail\": {}, \"protocols\": {}, \"statuses\": {}, \"latency\": {\"sub_bucket_bits\": 11, \"counts\": [], \"sum_us\": 0, \"min_us\": 0, \"max_us\": 0}}]}",
         "latency holds 0 values, count is 1"},
        {"{\"format\": \"aiotest-report\", \"version\": 1, \"duration_s\": 1, \"entries\": [], \"history\": [{\"t\": 1.0, \"users\": 1, \"target_users\": 1, \"rps\": 1, \"fails_per_s\": 0, \"p50_us\": 1, \"p95_us\": 1, \"p99_us\": 1, \"iterations_per_s\": 0, \"latency\": {\"min_us\": 10, \"max_us\": 20, \"runs\": \"1:x\"}}]}",
         "history[0].latency: histogram runs: at offset 1"},
        {"{\"format\": \"aiotest-report\", \"version\": 1, \"duration_s\": 1, \"entries\": [], \"history\": [{\"t\": 1.0, \"users\": 1, \"target_users\": 1, \"rps\": 1, \"fails_per_s\": 0, \"p50_us\": 1, \"p95_us\": 1, \"p99_us\": 1, \"iterations_per_s\": 0, \"latency\": {\"min_us\": 10, \"runs\": \"\"}}]}",
         "history[0].latency: expected {min_us, max_us, runs}"},
        {"{\"format\": \"aiotest-report\", \"version\": 1, \"duration_s\": 1, \"entries\": [], \"history\": [{\"t\": 2.0, \"users\": 1, \"target_users\": 1, \"rps\": 1, \"fails_per_s\": 0, \"p50_us\": 1, \"p95_us\": 1, \"p99_us\": 1, \"iterations_per_s\": 0}, {\"t\": 1.0, \"users\": 1, \"target_users\": 1, \"rps\": 1, \"fails_per_s\": 0, \"p50_us\": 1, \"p95_us\": 1, \"p99_us\": 1, \"iterations_per_s\": 0}]}",
         "history[1]: t 1.000 is before"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *j = json_loads(bad[i].json, 0, NULL);
        stats_names_t *n = NULL;
        stats_t *s = NULL;
        assert_non_null(j);
        err[0] = '\0';
        stats_history_t *h = NULL;
        assert_int_equal(stats_report_load(j, &n, &s, &h, NULL, err, sizeof(err)), -1);
        if (strstr(err, bad[i].msg) == NULL)
            fail_msg("case %zu: message '%s' lacks '%s'", i, err, bad[i].msg);
        json_decref(j);
    }
}

/* Every field of an entry replaced by a wrong type: rejected with its name, never a crash. */
static void test_report_load_mutations(void **state)
{
    fixture_t *f = *state;
    char err[256];
    stats_t *s = stats_new(f->names);
    record_mix(s, f, 200, 1);
    json_t *r = report_of(s, f, NULL);
    static const char *const required[] = {"count", "bytes_sent", "bytes_received", "fail",
                                           "protocols", "statuses", "latency", "method", "name"};
    for (size_t k = 0; k < sizeof(required) / sizeof(required[0]); k++) {
        json_t *copy = json_deep_copy(r);
        json_t *e = json_array_get(json_object_get(copy, "entries"), 1);
        json_object_set_new(e, required[k], json_integer(-1));
        stats_names_t *n = NULL;
        stats_t *s2 = NULL;
        err[0] = '\0';
        if (stats_report_load(copy, &n, &s2, NULL, NULL, err, sizeof(err)) != -1)
            fail_msg("%s: a wrong type was accepted", required[k]);
        if (strstr(err, "entries[1]") == NULL)
            fail_msg("%s: message '%s' does not name entries[1]", required[k], err);
        json_decref(copy);
    }
    /* Counts in the histogram that disagree with count. */
    json_t *copy = json_deep_copy(r);
    json_t *e = json_array_get(json_object_get(copy, "entries"), 0);
    json_object_set_new(e, "count", json_integer(1));
    stats_names_t *n = NULL;
    stats_t *s2 = NULL;
    assert_int_equal(stats_report_load(copy, &n, &s2, NULL, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "entries[0]: latency holds"));
    json_decref(copy);
    json_decref(r);
    stats_free(s);
}

static void test_report_file(void **state)
{
    fixture_t *f = *state;
    char path[] = "/tmp/aiotest-report-XXXXXX", err[256];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    stats_t *s = stats_new(f->names);
    record_mix(s, f, 300, 5);
    json_t *r = report_of(s, f, NULL);
    assert_int_equal(stats_report_write(r, path, err, sizeof(err)), 0);
    json_t *back = stats_report_read(path, err, sizeof(err));
    assert_non_null(back);
    json_t *t1 = json_object_get(r, "total"), *t2 = json_object_get(back, "total");
    assert_int_equal(json_integer_value(json_object_get(t2, "count")), 300);
    assert_true(json_equal(json_object_get(t1, "latency"), json_object_get(t2, "latency")));
    assert_true(json_equal(json_object_get(t1, "statuses"), json_object_get(t2, "statuses")));
    json_decref(back);
    FILE *bad = fopen(path, "w");
    fputs("{\n  \"format\": ,\n}", bad);
    fclose(bad);
    assert_null(stats_report_read(path, err, sizeof(err)));
    assert_non_null(strstr(err, ":2:"));
    assert_non_null(strstr(err, path));
    unlink(path);
    assert_int_equal(stats_report_write(r, "/nonexistent-dir/r.json", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent-dir/r.json"));
    json_decref(r);
    stats_free(s);
}

static void test_summary(void **state)
{
    fixture_t *f = *state;
    stats_t *s = stats_new(f->names);
    record_mix(s, f, 1000, 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    stats_print_summary(out, s, f->names, 10.0);
    fclose(out);
    /* Every line of the table is equally wide up to the '|', and the rows are there. */
    assert_non_null(strstr(buf, "GET  /item/{id}"));
    assert_non_null(strstr(buf, "Aggregated"));
    assert_non_null(strstr(buf, "200(100.00%)"));
    assert_non_null(strstr(buf, "Failures"));
    assert_non_null(strstr(buf, "connect"));
    char want[160];
    snprintf(want, sizeof want, "Response bodies: %llu cut at --max-body", (unsigned long long)stats_bodies_cut(s));
    assert_non_null(strstr(buf, want));
    char *agg = strstr(buf, "Aggregated");
    assert_non_null(strstr(agg, "1000"));
    assert_non_null(strstr(agg, "100.0"));  /* req/s */
    const char *line = buf;
    long bar = -1;
    for (int i = 0; i < 5; i++) {
        const char *nl = strchr(line, '\n');
        const char *p = memchr(line, '|', (size_t)(nl - line));
        if (p != NULL) {
            if (bar < 0)
                bar = p - line;
            assert_int_equal(p - line, bar);
        }
        line = nl + 1;
    }
    free(buf);
    stats_free(s);
}

/* --pipeline: the counts add up by merge, the depth is the largest; the
 * report's "pipeline" and the summary line say them; a report without
 * pipelining has neither, and a loaded report gives the same JSON back. */
static void test_pipeline_counts(void **state)
{
    fixture_t *f = *state;
    char err[256];
    stats_t *a = stats_new(f->names), *b = stats_new(f->names), *none = stats_new(f->names);
    record_mix(a, f, 100, 0);
    stats_pipeline_depth(a, 10);
    stats_pipeline_depth(b, 4);
    for (int i = 0; i < 9; i++)
        stats_pipeline(a, true, i < 2);
    stats_pipeline(b, true, true);
    stats_merge(b, a);
    assert_int_equal(stats_pipelined(b), 10);
    assert_int_equal(stats_pipeline_resent(b), 3);
    json_t *r = stats_report_json(b, f->names, NULL, 1.0, 0, NULL);
    json_t *pl = json_object_get(r, "pipeline");
    assert_non_null(pl);
    assert_int_equal(json_integer_value(json_object_get(pl, "depth")), 10);
    assert_int_equal(json_integer_value(json_object_get(pl, "pipelined")), 10);
    assert_int_equal(json_integer_value(json_object_get(pl, "resent")), 3);
    stats_names_t *n2;
    stats_t *s2;
    double dur;
    assert_int_equal(stats_report_load(r, &n2, &s2, NULL, &dur, err, sizeof(err)), 0);
    json_t *r2 = stats_report_json(s2, n2, NULL, dur, 0, NULL);
    assert_true(json_equal(json_object_get(r2, "pipeline"), pl));
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    stats_print_summary(out, b, f->names, 1.0);
    fclose(out);
    assert_non_null(strstr(buf, "Pipelining (--pipeline 10): 10 request(s) sent behind another on "
                                "their HTTP/1.1 connection, 3 resent after a pipeline broke"));
    free(buf);
    /* depth 1 (off) and nothing pipelined: no field, no line */
    stats_pipeline_depth(none, 1);
    json_t *r3 = stats_report_json(none, f->names, NULL, 1.0, 0, NULL);
    assert_null(json_object_get(r3, "pipeline"));
    buf = NULL;
    out = open_memstream(&buf, &len);
    stats_print_summary(out, none, f->names, 1.0);
    fclose(out);
    assert_null(strstr(buf, "Pipelining"));
    free(buf);
    json_decref(r);
    json_decref(r2);
    json_decref(r3);
    stats_free(s2);
    stats_names_free(n2);
    stats_free(a);
    stats_free(b);
    stats_free(none);
}

/* Unsolicited response bytes: events and bytes add up by merge, reset clears
 * them; the report's "unsolicited" (zeros included) and the summary line say
 * them; a loaded report gives them back, and one without the field reads as
 * zeros; a malformed field is an error naming it. */
static void test_unsolicited_counts(void **state)
{
    fixture_t *f = *state;
    char err[256];
    stats_t *a = stats_new(f->names), *b = stats_new(f->names);
    record_mix(a, f, 10, 0);
    stats_unsolicited(a, 43);
    stats_unsolicited(a, 2);
    stats_unsolicited(b, 5);
    stats_merge(b, a);
    assert_int_equal(stats_unsolicited_events(b), 3);
    assert_int_equal(stats_unsolicited_bytes(b), 50);
    json_t *r = stats_report_json(b, f->names, NULL, 1.0, 0, NULL);
    json_t *un = json_object_get(r, "unsolicited");
    assert_non_null(un);
    assert_int_equal(json_integer_value(json_object_get(un, "events")), 3);
    assert_int_equal(json_integer_value(json_object_get(un, "bytes")), 50);
    stats_names_t *n2;
    stats_t *s2;
    double dur;
    assert_int_equal(stats_report_load(r, &n2, &s2, NULL, &dur, err, sizeof(err)), 0);
    assert_int_equal(stats_unsolicited_events(s2), 3);
    assert_int_equal(stats_unsolicited_bytes(s2), 50);
    stats_free(s2);
    stats_names_free(n2);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    stats_print_summary(out, b, f->names, 1.0);
    fclose(out);
    assert_non_null(strstr(buf, "Unsolicited response bytes: 3 time(s) a server sent bytes that no "
                                "request waited for (50 bytes, dropped; the connection was closed "
                                "each time)\n"));
    free(buf);
    /* none: zeros in the report, no line */
    stats_reset(b);
    assert_int_equal(stats_unsolicited_events(b), 0);
    json_t *r0 = stats_report_json(b, f->names, NULL, 1.0, 0, NULL);
    un = json_object_get(r0, "unsolicited");
    assert_int_equal(json_integer_value(json_object_get(un, "events")), 0);
    assert_int_equal(json_integer_value(json_object_get(un, "bytes")), 0);
    buf = NULL;
    out = open_memstream(&buf, &len);
    stats_print_summary(out, b, f->names, 1.0);
    fclose(out);
    assert_null(strstr(buf, "Unsolicited"));
    free(buf);
    /* an earlier report without the field: zeros; a bad one: an error naming it */
    json_object_del(r, "unsolicited");
    assert_int_equal(stats_report_load(r, &n2, &s2, NULL, &dur, err, sizeof(err)), 0);
    assert_int_equal(stats_unsolicited_events(s2), 0);
    stats_free(s2);
    stats_names_free(n2);
    json_object_set_new(r, "unsolicited", json_pack("{s:s, s:i}", "events", "x", "bytes", 1));
    assert_int_equal(stats_report_load(r, &n2, &s2, NULL, &dur, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unsolicited"));
    json_decref(r);
    json_decref(r0);
    stats_free(a);
    stats_free(b);
}

/* Script failure reasons: counted per (entry, reason), merged by text,
 * capped with the rest counted, cleared by reset, in the JSON report. */
static void test_reasons(void **state)
{
    fixture_t *f = *state;
    stats_t *a = stats_new(f->names), *b = stats_new(f->names);
    stats_reason(a, f->get, "id != 123456");
    stats_reason(a, f->get, "id != 123456");
    stats_reason(a, f->post, "id != 123456");
    stats_reason(b, f->get, "id != 123456");
    stats_reason(b, f->get, "other");
    stats_reason(b, 99, "no such entry"); /* ignored */
    stats_merge(a, b);
    assert_int_equal(stats_reasons(a), 3);
    uint32_t e;
    uint64_t n;
    assert_string_equal(stats_reason_at(a, 0, &e, &n), "id != 123456");
    assert_int_equal(e, f->get);
    assert_int_equal(n, 3);
    assert_string_equal(stats_reason_at(a, 2, &e, &n), "other");
    assert_null(stats_reason_at(a, 3, &e, &n));
    for (int i = 0; i < STATS_REASONS_MAX + 5; i++) {
        char t[32];
        snprintf(t, sizeof t, "r%d", i);
        stats_reason(b, f->post, t);
    }
    assert_int_equal(stats_reasons(b), STATS_REASONS_MAX);
    assert_int_equal(stats_reasons_other(b), 7); /* 2 + 35 pairs, 32 kept */
    stats_history_t *h = stats_history_new();
    json_t *r = stats_report_json(a, f->names, h, 1.0, 0, NULL);
    assert_non_null(r);
    {
        json_t *fr = json_object_get(r, "failure_reasons");
        assert_int_equal(json_array_size(fr), 3);
        assert_string_equal(json_string_value(json_object_get(json_array_get(fr, 0), "reason")),
                            "id != 123456");
        assert_int_equal(json_integer_value(json_object_get(json_array_get(fr, 0), "count")), 3);
        json_decref(r);
    }
    stats_history_free(h);
    stats_reset(b);
    assert_int_equal(stats_reasons(b), 0);
    assert_int_equal(stats_reasons_other(b), 0);
    stats_free(a);
    stats_free(b);
}

/* Timed replay's lag: merged across threads, late steps counted, the report's
 * "schedule" and the summary's lines (the "could not keep" one past 1% late). */
static void test_lag(void **state)
{
    fixture_t *f = *state;
    stats_t *a = stats_new(f->names), *b = stats_new(f->names), *t = stats_new(f->names);
    for (int i = 0; i < 99; i++)
        stats_lag(a, 100 + (uint64_t)i);
    stats_lag(b, 20000); /* one in a hundred late: still kept */
    stats_merge(t, a);
    stats_merge(t, b);
    assert_int_equal(hist_count(stats_lag_hist(t)), 100);
    assert_int_equal(stats_late(t), 1);
    json_t *r = stats_report_json(t, f->names, NULL, 1.0, 0, NULL);
    json_t *sc = json_object_get(r, "schedule");
    assert_non_null(sc);
    assert_int_equal(json_integer_value(json_object_get(sc, "steps")), 100);
    assert_int_equal(json_integer_value(json_object_get(sc, "late")), 1);
    assert_true(json_is_true(json_object_get(sc, "kept")));
    assert_true(json_real_value(json_object_get(sc, "lag_max_ms")) >= 19.9);
    json_decref(r);
    char buf[1024] = "";
    FILE *m = fmemopen(buf, sizeof buf - 1, "w");
    stats_print_lag(m, t);
    fclose(m);
    assert_non_null(strstr(buf, "Schedule: 100 step(s) started"));
    assert_null(strstr(buf, "could not keep"));
    stats_lag(t, 50000);
    m = fmemopen(buf, sizeof buf - 1, "w");
    stats_print_lag(m, t);
    fclose(m);
    assert_non_null(strstr(buf, "could not keep the schedule: 2 of 101"));
    /* no timed step: no schedule in the report, no line */
    r = stats_report_json(a, f->names, NULL, 1.0, 0, NULL);
    stats_reset(a);
    json_decref(r);
    r = stats_report_json(a, f->names, NULL, 1.0, 0, NULL);
    assert_null(json_object_get(r, "schedule"));
    json_decref(r);
    stats_free(a);
    stats_free(b);
    stats_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_and_total, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_equals_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_merge_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_load_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_load_mutations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_summary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipeline_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsolicited_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reasons, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_oom, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
