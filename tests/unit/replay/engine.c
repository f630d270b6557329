/* Unit tests of replay/engine.c and replay/worker.c: whole runs on two worker
 * threads against the loopback server running in a thread of its own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <jansson.h>

#include "clock.h"
#include "engine.h"
#include "loopsrv.h"
#include "view.h"

static const char scenario_fmt[] =
    "{\"format\": \"aiotest-scenario\", \"version\": [1, 0],"
    " \"hosts\": [{\"base_url\": \"http://127.0.0.1:%u\"}],"
    " \"classes\": ["
    "  {\"name\": \"heavy\", \"weight\": 3, \"wait\": %s,"
    "   \"on_start\": [{\"requests\": [{\"method\": \"POST\", \"url\": \"/login\"}]}],"
    "   \"tasks\": [{\"requests\": [{\"method\": \"GET\", \"url\": \"/a\"}]},"
    "             {\"requests\": [{\"method\": \"GET\", \"url\": \"/b\"}]}],"
    "   \"on_stop\": [{\"requests\": [{\"method\": \"POST\", \"url\": \"/logout\"}]}]},"
    "  {\"name\": \"light\", \"weight\": 1, \"wait\": %s,"
    "   \"on_start\": [{\"requests\": [{\"method\": \"POST\", \"url\": \"/login\"}]}],"
    "   \"tasks\": [{\"requests\": [{\"method\": \"GET\", \"url\": \"/c\"}]},"
    "             {\"requests\": [{\"method\": \"GET\", \"url\": \"/d\"}]}],"
    "   \"on_stop\": [{\"requests\": [{\"method\": \"POST\", \"url\": \"/logout\"}]}]}]}";

static const canned_t ok[] = {{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false}};

typedef struct run {
    server_t srv;
    scn_scenario_t *scn;
    plan_t *plan;
    shape_t shape;
    engine_t *eng;
    json_t *meta;
} run_t;

static int count_of(const char *lines, const char *what)
{
    int n = 0;
    for (const char *p = lines; (p = strstr(p, what)); p += strlen(what))
        n++;
    return n;
}

/* Runs the scenario with the given wait (JSON) under shape (r takes it);
 * engine options from o (plan and shape filled in here). */
static void run_it(run_t *r, shape_t shape, const char *wait, engine_opts_t o)
{
    memset(r, 0, sizeof *r);
    r->shape = shape;
    srv_thread(&r->srv, ok, 1);
    char text[sizeof scenario_fmt + 256];
    snprintf(text, sizeof text, scenario_fmt, r->srv.port, wait, wait);
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    assert_non_null(j);
    mp_error_t err;
    assert_int_equal(view_scenario_from_json(j, &r->scn, &err), 0);
    json_decref(j);
    char e[256];
    r->plan = plan_compile(r->scn, NULL, ".", e, sizeof e);
    assert_non_null(r->plan);
    o.plan = r->plan;
    o.shape = &r->shape;
    o.threads = 2;
    /* Generous limits: a loaded CI runner (this test once took 35 s there)
     * must not turn a slow answer into a timeout or an abandoned iteration;
     * what the tests assert would show as a run that lasts 30 s or more. */
    o.connect_timeout_us = o.timeout_us = 30000000;
    o.stop_timeout_us = 30000000;
    o.think_scale = 1;
    o.max_users = 1000;
    o.seed = 1;
    r->eng = engine_new(&o, e, sizeof e);
    assert_non_null(r->eng);
    assert_int_equal(engine_run(r->eng), 0);
    r->meta = engine_meta(r->eng);
}

static void run_free(run_t *r)
{
    json_decref(r->meta);
    engine_free(r->eng);
    shape_fini(&r->shape);
    plan_free(r->plan);
    scn_free(r->scn);
    srv_stop(&r->srv);
}

static json_int_t class_started(const run_t *r, size_t c)
{
    return json_integer_value(
        json_object_get(json_array_get(json_object_get(r->meta, "classes"), c), "users_started"));
}

static void test_iterations_closed_model(void **state)
{
    (void)state;
    run_t r;
    shape_t sh;
    shape_single(&sh, 8, 0, 0); /* no duration: the run ends when every user has */
    run_it(&r, sh, "{\"kind\": \"none\"}", (engine_opts_t){.iterations = 3});
    stats_t *t = engine_total(r.eng);
    /* 8 users x (login + 3 x 2 tasks + logout) */
    assert_int_equal(stats_total(t)->count, 64);
    assert_int_equal(stats_total(t)->failures, 0);
    assert_int_equal(stats_iterations_completed(t), 24);
    assert_int_equal(r.srv.requests, 64);
    assert_int_equal(class_started(&r, 0), 6);
    assert_int_equal(class_started(&r, 1), 2);
    assert_int_equal(count_of(r.srv.lines, "POST /logout"), 8);
    assert_int_equal(count_of(r.srv.lines, "GET /c"), 6);
    assert_true(engine_duration_s(r.eng) < 20);
    run_free(&r);
}

static void test_graceful_stop_of_thinking_users(void **state)
{
    (void)state;
    run_t r;
    shape_t sh;
    shape_single(&sh, 4, 0, 1000000); /* 4 users for 1 s */
    run_it(&r, sh, "{\"kind\": \"constant\", \"min_us\": 60000000}", (engine_opts_t){0});
    /* Each ran login and one task, then thought for a minute: the end of the
     * shape sends them to on_stop at once (not after the 60 s think, nor
     * after the 30 s stop timeout). */
    assert_true(engine_duration_s(r.eng) < 20);
    assert_int_equal(count_of(r.srv.lines, "POST /login"), 4);
    assert_int_equal(count_of(r.srv.lines, "POST /logout"), 4);
    assert_int_equal(stats_total(engine_total(r.eng))->count, 12);
    run_free(&r);
}

static void test_open_model_rate(void **state)
{
    (void)state;
    run_t r;
    shape_t sh;
    char err[256];
    assert_int_equal(shape_parse("rate 2s 50\n", "test", &sh, err, sizeof err), 0);
    run_it(&r, sh, "{\"kind\": \"none\"}", (engine_opts_t){0});
    stats_t *t = engine_total(r.eng);
    uint64_t started = stats_iterations_started(t);
    assert_true(started >= 90 && started <= 110); /* 50/s for 2 s */
    /* The stop is graceful: an iteration begun before the end finishes. */
    assert_int_equal(stats_iterations_completed(t), started);
    assert_int_equal(stats_total(t)->failures, 0);
    run_free(&r);
}

/* A rate far below one a run (the shape file refuses it; a segment's share of
 * a small rate over many threads comes near): the interval between iterations
 * overflowed its double -> integer conversion, became 1 us, and 'rate 2s
 * 1e-15' started 20 552 iterations. Now worker 0 starts the first iteration
 * of its schedule at once and nothing else is due for ages. */
static void test_open_model_tiny_rate(void **state)
{
    (void)state;
    run_t r;
    shape_t sh = {.stages = calloc(1, sizeof(shape_stage_t)), .n = 1};
    assert_non_null(sh.stages);
    sh.stages[0] = (shape_stage_t){.kind = SHAPE_RATE, .duration_us = 1000000, .rate = 1e-15,
                                   .rate_to = 1e-15};
    run_it(&r, sh, "{\"kind\": \"none\"}", (engine_opts_t){0});
    uint64_t started = stats_iterations_started(engine_total(r.eng));
    if (started > 1)
        fail_msg("a rate of 1e-15/s started %llu iterations in 1 s", (unsigned long long)started);
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iterations_closed_model),
        cmocka_unit_test(test_graceful_stop_of_thinking_users),
        cmocka_unit_test(test_open_model_rate),
        cmocka_unit_test(test_open_model_tiny_rate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
