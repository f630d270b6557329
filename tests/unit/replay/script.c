/* Tests of replay/script.c: load errors name FILE:LINE, setup sees its state,
 * the request hook rewrites method/URL/headers/body (headers keep their order,
 * new ones follow) and refuses what would break the wire, the response hook
 * fails with a reason or on an error, user.vars reaches the template
 * variables, a freed user's table no longer reaches them, done() decides the
 * exit status, and malformed scripts fail cleanly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "script.h"
#include "stats.h"
#include "template.h"

static char *write_lua(const char *text)
{
    char *path = strdup("/tmp/aiotest-script-XXXXXX.lua");
    int fd = mkstemps(path, 4);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static scr_t *load(const char *text, char *err, size_t errlen, char **path)
{
    *path = write_lua(text);
    scr_t *s = scr_new(*path, NULL, 0, err, errlen);
    return s;
}

static void skip_without_lua(void)
{
    if (!scr_available(NULL))
        skip();
}

static void test_syntax_error_names_line(void **state)
{
    (void)state;
    skip_without_lua();
    char err[512], *path;
    scr_t *s = load("x = 1\nfunction f(\n  return 2\nend\n", err, sizeof err, &path);
    assert_null(s);
    char want[300];
    snprintf(want, sizeof want, "%s:3:", path);
    if (!strstr(err, want))
        fail_msg("'%s' does not name %s", err, want);
    unlink(path);
    free(path);
    /* An error raised by the top level also names its line. */
    s = load("local a = 1\nerror('no')\n", err, sizeof err, &path);
    assert_null(s);
    snprintf(want, sizeof want, "%s:2: no", path);
    assert_non_null(strstr(err, want));
    unlink(path);
    free(path);
    assert_null(scr_new("/nonexistent/x.lua", NULL, 0, err, sizeof err));
    assert_non_null(strstr(err, "cannot open"));
}

static void test_malformed_corpus(void **state)
{
    (void)state;
    skip_without_lua();
    const char *bad[] = {"\x1bLua", "(", "function", "end end", "local = 3", "return return",
                         "x = {{{{{{{{{", "\"unterminated", "--[[ open comment", "goto nowhere",
                         "\xff\xfe\x00\x01", "a.b.c = = 1", "setup = 1 +"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char err[512], *path;
        scr_t *s = load(bad[i], err, sizeof err, &path);
        if (s)
            fail_msg("script %zu loaded", i);
        assert_non_null(strstr(err, "--script"));
        unlink(path);
        free(path);
    }
}

typedef struct fx {
    scr_t *s;
    char *path;
    tpl_symtab_t *st;
    tpl_vars_t *vars;
    scr_user_t u;
    int key;
    int ref;       /* the user's table ref, as user.c keeps it */
} fx_t;

static fx_t *fx_new(const char *text)
{
    fx_t *f = calloc(1, sizeof *f);
    char err[512];
    f->s = load(text, err, sizeof err, &f->path);
    if (!f->s)
        fail_msg("%s", err);
    f->st = tpl_symtab_new();
    assert_int_equal(tpl_symtab_intern(f->st, "token", 5), 0);
    f->vars = tpl_vars_new(tpl_symtab_count(f->st));
    f->u = (scr_user_t){&f->key, 7, "buyer", f->vars, f->st, &f->ref};
    return f;
}

static void fx_free(fx_t *f)
{
    scr_free(f->s);
    tpl_vars_free(f->vars);
    tpl_symtab_free(f->st);
    unlink(f->path);
    free(f->path);
    free(f);
}

static scr_req_t view(const scr_header_t *h, size_t n)
{
    return (scr_req_t){.method = "POST", .method_len = 4, .path = "/a", .path_len = 2,
                        .authority = "x", .authority_len = 1, .hdrs = h, .n_hdrs = n,
                        .body = "{}", .body_len = 2, .has_body = true,
                        .h1_bytes = "prebuilt", .h1_len = 8, .h1_head_len = 6};
}

static void test_no_hooks_cost_nothing(void **state)
{
    (void)state;
    skip_without_lua();
    fx_t *f = fx_new("x = 1\n");
    for (int h = 0; h < SCR__COUNT; h++)
        assert_false(scr_has(f->s, (scr_hook_t)h));
    scr_header_t h[] = {{"A", 1, "1", 1}};
    scr_req_t rv = view(h, 1);
    assert_int_equal(scr_request(f->s, &f->u, "r", &rv), 0);
    assert_ptr_equal(rv.h1_bytes, "prebuilt");
    assert_int_equal(scr_done(f->s, NULL, NULL, 1.0, 4), 4);
    fx_free(f);
}

static void test_request_rewrites(void **state)
{
    (void)state;
    skip_without_lua();
    fx_t *f = fx_new("local t\n"
                     "function setup(run) t = run.thread .. '/' .. run.threads end\n"
                     "function request(user, req)\n"
                     "  if req.name == 'skip' then return false end\n"
                     "  if req.name == 'crlf' then req.headers['X'] = 'a\\r\\nb' return end\n"
                     "  if req.name == 'url' then req.url = 'http://elsewhere/' return end\n"
                     "  req.method = 'PUT'\n"
                     "  req.url = req.url .. '?u=' .. user.id\n"
                     "  req.headers['B'] = 'changed'\n"
                     "  req.headers['A'] = nil\n"
                     "  req.headers['X-Thread'] = t\n"
                     "  req.body = req.body .. user.class\n"
                     "  if req.name == 'dup' then req.body = req.headers['D'] end\n"
                     "end\n");
    char err[256];
    assert_int_equal(scr_setup(f->s, 1, 2, err, sizeof err), 0);
    assert_true(scr_has(f->s, SCR_REQUEST));
    scr_header_t h[] = {{"A", 1, "1", 1}, {"B", 1, "2", 1}, {"C", 1, "3", 1}};
    scr_req_t rv = view(h, 3);
    assert_int_equal(scr_request(f->s, &f->u, "r", &rv), 0);
    assert_int_equal(rv.method_len, 3);
    assert_memory_equal(rv.method, "PUT", 3);
    assert_int_equal(rv.path_len, 6);
    assert_memory_equal(rv.path, "/a?u=7", 6);
    assert_int_equal(rv.n_hdrs, 3);
    /* The request's own headers in their order (A dropped), then the new one. */
    assert_memory_equal(rv.hdrs[0].name, "B", 1);
    assert_int_equal(rv.hdrs[0].value_len, 7);
    assert_memory_equal(rv.hdrs[0].value, "changed", 7);
    assert_memory_equal(rv.hdrs[1].name, "C", 1);
    assert_memory_equal(rv.hdrs[2].name, "X-Thread", 8);
    assert_int_equal(rv.hdrs[2].value_len, 3);
    assert_memory_equal(rv.hdrs[2].value, "1/2", 3);
    assert_int_equal(rv.body_len, 7);
    assert_memory_equal(rv.body, "{}buyer", 7);
    assert_null(rv.h1_bytes);
    assert_memory_equal(rv.authority, "x", 1);

    /* A name given twice reaches the hook (and the wire) as one joined field. */
    scr_header_t hd[] = {{"D", 1, "x", 1}, {"E", 1, "y", 1}, {"D", 1, "z", 1}};
    scr_req_t rvd = view(hd, 3);
    assert_int_equal(scr_request(f->s, &f->u, "dup", &rvd), 0);
    assert_int_equal(rvd.n_hdrs, 4); /* D, E, then B and X-Thread added */
    assert_memory_equal(rvd.hdrs[0].name, "D", 1);
    assert_int_equal(rvd.hdrs[0].value_len, 4);
    assert_memory_equal(rvd.hdrs[0].value, "x, z", 4);
    assert_memory_equal(rvd.hdrs[1].name, "E", 1);
    assert_int_equal(rvd.body_len, 4);
    scr_req_t rv2 = view(h, 3);
    assert_int_equal(scr_request(f->s, &f->u, "skip", &rv2), -STATS_FAIL_SCRIPT);
    rv2 = view(h, 3);
    assert_int_equal(scr_request(f->s, &f->u, "crlf", &rv2), -STATS_FAIL_SCRIPT);
    rv2 = view(h, 3);
    assert_int_equal(scr_request(f->s, &f->u, "url", &rv2), -STATS_FAIL_SCRIPT);
    fx_free(f);
}

static void test_response_and_vars(void **state)
{
    (void)state;
    skip_without_lua();
    fx_t *f = fx_new("kept = nil\n"
                     "function response(user, req, resp)\n"
                     "  kept = resp\n"
                     "  if req.name == 'boom' then error('boom') end\n"
                     "  if req.name == 'late' then return resp.status end\n"
                     "  local d, e = resp:json()\n"
                     "  if not d then return false, e end\n"
                     "  user.vars.token = d.token\n"
                     "  user.vars.other = 'lua only'\n"
                     "  user.n = (user.n or 0) + 1\n"
                     "  if resp:header('x-id') ~= '1' or resp.headers['x-id'] ~= '1' then\n"
                     "    return false, 'header' end\n"
                     "  if d.id ~= 123456 then return false, 'id != 123456' end\n"
                     "  if user.n > 1 and user.vars.other ~= 'lua only' then error('lost') end\n"
                     "end\n");
    assert_int_equal(scr_user_memory(f->s, &f->key), 0); /* no table before a hook ran */
    resp_header_t rh[] = {{"X-Id", 4, "1", 1}};
    resp_view_t r = {.status = 200, .headers = rh, .n_headers = 1,
                     .body = "{\"id\":123456,\"token\":\"abc\"}", .body_len = 27};
    assert_int_equal(scr_response(f->s, &f->u, "ok", "GET", "/", &r, STATS_OK), STATS_OK);
    size_t um = scr_user_memory(f->s, &f->key);
    if (um < 64 || um > 4096)
        fail_msg("user table: %zu bytes", um);
    size_t len;
    const char *tok = tpl_vars_get(f->vars, 0, &len);
    assert_non_null(tok);
    assert_int_equal(len, 3);
    assert_memory_equal(tok, "abc", 3);
    /* The user's table lives between calls (user.n, vars.other). */
    assert_int_equal(scr_response(f->s, &f->u, "ok", "GET", "/", &r, STATS_FAIL_HTTP),
                     STATS_FAIL_HTTP);
    resp_view_t r2 = r;
    r2.body = "{\"id\":7,\"token\":\"x\"}";
    r2.body_len = strlen(r2.body);
    assert_int_equal(scr_response(f->s, &f->u, "ok", "GET", "/", &r2, STATS_OK), STATS_FAIL_SCRIPT);
    r2.body = "not json";
    r2.body_len = 8;
    assert_int_equal(scr_response(f->s, &f->u, "ok", "GET", "/", &r2, STATS_OK), STATS_FAIL_SCRIPT);
    assert_int_equal(scr_response(f->s, &f->u, "boom", "GET", "/", &r, STATS_OK), STATS_FAIL_SCRIPT);
    /* A number returned is not a verdict. */
    assert_int_equal(scr_response(f->s, &f->u, "late", "GET", "/", &r, STATS_OK), STATS_OK);
    /* After the user is freed its table no longer reaches the variables. */
    scr_user_free(f->s, &f->u);
    assert_int_equal(f->ref, 0);
    tpl_vars_set(f->vars, 0, "zzz", 3);
    assert_int_equal(scr_response(f->s, &f->u, "ok", "GET", "/", &r, STATS_OK), STATS_OK);
    tok = tpl_vars_get(f->vars, 0, &len);
    assert_memory_equal(tok, "abc", 3); /* a new table, set again */
    assert_true(scr_memory(f->s) > 0);
    fx_free(f);
}

/* A hook that never returns is cut by the instruction limit, counted as a
 * script failure with the reason, and the state stays usable. */
static void test_busy_loop_is_cut(void **state)
{
    (void)state;
    skip_without_lua();
    fx_t *f = fx_new("function response(user, req, resp)\n"
                     "  if req.name == 'loop' then while true do end end\n"
                     "  return false, 'fine'\n"
                     "end\n"
                     "function step(user) local i = 0 while true do i = i + 1 end end\n");
    resp_view_t r = {.status = 200};
    assert_int_equal(scr_response(f->s, &f->u, "loop", "GET", "/", &r, STATS_OK), STATS_FAIL_SCRIPT);
    assert_non_null(strstr(scr_why(f->s), "cut after"));
    assert_int_equal(scr_response(f->s, &f->u, "x", "GET", "/", &r, STATS_OK), STATS_FAIL_SCRIPT);
    assert_string_equal(scr_why(f->s), "fine");
    scr_step_t a;
    scr_step_begin(f->s, &f->u, "step", &a);
    assert_int_equal(a.kind, SCR_STEP_ERROR);
    assert_non_null(strstr(a.error, "cut after"));
    fx_free(f);
}

/* A custom step yields a request, gets its response, sleeps, ends; its
 * request's method, headers and body fill the rendered view. */
static void test_custom_step(void **state)
{
    (void)state;
    skip_without_lua();
    fx_t *f = fx_new("seen = nil\n"
                     "function step(user)\n"
                     "  local r = user:request{method = 'PUT', url = '/x/' .. user.id,\n"
                     "                         headers = {A = '1'}, body = 'b'}\n"
                     "  seen = r.status .. ' ' .. r:json().v .. ' ' .. tostring(r.fail)\n"
                     "  user:sleep(0.25)\n"
                     "  user.vars.token = seen\n"
                     "end\n"
                     "function response(user, req, resp) user:sleep(1) end\n");
    scr_step_t a;
    scr_step_begin(f->s, &f->u, "step", &a);
    assert_int_equal(a.kind, SCR_STEP_REQUEST);
    assert_string_equal(a.url, "/x/7");
    scr_req_t rv = {.method = "LUA", .method_len = 3, .path = "/x/7", .path_len = 4,
                     .authority = "h", .authority_len = 1};
    assert_int_equal(scr_step_fill(f->s, &f->u, -1, &rv), 0);
    assert_memory_equal(rv.method, "PUT", 3);
    assert_int_equal(rv.n_hdrs, 1);
    assert_memory_equal(rv.hdrs[0].name, "A", 1);
    assert_int_equal(rv.body_len, 1);
    assert_true(rv.has_body);
    assert_memory_equal(rv.path, "/x/7", 4);
    resp_view_t r = {.status = 201, .body = "{\"v\":5}", .body_len = 7};
    scr_step_resume(f->s, &f->u, &r, STATS_FAIL_HTTP, &a);
    assert_int_equal(a.kind, SCR_STEP_SLEEP);
    assert_int_equal(a.sleep_us, 250000);
    scr_step_resume(f->s, &f->u, NULL, STATS_OK, &a);
    assert_int_equal(a.kind, SCR_STEP_DONE);
    size_t len;
    const char *v = tpl_vars_get(f->vars, 0, &len);
    assert_int_equal(len, 10);
    assert_memory_equal(v, "201 5 http", 10);
    /* Nothing left to resume; user:sleep outside a step is an error. */
    scr_step_resume(f->s, &f->u, NULL, STATS_OK, &a);
    assert_int_equal(a.kind, SCR_STEP_ERROR);
    assert_int_equal(scr_response(f->s, &f->u, "x", "GET", "/", &r, STATS_OK), STATS_FAIL_SCRIPT);
    assert_non_null(strstr(scr_why(f->s), "only inside a custom step"));
    /* Aborted in the middle: the next begin starts afresh. */
    scr_step_begin(f->s, &f->u, "step", &a);
    assert_int_equal(a.kind, SCR_STEP_REQUEST);
    scr_step_abort(f->s, &f->u);
    scr_step_resume(f->s, &f->u, NULL, STATS_OK, &a);
    assert_int_equal(a.kind, SCR_STEP_ERROR);
    fx_free(f);
}

/* user:parallel yields all its requests at once; results come back in
 * request order whatever order they ended in. */
static void test_parallel(void **state)
{
    (void)state;
    skip_without_lua();
    fx_t *f = fx_new("function step(user)\n"
                     "  local rs = user:parallel{{url = '/a'}, {method = 'POST', url = '/b', body = 'x'}}\n"
                     "  user.vars.token = rs[1].status .. ' ' .. rs[2].status .. ' ' .. tostring(rs[2].fail)\n"
                     "end\n"
                     "function bad(user) user:parallel{} end\n");
    scr_step_t a;
    scr_step_begin(f->s, &f->u, "step", &a);
    assert_int_equal(a.kind, SCR_STEP_PARALLEL);
    assert_int_equal(a.n, 2);
    assert_string_equal(scr_step_url(f->s, &f->u, 0), "/a");
    assert_string_equal(scr_step_url(f->s, &f->u, 1), "/b");
    assert_null(scr_step_url(f->s, &f->u, 2));
    scr_req_t rv = {.method = "LUA", .method_len = 3, .path = "/b", .path_len = 2};
    assert_int_equal(scr_step_fill(f->s, &f->u, 1, &rv), 0);
    assert_memory_equal(rv.method, "POST", 4);
    assert_int_equal(rv.body_len, 1);
    resp_view_t r2 = {.status = 503}, r1 = {.status = 200};
    scr_step_result(f->s, &f->u, 1, &r2, STATS_FAIL_HTTP); /* the second ends first */
    scr_step_result(f->s, &f->u, 0, &r1, STATS_OK);
    scr_step_resume(f->s, &f->u, NULL, STATS_OK, &a);
    assert_int_equal(a.kind, SCR_STEP_DONE);
    size_t len;
    const char *v = tpl_vars_get(f->vars, 0, &len);
    assert_int_equal(len, 12);
    assert_memory_equal(v, "200 503 http", 12);
    scr_step_begin(f->s, &f->u, "bad", &a);
    assert_int_equal(a.kind, SCR_STEP_ERROR);
    assert_non_null(strstr(a.error, "1 to 64"));
    fx_free(f);
}

static void test_done_decides_exit(void **state)
{
    (void)state;
    skip_without_lua();
    stats_names_t *names = stats_names_new();
    stats_names_intern(names, "GET", "a");
    stats_t *st = stats_new(names);
    stats_record(st, 0, STATS_PROTO_H1, 200, STATS_OK, 1000, 10, 20);
    stats_record(st, 0, STATS_PROTO_H1, 200, STATS_FAIL_SCRIPT, 3000, 10, 20);
    fx_t *f = fx_new("function done(s)\n"
                     "  if s.requests ~= 2 or s.entries[1].name ~= 'a' then return 9 end\n"
                     "  if s.failures_by.script ~= 1 or s.entries[1].failures_by.script ~= 1 then return 8 end\n"
                     "  if s.exit_code ~= 1 then return 7 end\n"
                     "  if s.entries[1].max_ms < 2.9 then return 6 end\n"
                     "  return 42\n"
                     "end\n");
    assert_int_equal(scr_done(f->s, st, names, 2.0, 1), 42);
    fx_free(f);
    f = fx_new("function done(s) return 1.5 end\n");
    assert_int_equal(scr_done(f->s, st, names, 2.0, 1), 1);
    fx_free(f);
    f = fx_new("function done(s) error('x') end\n");
    assert_int_equal(scr_done(f->s, st, names, 2.0, 0), 0);
    fx_free(f);
    stats_free(st);
    stats_names_free(names);
}

/* metric.counter / metric.histogram from hooks: a handle per series (cached,
 * labels in any order, numbers and booleans as strings), updates land in the
 * state's own writer; misuse is a script error naming the metric; without an
 * smet_t metric.* raises. */
static void test_metrics(void **state)
{
    (void)state;
    skip_without_lua();
    char *path = write_lua(
        "local hits = metric.counter('hits')\n"
        "function response(user, req, resp)\n"
        "  hits:inc()\n"
        "  local a = metric.counter('status', {code = resp.status, ok = resp.status < 400})\n"
        "  local b = metric.counter('status', {ok = resp.status < 400, code = resp.status})\n"
        "  if a ~= b then error('not the same handle') end\n"
        "  a:inc(2)\n"
        "  metric.histogram('size', nil, {10, 100}):observe(#resp.body)\n"
        "  if req.name == 'misuse' then metric.histogram('hits'):observe(1) end\n"
        "  if req.name == 'neg' then hits:inc(-1) end\n"
        "  if req.name == 'badlabel' then metric.counter('x', {['a-b'] = 1}) end\n"
        "end\n");
    char err[512];
    smet_t *m = smet_new(3);
    scr_t *s = scr_new(path, m, 1, err, sizeof err);
    if (!s)
        fail_msg("%s", err);
    int key;
    scr_user_t u = {&key, 1, "c", NULL, NULL, NULL};
    resp_view_t r = {.status = 200, .body = "0123456789abcdef", .body_len = 16};
    for (int i = 0; i < 5; i++)
        assert_int_equal(scr_response(s, &u, "ok", "GET", "/", &r, STATS_OK), STATS_OK);
    assert_int_equal(scr_response(s, &u, "misuse", "GET", "/", &r, STATS_OK), STATS_FAIL_SCRIPT);
    assert_non_null(strstr(scr_why(s), "metric hits is a counter, not a histogram"));
    assert_int_equal(scr_response(s, &u, "neg", "GET", "/", &r, STATS_OK), STATS_FAIL_SCRIPT);
    assert_non_null(strstr(scr_why(s), "counter:inc"));
    assert_int_equal(scr_response(s, &u, "badlabel", "GET", "/", &r, STATS_OK), STATS_FAIL_SCRIPT);
    assert_non_null(strstr(scr_why(s), "metric x: label name 'a-b'"));
    assert_int_equal(smet_metrics(m), 3);
    smet_info_t in;
    smet_values_t v;
    double b[3];
    smet_metric(m, 0, &in);
    assert_string_equal(in.name, "hits");
    smet_read(m, 0, 0, &v, NULL);
    assert_true(v.value == 8); /* 5 + misuse + neg + badlabel: each inc'd before failing */
    smet_metric(m, 1, &in);
    assert_string_equal(in.name, "status");
    assert_int_equal(in.n_series, 1);
    smet_read(m, 1, 0, &v, NULL);
    assert_true(v.value == 16);
    assert_string_equal(v.labels[0].name, "code");
    assert_string_equal(v.labels[0].value, "200");
    assert_string_equal(v.labels[1].value, "true");
    smet_read(m, 2, 0, &v, b);
    assert_true(b[0] == 0 && b[1] == 8 && b[2] == 8 && v.sum == 128);
    /* Only writer 1 was written. */
    assert_true(atomic_load(&smet_slots(m, 0)[1]) == 0 && atomic_load(&smet_slots(m, 1)[1]) == 8);
    scr_free(s);
    smet_free(m);
    /* No smet_t: metric.* raises at load. */
    assert_null(scr_new(path, NULL, 0, err, sizeof err));
    assert_non_null(strstr(err, "no metrics"));
    unlink(path);
    free(path);
}

/* A request hook that changes nothing leaves the prebuilt request bytes in
 * place (no rebuild, nothing re-serialized); one that changes the URL but never
 * reads req.headers keeps the request's own headers; one that reads them and
 * sets req.headers = nil sends none; the reused req table carries nothing
 * from one call to the next. */
static void test_request_untouched(void **state)
{
    (void)state;
    skip_without_lua();
    fx_t *f = fx_new("function request(user, req)\n"
                     "  if req.foo then error('req kept a field of the last call') end\n"
                     "  if req.name == 'look' then local n = 0 for k in pairs(req.headers) do n = n + 1 end\n"
                     "    if n ~= 2 then error('headers: ' .. n) end end\n"
                     "  if req.name == 'url' then req.url = '/b' end\n"
                     "  if req.name == 'nohdr' then local _ = req.headers.A req.headers = nil end\n"
                     "  if req.name == 'body' and req.body ~= '{}' then error('body') end\n"
                     "  if req.name == 'same' then req.url = req.url .. '' req.body = '{}' end\n"
                     "  if req.name == 'nobody' then req.body = nil end\n"
                     "  req.foo = 1\n"
                     "end\n");
    scr_header_t h[] = {{"A", 1, "1", 1}, {"B", 1, "2", 1}};
    const char *names[] = {"plain", "body", "same"};
    for (size_t i = 0; i < 3; i++) {
        scr_req_t rv = view(h, 2);
        if (scr_request(f->s, &f->u, names[i], &rv) != 0) fail_msg("%s: %s", names[i], scr_why(f->s));
        if (rv.h1_bytes == NULL)
            fail_msg("%s: rebuilt although nothing changed", names[i]);
        assert_ptr_equal(rv.hdrs, h);
    }
    scr_req_t rv = view(h, 2);
    assert_int_equal(scr_request(f->s, &f->u, "look", &rv), 0);
    assert_int_equal(rv.n_hdrs, 2);
    rv = view(h, 2);
    assert_int_equal(scr_request(f->s, &f->u, "url", &rv), 0);
    assert_null(rv.h1_bytes);
    assert_int_equal(rv.path_len, 2);
    assert_memory_equal(rv.path, "/b", 2);
    assert_int_equal(rv.n_hdrs, 2);
    assert_memory_equal(rv.hdrs[1].name, "B", 1);
    assert_memory_equal(rv.hdrs[1].value, "2", 1);
    rv = view(h, 2);
    assert_int_equal(scr_request(f->s, &f->u, "nohdr", &rv), 0);
    assert_int_equal(rv.n_hdrs, 0);
    /* A field set to nil without being read first is seen as set. */
    rv = view(h, 2);
    assert_int_equal(scr_request(f->s, &f->u, "nobody", &rv), 0);
    assert_false(rv.has_body);
    assert_int_equal(rv.body_len, 0);
    assert_null(rv.h1_bytes);
    fx_free(f);
    /* response()'s req is read only (one table, reused). */
    fx_t *g = fx_new("function response(user, req, resp)\n"
                     "  if req.name ~= 'n' or req.method ~= 'GET' or req.url ~= '/u' then error('fields') end\n"
                     "  req.mark = true\n"
                     "end\n");
    resp_view_t r = {.status = 200};
    assert_int_equal(scr_response(g->s, &g->u, "n", "GET", "/u", &r, STATS_OK), STATS_FAIL_SCRIPT);
    assert_non_null(strstr(scr_why(g->s), "req is read only"));
    fx_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syntax_error_names_line),
        cmocka_unit_test(test_malformed_corpus),
        cmocka_unit_test(test_no_hooks_cost_nothing),
        cmocka_unit_test(test_request_rewrites),
        cmocka_unit_test(test_response_and_vars),
        cmocka_unit_test(test_busy_loop_is_cut),
        cmocka_unit_test(test_custom_step),
        cmocka_unit_test(test_parallel),
        cmocka_unit_test(test_done_decides_exit),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_request_untouched),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
