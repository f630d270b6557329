/* Tests of replay/report_csv.c and replay/report_html.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "report.h"
#include "verdict.h"

typedef struct fixture {
    char dir[64];
    stats_names_t *names;
    stats_t *s;
    stats_history_t *h;
    json_t *report;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/aiotest-report-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    f->names = stats_names_new();
    uint32_t a = stats_names_intern(f->names, "GET", "/search?q=a,b");
    uint32_t b = stats_names_intern(f->names, "POST", "/order \"<new>\"");
    f->s = stats_new(f->names);
    f->h = stats_history_new();
    stats_t *iv = stats_new(f->names);
    for (int sec = 1; sec <= 5; sec++) {
        stats_reset(iv);
        for (int i = 0; i < 100 * sec; i++) {
            stats_record(iv, a, STATS_PROTO_H1, 200, STATS_OK, (uint64_t)(2000 + i * 97 % 50000), 90, 900);
            if (i % 7 == 0)
                stats_record(iv, b, STATS_PROTO_H1, i % 14 ? 500 : 0,
                             i % 14 ? STATS_FAIL_HTTP : STATS_FAIL_RESET, 120000, 300, 40);
        }
        stats_history_add(f->h, sec, 10u * (uint32_t)sec, 50, 1.0, iv);
        stats_merge(f->s, iv);
    }
    stats_free(iv);
    f->report = stats_report_json(f->s, f->names, f->h, 5.0, 1700000000000000, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    if (system(cmd) != 0)
        return -1;
    json_decref(f->report);
    stats_history_free(f->h);
    stats_free(f->s);
    stats_names_free(f->names);
    free(f);
    return 0;
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        fail_msg("cannot open %s", path);
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n = getdelim(&buf, &cap, '\0', fp);
    fclose(fp);
    assert_true(n > 0);
    return buf;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_csv(void **state)
{
    fixture_t *f = *state;
    char prefix[128], path[160], err[256];
    snprintf(prefix, sizeof(prefix), "%s/run", f->dir);
    assert_int_equal(report_write_csv(prefix, f->s, f->names, f->h, 5.0, err, sizeof(err)), 0);

    snprintf(path, sizeof(path), "%s_stats.csv", prefix);
    char *stats = slurp(path);
    assert_int_equal(strncmp(stats, "Type,Name,Request Count,Failure Count,Median Response Time,", 59), 0);
    assert_non_null(strstr(stats, ",50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\n"));
    assert_non_null(strstr(stats, "\nGET,\"/search?q=a,b\",1500,0,"));
    assert_non_null(strstr(stats, "\nPOST,\"/order \"\"<new>\"\"\",217,217,120.0"));
    assert_non_null(strstr(stats, "\n,Aggregated,1717,217,"));
    assert_int_equal(count_lines(stats), 4);
    free(stats);

    snprintf(path, sizeof(path), "%s_failures.csv", prefix);
    char *fails = slurp(path);
    assert_string_equal(fails, "Method,Name,Error,Occurrences\n"
                               "POST,\"/order \"\"<new>\"\"\",reset,110\n"
                               "POST,\"/order \"\"<new>\"\"\",http,107\n");
    free(fails);

    snprintf(path, sizeof(path), "%s_stats_history.csv", prefix);
    char *hist = slurp(path);
    assert_int_equal(count_lines(hist), 6);
    assert_non_null(strstr(hist, "\n3.000,30,50,,Aggregated,343.000,"));
    free(hist);

    assert_int_equal(report_write_csv("/nonexistent-dir/x", f->s, f->names, f->h, 5.0, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent-dir/x_stats.csv"));
}

/* The data-points of <svg id="id">, unescaped and parsed. */
static json_t *svg_data(const char *html, const char *id)
{
    char needle[64];
    snprintf(needle, sizeof(needle), "<svg id=\"%s\"", id);
    const char *p = strstr(html, needle);
    if (p == NULL)
        fail_msg("no %s", needle);
    p = strstr(p, "data-points=\"");
    assert_non_null(p);
    p += strlen("data-points=\"");
    const char *end = strchr(p, '"');
    char *text = calloc(1, (size_t)(end - p) + 1);
    size_t n = 0;
    static const struct {
        const char *ent;
        char c;
    } ents[] = {{"&quot;", '"'}, {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&#39;", '\''}};
    while (p < end) {
        size_t k;
        for (k = 0; k < 5; k++)
            if (strncmp(p, ents[k].ent, strlen(ents[k].ent)) == 0)
                break;
        if (k < 5) {
            text[n++] = ents[k].c;
            p += strlen(ents[k].ent);
        } else {
            text[n++] = *p++;
        }
    }
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (j == NULL)
        fail_msg("%s data-points: %s", id, je.text);
    free(text);
    return j;
}

static void test_html(void **state)
{
    fixture_t *f = *state;
    char path[128], err[256];
    snprintf(path, sizeof(path), "%s/report.html", f->dir);
    assert_int_equal(report_write_html(path, f->report, err, sizeof(err)), 0);
    char *html = slurp(path);
    /* Self-contained: nothing to fetch, no scripts. */
    assert_null(strstr(html, "http://"));
    assert_null(strstr(html, "https://"));
    assert_null(strstr(html, "<script"));
    assert_non_null(strstr(html, "<table id=\"summary\">"));
    assert_non_null(strstr(html, "/order &quot;&lt;new&gt;&quot;"));
    assert_null(strstr(html, "<new>"));

    json_t *rps = svg_data(html, "chart-rps");
    json_t *hist = json_object_get(f->report, "history");
    assert_int_equal(json_array_size(json_object_get(rps, "rps")), json_array_size(hist));
    for (size_t i = 0; i < json_array_size(hist); i++) {
        json_t *pt = json_array_get(json_object_get(rps, "rps"), i);
        json_t *row = json_array_get(hist, i);
        assert_true(json_number_value(json_array_get(pt, 0)) == json_number_value(json_object_get(row, "t")));
        assert_true(json_number_value(json_array_get(pt, 1)) == json_number_value(json_object_get(row, "rps")));
    }
    json_decref(rps);

    json_t *users = svg_data(html, "chart-users");
    assert_true(json_number_value(json_array_get(json_array_get(json_object_get(users, "users"), 4), 1)) == 50.0);
    json_decref(users);

    json_t *lat = svg_data(html, "chart-latency");
    json_t *p99 = json_array_get(json_object_get(lat, "p99_us"), 2);
    double want = (double)json_integer_value(json_object_get(json_array_get(hist, 2), "p99_us")) / 1000.0;
    assert_true(json_number_value(json_array_get(p99, 1)) == want);
    json_decref(lat);

    json_t *bins = svg_data(html, "chart-histogram");
    json_int_t sum = 0;
    double prev_to = 0;
    for (size_t i = 0; i < json_array_size(bins); i++) {
        json_t *b = json_array_get(bins, i);
        sum += json_integer_value(json_array_get(b, 2));
        assert_true(json_number_value(json_array_get(b, 0)) < json_number_value(json_array_get(b, 1)));
        if (i > 0)
            assert_true(json_number_value(json_array_get(b, 0)) == prev_to);
        prev_to = json_number_value(json_array_get(b, 1));
    }
    json_t *total = json_object_get(f->report, "total");
    assert_int_equal(sum, json_integer_value(json_object_get(total, "count")));
    assert_true(prev_to >= json_number_value(json_object_get(total, "max_ms")));
    json_decref(bins);

    json_t *fails = svg_data(html, "chart-failures");
    assert_int_equal(json_array_size(fails), 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *pair = json_array_get(fails, i);
        json_t *want_n = json_object_get(json_object_get(total, "fail"), json_string_value(json_array_get(pair, 0)));
        assert_int_equal(json_integer_value(json_array_get(pair, 1)), json_integer_value(want_n));
    }
    json_decref(fails);
    free(html);

    assert_int_equal(report_write_html("/nonexistent-dir/r.html", f->report, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent-dir/r.html"));
}

static void test_html_empty_run(void **state)
{
    fixture_t *f = *state;
    char path[128], err[256];
    stats_t *s = stats_new(f->names);
    json_t *r = stats_report_json(s, f->names, NULL, 0.2, 1700000000000000, NULL);
    snprintf(path, sizeof(path), "%s/empty.html", f->dir);
    assert_int_equal(report_write_html(path, r, err, sizeof(err)), 0);
    char *html = slurp(path);
    assert_non_null(strstr(html, "no failures"));
    assert_non_null(strstr(html, "no requests"));
    assert_non_null(strstr(html, "no per-second history"));
    assert_null(strstr(html, "nan"));
    assert_null(strstr(html, "inf"));
    free(html);
    json_decref(r);
    stats_free(s);
}

/* The text between the start of the element with id and its end tag. */
static char *element(const char *html, const char *tag, const char *id)
{
    /* Heap strings: gcc 12 at -O3 took stack ones for dangling pointers. */
    char *open = NULL, *close = NULL, *out = NULL;
    assert_true(asprintf(&open, "<%s id=\"%s\"", tag, id) > 0);
    assert_true(asprintf(&close, "</%s>", tag) > 0);
    const char *a = strstr(html, open);
    const char *b = a ? strstr(a, close) : NULL;
    if (a)
        out = b ? strndup(a, (size_t)(b - a)) : strdup("(no end tag)");
    free(open);
    free(close);
    return out;
}

/* --fail-on lines, the baseline table and the status codes per entry. */
static void test_html_verdicts(void **state)
{
    fixture_t *f = *state;
    char path[128], err[256];
    FILE *devnull = fopen("/dev/null", "w");
    verdict_t *v = verdict_parse("p99<1s,errors<1%", err, sizeof(err));
    assert_non_null(v);
    json_t *lines = json_array();
    assert_false(verdict_check(v, f->report, devnull, lines));
    json_object_set_new(f->report, "thresholds", lines);
    verdict_free(v);
    /* The run compared with itself, made slower: the POST entry's p50 regressed. */
    json_t *base = json_deep_copy(f->report);
    json_t *order = json_array_get(json_object_get(base, "entries"), 1);
    json_object_set_new(order, "p50_ms", json_real(10.0));
    verdict_cmp_t *c = verdict_cmp_new(NULL, 0, NULL, err, sizeof(err));
    assert_non_null(c);
    bool passed = true;
    json_t *b = verdict_baseline(c, f->report, base, "base<1>.json", devnull, &passed);
    assert_false(passed);
    json_object_set_new(f->report, "baseline", b);
    verdict_cmp_free(c);
    json_decref(base);
    fclose(devnull);

    snprintf(path, sizeof(path), "%s/verdicts.html", f->dir);
    assert_int_equal(report_write_html(path, f->report, err, sizeof(err)), 0);
    char *html = slurp(path);
    char *t = element(html, "table", "thresholds");
    assert_non_null(t);
    assert_non_null(strstr(t, ">PASS</td><td class=\"l\">p99&lt;1s</td>"));
    assert_non_null(strstr(t, ">FAIL</td><td class=\"l\">errors&lt;1%</td><td>"));
    free(t);
    char *verdict = element(html, "p", "baseline-verdict");
    assert_non_null(verdict);
    assert_non_null(strstr(verdict, "FAIL</b> against base&lt;1&gt;.json"));
    free(verdict);
    t = element(html, "table", "baseline");
    assert_non_null(t);
    assert_non_null(strstr(t, "/order &quot;&lt;new&gt;&quot;</td><td class=\"l\">p50</td><td>10.0 ms</td><td>120.0 ms</td><td>13.0 ms</td><td class=\"l bad\">regression</td>"));
    /* 1717 requests in the total: p99 needs 2000, so it is skipped and says why. */
    assert_non_null(strstr(t, "skipped: 1717 requests, 2000 needed"));
    free(t);
    t = element(html, "table", "statuses");
    assert_non_null(t);
    assert_non_null(strstr(t, "<th>200</th><th>500</th><th>no response: reset</th>"));
    /* GET: every request answered 200; POST: some 500, the others reset. */
    unsigned long long ok = stats_status_count(f->s, 0, 200), e500 = stats_status_count(f->s, 1, 500),
                       reset = stats_noresp_count(f->s, 1, STATS_PROTO_H1, STATS_FAIL_RESET);
    assert_int_equal(ok, 1500);
    assert_int_equal(e500 + reset, 217);
    assert_true(e500 > 0 && reset > 0);
    char want[160];
    snprintf(want, sizeof(want), "<td>%llu</td><td>0</td><td>0</td></tr>", ok);
    assert_non_null(strstr(t, want));
    snprintf(want, sizeof(want), "<td>0</td><td class=\"bad\">%llu</td><td class=\"bad\">%llu</td></tr>",
             e500, reset);
    assert_non_null(strstr(t, want));
    snprintf(want, sizeof(want), "<td>%llu</td><td class=\"bad\">%llu</td><td class=\"bad\">%llu</td></tr>",
             ok, e500, reset);
    assert_non_null(strstr(t, want));
    free(t);
    free(html);
}

/* What the run could not do or did specially (the text summary's lines after
 * the tables): a "Notes" list with each non-zero count, and the schedule of a
 * timed replay; none of it when every count is 0. */
static void test_html_notes(void **state)
{
    fixture_t *f = *state;
    char path[128], err[256];
    snprintf(path, sizeof(path), "%s/plain.html", f->dir);
    assert_int_equal(report_write_html(path, f->report, err, sizeof(err)), 0);
    char *html = slurp(path);
    assert_null(strstr(html, "id=\"notes\""));
    assert_null(strstr(html, "id=\"schedule\""));
    assert_null(strstr(html, "id=\"failure-reasons\""));
    free(html);

    stats_t *s = stats_new(f->names);
    stats_merge(s, f->s);
    stats_body(s, true, false, 1500);
    stats_body(s, true, false, 500);
    stats_body(s, false, true, 0);
    stats_unsolicited(s, 44);
    stats_unsolicited(s, 6);
    stats_unsolicited(s, 10);
    stats_pipeline_depth(s, 4);
    for (int i = 0; i < 9; i++)
        stats_pipeline(s, true, i < 2);
    for (int i = 0; i < 200; i++)
        stats_lag(s, i < 190 ? 1000 : 50000); /* 10 of 200 late: 5 % */
    json_t *r = stats_report_json(s, f->names, f->h, 5.0, 1700000000000000, NULL);
    json_object_set_new(r, "requests_left_out", json_integer(7));
    json_object_set_new(r, "open_model", json_pack("{s:i, s:i}", "scheduled", 100, "not_started", 3));
    json_object_set_new(r, "script_metrics", json_pack("[{s:s, s:i}, {s:s, s:i}]", "name", "a", "refused", 2,
                                                       "name", "b", "refused", 3));
    json_object_set_new(r, "interrupted", json_true());
    json_object_set_new(r, "failure_reasons",
                        json_pack("[{s:s, s:s, s:s, s:s, s:i}]", "method", "GET", "name", "/search?q=a,b",
                                  "category", "script", "reason", "x.lua:3: <bad>", "count", 4));
    json_object_set_new(r, "failure_reasons_other", json_integer(2));
    json_object_set_new(r, "origins_refused_at_run_time",
                        json_pack("[ss]", "http://a.example:8080", "https://<b>.example"));
    snprintf(path, sizeof(path), "%s/notes.html", f->dir);
    assert_int_equal(report_write_html(path, r, err, sizeof(err)), 0);
    html = slurp(path);
    char *n = element(html, "ul", "notes");
    assert_non_null(n);
    assert_non_null(strstr(n, "<li id=\"note-bodies\">Response bodies: 2 cut at --max-body (checks and "
                              "extractors saw the first bytes; 2000 bytes more read and dropped), 1 left "
                              "coded (Content-Encoding not decodable)</li>"));
    assert_non_null(strstr(n, "<li id=\"note-unsolicited\" class=\"bad\">Unsolicited response bytes: 3 time(s) a server "
                              "sent bytes that no request waited for (60 bytes, dropped; the connection "
                              "was closed each time)</li>"));
    assert_non_null(strstr(n, "<li id=\"note-pipeline\">Pipelining (--pipeline 4): 9 request(s) sent "
                              "behind another on their HTTP/1.1 connection, 2 resent after a pipeline "
                              "broke</li>"));
    assert_non_null(strstr(n, "<li id=\"note-left-out\">7 request(s) of the scenario left out by "
                              "--only-host</li>"));
    assert_non_null(strstr(n, "<li id=\"note-origins-refused\" class=\"bad\">2 origin(s) met at run time that the "
                              "command line does not name (their requests failed as 'origin' and were "
                              "not sent): http://a.example:8080, https://&lt;b&gt;.example</li>"));
    assert_non_null(strstr(n, "<li id=\"note-schedule\" class=\"bad\">The replay could not keep the "
                              "schedule: 10 of 200 step(s) started more than 10 ms late"));
    assert_non_null(strstr(n, "<li id=\"note-not-started\" class=\"bad\">open model: 3 scheduled "
                              "iteration(s) never started"));
    assert_non_null(strstr(n, "<li id=\"note-script-refused\" class=\"bad\">script metrics: 5 update(s) "
                              "refused"));
    assert_non_null(strstr(n, "<li id=\"note-interrupted\" class=\"bad\">The run was interrupted"));
    free(n);
    char *fr = element(html, "table", "failure-reasons");
    assert_non_null(fr);
    assert_non_null(strstr(fr, "<td>4</td><td class=\"l\">GET</td><td class=\"l name\">/search?q=a,b</td>"
                               "<td class=\"l name\">x.lua:3: &lt;bad&gt;</td>"));
    assert_non_null(strstr(fr, "<td>2</td><td class=\"l\" colspan=\"3\">(other reasons"));
    free(fr);
    char *sch = element(html, "p", "schedule");
    assert_non_null(sch);
    assert_non_null(strstr(sch, "200 step(s) started; lag behind schedule p50 1.00 ms, p99 "));
    free(sch);
    free(html);
    json_decref(r);
    stats_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_csv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_html, setup, teardown),
        cmocka_unit_test_setup_teardown(test_html_empty_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_html_verdicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_html_notes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
