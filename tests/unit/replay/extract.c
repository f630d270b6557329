/* Tests of replay/extract.c: extractors on realistic responses, checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "extract.h"

static const resp_header_t login_headers[] = {
    { "Content-Type", 12, "application/json; charset=utf-8", 31 },
    { "X-Request-Id", 12, "  abc-123 ", 10 },
    { "Set-Cookie", 10, "theme=dark; Path=/", 18 },
    { "set-cookie", 10, "sid = s%3A9f8e7d ; Path=/; HttpOnly; Secure", 43 },
    { "Location", 8, "/home?next=1", 12 },
};

/* Not NUL-terminated on purpose: the slice is followed by bytes that must not match. */
static const char login_body_buf[] =
    "{\"user\":{\"id\":4711,\"name\":\"Zo\\u00eb\",\"roles\":[\"admin\",\"dev\"],"
    "\"active\":true},\"token\":\"eyJ.abc.def\",\"items\":[{\"sku\":\"A-1\"},{\"sku\":\"B-2\"}]}"
    "GARBAGE csrf=\"TAIL\"";

static resp_view_t login_resp(void)
{
    resp_view_t r = {
        .status = 200,
        .headers = login_headers,
        .n_headers = sizeof(login_headers) / sizeof(login_headers[0]),
        .body = login_body_buf,
        .body_len = strlen(login_body_buf) - strlen("GARBAGE csrf=\"TAIL\""),
    };
    return r;
}

typedef struct fixture {
    tpl_symtab_t *st;
    tpl_vars_t *vars;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    f->st = tpl_symtab_new();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    tpl_vars_free(f->vars);
    tpl_symtab_free(f->st);
    free(f);
    return 0;
}

static ext_t *compile(fixture_t *f, scn_ext_kind_t kind, const char *expr, int group, const char *def)
{
    scn_extractor_t e = { .var = "v", .kind = kind, .expr = (char *)expr, .group = group,
                          .default_value = (char *)def };
    char err[256];
    ext_t *x = ext_compile(&e, f->st, err, sizeof(err));
    if (!x)
        fail_msg("compile %s: %s", expr, err);
    if (!f->vars)
        f->vars = tpl_vars_new(tpl_symtab_count(f->st));
    return x;
}

/* Applies one extractor to r; returns the value set in "v", or NULL. */
static const char *run(fixture_t *f, scn_ext_kind_t kind, const char *expr, int group,
                       const char *def, const resp_view_t *r)
{
    ext_t *x = compile(f, kind, expr, group, def);
    tpl_vars_set(f->vars, 0, "<unset>", 7);
    int rc = ext_apply(x, r, f->vars);
    ext_free(x);
    const char *v = tpl_vars_get(f->vars, 0, NULL);
    if (rc < 0) {
        assert_string_equal(v, "<unset>"); /* a failed extraction leaves the variable alone */
        return NULL;
    }
    return v;
}

static void test_header(void **state)
{
    fixture_t *f = *state;
    resp_view_t r = login_resp();
    assert_string_equal(run(f, SCN_EXT_HEADER, "x-request-id", 1, NULL, &r), "abc-123");
    assert_string_equal(run(f, SCN_EXT_HEADER, "LOCATION", 1, NULL, &r), "/home?next=1");
    assert_null(run(f, SCN_EXT_HEADER, "X-Missing", 1, NULL, &r));
    assert_string_equal(run(f, SCN_EXT_HEADER, "X-Missing", 1, "none", &r), "none");
    assert_null(run(f, SCN_EXT_HEADER, "X-Request", 1, NULL, &r)); /* no prefix match */
}

static void test_cookie(void **state)
{
    fixture_t *f = *state;
    resp_view_t r = login_resp();
    assert_string_equal(run(f, SCN_EXT_COOKIE, "sid", 1, NULL, &r), "s%3A9f8e7d");
    assert_string_equal(run(f, SCN_EXT_COOKIE, "theme", 1, NULL, &r), "dark");
    assert_null(run(f, SCN_EXT_COOKIE, "Path", 1, NULL, &r));   /* attributes are not cookies */
    assert_null(run(f, SCN_EXT_COOKIE, "SID", 1, NULL, &r));    /* names are case-sensitive */
    assert_string_equal(run(f, SCN_EXT_COOKIE, "csrf", 1, "", &r), "");
}

static void test_json(void **state)
{
    fixture_t *f = *state;
    resp_view_t r = login_resp();
    assert_string_equal(run(f, SCN_EXT_JSON, "$.token", 1, NULL, &r), "eyJ.abc.def");
    assert_string_equal(run(f, SCN_EXT_JSON, "$.user.id", 1, NULL, &r), "4711");
    assert_string_equal(run(f, SCN_EXT_JSON, "$.user.name", 1, NULL, &r), "Zo\xc3\xab");
    assert_string_equal(run(f, SCN_EXT_JSON, "$.user.active", 1, NULL, &r), "true");
    assert_string_equal(run(f, SCN_EXT_JSON, "$.user.roles[1]", 1, NULL, &r), "dev");
    assert_string_equal(run(f, SCN_EXT_JSON, "$.items[-1].sku", 1, NULL, &r), "B-2");
    assert_string_equal(run(f, SCN_EXT_JSON, "$.user.roles", 1, NULL, &r), "[\"admin\",\"dev\"]");
    assert_null(run(f, SCN_EXT_JSON, "$.items[2].sku", 1, NULL, &r));
    assert_string_equal(run(f, SCN_EXT_JSON, "$.nope", 1, "dflt", &r), "dflt");

    resp_view_t html = { .status = 200, .body = "<html>not json</html>", .body_len = 21 };
    assert_null(run(f, SCN_EXT_JSON, "$.token", 1, NULL, &html));
    assert_string_equal(run(f, SCN_EXT_JSON, "$.token", 1, "x", &html), "x");
    resp_view_t empty = { .status = 204 };
    assert_null(run(f, SCN_EXT_JSON, "$.token", 1, NULL, &empty));
}

static void test_regex(void **state)
{
    fixture_t *f = *state;
    resp_view_t r = login_resp();
    assert_string_equal(run(f, SCN_EXT_REGEX, "\"token\":\"([^\"]+)\"", 1, NULL, &r), "eyJ.abc.def");
    assert_string_equal(run(f, SCN_EXT_REGEX, "\"sku\":\"([A-Z])-([0-9])\"", 2, NULL, &r), "1");
    assert_string_equal(run(f, SCN_EXT_REGEX, "\"id\":[0-9]+", 0, NULL, &r), "\"id\":4711");
    /* the body slice ends before GARBAGE: a match there would read past the body */
    assert_null(run(f, SCN_EXT_REGEX, "csrf=\"([A-Z]+)\"", 1, NULL, &r));
    assert_string_equal(run(f, SCN_EXT_REGEX, "csrf=\"([A-Z]+)\"", 1, "d", &r), "d");
    /* an optional group that did not take part */
    assert_null(run(f, SCN_EXT_REGEX, "(nomatch)?\"token\"", 1, NULL, &r));

    const char bin[] = "a\0b token=XY9 end";
    resp_view_t rb = { .status = 200, .body = bin, .body_len = sizeof(bin) - 1 };
    assert_string_equal(run(f, SCN_EXT_REGEX, "token=([A-Z0-9]+)", 1, NULL, &rb), "XY9");
}

static void expect_compile_error(fixture_t *f, scn_ext_kind_t kind, const char *expr, int group,
                                 const char *msg)
{
    scn_extractor_t e = { .var = "v", .kind = kind, .expr = (char *)expr, .group = group };
    char err[256] = "";
    assert_null(ext_compile(&e, f->st, err, sizeof(err)));
    if (!strstr(err, msg))
        fail_msg("%s: error \"%s\" lacks \"%s\"", expr ? expr : "(null)", err, msg);
}

static void test_compile_errors(void **state)
{
    fixture_t *f = *state;
    expect_compile_error(f, SCN_EXT_REGEX, "a(b", 1, "bad regex");
    expect_compile_error(f, SCN_EXT_REGEX, "ab", 1, "group 1 asked but \"ab\" has 0 capture group(s)");
    expect_compile_error(f, SCN_EXT_REGEX, "(a)(b)", 3, "has 2 capture group(s)");
    expect_compile_error(f, SCN_EXT_REGEX, "(a)", -1, "group -1");
    expect_compile_error(f, SCN_EXT_JSON, "$.a[", 1, "json extractor for \"v\"");
    expect_compile_error(f, SCN_EXT_HEADER, "", 1, "expected a non-empty expression");
    expect_compile_error(f, SCN_EXT_HEADER, NULL, 1, "expected a non-empty expression");
    expect_compile_error(f, (scn_ext_kind_t)9, "x", 1, "unknown kind 9");
    scn_extractor_t e = { .var = "", .kind = SCN_EXT_HEADER, .expr = "x" };
    char err[128];
    assert_null(ext_compile(&e, f->st, err, sizeof(err)));
    assert_non_null(strstr(err, "expected a variable name"));
}

static void test_apply_all(void **state)
{
    fixture_t *f = *state;
    scn_extractor_t es[] = {
        { .var = "token", .kind = SCN_EXT_JSON, .expr = "$.token" },
        { .var = "uid", .kind = SCN_EXT_JSON, .expr = "$.user.id" },
        { .var = "sid", .kind = SCN_EXT_COOKIE, .expr = "sid" },
        { .var = "gone", .kind = SCN_EXT_JSON, .expr = "$.gone" },
        { .var = "etag", .kind = SCN_EXT_HEADER, .expr = "ETag", .default_value = "none" },
    };
    ext_t *x[5];
    char err[128];
    for (int i = 0; i < 5; i++)
        assert_non_null(x[i] = ext_compile(&es[i], f->st, err, sizeof(err)));
    f->vars = tpl_vars_new(tpl_symtab_count(f->st));
    resp_view_t r = login_resp();
    assert_int_equal(ext_apply_all(x, 5, &r, f->vars), 1);
    assert_string_equal(tpl_vars_get(f->vars, (size_t)tpl_symtab_find(f->st, "token"), NULL), "eyJ.abc.def");
    assert_string_equal(tpl_vars_get(f->vars, (size_t)tpl_symtab_find(f->st, "uid"), NULL), "4711");
    assert_string_equal(tpl_vars_get(f->vars, (size_t)tpl_symtab_find(f->st, "sid"), NULL), "s%3A9f8e7d");
    assert_null(tpl_vars_get(f->vars, (size_t)tpl_symtab_find(f->st, "gone"), NULL));
    assert_string_equal(tpl_vars_get(f->vars, (size_t)tpl_symtab_find(f->st, "etag"), NULL), "none");
    for (int i = 0; i < 5; i++)
        ext_free(x[i]);
}

static void test_check_eval(void **state)
{
    (void)state;
    resp_view_t r = login_resp();
    scn_check_t any = { 0 };
    assert_int_equal(check_eval(&any, &r), STATS_OK);
    r.status = 399;
    assert_int_equal(check_eval(&any, &r), STATS_OK);
    r.status = 400;
    assert_int_equal(check_eval(&any, &r), STATS_FAIL_HTTP);
    r.status = 503;
    assert_int_equal(check_eval(&any, &r), STATS_FAIL_HTTP);

    int set[] = { 200, 404 };
    scn_check_t some = { .statuses = set, .n_statuses = 2 };
    r.status = 404;
    assert_int_equal(check_eval(&some, &r), STATS_OK);
    r.status = 201;
    assert_int_equal(check_eval(&some, &r), STATS_FAIL_HTTP);

    char *needles[] = { "\"token\"", "admin" };
    scn_check_t body = { .body_contains = needles, .n_body_contains = 2 };
    r.status = 200;
    assert_int_equal(check_eval(&body, &r), STATS_OK);
    char *tail[] = { "admin", "GARBAGE" }; /* past the body slice */
    body.body_contains = tail;
    assert_int_equal(check_eval(&body, &r), STATS_FAIL_CHECK);
    /* the status is judged first */
    r.status = 500;
    assert_int_equal(check_eval(&body, &r), STATS_FAIL_HTTP);
    resp_view_t empty = { .status = 200 };
    body.body_contains = needles;
    assert_int_equal(check_eval(&body, &empty), STATS_FAIL_CHECK);
}

static void test_needs_body(void **state)
{
    (void)state;
    scn_extractor_t hdr = { .var = "a", .kind = SCN_EXT_HEADER, .expr = "x" };
    scn_extractor_t cookie = { .var = "a", .kind = SCN_EXT_COOKIE, .expr = "x" };
    scn_extractor_t json = { .var = "a", .kind = SCN_EXT_JSON, .expr = "$.x" };
    scn_extractor_t re = { .var = "a", .kind = SCN_EXT_REGEX, .expr = "(x)" };
    scn_request_t r = { 0 };
    assert_int_equal(ext_needs_body(&r), 0);
    scn_extractor_t two[] = { hdr, cookie };
    r.extractors = two;
    r.n_extractors = 2;
    assert_int_equal(ext_needs_body(&r), 0);
    scn_extractor_t with_json[] = { hdr, json };
    r.extractors = with_json;
    assert_int_equal(ext_needs_body(&r), 1);
    scn_extractor_t with_re[] = { re };
    r.extractors = with_re;
    r.n_extractors = 1;
    assert_int_equal(ext_needs_body(&r), 1);
    char *needle[] = { "ok" };
    scn_request_t c = { .check = { .body_contains = needle, .n_body_contains = 1 } };
    assert_int_equal(ext_needs_body(&c), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cookie, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_regex, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compile_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_all, setup, teardown),
        cmocka_unit_test(test_check_eval),
        cmocka_unit_test(test_needs_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
