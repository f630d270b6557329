/* Tests of convert/cvscript.c: request(req, ctx) runs on every request in
 * order with where it stands (class, phase, step, index, parallel); it
 * renames, rewrites URLs, edits header arrays and bodies; false leaves a
 * request out, and a step left empty goes (a custom step stays); an error,
 * a bad field or a scenario made invalid fail with the request named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cvscript.h"
#include "luart.h"
#include "view.h"

static char *write_tmp(const char *text, const char *suffix)
{
    char *path;
    assert_true(asprintf(&path, "/tmp/aiotest-cvscript-XXXXXX%s", suffix) > 0);
    int fd = mkstemps(path, (int)strlen(suffix));
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static const char view[] =
    "{\"format\": \"aiotest-scenario\", \"version\": [1, 0],\n"
    " \"hosts\": [{\"base_url\": \"http://127.0.0.1:8080\"}],\n"
    " \"classes\": [{\"name\": \"c\", \"weight\": 1, \"wait\": {\"kind\": \"none\"},\n"
    "   \"on_start\": [{\"requests\": [{\"name\": \"login\", \"method\": \"POST\", \"url\": \"/login\",\n"
    "                 \"headers\": [[\"Content-Type\", \"application/json\"]], \"body\": \"{\\\"u\\\": 1}\"}]}],\n"
    "   \"tasks\": [\n"
    "     {\"parallel\": true, \"requests\": [{\"method\": \"GET\", \"url\": \"/static/a.js\"},\n"
    "                                     {\"method\": \"GET\", \"url\": \"/api/v1/x\"}]},\n"
    "     {\"requests\": [{\"method\": \"GET\", \"url\": \"/health\"}]},\n"
    "     {\"lua\": \"custom\"}]}]}\n";

static scn_scenario_t *load_view(void)
{
    char *json = write_tmp(view, ".json"), *mp = write_tmp("", ".mp");
    mp_error_t e;
    if (view_json_file_to_mp(json, mp, &e) != 0)
        fail_msg("%s", e.msg);
    scn_scenario_t *s = NULL;
    if (scn_load(mp, &s, &e) != 0)
        fail_msg("%s", e.msg);
    unlink(json);
    unlink(mp);
    free(json);
    free(mp);
    return s;
}

static void test_apply(void **state)
{
    (void)state;
    if (!lrt_available(NULL))
        skip();
    char *lua = write_tmp(
        "seen = {}\n"
        "function request(req, ctx)\n"
        "  seen[#seen + 1] = string.format('%s/%s/%d/%d/%s', ctx.class, ctx.phase, ctx.step, ctx.index,\n"
        "                                  tostring(ctx.parallel))\n"
        "  if req.url:find('^/static/') or req.url == '/health' then return false end\n"
        "  req.url = req.url:gsub('^/api/v1/', '/api/v2/')\n"
        "  if req.method == 'POST' then\n"
        "    req.name = 'login!'\n"
        "    req.body = req.body:gsub('1', '{{user_id}}')\n"
        "    req.headers[1][2] = 'application/json; charset=utf-8'\n"
        "    table.insert(req.headers, {'X-Key', '{{key}}'})\n"
        "  end\n"
        "end\n"
        "function check() return table.concat(seen, ' ') end\n", ".lua");
    char err[512];
    cvscr_t *c = cvscr_new(lua, err, sizeof err);
    if (!c)
        fail_msg("%s", err);
    scn_scenario_t *s = load_view();
    cvscr_stats_t st;
    if (cvscr_apply(c, s, &st, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(st.seen, 4);
    assert_int_equal(st.dropped, 2);
    assert_int_equal(st.steps_dropped, 1); /* the health step; the custom step stays */
    const scn_class_t *k = &s->classes[0];
    const scn_request_t *login = &k->on_start.v[0].requests[0];
    assert_string_equal(login->name, "login!");
    assert_int_equal(login->n_headers, 2);
    assert_string_equal(login->headers[0].value, "application/json; charset=utf-8");
    assert_string_equal(login->headers[1].name, "X-Key");
    assert_int_equal(login->body_len, strlen("{\"u\": {{user_id}}}"));
    assert_memory_equal(login->body, "{\"u\": {{user_id}}}", login->body_len);
    assert_int_equal(k->tasks.n, 2);
    assert_int_equal(k->tasks.v[0].n_requests, 1);
    assert_string_equal(k->tasks.v[0].requests[0].url, "/api/v2/x");
    assert_non_null(k->tasks.v[1].lua);
    scn_free(s);
    cvscr_free(c);
    unlink(lua);
    free(lua);
}

static void test_errors(void **state)
{
    (void)state;
    if (!lrt_available(NULL))
        skip();
    const char *scripts[] = {
        "function request(req, ctx) if ctx.step == 2 then error('no') end end\n",
        "function request(req, ctx) req.headers = {{'a'}} end\n",
        "function request(req, ctx) req.method = 'A B' end\n",
        "function request(req, ctx) req.url = '{{unclosed' end\n",
    };
    const char *want[] = {"class 'c' tasks step 2 request 1 (GET /health): ", "req.headers must be",
                          "the scenario after the hook", "the scenario after the hook"};
    for (size_t i = 0; i < 4; i++) {
        char *lua = write_tmp(scripts[i], ".lua"), err[512];
        cvscr_t *c = cvscr_new(lua, err, sizeof err);
        assert_non_null(c);
        scn_scenario_t *s = load_view();
        cvscr_stats_t st;
        assert_int_equal(cvscr_apply(c, s, &st, err, sizeof err), -1);
        if (!strstr(err, want[i]))
            fail_msg("script %zu: '%s' lacks '%s'", i, err, want[i]);
        scn_free(s);
        cvscr_free(c);
        unlink(lua);
        free(lua);
    }
    char *lua = write_tmp("x = 1\n", ".lua"), err[512];
    assert_null(cvscr_new(lua, err, sizeof err));
    assert_non_null(strstr(err, "defines no function request"));
    unlink(lua);
    free(lua);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apply), cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
