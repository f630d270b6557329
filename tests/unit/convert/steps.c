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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page_load),
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_sections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
