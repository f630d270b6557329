/* Unit tests of replay/user.c (the user state machine) and replay/plan.c
 * (scenario compilation), against the in-process loopback server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>

#include "clock.h"
#include "loopsrv.h"
#include "plan.h"
#include "user.h"
#include "view.h"

static const char scenario_json[] =
    "{\"format\": \"aiotest-scenario\", \"version\": [1, 0],"
    " \"hosts\": [{\"base_url\": \"http://127.0.0.1:1\"}],"
    " \"classes\": [{\"name\": \"shopper\", \"weight\": 1, \"wait\": {\"kind\": \"WAIT\", \"min_us\": 10000000},"
    "  \"on_start\": [{\"requests\": [{\"method\": \"POST\", \"url\": \"/login\", \"body\": \"u={{user_id}}\","
    "     \"extract\": [{\"var\": \"token\", \"kind\": \"json\", \"expr\": \"$.token\"}]}]}],"
    "  \"tasks\": [{\"requests\": [{\"method\": \"GET\", \"url\": \"/a\","
    "                 \"headers\": [[\"Authorization\", \"Bearer {{token}}\"]]}]},"
    "             {\"requests\": [{\"method\": \"GET\", \"url\": \"http://127.0.0.1:1/b?u={{user_id}}\"}]}],"
    "  \"on_stop\": [{\"requests\": [{\"method\": \"POST\", \"url\": \"/logout\"}]}]}]}";

static const canned_t answers[] = {
    {"HTTP/1.1 200 OK\r\nSet-Cookie: s=1; Path=/\r\nContent-Length: 15\r\n\r\n{\"token\":\"abc\"}", false},
    {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false},
};

typedef struct fx {
    struct event_base *base;
    server_t srv;
    scn_scenario_t *scn;
    plan_t *plan;
    stats_t *stats;
    user_env_t env;
    int ended, idle;
} fx_t;

static void on_end(user_t *u, void *arg)
{
    (void)u;
    ((fx_t *)arg)->ended++;
}

static void on_idle(user_t *u, void *arg)
{
    (void)u;
    ((fx_t *)arg)->idle++;
}

static scn_scenario_t *load(const char *wait_kind)
{
    char text[sizeof scenario_json + 32];
    const char *at = strstr(scenario_json, "WAIT");
    snprintf(text, sizeof text, "%.*s%s%s", (int)(at - scenario_json), scenario_json, wait_kind,
             at + 4);
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    assert_non_null(j);
    scn_scenario_t *s = NULL;
    mp_error_t err;
    int rc = view_scenario_from_json(j, &s, &err);
    if (rc != 0)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, 0);
    json_decref(j);
    return s;
}

static fx_t *fx_new(const char *wait_kind, uint64_t iterations)
{
    fx_t *f = calloc(1, sizeof *f);
    f->base = event_base_new();
    srv_start(&f->srv, f->base, answers, 2);
    f->scn = load(wait_kind);
    char host[64], err[256];
    snprintf(host, sizeof host, "http://127.0.0.1:%u", f->srv.port);
    f->plan = plan_compile(f->scn, host, ".", err, sizeof err);
    if (!f->plan)
        fprintf(stderr, "%s\n", err);
    assert_non_null(f->plan);
    f->stats = stats_new(f->plan->names);
    assert_int_equal(user_env_init(&f->env, f->plan, f->base, f->stats, 1), 0);
    f->env.conn.connect_timeout_us = 2000000;
    f->env.iterations = iterations;
    f->env.on_end = on_end;
    f->env.on_idle = on_idle;
    f->env.arg = f;
    return f;
}

static void fx_free(fx_t *f)
{
    user_env_fini(&f->env);
    stats_free(f->stats);
    plan_free(f->plan);
    scn_free(f->scn);
    srv_stop(&f->srv);
    event_base_free(f->base);
    free(f);
}

/* Runs the loop until *flag reaches want (3 s at most). */
static void run_until(fx_t *f, const int *flag, int want)
{
    struct timeval step = {0, 5000};
    for (int i = 0; i < 600 && *flag < want; i++)
        event_base_loopexit(f->base, &step), event_base_dispatch(f->base);
    assert_int_equal(*flag, want);
}

static void test_lifecycle_with_iterations(void **state)
{
    (void)state;
    fx_t *f = fx_new("none", 2);
    user_t *u = user_new(&f->env, 7, 0, false);
    assert_non_null(u);
    user_start(u);
    run_until(f, &f->ended, 1);
    assert_true(user_done(u));
    assert_string_equal(f->srv.lines, "POST /login|GET /a|GET /b?u=7|GET /a|GET /b?u=7|POST /logout");
    /* The extracted token and the cookie from the login travel with later requests. */
    assert_non_null(strstr(f->srv.log, "Authorization: Bearer abc\r\n"));
    assert_non_null(strstr(f->srv.log, "Cookie: s=1\r\n"));
    assert_non_null(strstr(f->srv.log, "\r\n\r\nu=7"));
    assert_int_equal(f->srv.accepts, 1); /* one keep-alive connection for everything */
    assert_int_equal(stats_iterations_completed(f->stats), 2);
    assert_int_equal(stats_total(f->stats)->count, 6);
    assert_int_equal(stats_total(f->stats)->failures, 0);
    user_free(u);
    fx_free(f);
}

static void test_stop_while_thinking_runs_on_stop_at_once(void **state)
{
    (void)state;
    fx_t *f = fx_new("constant", 0); /* 10 s after every task step */
    user_t *u = user_new(&f->env, 0, 0, false);
    user_start(u);
    run_until(f, &f->srv.requests, 2); /* login, GET /a, then the long wait */
    uint64_t t0 = clk_mono_us();
    user_stop(u);
    run_until(f, &f->ended, 1);
    assert_true(clk_mono_us() - t0 < 8000000); /* not the 10 s think; wide for a loaded runner */
    assert_string_equal(f->srv.lines, "POST /login|GET /a|POST /logout");
    assert_int_equal(stats_iterations_completed(f->stats), 0);
    user_free(u);
    fx_free(f);
}

static void test_open_model_latency_from_schedule(void **state)
{
    (void)state;
    fx_t *f = fx_new("none", 0);
    user_t *u = user_new(&f->env, 3, 0, true);
    user_iteration(u, clk_mono_us() - 1000000); /* due a second ago */
    run_until(f, &f->idle, 1);
    /* One pass of the tasks, then the pooled user is free again. */
    assert_int_equal(stats_iterations_completed(f->stats), 1);
    /* The iteration waited for this new user's on_start: the wait is the
     * iteration's, in its first task request, not in the login's latency. */
    const stats_entry_t *login = stats_entry(f->stats, 0);
    assert_int_equal(login->count, 1);
    assert_true(hist_max(login->latency) < 1000000);
    const stats_entry_t *a = stats_entry(f->stats, 1);
    assert_int_equal(a->count, 1);
    assert_true(hist_min(a->latency) >= 1000000); /* includes the second it was late */
    const stats_entry_t *b = stats_entry(f->stats, 2);
    assert_true(hist_max(b->latency) < 1000000); /* later requests count from their start */
    user_iteration(u, clk_mono_us());
    run_until(f, &f->idle, 2);
    user_stop(u);
    run_until(f, &f->ended, 1);
    assert_int_equal(f->srv.requests, 1 + 2 + 2 + 1);
    user_free(u);
    fx_free(f);
}

static void test_open_model_warm_up_ahead(void **state)
{
    (void)state;
    fx_t *f = fx_new("none", 0);
    user_t *u = user_new(&f->env, 4, 0, true);
    user_warm(u); /* on_start with no iteration, then idle */
    run_until(f, &f->idle, 1);
    assert_int_equal(stats_iterations_started(f->stats), 0);
    assert_int_equal(user_iterations(u), 0);
    assert_string_equal(f->srv.lines, "POST /login");
    /* Warmed: an iteration due now starts at once, no login in it. */
    user_iteration(u, clk_mono_us());
    run_until(f, &f->idle, 2);
    assert_int_equal(user_iterations(u), 1);
    assert_true(hist_max(stats_entry(f->stats, 1)->latency) < 1000000);
    user_warm(u); /* not new: nothing */
    user_stop(u);
    run_until(f, &f->ended, 1);
    assert_int_equal(f->srv.requests, 1 + 2 + 1);
    user_free(u);
    fx_free(f);
}

static void test_plan_prebuilds_literal_requests(void **state)
{
    (void)state;
    fx_t *f = fx_new("none", 1);
    char want[128];
    snprintf(want, sizeof want, "POST /logout HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nContent-Length: 0\r\n\r\n",
             f->srv.port);
    const plan_req_t *logout = &f->plan->classes[0].on_stop.v[0].reqs[0];
    assert_non_null(logout->h1_bytes);
    assert_string_equal(logout->h1_bytes, want);
    /* Templated requests are rendered per request instead. */
    assert_null(f->plan->classes[0].tasks.v[0].reqs[0].h1_bytes);
    /* --host replaced hosts[0], also for the absolute URL that named it. */
    assert_int_equal(f->plan->classes[0].tasks.v[1].reqs[0].origin, 0);
    assert_int_equal(f->plan->n_origins, 1);
    fx_free(f);
}

static void test_plan_errors_name_the_place(void **state)
{
    (void)state;
    scn_scenario_t *s = load("none");
    free(s->hosts[0].base_url);
    s->n_hosts = 0;
    char err[256];
    plan_t *p = plan_compile(s, NULL, ".", err, sizeof err);
    assert_null(p);
    assert_non_null(strstr(err, "class 'shopper' on_start step 0 request 0"));
    assert_non_null(strstr(err, "--host"));
    s->n_hosts = 1;
    s->hosts[0].base_url = NULL;
    scn_free(s);
}

/* CSV data: user N takes row N, wrapping; the header row names the variables. */
static void test_csv_rows_follow_user_numbers(void **state)
{
    (void)state;
    char dir[] = "/tmp/aiotest-user-csv.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/users.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("login,pw\nann,1\nbob,2\ncid,3\n", f);
    fclose(f);
    json_error_t je;
    json_t *j = json_loads(
        "{\"format\": \"aiotest-scenario\", \"version\": [1, 0],"
        " \"hosts\": [{\"base_url\": \"http://127.0.0.1:1\"}],"
        " \"data\": [{\"path\": \"users.csv\"}],"
        " \"classes\": [{\"name\": \"c\", \"weight\": 1, \"wait\": {\"kind\": \"none\"},"
        "   \"tasks\": [{\"requests\": [{\"method\": \"GET\", \"url\": \"/u/{{login}}/{{pw}}\"}]}]}]}",
        0, &je);
    assert_non_null(j);
    fx_t *fx = fx_new("none", 1);
    plan_free(fx->plan);
    scn_free(fx->scn);
    mp_error_t err;
    assert_int_equal(view_scenario_from_json(j, &fx->scn, &err), 0);
    json_decref(j);
    char host[64], e[256];
    snprintf(host, sizeof host, "http://127.0.0.1:%u", fx->srv.port);
    fx->plan = plan_compile(fx->scn, host, dir, e, sizeof e);
    if (!fx->plan)
        fprintf(stderr, "%s\n", e);
    assert_non_null(fx->plan);
    fx->env.plan = fx->plan;
    user_t *u[4];
    for (int i = 0; i < 4; i++) {
        u[i] = user_new(&fx->env, (uint64_t)i, 0, false);
        user_start(u[i]);
        run_until(fx, &fx->ended, i + 1);
    }
    assert_string_equal(fx->srv.lines, "GET /u/ann/1|GET /u/bob/2|GET /u/cid/3|GET /u/ann/1");
    for (int i = 0; i < 4; i++)
        user_free(u[i]);
    /* The stats table of the first plan is the one fx->stats was made for:
     * rebuild it for this plan before freeing. */
    stats_free(fx->stats);
    fx->stats = stats_new(fx->plan->names);
    fx_free(fx);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lifecycle_with_iterations),
        cmocka_unit_test(test_stop_while_thinking_runs_on_stop_at_once),
        cmocka_unit_test(test_open_model_latency_from_schedule),
        cmocka_unit_test(test_open_model_warm_up_ahead),
        cmocka_unit_test(test_plan_prebuilds_literal_requests),
        cmocka_unit_test(test_plan_errors_name_the_place),
        cmocka_unit_test(test_csv_rows_follow_user_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
