/* Unit tests of convert/steps.c: overlapping requests within the window form
 * one parallel group, the rest are serial; gaps become think times under the
 * --think rule; login and logout split on_start / tasks / on_stop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "steps.h"

#define N 7

static void test_page_load(void **state)
{
    (void)state;
    rec_exchange_t x[N];
    const rec_exchange_t *p[N];
    /* page 0-100; three assets overlapping 110-300; then an API call after a
     * 2 s pause; then a request 10 ms after the previous ended (serial); then
     * one starting 500 ms into a long request (it overlaps: parallel). */
    fx_make(&x[0], "GET", "/", 0, 100, 200, "text/html", "<html>");
    fx_make(&x[1], "GET", "/static/app.js", 110, 250, 200, "application/javascript", NULL);
    fx_make(&x[2], "GET", "/static/style.css", 112, 200, 200, "text/css", NULL);
    fx_make(&x[3], "GET", "/static/logo.png", 130, 300, 200, "image/png", NULL);
    fx_make(&x[4], "GET", "/api/search?q=a", 2300, 5000, 200, "application/json", "{}");
    fx_make(&x[5], "GET", "/api/slow", 5010, 9000, 200, "application/json", "{}");
    fx_make(&x[6], "GET", "/api/other", 5510, 5600, 200, "application/json", "{}");
    for (int i = 0; i < N; i++)
        p[i] = &x[i];
    conv_opts_t o;
    conv_opts_init(&o);
    step_plan_t *plan;
    size_t n;
    assert_int_equal(steps_plan(p, N, &o, &plan, &n), 0);
    assert_int_equal(n, 4);
    assert_int_equal(plan[0].n, 1);
    assert_false(plan[0].parallel);
    assert_int_equal(plan[0].think_us, 10000);
    assert_int_equal(plan[1].first, 1);
    assert_int_equal(plan[1].n, 3);
    assert_true(plan[1].parallel);
    assert_int_equal(plan[1].think_us, 2000000);   /* 300 ms -> 2300 ms */
    assert_int_equal(plan[2].n, 1);
    assert_int_equal(plan[2].think_us, 10000);
    assert_int_equal(plan[3].first, 5);
    assert_int_equal(plan[3].n, 2);
    assert_true(plan[3].parallel);
    free(plan);

    o.think = CONV_THINK_MAX;
    o.think_max_us = 1000000;
    assert_int_equal(steps_plan(p, N, &o, &plan, &n), 0);
    assert_int_equal(plan[1].think_us, 1000000);
    free(plan);
    o.think = CONV_THINK_SCALE;
    o.think_scale = 0.5;
    assert_int_equal(steps_plan(p, N, &o, &plan, &n), 0);
    assert_int_equal(plan[1].think_us, 1000000);
    assert_int_equal(plan[0].think_us, 5000);
    free(plan);
    o.think = CONV_THINK_NONE;
    assert_int_equal(steps_plan(p, N, &o, &plan, &n), 0);
    assert_int_equal(plan[1].think_us, 0);
    free(plan);
    for (int i = 0; i < N; i++)
        rec_exchange_fini(&x[i]);
}

static void test_window(void **state)
{
    (void)state;
    rec_exchange_t x[3];
    const rec_exchange_t *p[3];
    /* A long request; a quick one 10 ms in; a third 30 ms after the quick one
     * started (it had ended): in the group only within the window. */
    fx_make(&x[0], "GET", "/", 0, 1000, 200, "text/html", "<html>");
    fx_make(&x[1], "GET", "/a.js", 10, 20, 200, NULL, NULL);
    fx_make(&x[2], "GET", "/b.js", 40, 50, 200, NULL, NULL);
    for (int i = 0; i < 3; i++)
        p[i] = &x[i];
    conv_opts_t o;
    conv_opts_init(&o);
    step_plan_t *plan;
    size_t n;
    assert_int_equal(steps_plan(p, 3, &o, &plan, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(plan[0].n, 3);
    free(plan);
    o.parallel_window_us = 20000;
    assert_int_equal(steps_plan(p, 3, &o, &plan, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(plan[0].n, 2);
    assert_int_equal(plan[1].first, 2);
    assert_int_equal(plan[0].think_us, 0);   /* the group was still loading */
    free(plan);
    for (int i = 0; i < 3; i++)
        rec_exchange_fini(&x[i]);
}

static void test_sections(void **state)
{
    (void)state;
    rec_exchange_t x[5];
    const rec_exchange_t *p[5];
    fx_make(&x[0], "GET", "/", 0, 10, 200, "text/html", "<html>");
    fx_make(&x[1], "POST", "/api/login", 100, 110, 200, "application/json", "{\"user\": {\"access_token\": \"abc123\"}}");
    fx_make(&x[2], "GET", "/api/profile", 200, 210, 200, "application/json", "{}");
    fx_make(&x[3], "POST", "/api/cart", 300, 310, 200, "application/json", "{}");
    fx_make(&x[4], "POST", "/account/LogOut", 400, 410, 302, NULL, NULL);
    for (int i = 0; i < 5; i++)
        p[i] = &x[i];
    conv_opts_t o;
    conv_opts_init(&o);
    step_plan_t *plan;
    size_t n;
    assert_true(steps_is_login(&x[1]));
    assert_false(steps_is_login(&x[3]));   /* a POST that returns no token */
    assert_true(steps_is_logout(&x[4]));
    assert_false(steps_is_logout(&x[2]));
    assert_int_equal(steps_plan(p, 5, &o, &plan, &n), 0);
    assert_int_equal(n, 5);
    step_sections_t s = steps_sections(p, plan, n);
    assert_int_equal(s.start_end, 2);
    assert_int_equal(s.stop_begin, 4);
    free(plan);

    /* Login as the last request: nothing would be left for the tasks. */
    assert_int_equal(steps_plan(p, 2, &o, &plan, &n), 0);
    s = steps_sections(p, plan, n);
    assert_int_equal(s.start_end, 0);
    assert_int_equal(s.stop_begin, 2);
    free(plan);

    /* A Set-Cookie answer makes a POST a login too. */
    rec_headers_add(&x[3].resp_headers, "Set-Cookie", "sid=1; Path=/");
    assert_true(steps_is_login(&x[3]));
    for (int i = 0; i < 5; i++)
        rec_exchange_fini(&x[i]);
}

/* A page's assets spread over HTTP/1.1 connections (issue 13 item 8): each
 * asked for as a connection frees up, none overlapping the one before, yet
 * one group — they name the page in Referer and each starts within the asset
 * gap after the group's last answer. A fetch of the page (Sec-Fetch-Dest:
 * empty), an asset of another page, a pause longer than the gap, and assets
 * without a Referer are not joined. */
static void asset(rec_exchange_t *x, const char *target, int start, int end, const char *referer, const char *dest)
{
    fx_make(x, "GET", target, start, end, 200, NULL, NULL);
    if (referer)
        rec_headers_add(&x->req_headers, "Referer", referer);
    if (dest)
        rec_headers_add(&x->req_headers, "Sec-Fetch-Dest", dest);
}

#define NB 12

static void test_http1_asset_burst(void **state)
{
    (void)state;
    rec_exchange_t x[NB];
    const rec_exchange_t *p[NB];
    const char *page = "https://shop.test/index.html";
    fx_make(&x[0], "GET", "/index.html", 0, 3, 200, "text/html", "<html>");
    asset(&x[1], "/a/s1.css", 90, 100, page, "style");
    asset(&x[2], "/a/a1.js", 104, 110, page, "script");
    asset(&x[3], "/a/i1.png", 180, 181, page, "image");           /* 70 ms after the last answer */
    asset(&x[4], "/a/i2.png", 190, 191, page, NULL);                /* no Sec-Fetch-Dest: by type (.png) */
    asset(&x[5], "/api/data", 200, 210, page, "empty");             /* the page's fetch: not an asset */
    asset(&x[6], "/a/i3.png", 215, 216, page, "image");             /* after the fetch: a new group */
    asset(&x[7], "/a/i4.png", 220, 221, page, "image");
    asset(&x[8], "/a/other.png", 230, 231, "https://shop.test/other", "image");  /* another page */
    asset(&x[9], "/a/late.png", 1500, 1501, "https://shop.test/other", "image"); /* past the gap */
    asset(&x[10], "/a/n1.png", 3000, 3001, NULL, "image");           /* no Referer */
    asset(&x[11], "/a/n2.png", 3010, 3011, NULL, "image");
    for (int i = 0; i < NB; i++)
        p[i] = &x[i];
    conv_opts_t o;
    conv_opts_init(&o);
    step_plan_t *plan;
    size_t n;
    assert_int_equal(steps_plan(p, NB, &o, &plan, &n), 0);
    size_t want[][2] = {{0, 1}, {1, 4}, {5, 1}, {6, 2}, {8, 1}, {9, 1}, {10, 1}, {11, 1}};
    assert_int_equal(n, sizeof want / sizeof *want);
    for (size_t k = 0; k < n; k++) {
        assert_int_equal(plan[k].first, want[k][0]);
        assert_int_equal(plan[k].n, want[k][1]);
    }
    assert_int_equal(plan[1].think_us, 9000);  /* 191 ms -> 200 ms */
    free(plan);
    /* --asset-gap 0: the burst rule is off; only overlaps join. */
    o.asset_gap_us = 0;
    assert_int_equal(steps_plan(p, NB, &o, &plan, &n), 0);
    assert_int_equal(plan[1].n, 1);
    free(plan);
    for (int i = 0; i < NB; i++)
        rec_exchange_fini(&x[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page_load),
        cmocka_unit_test(test_http1_asset_burst),
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_sections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
