/* Unit tests of convert/correlate.c on synthetic sessions: a JSON token sent
 * back as a bearer header, a hidden CSRF input sent back in a form, a header
 * and a cookie value reused in a path and a header; values the client knew
 * before and values only sent in the same parallel step stay literal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "correlate.h"
#include "draft.h"
#include "fixture.h"

#define N 6

typedef struct sess {
    rec_exchange_t x[N];
    const rec_exchange_t *p[N];
    scn_request_t r[N];
    size_t step[N];
} sess_t;

static void build(sess_t *s)
{
    memset(s, 0, sizeof *s);
    fx_make(&s->x[0], "POST", "/api/login", 0, 10, 200, "application/json",
            "{\"ok\": true, \"data\": {\"token\": \"tok-8f2a9c71\", \"user\": \"alice2024\"}}");
    fx_req_body(&s->x[0], "{\"user\": \"alice2024\", \"password\": \"pw\"}");
    fx_make(&s->x[1], "GET", "/api/profile", 20, 30, 200, "application/json", "{\"id\": 4711}");
    rec_headers_add(&s->x[1].req_headers, "Authorization", "Bearer tok-8f2a9c71");
    rec_headers_add(&s->x[1].req_headers, "Cookie", "sid=zz99zz99");
    rec_headers_add(&s->x[1].req_headers, "Accept-Encoding", "gzip");
    rec_headers_add(&s->x[1].req_headers, "X-User", "alice2024");
    rec_headers_add(&s->x[1].resp_headers, "X-Request-Id", "req-77a1b2");
    rec_headers_add(&s->x[1].resp_headers, "Set-Cookie", "csrftoken=Kx81mQz2; Path=/");
    fx_make(&s->x[2], "GET", "/checkout", 40, 50, 200, "text/html",
            "<form><input value=\"c5rf-val-0042\" type=\"hidden\" name=\"csrf\">"
            "<input type='hidden' name='step' value='3'></form>");
    fx_make(&s->x[3], "POST", "/api/order", 60, 70, 201, "application/json", "{}");
    fx_req_body(&s->x[3], "csrf=c5rf-val-0042&user=4711&step=3");
    rec_headers_add(&s->x[3].req_headers, "Authorization", "Bearer tok-8f2a9c71");
    rec_headers_add(&s->x[3].req_headers, "X-CSRFToken", "Kx81mQz2");
    fx_make(&s->x[4], "GET", "/api/users/4711?trace=req-77a1b2", 80, 90, 200, "application/json",
            "{\"next\": \"page-000001\"}");
    /* Same step as 4: it could not have used 4's answer. */
    fx_make(&s->x[5], "GET", "/api/feed?after=page-000001", 85, 95, 200, "application/json", "{}");
    size_t steps[N] = {0, 1, 2, 3, 4, 4};
    for (int i = 0; i < N; i++) {
        s->p[i] = &s->x[i];
        s->step[i] = steps[i];
        assert_int_equal(draft_from_exchange(&s->x[i], "http://shop.test", &s->r[i]), 0);
    }
}

static void destroy(sess_t *s)
{
    for (int i = 0; i < N; i++) {
        rec_exchange_fini(&s->x[i]);
        scn_request_fini(&s->r[i]);
    }
}

static const char *header(const scn_request_t *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

static const scn_extractor_t *extractor(const scn_request_t *r, const char *var)
{
    for (size_t i = 0; i < r->n_extractors; i++)
        if (strcmp(r->extractors[i].var, var) == 0)
            return &r->extractors[i];
    return NULL;
}

static void test_session(void **state)
{
    (void)state;
    static sess_t s;
    build(&s);
    char *buf = NULL;
    size_t len = 0, made = 0;
    FILE *rep = open_memstream(&buf, &len);
    assert_int_equal(corr_run(s.p, s.r, s.step, N, "class 'shop'", rep, &made, NULL), 0);
    fclose(rep);

    /* The token: JSON path on the login answer, bearer header later. */
    const scn_extractor_t *e = extractor(&s.r[0], "token");
    assert_non_null(e);
    assert_int_equal(e->kind, SCN_EXT_JSON);
    assert_string_equal(e->expr, "$.data.token");
    assert_string_equal(header(&s.r[1], "Authorization"), "Bearer {{token}}");
    assert_string_equal(header(&s.r[3], "Authorization"), "Bearer {{token}}");
    /* "alice2024" was sent before the answer returned it: not correlated. */
    assert_null(extractor(&s.r[0], "user"));
    assert_string_equal(header(&s.r[1], "X-User"), "alice2024");
    /* The cookie jar carries cookies: no recorded Cookie header remains. */
    assert_null(header(&s.r[1], "Cookie"));

    /* A hidden input, attributes in any order: a regex extractor. */
    e = extractor(&s.r[2], "csrf");
    assert_non_null(e);
    assert_int_equal(e->kind, SCN_EXT_REGEX);
    assert_int_equal(e->group, 1);
    assert_non_null(strstr(e->expr, "csrf"));
    /* A cookie value sent back in a header, a JSON id in a path and a body,
     * and a response header in a query. */
    e = extractor(&s.r[1], "csrftoken");
    assert_non_null(e);
    assert_int_equal(e->kind, SCN_EXT_COOKIE);
    assert_string_equal(e->expr, "csrftoken");
    assert_string_equal(header(&s.r[3], "X-CSRFToken"), "{{csrftoken}}");
    e = extractor(&s.r[1], "id");
    assert_non_null(e);
    assert_string_equal(e->expr, "$.id");
    e = extractor(&s.r[1], "x_request_id");
    assert_non_null(e);
    assert_int_equal(e->kind, SCN_EXT_HEADER);
    assert_string_equal(s.r[4].url, "/api/users/{{id}}?trace={{x_request_id}}");
    assert_int_equal(s.r[3].body_len, strlen("csrf={{csrf}}&user={{id}}&step=3"));
    assert_memory_equal(s.r[3].body, "csrf={{csrf}}&user={{id}}&step=3", s.r[3].body_len);
    /* The replay decodes what it extracts from: Accept-Encoding stays. */
    assert_non_null(header(&s.r[1], "Accept-Encoding"));
    /* '3' is too short to be an id; the parallel request keeps its literal. */
    assert_string_equal(s.r[5].url, "/api/feed?after=page-000001");
    assert_int_equal(s.r[4].n_extractors, 0);

    assert_int_equal(made, 5);
    assert_non_null(strstr(buf, "class 'shop': {{token}} <- json $.data.token of 'POST /api/login'"));
    assert_non_null(strstr(buf, "{{csrf}} <- regex"));
    size_t lines = 0;
    for (char *p = buf; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, made);
    free(buf);
    destroy(&s);
}

/* A long session of the kinds that made correlation quadratic (issue 21: one
 * client's 20 000 exchanges took 72 s): every request sends the login token,
 * every response repeats it with the same ETag and a unique request id, and
 * every 10th answer returns a cursor that the next request sends back. The
 * requests searched for values stay a small multiple of the session length
 * (the quadratic scan made n * values, here over 10^9, and ran for minutes). */
#define LONG_N 20000

static void test_long_session_is_linear(void **state)
{
    (void)state;
    rec_exchange_t *x = calloc(LONG_N, sizeof *x);
    const rec_exchange_t **p = calloc(LONG_N, sizeof *p);
    scn_request_t *r = calloc(LONG_N, sizeof *r);
    size_t *step = calloc(LONG_N, sizeof *step);
    assert_true(x && p && r && step);
    char target[128], body[256], rid[64];
    for (int i = 0; i < LONG_N; i++) {
        if (i == 0)
            snprintf(target, sizeof target, "/api/login");
        else if (i % 10 == 1 && i > 1)
            snprintf(target, sizeof target, "/api/items?page=%d&after=cur%dx%07d", i % 50, i - 1, (i - 1) * 7);
        else
            snprintf(target, sizeof target, "/api/items?page=%d", i % 50);
        if (i % 10 == 0 && i > 0)
            snprintf(body, sizeof body, "{\"token\": \"tok-5f3a9c0e71b2\", \"next\": \"cur%dx%07d\"}", i, i * 7);
        else
            snprintf(body, sizeof body, "{\"token\": \"tok-5f3a9c0e71b2\", \"count\": %d}", 100000 + i);
        fx_make(&x[i], i ? "GET" : "POST", target, i * 10, i * 10 + 5, 200, "application/json", body);
        if (i > 0)
            rec_headers_add(&x[i].req_headers, "Authorization", "Bearer tok-5f3a9c0e71b2");
        rec_headers_add(&x[i].resp_headers, "ETag", "\"65a-264\"");
        snprintf(rid, sizeof rid, "req-%d-%x", i, i * 40503);
        rec_headers_add(&x[i].resp_headers, "X-Request-Id", rid);
        p[i] = &x[i];
        step[i] = (size_t)i;
        assert_int_equal(draft_from_exchange(&x[i], "http://shop.test", &r[i]), 0);
    }
    size_t made = 0, checks = 0;
    assert_int_equal(corr_run(p, r, step, LONG_N, "class 'long'", NULL, &made, &checks), 0);
    /* The token once, then one variable per cursor. */
    assert_int_equal(made, 1 + (LONG_N - 1) / 10 - ((LONG_N - 1) % 10 == 0));
    assert_string_equal(r[LONG_N - 1].headers[0].value, "Bearer {{token}}");
    assert_non_null(strstr(r[21].url, "after={{next_2}}"));
    assert_true(checks <= 4 * (size_t)LONG_N);
    for (int i = 0; i < LONG_N; i++) {
        rec_exchange_fini(&x[i]);
        scn_request_fini(&r[i]);
    }
    free(x);
    free(p);
    free(r);
    free(step);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session),
        cmocka_unit_test(test_long_session_is_linear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
