/* fixtures: see fixtures.h. */
#include "fixtures.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char *dupf(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *s = strdup(buf);
    assert_non_null(s);
    return s;
}

static uint8_t *bytes(const void *p, size_t n)
{
    uint8_t *b = malloc(n + 1);
    assert_non_null(b);
    memcpy(b, p, n);
    b[n] = 0;
    return b;
}

void fx_rec_header(rec_header_t *h)
{
    memset(h, 0, sizeof *h);
    h->version_major = REC_VERSION_MAJOR;
    h->version_minor = REC_VERSION_MINOR;
    h->created_us = 1764077400123456;
    h->source = dupf("proxy");
    h->tool = dupf("aiotest-capture 0.1.0");
}

void fx_exchange(int i, rec_exchange_t *x)
{
    memset(x, 0, sizeof *x);
    x->client = dupf("127.0.0.1:%d", 40000 + i);
    x->conn_id = 7 + (uint64_t)i;
    x->stream_id = (uint32_t)(2 * i + 1);
    x->t_start_us = 1764077400000000 + i * 1000;
    x->t_first_byte_us = x->t_start_us + 250;
    x->t_end_us = x->t_start_us + 900;
    x->scheme = dupf(i % 2 ? "https" : "http");
    x->authority = dupf("shop.test:%d", 8000 + i);
    x->method = dupf(i % 2 ? "POST" : "GET");
    x->target = dupf("/api/item/%d?q=a%%20b", i);
    x->http_version = dupf(i % 2 ? "HTTP/2" : "HTTP/1.1");
    assert_int_equal(rec_headers_add(&x->req_headers, "Host", "shop.test"), 0);
    assert_int_equal(rec_headers_add(&x->req_headers, "X-Dup", "1"), 0);
    assert_int_equal(rec_headers_add(&x->req_headers, "x-dup", "2"), 0);
    assert_int_equal(rec_headers_add(&x->resp_headers, "Set-Cookie", "session=abc; Path=/"), 0);
    assert_int_equal(rec_headers_add(&x->resp_headers, "Content-Type", "application/json"), 0);
    if (i % 2) {
        static const uint8_t bin[] = { 0x00, 0xff, 0xfe, 0x80, 'a', 0x00, 0xc3 };
        x->req_body = bytes(bin, sizeof bin);
        x->req_body_len = sizeof bin;
    } else {
        static const char txt[] = "{\"user\":\"ann\",\"pass\":\"é\"}";
        x->req_body = bytes(txt, strlen(txt));
        x->req_body_len = strlen(txt);
    }
    x->req_truncated = i % 2;
    x->status = 200 + i;
    char resp[64];
    int n = snprintf(resp, sizeof resp, "{\"token\":\"t%d\"}", i);
    x->resp_body = bytes(resp, (size_t)n);
    x->resp_body_len = (size_t)n;
    x->resp_truncated = !(i % 2);
    x->flags = REC_F_TLS | (i % 2 ? REC_F_H2 | REC_F_ERROR : 0) | (i == 2 ? 1u << 20 : 0);
    x->error = i % 2 ? dupf("upstream reset #%d", i) : NULL;
    x->tunnel_bytes_up = (uint64_t)i * 11;
    x->tunnel_bytes_down = UINT64_MAX - (uint64_t)i;
    if (i == 1) { /* recording 1.1: gRPC trailers and WebSocket messages */
        assert_int_equal(rec_headers_add(&x->resp_trailers, "grpc-status", "14"), 0);
        assert_int_equal(rec_headers_add(&x->resp_trailers, "grpc-message", "down"), 0);
        static const uint8_t bin[] = { 0x00, 0xff, 0x81, 0x00 };
        const rec_ws_msg_t m[] = {
            { .dir = REC_WS_UP, .opcode = 1, .t_us = 1500, .data = (uint8_t *)"hello", .len = 5 },
            { .dir = REC_WS_DOWN, .opcode = 2, .t_us = 2500, .data = (uint8_t *)bin, .len = sizeof bin,
              .truncated = true },
            { .dir = REC_WS_UP, .opcode = 8, .t_us = 9000, .data = (uint8_t *)"bye", .len = 3,
              .close_code = 1000 },
            { .dir = REC_WS_DOWN, .opcode = 8, .t_us = 9100 },
        };
        for (size_t k = 0; k < sizeof m / sizeof *m; k++)
            assert_int_equal(rec_ws_add(x, &m[k]), 0);
    }
}

static void assert_str_eq_null(const char *a, const char *b)
{
    if (!a || !b)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

static void assert_bytes_equal(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    assert_int_equal(an, bn);
    if (an)
        assert_memory_equal(a, b, an);
}

static void assert_headers_equal(const rec_headers_t *a, const rec_headers_t *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        assert_string_equal(a->v[i].name, b->v[i].name);
        assert_string_equal(a->v[i].value, b->v[i].value);
    }
}

void fx_assert_rec_header_equal(const rec_header_t *a, const rec_header_t *b)
{
    assert_int_equal(a->version_major, b->version_major);
    assert_int_equal(a->version_minor, b->version_minor);
    assert_int_equal(a->created_us, b->created_us);
    assert_string_equal(a->source, b->source);
    assert_string_equal(a->tool, b->tool);
}

void fx_assert_exchange_equal(const rec_exchange_t *a, const rec_exchange_t *b)
{
    assert_string_equal(a->client, b->client);
    assert_int_equal(a->conn_id, b->conn_id);
    assert_int_equal(a->stream_id, b->stream_id);
    assert_int_equal(a->t_start_us, b->t_start_us);
    assert_int_equal(a->t_first_byte_us, b->t_first_byte_us);
    assert_int_equal(a->t_end_us, b->t_end_us);
    assert_string_equal(a->scheme, b->scheme);
    assert_string_equal(a->authority, b->authority);
    assert_string_equal(a->method, b->method);
    assert_string_equal(a->target, b->target);
    assert_string_equal(a->http_version, b->http_version);
    assert_headers_equal(&a->req_headers, &b->req_headers);
    assert_bytes_equal(a->req_body, a->req_body_len, b->req_body, b->req_body_len);
    assert_int_equal(a->req_truncated, b->req_truncated);
    assert_int_equal(a->status, b->status);
    assert_headers_equal(&a->resp_headers, &b->resp_headers);
    assert_bytes_equal(a->resp_body, a->resp_body_len, b->resp_body, b->resp_body_len);
    assert_int_equal(a->resp_truncated, b->resp_truncated);
    assert_int_equal(a->flags, b->flags);
    assert_str_eq_null(a->error, b->error);
    assert_int_equal(a->tunnel_bytes_up, b->tunnel_bytes_up);
    assert_int_equal(a->tunnel_bytes_down, b->tunnel_bytes_down);
    assert_int_equal(a->resp_trailers.n, b->resp_trailers.n);
    for (size_t i = 0; i < a->resp_trailers.n; i++) {
        assert_string_equal(a->resp_trailers.v[i].name, b->resp_trailers.v[i].name);
        assert_string_equal(a->resp_trailers.v[i].value, b->resp_trailers.v[i].value);
    }
    assert_int_equal(a->n_ws, b->n_ws);
    for (size_t i = 0; i < a->n_ws; i++) {
        assert_int_equal(a->ws[i].dir, b->ws[i].dir);
        assert_int_equal(a->ws[i].opcode, b->ws[i].opcode);
        assert_int_equal(a->ws[i].t_us, b->ws[i].t_us);
        assert_int_equal(a->ws[i].len, b->ws[i].len);
        if (a->ws[i].len)
            assert_memory_equal(a->ws[i].data, b->ws[i].data, a->ws[i].len);
        assert_int_equal(a->ws[i].truncated, b->ws[i].truncated);
        assert_int_equal(a->ws[i].close_code, b->ws[i].close_code);
    }
}

char *fx_tmp(const char *suffix)
{
    static int seq;
    const char *dir = getenv("TMPDIR");
    return dupf("%s/aiotest-scn-%d-%d%s", dir && *dir ? dir : "/tmp", (int)getpid(), seq++, suffix);
}

void fx_write(const char *path, const void *data, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    if (n)
        assert_int_equal(fwrite(data, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

uint8_t *fx_read(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0, got;
    do {
        if (len + 4096 > cap) {
            cap = cap ? cap * 2 : 8192;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        got = fread(buf + len, 1, 4096, fp);
        len += got;
    } while (got > 0);
    fclose(fp);
    *n = len;
    return buf;
}

/* ---- scenarios */

static scn_request_t request(const char *method, const char *url, int variant)
{
    scn_request_t r = {0};
    r.method = dupf("%s", method);
    r.url = dupf("%s", url);
    r.name = dupf("%s %s", method, url);
    if (variant == 0)
        return r;
    r.n_headers = 2;
    r.headers = calloc(2, sizeof *r.headers);
    assert_non_null(r.headers);
    r.headers[0] = (scn_kv_t){ dupf("Authorization"), dupf("Bearer {{token}}") };
    r.headers[1] = (scn_kv_t){ dupf("X-Req"), dupf("{{uuid}}-{{ random_int 1 9 }}-{{user_id}}") };
    if (variant == 2) {
        static const uint8_t bin[] = { 0xff, 0x00, 0x80, '{', '{', 'x', '}', '}' };
        r.body = bytes(bin, sizeof bin);
        r.body_len = sizeof bin;
    } else {
        const char *b = "{\"item\":\"{{id}}\",\"qty\":2,\"t\":{{now_ms}}}";
        r.body = bytes(b, strlen(b));
        r.body_len = strlen(b);
    }
    r.n_extractors = 4;
    r.extractors = calloc(4, sizeof *r.extractors);
    assert_non_null(r.extractors);
    r.extractors[0] = (scn_extractor_t){ dupf("token"), SCN_EXT_JSON, dupf("$.data[0][\"tok en\"]"), 1, NULL };
    r.extractors[1] = (scn_extractor_t){ dupf("session"), SCN_EXT_COOKIE, dupf("session"), 1, dupf("none") };
    r.extractors[2] = (scn_extractor_t){ dupf("loc"), SCN_EXT_HEADER, dupf("Location"), 0, dupf("") };
    r.extractors[3] = (scn_extractor_t){ dupf("csrf"), SCN_EXT_REGEX, dupf("name=\"csrf\" value=\"([^\"]*)\""), 1, NULL };
    r.check.n_statuses = 2;
    r.check.statuses = calloc(2, sizeof(int));
    assert_non_null(r.check.statuses);
    r.check.statuses[0] = 200;
    r.check.statuses[1] = 302;
    r.check.n_body_contains = 1;
    r.check.body_contains = calloc(1, sizeof(char *));
    assert_non_null(r.check.body_contains);
    r.check.body_contains[0] = dupf("ok");
    r.follow_redirects = true;
    return r;
}

static scn_steps_t steps(int n, int variant)
{
    scn_steps_t st = { calloc((size_t)n, sizeof(scn_step_t)), (size_t)n };
    assert_true(n == 0 || st.v);
    for (int i = 0; i < n; i++) {
        scn_step_t *s = &st.v[i];
        s->n_requests = (size_t)(i % 2 ? 3 : 1);
        s->parallel = i % 2;
        s->think_us = (uint64_t)i * 1500000u + 1;
        s->requests = calloc(s->n_requests, sizeof *s->requests);
        assert_non_null(s->requests);
        for (size_t j = 0; j < s->n_requests; j++)
            s->requests[j] = request(j % 2 ? "POST" : "GET", j ? "/static/app.js" : "/api/item/{{id}}",
                                     (variant + i + (int)j) % 3);
    }
    return st;
}

/* A WebSocket step: every field set somewhere. */
static scn_ws_t *ws_session(void)
{
    scn_ws_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    w->name = dupf("chat");
    w->url = dupf("wss://shop.test/live?room={{id}}");
    w->n_headers = 1;
    w->headers = calloc(1, sizeof *w->headers);
    assert_non_null(w->headers);
    w->headers[0] = (scn_kv_t){ dupf("Origin"), dupf("https://shop.test") };
    w->subprotocol = dupf("chat.v1");
    w->close_gap_us = 250000;
    w->background = true;
    w->n_msgs = 3;
    w->msgs = calloc(3, sizeof *w->msgs);
    assert_non_null(w->msgs);
    const char *hello = "{\"op\":\"hello\",\"user\":\"{{user_id}}\"}";
    w->msgs[0] = (scn_ws_msg_t){ .name = dupf("hello"), .data = bytes(hello, strlen(hello)),
                                 .len = strlen(hello), .gap_us = 1000, .await_json = dupf("$.op"),
                                 .await_equals = dupf("welcome") };
    w->msgs[0].n_extractors = 1;
    w->msgs[0].extractors = calloc(1, sizeof(scn_extractor_t));
    assert_non_null(w->msgs[0].extractors);
    w->msgs[0].extractors[0] = (scn_extractor_t){ dupf("sid"), SCN_EXT_JSON, dupf("$.sid"), 1, NULL };
    static const uint8_t bin[] = { 0x00, 0xff, '{', '{' };
    w->msgs[1] = (scn_ws_msg_t){ .name = dupf("blob"), .binary = true, .data = bytes(bin, sizeof bin),
                                 .len = sizeof bin, .await_count = 2 };
    w->msgs[2] = (scn_ws_msg_t){ .name = dupf("bye {{x}}"), .await_contains = dupf("bye") };
    return w;
}

scn_scenario_t *fx_scenario(void)
{
    scn_scenario_t *s = scn_new();
    assert_non_null(s);
    s->created_us = 1764077400999999;
    s->tool = dupf("aiotest-convert 0.1.0");
    s->script = dupf("hooks/check.lua");
    s->n_hosts = 3;
    s->hosts = calloc(3, sizeof *s->hosts);
    assert_non_null(s->hosts);
    s->hosts[0] = (scn_host_t){ dupf("http://127.0.0.1:8080"), SCN_PROTO_AUTO };
    s->hosts[1] = (scn_host_t){ dupf("https://shop.test"), SCN_PROTO_H2 };
    s->hosts[2] = (scn_host_t){ dupf("http://h2c.test:81"), SCN_PROTO_H2C };
    s->n_vars = 2;
    s->vars = calloc(2, sizeof *s->vars);
    assert_non_null(s->vars);
    s->vars[0] = (scn_kv_t){ dupf("password"), dupf("s3cret") };
    s->vars[1] = (scn_kv_t){ dupf("id"), dupf("42") };
    s->n_data = 2;
    s->data = calloc(2, sizeof *s->data);
    assert_non_null(s->data);
    s->data[0].path = dupf("users.csv");
    s->data[0].n_vars = 2;
    s->data[0].vars = calloc(2, sizeof(char *));
    assert_non_null(s->data[0].vars);
    s->data[0].vars[0] = dupf("user");
    s->data[0].vars[1] = dupf("pass");
    s->data[1].path = dupf("items.csv");
    s->n_classes = 4;
    s->classes = calloc(4, sizeof *s->classes);
    assert_non_null(s->classes);
    const char *names[] = { "browse", "buy", "idle", "h1" };
    for (int i = 0; i < 4; i++) {
        scn_class_t *c = &s->classes[i];
        c->name = dupf("%s", names[i]);
        c->weight = (uint32_t)(i * 3 + 1);
        c->wait.kind = (scn_wait_kind_t)i;
        c->wait.min_us = (uint64_t)i * 1000;
        c->wait.max_us = (uint64_t)i * 2000;
        c->on_start = steps(i == 1 ? 1 : 0, i);
        c->tasks = steps(i + 1, i);
        c->on_stop = steps(i == 1 ? 2 : 0, i);
    }
    /* The last task of class 'h1' is a WebSocket session. */
    scn_step_t *last = &s->classes[3].tasks.v[s->classes[3].tasks.n - 1];
    scn_step_fini(last);
    last->ws = ws_session();
    last->think_us = 7;
    return s;
}

static void assert_request_equal(const scn_request_t *a, const scn_request_t *b)
{
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->method, b->method);
    assert_string_equal(a->url, b->url);
    assert_int_equal(a->n_headers, b->n_headers);
    for (size_t i = 0; i < a->n_headers; i++) {
        assert_string_equal(a->headers[i].name, b->headers[i].name);
        assert_string_equal(a->headers[i].value, b->headers[i].value);
    }
    assert_bytes_equal(a->body, a->body_len, b->body, b->body_len);
    assert_int_equal(a->n_extractors, b->n_extractors);
    for (size_t i = 0; i < a->n_extractors; i++) {
        const scn_extractor_t *x = &a->extractors[i], *y = &b->extractors[i];
        assert_string_equal(x->var, y->var);
        assert_int_equal(x->kind, y->kind);
        assert_string_equal(x->expr, y->expr);
        assert_int_equal(x->group, y->group);
        assert_str_eq_null(x->default_value, y->default_value);
    }
    assert_int_equal(a->check.n_statuses, b->check.n_statuses);
    for (size_t i = 0; i < a->check.n_statuses; i++)
        assert_int_equal(a->check.statuses[i], b->check.statuses[i]);
    assert_int_equal(a->check.n_body_contains, b->check.n_body_contains);
    for (size_t i = 0; i < a->check.n_body_contains; i++)
        assert_string_equal(a->check.body_contains[i], b->check.body_contains[i]);
    assert_int_equal(a->follow_redirects, b->follow_redirects);
}

static void assert_extractors_equal(const scn_extractor_t *a, size_t na, const scn_extractor_t *b, size_t nb)
{
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        assert_string_equal(a[i].var, b[i].var);
        assert_int_equal(a[i].kind, b[i].kind);
        assert_string_equal(a[i].expr, b[i].expr);
        assert_int_equal(a[i].group, b[i].group);
        assert_str_eq_null(a[i].default_value, b[i].default_value);
    }
}

static void assert_ws_equal(const scn_ws_t *a, const scn_ws_t *b)
{
    assert_true((a == NULL) == (b == NULL));
    if (!a)
        return;
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->url, b->url);
    assert_int_equal(a->n_headers, b->n_headers);
    for (size_t i = 0; i < a->n_headers; i++) {
        assert_string_equal(a->headers[i].name, b->headers[i].name);
        assert_string_equal(a->headers[i].value, b->headers[i].value);
    }
    assert_str_eq_null(a->subprotocol, b->subprotocol);
    assert_int_equal(a->close_gap_us, b->close_gap_us);
    assert_int_equal(a->background, b->background);
    assert_int_equal(a->n_msgs, b->n_msgs);
    for (size_t i = 0; i < a->n_msgs; i++) {
        const scn_ws_msg_t *x = &a->msgs[i], *y = &b->msgs[i];
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->binary, y->binary);
        assert_bytes_equal(x->data, x->len, y->data, y->len);
        assert_int_equal(x->gap_us, y->gap_us);
        assert_int_equal(x->await_count, y->await_count);
        assert_str_eq_null(x->await_json, y->await_json);
        assert_str_eq_null(x->await_equals, y->await_equals);
        assert_str_eq_null(x->await_contains, y->await_contains);
        assert_extractors_equal(x->extractors, x->n_extractors, y->extractors, y->n_extractors);
    }
}

static void assert_steps_equal(const scn_steps_t *a, const scn_steps_t *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        assert_int_equal(a->v[i].parallel, b->v[i].parallel);
        assert_int_equal(a->v[i].think_us, b->v[i].think_us);
        assert_int_equal(a->v[i].n_requests, b->v[i].n_requests);
        assert_ws_equal(a->v[i].ws, b->v[i].ws);
        for (size_t j = 0; j < a->v[i].n_requests; j++)
            assert_request_equal(&a->v[i].requests[j], &b->v[i].requests[j]);
    }
}

void fx_assert_scenario_equal(const scn_scenario_t *a, const scn_scenario_t *b)
{
    assert_int_equal(a->version_major, b->version_major);
    assert_int_equal(a->version_minor, b->version_minor);
    assert_int_equal(a->created_us, b->created_us);
    assert_str_eq_null(a->tool, b->tool);
    assert_str_eq_null(a->script, b->script);
    assert_int_equal(a->n_hosts, b->n_hosts);
    for (size_t i = 0; i < a->n_hosts; i++) {
        assert_string_equal(a->hosts[i].base_url, b->hosts[i].base_url);
        assert_int_equal(a->hosts[i].proto, b->hosts[i].proto);
    }
    assert_int_equal(a->n_vars, b->n_vars);
    for (size_t i = 0; i < a->n_vars; i++) {
        assert_string_equal(a->vars[i].name, b->vars[i].name);
        assert_string_equal(a->vars[i].value, b->vars[i].value);
    }
    assert_int_equal(a->n_data, b->n_data);
    for (size_t i = 0; i < a->n_data; i++) {
        assert_string_equal(a->data[i].path, b->data[i].path);
        assert_int_equal(a->data[i].n_vars, b->data[i].n_vars);
        for (size_t j = 0; j < a->data[i].n_vars; j++)
            assert_string_equal(a->data[i].vars[j], b->data[i].vars[j]);
    }
    assert_int_equal(a->n_classes, b->n_classes);
    for (size_t i = 0; i < a->n_classes; i++) {
        const scn_class_t *x = &a->classes[i], *y = &b->classes[i];
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->weight, y->weight);
        assert_int_equal(x->wait.kind, y->wait.kind);
        assert_int_equal(x->wait.min_us, y->wait.min_us);
        assert_int_equal(x->wait.max_us, y->wait.max_us);
        assert_steps_equal(&x->on_start, &y->on_start);
        assert_steps_equal(&x->tasks, &y->tasks);
        assert_steps_equal(&x->on_stop, &y->on_stop);
    }
}
