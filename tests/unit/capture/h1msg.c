/* Unit tests of capture/h1msg.c: messages split anywhere, pipelining, HEAD. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "h1msg.h"

typedef struct seen {
    int heads, dones;
    char body[256];
    size_t body_len;
    char first_header[128];
    size_t nheaders;
    char url[128];
    bool pause_on_done, skip_body;
} seen_t;

static int on_head(void *ctx, h1msg_t *m)
{
    seen_t *s = ctx;
    s->heads++;
    s->nheaders = m->headers.n;
    if (m->headers.n > 0)
        snprintf(s->first_header, sizeof s->first_header, "%s=%s", m->headers.v[0].name,
                 m->headers.v[0].value);
    snprintf(s->url, sizeof s->url, "%s", m->url);
    return s->skip_body ? 1 : 0;
}

static int on_body(void *ctx, const char *p, size_t n)
{
    seen_t *s = ctx;
    memcpy(s->body + s->body_len, p, n);
    s->body_len += n;
    return 0;
}

static int on_done(void *ctx, h1msg_t *m)
{
    seen_t *s = ctx;
    s->dones++;
    if (s->pause_on_done)
        h1msg_pause(m, true);
    return 0;
}

static const h1msg_ops_t ops = { on_head, on_body, on_done };

static const char chunked_req[] =
    "POST http://shop.example/api/cart?x=1 HTTP/1.1\r\n"
    "Host: shop.example\r\n"
    "X-Long-Header-Name: value with spaces\r\n"
    "Transfer-Encoding: chunked\r\n\r\n"
    "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n";

static void split_at_every_byte(void **state)
{
    (void)state;
    seen_t s = { 0 };
    h1msg_t m;
    h1msg_init(&m, HTTP_REQUEST, &ops, &s);
    for (size_t i = 0; i < sizeof chunked_req - 1; i++)
        assert_int_equal(h1msg_feed(&m, chunked_req + i, 1), 1);
    assert_int_equal(s.heads, 1);
    assert_int_equal(s.dones, 1);
    assert_string_equal(s.url, "http://shop.example/api/cart?x=1");
    assert_int_equal(s.nheaders, 3);
    assert_string_equal(s.first_header, "Host=shop.example");
    assert_int_equal(s.body_len, 12);
    assert_memory_equal(s.body, "hello, world", 12);
    assert_true(h1msg_chunked(&m));
    assert_int_equal(h1msg_content_length(&m), -1);
    assert_string_equal(rec_headers_get(&m.headers, "x-long-header-name"), "value with spaces");
    h1msg_fini(&m);
}

static void pipelined_requests_wait_while_paused(void **state)
{
    (void)state;
    static const char two[] = "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n";
    seen_t s = { .pause_on_done = true };
    h1msg_t m;
    h1msg_init(&m, HTTP_REQUEST, &ops, &s);
    ssize_t n = h1msg_feed(&m, two, sizeof two - 1);
    assert_true(n > 0 && (size_t)n < sizeof two - 1);
    assert_int_equal(s.dones, 1);
    assert_string_equal(s.url, "/a");
    h1msg_pause(&m, false);
    ssize_t n2 = h1msg_feed(&m, two + n, sizeof two - 1 - (size_t)n);
    assert_int_equal((size_t)(n + n2), sizeof two - 1);
    assert_int_equal(s.dones, 2);
    assert_string_equal(s.url, "/b");
    assert_true(h1msg_keep_alive(&m));
    h1msg_fini(&m);
}

static void head_response_has_no_body(void **state)
{
    (void)state;
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
                               "HTTP/1.1 204 No Content\r\n\r\n";
    seen_t s = { .skip_body = true };
    h1msg_t m;
    h1msg_init(&m, HTTP_RESPONSE, &ops, &s);
    assert_int_equal(h1msg_feed(&m, resp, sizeof resp - 1), (ssize_t)(sizeof resp - 1));
    assert_int_equal(s.dones, 2);
    assert_int_equal(s.body_len, 0);
    assert_int_equal(h1msg_status(&m), 204);
    h1msg_fini(&m);
}

static void close_delimited_body_ends_at_eof(void **state)
{
    (void)state;
    static const char resp[] = "HTTP/1.0 200 OK\r\n\r\nuntil close";
    seen_t s = { 0 };
    h1msg_t m;
    h1msg_init(&m, HTTP_RESPONSE, &ops, &s);
    assert_int_equal(h1msg_feed(&m, resp, sizeof resp - 1), (ssize_t)(sizeof resp - 1));
    assert_int_equal(s.dones, 0);
    assert_int_equal(h1msg_eof(&m), 0);
    assert_int_equal(s.dones, 1);
    assert_int_equal(s.body_len, 11);
    h1msg_fini(&m);
}

static void malformed_message_names_the_byte(void **state)
{
    (void)state;
    static const char bad[] = "GET / HTTP/1.1\r\nHost h\r\n\r\n";
    seen_t s = { 0 };
    h1msg_t m;
    h1msg_init(&m, HTTP_REQUEST, &ops, &s);
    assert_int_equal(h1msg_feed(&m, bad, sizeof bad - 1), -1);
    assert_non_null(strstr(m.error, "malformed HTTP/1 message at byte"));
    h1msg_fini(&m);
}

/* h1msg_fast (issue 20): the same bytes read whole (simple messages without
 * http_parser) and one byte at a time (always http_parser) must give the same
 * callbacks with the same pieces and the same parser fields, for messages the
 * fast path takes and for those it leaves to http_parser. */
typedef struct trace {
    char log[8192];
    bool head_no_body;  /* on_head returns 1 (a HEAD request's answer) */
    bool pause_on_done;
    bool in_body;
} trace_t;

static void tlog(trace_t *t, const char *fmt, ...)
{
    size_t l = strlen(t->log);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->log + l, sizeof t->log - l, fmt, ap);
    va_end(ap);
}

static int t_head(void *ctx, h1msg_t *m)
{
    trace_t *t = ctx;
    tlog(t, "[head %s %d %s HTTP/%u.%u ka=%d cl=%lld url=%s", m->parser.type == HTTP_REQUEST ? "req" : "resp",
         h1msg_status(m), m->parser.type == HTTP_REQUEST ? h1msg_method(m) : "-", m->parser.http_major,
         m->parser.http_minor, h1msg_keep_alive(m), (long long)h1msg_content_length(m), m->url);
    for (size_t i = 0; i < m->headers.n; i++)
        tlog(t, " <%s|%s>", m->headers.v[i].name, m->headers.v[i].value);
    tlog(t, " upgrade=%d]", m->parser.upgrade);
    return t->head_no_body ? 1 : 0;
}

/* body pieces are logged joined: how the bytes were split is not compared */
static int t_body(void *ctx, const char *p, size_t n)
{
    trace_t *t = ctx;
    if (!t->in_body)
        tlog(t, "[body ");
    t->in_body = true;
    tlog(t, "%.*s", (int)n, p);
    return 0;
}

static int t_done(void *ctx, h1msg_t *m)
{
    trace_t *t = ctx;
    if (t->in_body)
        tlog(t, "]");
    t->in_body = false;
    tlog(t, "[done ka=%d]", h1msg_keep_alive(m));
    if (t->pause_on_done)
        h1msg_pause(m, true);
    return 0;
}

static const h1msg_ops_t t_ops = { t_head, t_body, t_done };

/* Feeds everything (resuming after each pause), whole or byte by byte; the
 * log ends with how it ended. */
static void run_trace(enum http_parser_type type, const char *bytes, bool whole, bool head, bool pause,
                      trace_t *t)
{
    memset(t, 0, sizeof *t);
    t->head_no_body = head;
    t->pause_on_done = pause;
    h1msg_t m;
    h1msg_init(&m, type, &t_ops, t);
    h1msg_fast(&m, true);
    size_t n = strlen(bytes), at = 0;
    int guard = 0;
    while (at < n && guard++ < 10000) {
        size_t len = whole ? n - at : 1;
        ssize_t r = h1msg_feed(&m, bytes + at, len);
        if (r < 0) {
            tlog(t, "[error]"); /* where depends on how the bytes were fed */
            break;
        }
        at += (size_t)r;
        if ((size_t)r < len || (!whole && r == 0))
            h1msg_pause(&m, false);
    }
    tlog(t, "[end]");
    h1msg_fini(&m);
}

static void fast_path_same_as_parser(void **state)
{
    (void)state;
    static const struct {
        enum http_parser_type type;
        const char *bytes;
        bool head;
    } cases[] = {
        {HTTP_REQUEST, "GET /api/items/7?x=1&y=%20 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: wrk\r\n\r\n"
                       "POST /cart HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
                       "GET /b HTTP/1.1\r\nHost: h\r\n\r\n", false},
        {HTTP_REQUEST, "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n"
                       "GET /c HTTP/1.1\r\n\r\n", false},                 /* the third is refused: closed */
        {HTTP_REQUEST, "GET /a HTTP/1.1\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\n\r\n", false},
        {HTTP_REQUEST, "GET /a HTTP/1.1\r\nX-Empty:\r\nX-Sp: v \r\nBad Name: x\r\n\r\n"
                       "GET http://h/abs HTTP/1.1\r\nHost: h\r\n\r\n"
                       "GET /q\"x HTTP/1.1\r\n\r\nPUT /u HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", false},
        {HTTP_REQUEST, "GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", false},
        {HTTP_REQUEST, "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n", false},
        {HTTP_REQUEST, "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
                       "GET /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nz", false},
        {HTTP_REQUEST, "BREW /pot HTTP/1.1\r\n\r\nGET /a HTTP/1.1\r\n\r\n", false},
        {HTTP_REQUEST, "GET /a HTTP/1.1\r\nX-C: a\x01b\r\n\r\n", false},
        {HTTP_REQUEST, "GET /a HTTP/1.1\r\nX-C: 01234567\t89abcdef\xff\x80 ~~\r\n\r\n"
                       "GET /b HTTP/1.1\r\nX-C: 0123456789abcdef\x7fz\r\n\r\n", false},
        {HTTP_REQUEST, "GET /a HTTP/1.1\r\nX-C: 0123456789ab\x1f\r\n\r\n", false},
        {HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sat, 05 Dec 2026 17:00:00 GMT\r\n"
                        "Content-Type: text/plain\r\nContent-Length: 11\r\nConnection: keep-alive\r\n\r\n"
                        "hello worldHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
                        "HTTP/1.1 500 \r\nX-T: \xc3\xa9\r\nContent-Length: 2\r\n\r\nok", false},
        {HTTP_RESPONSE, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                        "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", false},
        {HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n",
         true},                                                            /* answers to HEAD */
        {HTTP_RESPONSE, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.0 200 OK\r\n\r\n", false},
        {HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
                        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false},
        {HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc", false}, /* body still coming */
        {HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Length: 2x\r\n\r\nok", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int pause = 0; pause < 2; pause++) {
            trace_t whole, bytes;
            run_trace(cases[i].type, cases[i].bytes, true, cases[i].head, pause, &whole);
            run_trace(cases[i].type, cases[i].bytes, false, cases[i].head, pause, &bytes);
            if (strcmp(whole.log, bytes.log) != 0)
                print_message("case %zu (pause %d)\nwhole: %s\nbytes: %s\n", i, pause, whole.log, bytes.log);
            assert_string_equal(whole.log, bytes.log);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(split_at_every_byte),
        cmocka_unit_test(fast_path_same_as_parser),
        cmocka_unit_test(pipelined_requests_wait_while_paused),
        cmocka_unit_test(head_response_has_no_body),
        cmocka_unit_test(close_delimited_body_ends_at_eof),
        cmocka_unit_test(malformed_message_names_the_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
