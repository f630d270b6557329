/* Unit tests of replay/plan.c: the survey of a scenario's origins and what the
 * run does with each (named, mapped, allowed, dropped, refused), Referer and
 * Origin following the mapping, URLs that start with a template, and origins
 * met at run time. No name is looked up: every host is numeric or refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "plan.h"
#include "view.h"

/* Three origins: hosts[0], a CDN and a tracker; one URL is a template. */
static const char scenario_json[] =
    "{\"format\": \"aiotest-scenario\", \"version\": [1, 0],"
    " \"hosts\": [{\"base_url\": \"https://www.shop.test\"}, {\"base_url\": \"https://unused.test\"}],"
    " \"classes\": [{\"name\": \"page\", \"weight\": 1,"
    "  \"tasks\": [{\"parallel\": true, \"requests\": ["
    "     {\"method\": \"GET\", \"url\": \"/\"},"
    "     {\"method\": \"GET\", \"url\": \"https://cdn.shop.test/app.js\","
    "      \"headers\": [[\"Referer\", \"https://www.shop.test/page?x=1\"], [\"Origin\", \"https://www.shop.test\"]]},"
    "     {\"method\": \"GET\", \"url\": \"https://cdn.shop.test/app.css\"},"
    "     {\"method\": \"GET\", \"url\": \"https://tracker.test/pixel\","
    "      \"extract\": [{\"var\": \"t\", \"kind\": \"header\", \"expr\": \"X-T\", \"default\": \"\"}]}]},"
    "   {\"requests\": [{\"method\": \"GET\", \"url\": \"{{location}}\"}]}]}]}";

static scn_scenario_t *load(const char *text)
{
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

static origins_t *rules(const char *map, const char *allow, const char *only)
{
    char err[300];
    origins_t *o = origins_new();
    assert_non_null(o);
    if (map)
        assert_int_equal(origins_add_map(o, map, err, sizeof err), 0);
    if (allow)
        assert_int_equal(origins_add_allow(o, allow, err, sizeof err), 0);
    if (only)
        assert_int_equal(origins_add_only(o, only, err, sizeof err), 0);
    return o;
}

static const plan_listing_t *listed(const plan_t *p, const char *origin)
{
    for (size_t i = 0; i < p->n_listing; i++)
        if (strcmp(p->listing[i].origin, origin) == 0)
            return &p->listing[i];
    fail_msg("%s is not listed", origin);
    return NULL;
}

/* The literal value of header name of r (the scenario's are literals here). */
static const char *header_of(const plan_req_t *r, const char *name)
{
    static char buf[300];
    for (size_t i = 0; i < r->n_hdrs; i++) {
        size_t nl, vl;
        const char *n = tpl_literal(r->hdrs[i].name, &nl);
        const char *v = tpl_literal(r->hdrs[i].value, &vl);
        if (n && v && nl == strlen(name) && strncasecmp(n, name, nl) == 0) {
            snprintf(buf, sizeof buf, "%.*s", (int)vl, v);
            return buf;
        }
    }
    return "";
}

static void test_refused(void **state)
{
    (void)state;
    scn_scenario_t *s = load(scenario_json);
    char err[2000];
    FILE *list = tmpfile();
    plan_opts_t o = {.host = "http://127.0.0.1:8080", .listing = list};
    assert_null(plan_compile_opts(s, &o, ".", err, sizeof err));
    assert_non_null(strstr(err, "2 of 3 origins"));
    assert_non_null(strstr(err, "https://cdn.shop.test"));
    assert_non_null(strstr(err, "https://tracker.test"));
    assert_null(strstr(err, "www.shop.test")); /* --host names it */
    assert_non_null(strstr(err, "--map-host FROM=TO"));
    /* The list was printed before the refusal, the unused host said so. */
    char text[4000] = {0};
    rewind(list);
    assert_true(fread(text, 1, sizeof text - 1, list) > 0);
    assert_non_null(strstr(text, "https://tracker.test"));
    assert_non_null(strstr(text, "refused"));
    assert_non_null(strstr(text, "https://unused.test"));
    assert_non_null(strstr(text, "unused"));
    fclose(list);
    /* Without --host nothing is named: the scenario has three origins. */
    plan_opts_t bare = {0};
    assert_null(plan_compile_opts(s, &bare, ".", err, sizeof err));
    assert_non_null(strstr(err, "3 of 3 origins"));
    assert_non_null(strstr(err, "--host URL"));
    /* plan_compile is as strict. */
    assert_null(plan_compile(s, "http://127.0.0.1:8080", ".", err, sizeof err));
    scn_free(s);
}

static void test_mapped(void **state)
{
    (void)state;
    scn_scenario_t *s = load(scenario_json);
    char err[2000];
    origins_t *r = rules("cdn.shop.test=http://127.0.0.1:8081", NULL, "127.0.0.1");
    plan_opts_t o = {.host = "http://127.0.0.1:8080", .rules = r};
    plan_t *p = plan_compile_opts(s, &o, ".", err, sizeof err);
    if (!p)
        fail_msg("%s", err);
    assert_int_equal(listed(p, "https://www.shop.test")->route, PLAN_NAMED);
    assert_int_equal(listed(p, "https://cdn.shop.test")->route, PLAN_MAPPED);
    assert_int_equal(listed(p, "https://cdn.shop.test")->requests, 2);
    assert_int_equal(listed(p, "https://tracker.test")->route, PLAN_DROPPED);
    assert_int_equal(listed(p, "https://tracker.test")->requests, 1);
    assert_int_equal(listed(p, "https://unused.test")->route, PLAN_UNUSED);
    assert_int_equal(p->n_dropped, 1);
    assert_int_equal(p->n_runtime, 1);
    assert_int_equal(p->n_origins, 2);
    assert_string_equal(p->origins[p->dflt].origin, "http://127.0.0.1:8080");
    /* The parallel step lost the tracker's request. */
    const plan_step_t *st = &p->classes[0].tasks.v[0];
    assert_int_equal(st->n, 3);
    const plan_req_t *js = &st->reqs[1];
    assert_string_equal(p->origins[js->origin].origin, "http://127.0.0.1:8081");
    assert_string_equal(p->origins[js->origin].host_hdr, "127.0.0.1:8081");
    /* Referer and Origin name the target the page's origin maps to. */
    assert_string_equal(header_of(js, "Referer"), "http://127.0.0.1:8080/page?x=1");
    assert_string_equal(header_of(js, "Origin"), "http://127.0.0.1:8080");
    for (size_t i = 0; i < js->n_hdrs; i++) {
        size_t n;
        const char *v = tpl_literal(js->hdrs[i].value, &n);
        assert_non_null(v);
        assert_null(memmem(v, n, "shop.test", 9));
    }
    /* The templated URL compiled, routed per request. */
    assert_int_equal(p->classes[0].tasks.v[1].reqs[0].origin, -1);
    /* Scenario names and targets both find their plan origin. */
    url_t u;
    assert_int_equal(url_parse("https://cdn.shop.test/x", &u, err, sizeof err), 0);
    assert_int_equal(plan_origin_find(p, &u), js->origin);
    assert_int_equal(url_parse("http://127.0.0.1:8081/", &u, err, sizeof err), 0);
    assert_int_equal(plan_origin_find(p, &u), js->origin);
    assert_int_equal(url_parse("https://tracker.test/", &u, err, sizeof err), 0);
    assert_int_equal(plan_origin_find(p, &u), -1);
    /* At run time: the dropped origin is refused, a mapped name is not looked up. */
    plan_origin_t ro;
    assert_int_equal(plan_origin_runtime(p, &u, &ro, err, sizeof err), -1);
    assert_true(ro.refused);
    assert_non_null(strstr(err, "https://tracker.test"));
    assert_int_equal(url_parse("https://img.cdn.shop.test/", &u, err, sizeof err), 0);
    assert_int_equal(plan_origin_runtime(p, &u, &ro, err, sizeof err), -1);
    assert_int_equal(url_parse("https://cdn.shop.test/", &u, err, sizeof err), 0);
    assert_int_equal(plan_origin_runtime(p, &u, &ro, err, sizeof err), 0);
    assert_false(ro.refused);
    assert_string_equal(ro.origin, "http://127.0.0.1:8081");
    assert_true(ro.addr_len > 0); /* numeric: no lookup needed */
    plan_free(p);
    origins_free(r);
    scn_free(s);
}

static void test_allowed_unresolved(void **state)
{
    (void)state;
    scn_scenario_t *s = load(scenario_json);
    char err[2000];
    /* --check leaves names unresolved: allowed real names compile without DNS. */
    origins_t *r = rules(NULL, "*.test", NULL);
    plan_opts_t o = {.rules = r, .no_resolve = true};
    plan_t *p = plan_compile_opts(s, &o, ".", err, sizeof err);
    if (!p)
        fail_msg("%s", err);
    assert_int_equal(listed(p, "https://www.shop.test")->route, PLAN_ALLOWED);
    assert_int_equal(listed(p, "https://tracker.test")->route, PLAN_ALLOWED);
    assert_int_equal(p->n_origins, 3);
    for (size_t i = 0; i < p->n_origins; i++)
        assert_int_equal(p->origins[i].addr_len, 0);
    assert_string_equal(p->origins[p->dflt].origin, "https://www.shop.test");
    plan_free(p);
    origins_free(r);
    scn_free(s);
}

/* Without --host, a scenario's only origin counts as named. */
static void test_only_origin(void **state)
{
    (void)state;
    scn_scenario_t *s = load(
        "{\"format\": \"aiotest-scenario\", \"version\": [1, 0],"
        " \"hosts\": [{\"base_url\": \"http://127.0.0.1:1\"}],"
        " \"classes\": [{\"name\": \"c\", \"weight\": 1, \"tasks\": [{\"requests\": ["
        "   {\"method\": \"GET\", \"url\": \"/a\"}, {\"method\": \"GET\", \"url\": \"http://127.0.0.1:1/b\"}]}]}]}");
    char err[2000];
    plan_t *p = plan_compile(s, NULL, ".", err, sizeof err);
    if (!p)
        fail_msg("%s", err);
    assert_int_equal(p->n_origins, 1);
    assert_int_equal(listed(p, "http://127.0.0.1:1")->route, PLAN_NAMED);
    assert_int_equal(listed(p, "http://127.0.0.1:1")->requests, 2);
    plan_free(p);
    scn_free(s);
    /* A first host that no request uses does not count: the other origin is
     * the scenario's only one. */
    s = load("{\"format\": \"aiotest-scenario\", \"version\": [1, 0],"
             " \"hosts\": [{\"base_url\": \"http://127.0.0.1:2\"}],"
             " \"classes\": [{\"name\": \"c\", \"weight\": 1, \"tasks\": [{\"requests\": ["
             "   {\"method\": \"GET\", \"url\": \"http://127.0.0.1:1/b\"}]}]}]}");
    p = plan_compile(s, NULL, ".", err, sizeof err);
    if (!p)
        fail_msg("%s", err);
    assert_int_equal(listed(p, "http://127.0.0.1:2")->route, PLAN_UNUSED);
    assert_int_equal(listed(p, "http://127.0.0.1:1")->route, PLAN_NAMED);
    assert_int_equal(p->dflt, -1);
    plan_free(p);
    /* --only-host that leaves a class no task request is an error, not a busy loop. */
    origins_t *r = rules(NULL, NULL, "other.test");
    plan_opts_t o = {.host = NULL, .rules = r};
    assert_null(plan_compile_opts(s, &o, ".", err, sizeof err));
    assert_non_null(strstr(err, "--only-host"));
    origins_free(r);
    scn_free(s);
}

/* new_conn: a step whose origin no earlier step of its section named, or a
 * parallel one; not a step on an origin already used. */
static void test_new_conn(void **state)
{
    (void)state;
    scn_scenario_t *s = load(
        "{\"format\": \"aiotest-scenario\", \"version\": [1, 0],"
        " \"hosts\": [{\"base_url\": \"http://127.0.0.1:1\"}],"
        " \"classes\": [{\"name\": \"c\", \"weight\": 1, \"tasks\": ["
        "   {\"requests\": [{\"method\": \"GET\", \"url\": \"/a\"}]},"
        "   {\"requests\": [{\"method\": \"GET\", \"url\": \"/b\"}]},"
        "   {\"requests\": [{\"method\": \"GET\", \"url\": \"http://127.0.0.2:1/c\"}]},"
        "   {\"requests\": [{\"method\": \"GET\", \"url\": \"http://127.0.0.2:1/d\"}]},"
        "   {\"parallel\": true, \"requests\": [{\"method\": \"GET\", \"url\": \"/e\"},"
        "                                   {\"method\": \"GET\", \"url\": \"/f\"}]},"
        "   {\"requests\": [{\"method\": \"GET\", \"url\": \"{{next}}\"}]}]}]}");
    origins_t *r = rules(NULL, "127.0.0.2:1", NULL);
    plan_opts_t o = {.host = "http://127.0.0.1:1", .rules = r};
    char err[2000];
    plan_t *p = plan_compile_opts(s, &o, ".", err, sizeof err);
    if (!p)
        fail_msg("%s", err);
    const plan_steps_t *t = &p->classes[0].tasks;
    assert_int_equal(t->n, 6);
    bool want[] = {true, false, true, false, true, false};
    for (size_t i = 0; i < 6; i++)
        if (t->v[i].new_conn != want[i])
            fail_msg("step %zu: new_conn %d", i, t->v[i].new_conn);
    plan_free(p);
    origins_free(r);
    scn_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_mapped),
        cmocka_unit_test(test_allowed_unresolved),
        cmocka_unit_test(test_only_origin),
        cmocka_unit_test(test_new_conn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
