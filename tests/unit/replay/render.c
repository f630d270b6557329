/* Tests of replay/render.c: each template of a request expanded once,
 * generators drawn once per request (the same value in URL, header and body),
 * no read past the buffer when a second draw would have been longer, values
 * from variables checked before anything could reach the wire, the prebuilt
 * HTTP/1.1 request kept when cookies exist. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "cookies.h"
#include "plan.h"
#include "render.h"
#include "view.h"

typedef struct fx {
    scn_scenario_t *scn;
    plan_t *plan;
    tpl_vars_t *vars;
    uint64_t rng;
    tpl_memo_t memo;
    tpl_ctx_t ctx;
    render_t rd;
    tpl_buf_t url;
} fx_t;

/* A one-request scenario: URL, one header (name, value) and body. */
static fx_t *fx_new(const char *url, const char *hname, const char *hvalue, const char *body)
{
    fx_t *f = calloc(1, sizeof *f);
    json_t *hdrs = json_array(), *req = json_object();
    json_array_append_new(hdrs, json_pack("[ss]", hname, hvalue));
    json_object_set_new(req, "name", json_string("r"));
    json_object_set_new(req, "method", json_string("POST"));
    json_object_set_new(req, "url", json_string(url));
    json_object_set_new(req, "headers", hdrs);
    if (body)
        json_object_set_new(req, "body", json_string(body));
    json_t *j = json_pack("{s:s, s:[i,i], s:[{s:s}], s:[{s:s, s:i, s:{s:s}, s:[{s:[o]}]}]}",
                          "format", "aiotest-scenario", "version", 1, 0,
                          "hosts", "base_url", "http://127.0.0.1:9",
                          "classes", "name", "c", "weight", 1, "wait", "kind", "none",
                          "tasks", "requests", req);
    assert_non_null(j);
    mp_error_t err;
    int rc = view_scenario_from_json(j, &f->scn, &err);
    if (rc != 0)
        fail_msg("scenario: %s", err.msg);
    json_decref(j);
    char perr[300];
    f->plan = plan_compile(f->scn, NULL, ".", perr, sizeof perr);
    if (!f->plan)
        fail_msg("plan: %s", perr);
    f->vars = tpl_vars_new(tpl_symtab_count(f->plan->symtab));
    f->ctx = (tpl_ctx_t){.vars = f->vars, .user_id = 7, .rng = &f->rng, .memo = &f->memo};
    return f;
}

static void fx_free(fx_t *f)
{
    render_fini(&f->rd);
    free(f->url.p);
    tpl_vars_free(f->vars);
    plan_free(f->plan);
    scn_free(f->scn);
    free(f);
}

static const plan_req_t *req_of(const fx_t *f)
{
    return &f->plan->classes[0].tasks.v[0].reqs[0];
}

static void set_var(fx_t *f, const char *name, const char *value)
{
    int i = tpl_symtab_find(f->plan->symtab, name);
    assert_true(i >= 0);
    assert_int_equal(tpl_vars_set(f->vars, (size_t)i, value, strlen(value)), 0);
}

/* Renders the request as the engine does: URL first, then the rest. */
static int render(fx_t *f, const cookie_jar_t *jar, hc_req_t *rv)
{
    const plan_req_t *r = req_of(f);
    tpl_memo_clear(&f->memo);
    const char *url;
    size_t len;
    int rc = render_url(&f->rd, r, &f->ctx, &f->url, &url, &len);
    if (rc != 0)
        return rc;
    render_in_t in = {.req = r, .method = r->src->method, .origin = &f->plan->origins[0],
                      .path = url, .path_len = len, .jar = jar, .now_s = 1000};
    return render_request(&f->rd, &in, &f->ctx, rv);
}

/* The value between prefix and the next delimiter in s[0..len). */
static size_t value_after(const char *s, size_t len, const char *prefix, const char *stop,
                          char *out, size_t cap)
{
    const char *p = memmem(s, len, prefix, strlen(prefix));
    assert_non_null(p);
    p += strlen(prefix);
    size_t n = 0;
    while (p + n < s + len && !strchr(stop, p[n]))
        n++;
    assert_true(n < cap);
    memcpy(out, p, n);
    out[n] = '\0';
    return n;
}

/* Length of one {{random_int}} expansion drawn from rng state seed, then of
 * the draw after it. */
static void draws(uint64_t seed, size_t *first, size_t *second)
{
    tpl_symtab_t *st = tpl_symtab_new();
    char err[100], out[64];
    tpl_t *t = tpl_compile(st, "{{random_int 0 99999999999}}", 28, err, sizeof err);
    assert_non_null(t);
    tpl_ctx_t c = {.rng = &seed};
    *first = tpl_expand_buf(t, &c, out, sizeof out);
    *second = tpl_expand_buf(t, &c, out, sizeof out);
    tpl_free(t);
    tpl_symtab_free(st);
}

/* The seeds where the old measure-then-expand code read past its buffer: the
 * second draw is longer than the first. Rendering draws once: the URL, the
 * header and the body carry the same value, of the first draw's length. */
static void test_generators_drawn_once(void **state)
{
    (void)state;
    fx_t *f = fx_new("/item?r={{random_int 0 99999999999}}&u={{uuid}}", "X-R",
                     "{{random_int 0 99999999999}}", "{\"r\":{{random_int 0 99999999999}},\"u\":\"{{uuid}}\"}");
    size_t tried = 0;
    for (uint64_t seed = 1; seed < 5000 && tried < 200; seed++) {
        size_t a, b;
        draws(seed, &a, &b);
        if (b <= a)
            continue;
        tried++;
        f->rng = seed;
        hc_req_t rv;
        assert_int_equal(render(f, NULL, &rv), 0);
        char in_url[64], in_body[64], uu[64], ub[64];
        size_t n = value_after(rv.path, rv.path_len, "r=", "&", in_url, sizeof in_url);
        assert_int_equal(n, a); /* the first draw, and only it */
        value_after(rv.body, rv.body_len, "\"r\":", ",", in_body, sizeof in_body);
        assert_string_equal(in_url, in_body);
        assert_int_equal(rv.n_hdrs, 1);
        assert_int_equal(rv.hdrs[0].value_len, a);
        assert_memory_equal(rv.hdrs[0].value, in_url, a);
        value_after(rv.path, rv.path_len, "u=", "&", uu, sizeof uu);
        value_after(rv.body, rv.body_len, "\"u\":\"", "\"", ub, sizeof ub);
        assert_int_equal(strlen(uu), 36);
        assert_string_equal(uu, ub);
        assert_int_equal(rv.body_len, strlen("{\"r\":,\"u\":\"\"}") + a + 36);
    }
    assert_true(tried >= 20);
    fx_free(f);
}

/* A new request draws new values. */
static void test_new_request_new_values(void **state)
{
    (void)state;
    fx_t *f = fx_new("/u/{{uuid}}", "X-A", "b", NULL);
    assert_true(render_draws(req_of(f)));
    f->rng = 99;
    hc_req_t rv;
    assert_int_equal(render(f, NULL, &rv), 0);
    char first[64];
    snprintf(first, sizeof first, "%.*s", (int)rv.path_len, rv.path);
    assert_int_equal(render(f, NULL, &rv), 0);
    assert_int_equal(rv.path_len, strlen(first));
    assert_true(memcmp(rv.path, first, rv.path_len) != 0);
    fx_free(f);
}

/* Body and headers large enough to grow the buffer several times: every
 * slice stays inside what was written (ASan checks the reads). */
static void test_growth_keeps_slices(void **state)
{
    (void)state;
    fx_t *f = fx_new("/a", "X-Long", "{{long}}", "{{long}}{{long}}{{long}}");
    char big[5000];
    memset(big, 'v', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    set_var(f, "long", big);
    hc_req_t rv;
    assert_int_equal(render(f, NULL, &rv), 0);
    assert_int_equal(rv.hdrs[0].value_len, sizeof big - 1);
    assert_memory_equal(rv.hdrs[0].value, big, sizeof big - 1);
    assert_int_equal(rv.body_len, 3 * (sizeof big - 1));
    for (size_t i = 0; i < rv.body_len; i++)
        if (rv.body[i] != 'v')
            fail_msg("body byte %zu", i);
    fx_free(f);
}

/* A variable holding CR LF (extracted from a response) cannot become a
 * header line of its own: the request fails as "extract" and says why. */
static void test_injected_value_refused(void **state)
{
    (void)state;
    fx_t *f = fx_new("/a", "Authorization", "Bearer {{token}}", NULL);
    hc_req_t rv;
    set_var(f, "token", "abc\r\nX-Injected: evil");
    assert_int_equal(render(f, NULL, &rv), -STATS_FAIL_EXTRACT);
    assert_non_null(strstr(render_why(&f->rd), "Authorization"));
    assert_non_null(strstr(render_why(&f->rd), "CR"));
    set_var(f, "token", "abc\nd");
    assert_int_equal(render(f, NULL, &rv), -STATS_FAIL_EXTRACT);
    set_var(f, "token", "a fine value\twith tab");
    assert_int_equal(render(f, NULL, &rv), 0);
    assert_int_equal(rv.hdrs[0].value_len, strlen("Bearer a fine value\twith tab"));
    fx_free(f);
}

static void test_injected_name_refused(void **state)
{
    (void)state;
    fx_t *f = fx_new("/a", "X-{{n}}", "v", NULL);
    hc_req_t rv;
    set_var(f, "n", "A: b\r\nX-Injected");
    assert_int_equal(render(f, NULL, &rv), -STATS_FAIL_EXTRACT);
    assert_non_null(strstr(render_why(&f->rd), "not a token"));
    set_var(f, "n", "Trace");
    assert_int_equal(render(f, NULL, &rv), 0);
    assert_int_equal(rv.hdrs[0].name_len, 7);
    assert_memory_equal(rv.hdrs[0].name, "X-Trace", 7);
    fx_free(f);
}

static void test_injected_target_refused(void **state)
{
    (void)state;
    fx_t *f = fx_new("/q?t={{t}}", "X-A", "v", NULL);
    hc_req_t rv;
    set_var(f, "t", "x HTTP/1.1\r\nX-Injected: evil\r\n\r\nGET /");
    assert_int_equal(render(f, NULL, &rv), -STATS_FAIL_EXTRACT);
    assert_non_null(strstr(render_why(&f->rd), "URL"));
    set_var(f, "t", "a b");
    assert_int_equal(render(f, NULL, &rv), -STATS_FAIL_EXTRACT);
    set_var(f, "t", "ok%20b");
    assert_int_equal(render(f, NULL, &rv), 0);
    assert_int_equal(rv.path_len, strlen("/q?t=ok%20b"));
    fx_free(f);
}

/* A literal request keeps its prebuilt bytes; with cookies the Cookie header
 * value comes along with where it goes (before the blank line). */
static void test_prebuilt_kept_with_cookies(void **state)
{
    (void)state;
    fx_t *f = fx_new("/shop/cart?x=1", "Accept", "*/*", "{}");
    assert_false(render_draws(req_of(f)));
    hc_req_t rv;
    assert_int_equal(render(f, NULL, &rv), 0);
    assert_non_null(rv.h1_bytes);
    assert_null(rv.cookie);
    cookie_jar_t *jar = cookie_jar_new();
    const char *sc = "sid=42; Path=/shop";
    cookie_jar_set(jar, sc, strlen(sc), "127.0.0.1", "/shop/login", false, 1000);
    assert_int_equal(render(f, jar, &rv), 0);
    assert_non_null(rv.h1_bytes);
    assert_non_null(rv.cookie);
    assert_int_equal(rv.cookie_len, 6);
    assert_memory_equal(rv.cookie, "sid=42", 6);
    assert_true(rv.h1_head_len < rv.h1_len);
    assert_memory_equal(rv.h1_bytes + rv.h1_head_len, "\r\n{}", 4);
    /* The headers and body are there too, for HTTP/2. */
    assert_int_equal(rv.n_hdrs, 1);
    assert_int_equal(rv.body_len, 2);
    cookie_jar_free(jar);
    fx_free(f);
}

/* A redirect hop (GET after a 303) is not the compiled request. */
static void test_redirect_hop(void **state)
{
    (void)state;
    fx_t *f = fx_new("/a", "Accept", "*/*", "{}");
    hc_req_t rv;
    render_in_t in = {.req = req_of(f), .method = "GET", .origin = &f->plan->origins[0],
                      .path = "/b", .path_len = 2, .redirected = true};
    assert_int_equal(render_request(&f->rd, &in, &f->ctx, &rv), 0);
    assert_null(rv.h1_bytes);
    assert_null(rv.body);
    assert_false(rv.has_body);
    assert_int_equal(rv.path_len, 2);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generators_drawn_once),
        cmocka_unit_test(test_new_request_new_values),
        cmocka_unit_test(test_growth_keeps_slices),
        cmocka_unit_test(test_injected_value_refused),
        cmocka_unit_test(test_injected_name_refused),
        cmocka_unit_test(test_injected_target_refused),
        cmocka_unit_test(test_prebuilt_kept_with_cookies),
        cmocka_unit_test(test_redirect_hop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
