/* Unit tests of scenarios/scenario.c, scn_codec.c, scn_validate.c and
 * scn_syntax.c: scenario files saved, loaded, and refused with a message
 * that names the place. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixtures.h"
#include "mpwrite.h"
#include "recording.h"
#include "scenario.h"

static void test_roundtrip_every_field(void **state)
{
    (void)state;
    scn_scenario_t *s = fx_scenario();
    char *path = fx_tmp(".scn.mp");
    mp_error_t err;
    assert_int_equal(scn_save(path, s, &err), 0);
    scn_scenario_t *back;
    assert_int_equal(scn_load(path, &back, &err), 0);
    fx_assert_scenario_equal(s, back);
    assert_int_equal(mp_file_kind(path, &err), MP_KIND_SCENARIO);
    /* Saving what was loaded gives the same bytes. */
    char *path2 = fx_tmp(".scn.mp");
    assert_int_equal(scn_save(path2, back, &err), 0);
    size_t n1, n2;
    uint8_t *b1 = fx_read(path, &n1), *b2 = fx_read(path2, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(b1, b2, n1);
    free(b1);
    free(b2);
    scn_free(back);
    scn_free(s);
    unlink(path);
    unlink(path2);
    free(path);
    free(path2);
}

static void replace(char **field, const char *value)
{
    free(*field);
    *field = value ? strdup(value) : NULL;
}

/* Applies one mutation to a fresh sample scenario and checks that
 * scn_validate refuses it with exactly this message. */
static void expect_invalid(void (*mutate)(scn_scenario_t *), const char *want, long record)
{
    scn_scenario_t *s = fx_scenario();
    mp_error_t err;
    assert_int_equal(scn_validate(s, &err), 0);
    mutate(s);
    assert_int_equal(scn_validate(s, &err), MP_ERR_INVALID);
    if (strcmp(err.msg, want) != 0)
        fail_msg("got \"%s\"\nwant \"%s\"", err.msg, want);
    assert_int_equal(err.record, record);
    /* scn_save refuses it too, naming the file. */
    char *path = fx_tmp(".scn.mp");
    assert_int_equal(scn_save(path, s, &err), MP_ERR_INVALID);
    assert_non_null(strstr(err.msg, want));
    assert_int_equal(access(path, F_OK), -1);
    free(path);
    scn_free(s);
}

static scn_request_t *req(scn_scenario_t *s, int cls, int step, int r)
{
    return &s->classes[cls].tasks.v[step].requests[r];
}

static void m_url(scn_scenario_t *s) { replace(&req(s, 0, 0, 0)->url, "/a{{b"); }
static void m_url_rel(scn_scenario_t *s) { replace(&req(s, 0, 0, 0)->url, "api/x"); }
static void m_asterisk_get(scn_scenario_t *s) { replace(&req(s, 0, 0, 0)->url, "*"); }
static void m_asterisk_path(scn_scenario_t *s) { replace(&req(s, 0, 0, 0)->url, "http://a*"); }
static void m_gen(scn_scenario_t *s) { replace(&req(s, 1, 1, 0)->headers[1].value, "{{random_int 5 1}}"); }
static void m_now_offset(scn_scenario_t *s) { replace(&req(s, 1, 1, 0)->headers[0].value, "{{now_s 3600}}"); }
static void m_unknown_gen(scn_scenario_t *s) { replace(&req(s, 1, 1, 0)->headers[0].value, "x{{foo bar}}"); }
static void m_varname(scn_scenario_t *s) { replace(&req(s, 1, 1, 0)->headers[0].value, "{{9x}}"); }
static void m_empty(scn_scenario_t *s) { replace(&req(s, 1, 1, 0)->headers[0].value, "{{ }}"); }
static void m_nested(scn_scenario_t *s) { replace(&req(s, 1, 1, 0)->headers[0].value, "{{a{{b}}"); }
static void m_regex(scn_scenario_t *s) { replace(&req(s, 1, 1, 0)->extractors[3].expr, "(a"); }
static void m_group(scn_scenario_t *s) { req(s, 1, 1, 0)->extractors[3].group = 2; }
static void m_jpath(scn_scenario_t *s) { replace(&req(s, 1, 1, 0)->extractors[0].expr, "$..a"); }
static void m_jpath2(scn_scenario_t *s) { replace(&req(s, 1, 1, 0)->extractors[0].expr, "$.a[x]"); }
static void m_extvar(scn_scenario_t *s) { replace(&req(s, 1, 1, 0)->extractors[1].var, "a b"); }
static void m_weight(scn_scenario_t *s) { s->classes[0].weight = 0; }
static void m_wait(scn_scenario_t *s) { s->classes[3].wait.min_us = 9000; }
static void m_dup(scn_scenario_t *s) { replace(&s->classes[2].name, "browse"); }
static void m_noclass(scn_scenario_t *s)
{
    for (size_t i = 0; i < s->n_classes; i++)
        scn_class_fini(&s->classes[i]);
    s->n_classes = 0;
}
static void m_notasks(scn_scenario_t *s) { scn_steps_fini(&s->classes[2].tasks); }
static void m_host(scn_scenario_t *s) { replace(&s->hosts[1].base_url, "ftp://x"); }
static void m_hostpath(scn_scenario_t *s) { replace(&s->hosts[0].base_url, "http://a/b"); }
static void m_h2(scn_scenario_t *s) { s->hosts[0].proto = SCN_PROTO_H2; }
static void m_status(scn_scenario_t *s) { req(s, 1, 1, 0)->check.statuses[1] = 42; }
static void m_clen(scn_scenario_t *s) { replace(&req(s, 1, 1, 0)->headers[1].name, "content-length"); }
static void m_te(scn_scenario_t *s)
{
    replace(&req(s, 1, 1, 0)->headers[1].name, "te");
    replace(&req(s, 1, 1, 0)->headers[1].value, "gzip");
}
static void m_method(scn_scenario_t *s) { replace(&req(s, 1, 0, 0)->method, "GE T"); }
static void m_onstop(scn_scenario_t *s)
{
    scn_request_t *r = &s->classes[1].on_stop.v[1].requests[2];
    free(r->body);
    r->body = (uint8_t *)strdup("ok }} {{ x");
    r->body_len = strlen((char *)r->body);
}
static void m_var(scn_scenario_t *s) { replace(&s->vars[1].name, "password"); }
static void m_data(scn_scenario_t *s) { replace(&s->data[0].vars[1], "1x"); }
static void m_script(scn_scenario_t *s) { replace(&s->script, ""); }
static void m_lua_name(scn_scenario_t *s) { replace(&s->classes[0].tasks.v[0].lua, "my-step"); }
static void m_lua_reqs(scn_scenario_t *s) { replace(&s->classes[0].tasks.v[0].lua, "step1"); }
static void m_lua_ok(scn_scenario_t *s)
{
    scn_step_t *st = &s->classes[0].tasks.v[0];
    scn_step_fini(st);
    replace(&st->lua, "step1");
}

static scn_ws_t *wsof(scn_scenario_t *s) { return s->classes[3].tasks.v[3].ws; }
static void m_ws_url(scn_scenario_t *s) { replace(&wsof(s)->url, "http://shop.test/live"); }
static void m_ws_key(scn_scenario_t *s) { replace(&wsof(s)->headers[0].name, "Sec-WebSocket-Key"); }
static void m_ws_sub(scn_scenario_t *s) { replace(&wsof(s)->subprotocol, "a b"); }
static void m_ws_tpl(scn_scenario_t *s)
{
    scn_ws_msg_t *m = &wsof(s)->msgs[0];
    free(m->data);
    m->data = (uint8_t *)strdup("{{oops");
    m->len = 6;
}
static void m_ws_equals(scn_scenario_t *s) { replace(&wsof(s)->msgs[0].await_equals, NULL); }
static void m_ws_jpath(scn_scenario_t *s) { replace(&wsof(s)->msgs[0].await_json, "$..op"); }
static void m_ws_ext(scn_scenario_t *s) { wsof(s)->msgs[0].extractors[0].kind = SCN_EXT_COOKIE; }
static void m_ws_noawait(scn_scenario_t *s)
{
    scn_ws_msg_t *m = &wsof(s)->msgs[0];
    replace(&m->await_json, NULL);
    replace(&m->await_equals, NULL);
}
static void m_ws_dupname(scn_scenario_t *s) { replace(&wsof(s)->msgs[2].name, "hello"); }
static void m_ws_reqs(scn_scenario_t *s)
{
    scn_step_t *st = &s->classes[3].tasks.v[3];
    st->requests = calloc(1, sizeof *st->requests);
    st->n_requests = 1;
    st->requests[0].method = strdup("GET");
    st->requests[0].url = strdup("/");
    st->requests[0].name = strdup("GET /");
}

static void test_validation_names_the_place(void **state)
{
    (void)state;
    expect_invalid(m_url, "class 'browse' tasks[0].requests[0].url: unterminated {{ at byte 2: expected }}", 1);
    expect_invalid(m_url_rel, "class 'browse' tasks[0].requests[0].url: expected a path starting with / or an http(s):// URL", 1);
    expect_invalid(m_asterisk_get, "class 'browse' tasks[0].requests[0].url: '*' is the asterisk-form, for OPTIONS only (method is GET)", 1);
    expect_invalid(m_asterisk_path, "class 'browse' tasks[0].requests[0].url: 'http://a*' is the asterisk-form, for OPTIONS only (method is GET)", 1);
    expect_invalid(m_gen, "class 'buy' tasks[1].requests[0].headers[1]: random_int needs two integers A <= B (at byte 0)", 2);
    expect_invalid(m_now_offset, "class 'buy' tasks[1].requests[0].headers[0]: now_s takes one offset with a sign, such as -3600 or -1.5 (s) (at byte 0)", 2);
    expect_invalid(m_unknown_gen, "class 'buy' tasks[1].requests[0].headers[0]: unknown generator \"foo\" (at byte 1)", 2);
    expect_invalid(m_varname, "class 'buy' tasks[1].requests[0].headers[0]: bad variable name \"9x\" (at byte 0): expected [A-Za-z_][A-Za-z0-9_.-]*", 2);
    expect_invalid(m_empty, "class 'buy' tasks[1].requests[0].headers[0]: empty {{}} at byte 0", 2);
    expect_invalid(m_nested, "class 'buy' tasks[1].requests[0].headers[0]: unterminated {{ at byte 0: expected }} before the next {", 2);
    expect_invalid(m_regex, "class 'buy' tasks[1].requests[0].extract[3].expr: regex does not compile: Unmatched ( or \\(", 2);
    expect_invalid(m_group, "class 'buy' tasks[1].requests[0].extract[3].expr: group 2 does not exist (the regex has 1)", 2);
    expect_invalid(m_jpath, "class 'buy' tasks[1].requests[0].extract[0].expr: JSON path \"$..a\": expected a key at byte 2", 2);
    expect_invalid(m_jpath2, "class 'buy' tasks[1].requests[0].extract[0].expr: JSON path \"$.a[x]\": expected an integer index or a quoted key at byte 4", 2);
    expect_invalid(m_extvar, "class 'buy' tasks[1].requests[0].extract[1].var: expected a variable name [A-Za-z_][A-Za-z0-9_.-]*", 2);
    expect_invalid(m_weight, "class 'browse' weight: must be >= 1", 1);
    expect_invalid(m_wait, "class 'h1' wait: min_us 9000 > max_us 6000", 4);
    expect_invalid(m_dup, "class 'browse': name used twice (classes[0] and classes[2])", 3);
    expect_invalid(m_noclass, "classes: at least one user class is needed", 0);
    expect_invalid(m_notasks, "class 'idle' tasks: at least one task step is needed", 3);
    expect_invalid(m_host, "hosts[1].base_url: expected an origin http(s)://host[:port], got \"ftp://x\"", 0);
    expect_invalid(m_hostpath, "hosts[0].base_url: expected an origin http(s)://host[:port], got \"http://a/b\"", 0);
    expect_invalid(m_h2, "hosts[0].proto: h2 needs an https:// origin (use h2c for cleartext)", 0);
    expect_invalid(m_status, "class 'buy' tasks[1].requests[0].check.status: 42 is not an HTTP status (100..599)", 2);
    expect_invalid(m_clen, "class 'buy' tasks[1].requests[0].headers[1]: 'content-length' is set by the connection, not the scenario", 2);
    expect_invalid(m_te, "class 'buy' tasks[1].requests[0].headers[1]: te: 'gzip': expected 'trailers' (the only te a scenario may send)", 2);
    expect_invalid(m_method, "class 'buy' tasks[0].requests[0].method: expected a token such as GET or POST", 2);
    expect_invalid(m_onstop, "class 'buy' on_stop[1].requests[2].body: unterminated {{ at byte 6: expected }}", 2);
    expect_invalid(m_var, "vars[1]: variable 'password' set twice", 0);
    expect_invalid(m_data, "data[0].vars: entry 1: expected a variable name", 0);
    expect_invalid(m_script, "script: empty (a Lua file, relative to the scenario, or leave it out)", 0);
    expect_invalid(m_lua_name, "class 'browse' tasks[0].lua: expected the name of a Lua function [A-Za-z_][A-Za-z0-9_]*", 1);
    expect_invalid(m_lua_reqs, "class 'browse' tasks[0].lua: a custom step has no requests (it makes them: user:request{...})", 1);
    expect_invalid(m_ws_url, "class 'h1' tasks[3].ws.url: expected a ws:// or wss:// URL", 4);
    expect_invalid(m_ws_key, "class 'h1' tasks[3].ws.headers[0]: 'Sec-WebSocket-Key' is set by the connection, not the scenario", 4);
    expect_invalid(m_ws_sub, "class 'h1' tasks[3].ws.subprotocol: expected a token such as chat or graphql-ws", 4);
    expect_invalid(m_ws_tpl, "class 'h1' tasks[3].ws.messages[0].data: unterminated {{ at byte 0: expected }}", 4);
    expect_invalid(m_ws_equals, "class 'h1' tasks[3].ws.messages[0].await: json and equals go together (a JSON path and the value it must have)", 4);
    expect_invalid(m_ws_jpath, "class 'h1' tasks[3].ws.messages[0].await.json: JSON path \"$..op\": expected a key at byte 2", 4);
    expect_invalid(m_ws_ext, "class 'h1' tasks[3].ws.messages[0].extract[0].kind: a WebSocket message has no headers or cookies: expected json or regex", 4);
    expect_invalid(m_ws_noawait, "class 'h1' tasks[3].ws.messages[0].extract: extractors read the awaited message: set await (count or a match rule)", 4);
    expect_invalid(m_ws_dupname, "class 'h1' tasks[3].ws.messages[2].name: 'hello' used twice (messages[0] and messages[2]): it names a stats entry", 4);
    expect_invalid(m_ws_reqs, "class 'h1' tasks[3].ws: a WebSocket step has no requests", 4);
    /* A custom step alone is valid, and survives the file. */
    scn_scenario_t *s = fx_scenario();
    m_lua_ok(s);
    mp_error_t err;
    if (scn_validate(s, &err) != 0)
        fail_msg("custom step refused: %s", err.msg);
    char *path = fx_tmp(".scn.mp");
    assert_int_equal(scn_save(path, s, &err), 0);
    scn_scenario_t *back;
    assert_int_equal(scn_load(path, &back, &err), 0);
    assert_string_equal(back->classes[0].tasks.v[0].lua, "step1");
    assert_int_equal(back->classes[0].tasks.v[0].n_requests, 0);
    scn_free(back);
    scn_free(s);
    unlink(path);
    free(path);
}

/* te: trailers (gRPC) is a request's own header: accepted, any case. */
static void test_te_trailers_accepted(void **state)
{
    (void)state;
    scn_scenario_t *s = fx_scenario();
    mp_error_t err;
    replace(&req(s, 1, 1, 0)->headers[1].name, "TE");
    replace(&req(s, 1, 1, 0)->headers[1].value, "trailers");
    assert_int_equal(scn_validate(s, &err), 0);
    scn_free(s);
}

/* Templates the replay accepts are accepted here. */
static void test_template_forms_accepted(void **state)
{
    (void)state;
    const char *ok[] = { "", "plain", "{{a}}", "{{ a.b-c_d }}", "{{\tuuid\t}}", "{{now_ms}}{{user_id}}",
                         "{{random_int -5 5}}", "{{{x}}}", "}} alone {", "{\"a\":{\"b\":1}}",
                         "{{_x}}/{{X9}}", "{{now_s}}", "{{now_s -3600}}", "{{now_s.3 -3600.5}}",
                         "{{now_ms +5000}}", "{{ now_s.9 +0 }}" };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        scn_scenario_t *s = fx_scenario();
        scn_request_t *r = req(s, 1, 1, 0);
        replace(&r->headers[0].value, ok[i]);
        mp_error_t err;
        if (scn_validate(s, &err) != 0)
            fail_msg("\"%s\" refused: %s", ok[i], err.msg);
        scn_free(s);
    }
}

/* The asterisk-form (RFC 9112 3.2.4): "*" or an origin and "*", OPTIONS only. */
static void test_asterisk_form(void **state)
{
    (void)state;
    size_t n = 99;
    assert_true(scn_url_is_asterisk("*", &n));
    assert_int_equal(n, 0);
    assert_true(scn_url_is_asterisk("http://a.test:81*", &n));
    assert_int_equal(n, 16);
    assert_true(scn_url_is_asterisk("https://a*", &n));
    assert_int_equal(n, 9);
    const char *no[] = { "", "/*", "/a*", "**", "http://*", "http://a/*", "http://a?x*", "{{u}}*", "ftp://a*", "*x" };
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        if (scn_url_is_asterisk(no[i], &n))
            fail_msg("\"%s\" taken for the asterisk-form", no[i]);
    const char *ok[] = { "*", "http://a.test:81*" };
    for (size_t i = 0; i < 2; i++) {
        scn_scenario_t *s = fx_scenario();
        scn_request_t *r = req(s, 0, 0, 0);
        replace(&r->url, ok[i]);
        replace(&r->method, "OPTIONS");
        mp_error_t err;
        if (scn_validate(s, &err) != 0)
            fail_msg("OPTIONS \"%s\" refused: %s", ok[i], err.msg);
        scn_free(s);
    }
}

/* Packs a minimal header and writes records to a file. */
static char *write_records(mpw_t *w)
{
    char *path = fx_tmp(".scn.mp");
    fx_write(path, w->sb.data, w->sb.size);
    return path;
}

static void pack_min_header(mpw_t *w, int major)
{
    mpw_map(w, 2);
    mpw_str(w, "format");
    mpw_str(w, SCN_FORMAT);
    mpw_str(w, "version");
    mpw_array(w, 2);
    mpw_uint(w, (uint64_t)major);
    mpw_uint(w, 3);
}

/* A hand-made file with only the required keys loads with the defaults. */
static void test_minimal_file_defaults(void **state)
{
    (void)state;
    mpw_t w;
    mpw_init(&w);
    pack_min_header(&w, 1);
    mpw_map(&w, 3);
    mpw_str(&w, "name"); mpw_str(&w, "c");
    mpw_str(&w, "tasks"); mpw_array(&w, 1);
    mpw_map(&w, 1);
    mpw_str(&w, "requests"); mpw_array(&w, 1);
    mpw_map(&w, 3);
    mpw_str(&w, "method"); mpw_str(&w, "GET");
    mpw_str(&w, "url"); mpw_str(&w, "/health");
    mpw_str(&w, "extract"); mpw_array(&w, 1);
    mpw_map(&w, 3);
    mpw_str(&w, "var"); mpw_str(&w, "v");
    mpw_str(&w, "kind"); mpw_str(&w, "regex");
    mpw_str(&w, "expr"); mpw_str(&w, "a(b)");
    mpw_str(&w, "unknown_future_key"); mpw_uint(&w, 1);
    char *path = write_records(&w);
    scn_scenario_t *s;
    mp_error_t err;
    if (scn_load(path, &s, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(s->version_minor, 3);
    assert_null(s->tool);
    assert_int_equal(s->n_hosts, 0);
    assert_int_equal(s->n_classes, 1);
    scn_class_t *c = &s->classes[0];
    assert_int_equal(c->weight, 1);
    assert_int_equal(c->wait.kind, SCN_WAIT_RECORDED);
    scn_request_t *r = &c->tasks.v[0].requests[0];
    assert_string_equal(r->name, "GET /health");
    assert_null(r->body);
    assert_int_equal(r->n_headers, 0);
    assert_int_equal(r->extractors[0].group, 1);
    assert_null(r->extractors[0].default_value);
    assert_false(c->tasks.v[0].parallel);
    scn_free(s);
    unlink(path);
    free(path);
    mpw_fini(&w);
}

static void expect_load_error(mpw_t *w, int rc, const char *want)
{
    char *path = write_records(w);
    scn_scenario_t *s = (scn_scenario_t *)1;
    mp_error_t err;
    assert_int_equal(scn_load(path, &s, &err), rc);
    assert_null(s);
    char full[600];
    snprintf(full, sizeof full, "%s: %s", path, want);
    if (strcmp(err.msg, full) != 0)
        fail_msg("got \"%s\"\nwant \"%s\"", err.msg, full);
    unlink(path);
    free(path);
}

static void test_load_errors(void **state)
{
    (void)state;
    mpw_t w;
    mpw_init(&w);

    pack_min_header(&w, 2);
    expect_load_error(&w, MP_ERR_VERSION, "version 2.3 is newer than this build reads (1.x); upgrade aiotest");

    mpw_reset(&w);
    pack_min_header(&w, 1);
    expect_load_error(&w, MP_ERR_INVALID, "record 0 at byte 0: classes: at least one user class is needed");

    mpw_reset(&w);
    pack_min_header(&w, 1);
    size_t at = w.sb.size;
    mpw_map(&w, 3);
    mpw_str(&w, "name"); mpw_str(&w, "c");
    mpw_str(&w, "weight"); mpw_str(&w, "heavy");
    mpw_str(&w, "tasks"); mpw_array(&w, 0);
    char want[200];
    snprintf(want, sizeof want, "record 1 at byte %zu: class 'c' weight: expected an unsigned integer, got a string", at);
    expect_load_error(&w, MP_ERR_FORMAT, want);

    mpw_reset(&w);
    pack_min_header(&w, 1);
    mpw_map(&w, 2);
    mpw_str(&w, "name"); mpw_str(&w, "c");
    mpw_str(&w, "tasks"); mpw_array(&w, 1);
    mpw_map(&w, 1);
    mpw_str(&w, "requests"); mpw_array(&w, 1);
    mpw_map(&w, 1);
    mpw_str(&w, "url"); mpw_str(&w, "/");
    snprintf(want, sizeof want, "record 1 at byte %zu: class 'c' tasks[0].requests[0].method: missing (expected a string)", at);
    expect_load_error(&w, MP_ERR_INVALID, want);

    mpw_reset(&w);
    pack_min_header(&w, 1);
    mpw_map(&w, 2);
    mpw_str(&w, "name"); mpw_str(&w, "c");
    mpw_str(&w, "tasks"); mpw_array(&w, 1);
    mpw_map(&w, 1);
    mpw_str(&w, "requests"); mpw_array(&w, 1);
    mpw_map(&w, 3);
    mpw_str(&w, "method"); mpw_str(&w, "GET");
    mpw_str(&w, "url"); mpw_str(&w, "/{{x");
    mpw_str(&w, "check"); mpw_map(&w, 1); mpw_str(&w, "status"); mpw_array(&w, 1); mpw_uint(&w, 200);
    snprintf(want, sizeof want, "record 1 at byte %zu: class 'c' tasks[0].requests[0].url: unterminated {{ at byte 1: expected }}", at);
    expect_load_error(&w, MP_ERR_INVALID, want);

    mpw_fini(&w);

    /* A recording is not a scenario. */
    char *path = fx_tmp(".mp");
    rec_header_t h;
    fx_rec_header(&h);
    mp_error_t err;
    rec_writer_t *rw = rec_writer_open(path, &h, false, &err);
    assert_non_null(rw);
    rec_writer_close(rw);
    rec_header_fini(&h);
    scn_scenario_t *s;
    assert_int_equal(scn_load(path, &s, &err), MP_ERR_KIND);
    assert_non_null(strstr(err.msg, "field 'format': is 'aiotest-recording', expected 'aiotest-scenario'"));
    unlink(path);
    free(path);

    path = fx_tmp(".mp");
    fx_write(path, "", 0);
    assert_int_equal(scn_load(path, &s, &err), MP_ERR_FORMAT);
    assert_non_null(strstr(err.msg, ": empty file (expected an aiotest-scenario header)"));
    unlink(path);
    free(path);
}

/* Every cut of a saved scenario is refused with a message naming a record;
 * a cut between class records is caught by the class count. */
static void test_cut_at_every_byte(void **state)
{
    (void)state;
    scn_scenario_t *s = fx_scenario();
    char *path = fx_tmp(".scn.mp");
    mp_error_t err;
    assert_int_equal(scn_save(path, s, &err), 0);
    size_t size;
    uint8_t *data = fx_read(path, &size);
    char *cut = fx_tmp(".cut.mp");
    int boundaries = 0;
    for (size_t k = 0; k < size; k++) {
        fx_write(cut, data, k);
        scn_scenario_t *back;
        int rc = scn_load(cut, &back, &err);
        assert_true(rc < 0);
        assert_non_null(strstr(err.msg, cut));
        if (strstr(err.msg, "header announces 4 classes"))
            boundaries++;
        else if (k > 0)
            assert_non_null(strstr(err.msg, "truncated"));
    }
    assert_int_equal(boundaries, 4); /* after the header and after classes 0..2 */
    unlink(cut);
    unlink(path);
    free(cut);
    free(path);
    free(data);
    scn_free(s);
}

static void test_random_bytes(void **state)
{
    (void)state;
    scn_scenario_t *s = fx_scenario();
    char *path = fx_tmp(".scn.mp");
    mp_error_t err;
    assert_int_equal(scn_save(path, s, &err), 0);
    scn_free(s);
    size_t size;
    uint8_t *data = fx_read(path, &size);
    uint64_t seed = 88172645463325252u;
    for (int iter = 0; iter < 300; iter++) {
        uint8_t *buf = malloc(size);
        assert_non_null(buf);
        size_t n = size;
        if (iter % 3 == 0) {
            for (size_t i = 0; i < n; i++) {
                seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;
                buf[i] = (uint8_t)seed;
            }
            n = 1 + iter % 97;
        } else {
            memcpy(buf, data, n);
            for (int m = 0; m < 1 + iter % 4; m++) {
                seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;
                buf[seed % n] = (uint8_t)(seed >> 40);
            }
        }
        fx_write(path, buf, n);
        free(buf);
        scn_scenario_t *back = NULL;
        int rc = scn_load(path, &back, &err);
        if (rc == 0)
            scn_free(back);
        else
            assert_true(strncmp(err.msg, path, strlen(path)) == 0);
    }
    unlink(path);
    free(path);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_every_field),
        cmocka_unit_test(test_validation_names_the_place),
        cmocka_unit_test(test_te_trailers_accepted),
        cmocka_unit_test(test_asterisk_form),
        cmocka_unit_test(test_template_forms_accepted),
        cmocka_unit_test(test_minimal_file_defaults),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_cut_at_every_byte),
        cmocka_unit_test(test_random_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
