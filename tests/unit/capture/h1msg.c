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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(split_at_every_byte),
        cmocka_unit_test(pipelined_requests_wait_while_paused),
        cmocka_unit_test(head_response_has_no_body),
        cmocka_unit_test(close_delimited_body_ends_at_eof),
        cmocka_unit_test(malformed_message_names_the_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
