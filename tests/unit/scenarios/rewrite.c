/* Tests of scenarios/rewrite.c: filters (method, host, path, status; include then
 * exclude), header rules, path substitution with groups, and bad rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rewrite.h"

static void test_filters(void **state)
{
    (void)state;
    char err[256];
    rewrite_t *rw = rewrite_new();
    assert_true(rewrite_keep(rw, "GET", "a", "/", 200)); /* no rule: everything */
    assert_int_equal(rewrite_filter(rw, true, "method:get,POST", err, sizeof err), 0);
    assert_int_equal(rewrite_filter(rw, false, "path:^/static/", err, sizeof err), 0);
    assert_int_equal(rewrite_filter(rw, false, "status:5xx,404", err, sizeof err), 0);
    assert_int_equal(rewrite_filter(rw, false, "host:*.cdn.example", err, sizeof err), 0);
    assert_true(rewrite_has_filters(rw));
    assert_true(rewrite_needs_status(rw));
    assert_true(rewrite_keep(rw, "GET", "shop:80", "/api/x?q=1", 200));
    assert_true(rewrite_keep(rw, "POST", "shop", "/api/x", 0));      /* status unknown */
    assert_false(rewrite_keep(rw, "DELETE", "shop", "/api/x", 200)); /* not included */
    assert_false(rewrite_keep(rw, "GET", "shop", "/static/a.js", 200));
    assert_false(rewrite_keep(rw, "GET", "shop", "/a", 503));
    assert_false(rewrite_keep(rw, "GET", "shop", "/a", 404));
    assert_true(rewrite_keep(rw, "GET", "shop", "/a", 403));
    assert_false(rewrite_keep(rw, "GET", "img.cdn.example:443", "/a", 200)); /* port ignored */
    /* A recorded exchange, as the converter hands it over: its recorded status counts. */
    rec_exchange_t x = {.authority = "shop:80", .method = "GET", .target = "/api/x", .status = 200};
    assert_true(rewrite_keep_exchange(rw, &x));
    x.status = 503;
    assert_false(rewrite_keep_exchange(rw, &x));
    x.status = 200;
    x.target = "/static/a.css";
    assert_false(rewrite_keep_exchange(rw, &x));
    x.target = NULL; /* "/" */
    x.authority = NULL;
    assert_true(rewrite_keep_exchange(rw, &x));
    rewrite_free(rw);
}

static void test_bad_rules(void **state)
{
    (void)state;
    char err[256];
    rewrite_t *rw = rewrite_new();
    assert_int_equal(rewrite_filter(rw, true, "size:3", err, sizeof err), -1);
    assert_non_null(strstr(err, "--include 'size:3'"));
    assert_int_equal(rewrite_filter(rw, false, "status:6xx", err, sizeof err), -1);
    assert_int_equal(rewrite_filter(rw, false, "status:2x", err, sizeof err), -1);
    assert_int_equal(rewrite_filter(rw, false, "path:(", err, sizeof err), -1);
    assert_non_null(strstr(err, "--exclude 'path:('"));
    assert_int_equal(rewrite_set_header(rw, "NoColon", err, sizeof err), -1);
    assert_int_equal(rewrite_set_header(rw, "Bad Name: x", err, sizeof err), -1);
    assert_int_equal(rewrite_drop_header(rw, "a:b", err, sizeof err), -1);
    assert_int_equal(rewrite_path(rw, "nothing", err, sizeof err), -1);
    assert_int_equal(rewrite_path(rw, "=>x", err, sizeof err), -1);
    assert_int_equal(rewrite_path(rw, "[=>x", err, sizeof err), -1);
    assert_false(rewrite_any(rw));
    rewrite_free(rw);
}

static scn_request_t req(const char *url, const char *const *hdrs, size_t n)
{
    scn_request_t r = {0};
    r.method = strdup("GET");
    r.url = strdup(url);
    r.headers = calloc(n ? n : 1, sizeof *r.headers);
    for (size_t i = 0; i < n; i++) {
        r.headers[i].name = strdup(hdrs[2 * i]);
        r.headers[i].value = strdup(hdrs[2 * i + 1]);
    }
    r.n_headers = n;
    return r;
}

static void test_scenario(void **state)
{
    (void)state;
    char err[256];
    rewrite_t *rw = rewrite_new();
    assert_int_equal(rewrite_set_header(rw, "Authorization: Bearer {{token}}", err, sizeof err), 0);
    assert_int_equal(rewrite_drop_header(rw, "x-debug", err, sizeof err), 0);
    assert_int_equal(rewrite_path(rw, "^/v1/([a-z]+)/([0-9]+)=>/v2/\\2/\\1", err, sizeof err), 0);
    assert_int_equal(rewrite_filter(rw, false, "path:^/v1/skip", err, sizeof err), 0);
    scn_scenario_t *s = scn_new();
    s->hosts = calloc(1, sizeof *s->hosts);
    s->hosts[0].base_url = strdup("http://shop.prod");
    s->n_hosts = 1;
    s->classes = calloc(1, sizeof *s->classes);
    s->n_classes = 1;
    scn_class_t *c = &s->classes[0];
    c->name = strdup("c");
    c->weight = 1;
    c->tasks.v = calloc(2, sizeof *c->tasks.v);
    c->tasks.n = 2;
    static const char *const h1[] = {"authorization", "Basic x", "X-Debug", "1", "Accept", "*/*",
                                     "AUTHORIZATION", "again"};
    c->tasks.v[0].requests = calloc(2, sizeof(scn_request_t));
    c->tasks.v[0].requests[0] = req("http://shop.prod/v1/item/42?x=1", h1, 4);
    c->tasks.v[0].requests[1] = req("/v1/skip/1", NULL, 0);
    c->tasks.v[0].n_requests = 2;
    c->tasks.v[0].parallel = true;
    c->tasks.v[1].requests = calloc(1, sizeof(scn_request_t));
    c->tasks.v[1].requests[0] = req("/v1/skip/2", NULL, 0);
    c->tasks.v[1].n_requests = 1;
    rewrite_stats_t st;
    assert_int_equal(rewrite_scenario(rw, s, true, &st, err, sizeof err), 0);
    assert_int_equal(st.excluded, 2);
    assert_int_equal(st.steps_removed, 1);
    assert_int_equal(c->tasks.n, 1);
    scn_step_t *sp = &c->tasks.v[0];
    assert_int_equal(sp->n_requests, 1);
    assert_false(sp->parallel);
    scn_request_t *r = &sp->requests[0];
    assert_string_equal(r->url, "http://shop.prod/v2/42/item?x=1");
    assert_int_equal(r->n_headers, 2); /* Accept kept; both Authorization replaced by one */
    assert_string_equal(r->headers[0].name, "Accept");
    assert_string_equal(r->headers[1].name, "Authorization");
    assert_string_equal(r->headers[1].value, "Bearer {{token}}");
    assert_int_equal(st.headers_set, 1);
    assert_int_equal(st.headers_dropped, 1);
    assert_int_equal(st.paths_rewritten, 1);
    /* a class left without task steps is an error naming it */
    rewrite_t *all = rewrite_new();
    assert_int_equal(rewrite_filter(all, true, "method:POST", err, sizeof err), 0);
    assert_int_equal(rewrite_scenario(all, s, true, &st, err, sizeof err), -1);
    assert_non_null(strstr(err, "class 'c'"));
    rewrite_free(all);
    scn_free(s);
    rewrite_free(rw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_bad_rules),
        cmocka_unit_test(test_scenario),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
