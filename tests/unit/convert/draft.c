/* Unit tests of convert/draft.c: a request from an exchange (relative or
 * absolute URL, headers left to the replay, error status checks) and the
 * whole-token find and replace the later stages edit it with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "draft.h"
#include "fixture.h"

static void test_from_exchange(void **state)
{
    (void)state;
    rec_exchange_t x;
    scn_request_t r = {0}, a = {0};
    fx_make(&x, "GET", "/api/item/42?x=1", 0, 1, 404, "application/json", "{}");
    rec_headers_add(&x.req_headers, "Host", "shop.test");
    rec_headers_add(&x.req_headers, "Accept", "*/*");
    rec_headers_add(&x.req_headers, "Cookie", "sid=1");
    rec_headers_add(&x.req_headers, ":path", "/api/item/42?x=1");
    rec_headers_add(&x.req_headers, "Content-Length", "0");
    assert_int_equal(draft_from_exchange(&x, "http://shop.test", &r), 0);
    assert_string_equal(r.name, "GET /api/item/{id}");
    assert_string_equal(r.url, "/api/item/42?x=1");
    assert_int_equal(r.n_headers, 1);
    assert_string_equal(r.headers[0].name, "Accept");
    assert_int_equal(r.check.n_statuses, 1);
    assert_int_equal(r.check.statuses[0], 404);
    assert_int_equal(draft_from_exchange(&x, "https://other.test", &a), 0);
    assert_string_equal(a.url, "http://shop.test/api/item/42?x=1");
    assert_string_equal(a.name, "GET shop.test/api/item/{id}");

    rec_headers_add(&x.req_headers, "Accept-Encoding", "gzip, br");
    scn_request_fini(&r);
    assert_int_equal(draft_from_exchange(&x, "http://shop.test", &r), 0);
    assert_int_equal(r.n_headers, 2);
    assert_int_equal(draft_add_extractor(&r, "id", SCN_EXT_JSON, "$.id", 0), 0);
    assert_int_equal(r.n_headers, 2);          /* Accept-Encoding kept: the replay decodes */
    assert_string_equal(r.extractors[0].expr, "$.id");
    scn_request_fini(&r);
    scn_request_fini(&a);
    rec_exchange_fini(&x);
}

/* A gRPC call: named /service/method, te: trailers kept, and its framed body
 * never edited (a replaced value would break the length prefix). */
static void test_grpc(void **state)
{
    (void)state;
    rec_exchange_t x;
    scn_request_t r = {0};
    fx_make(&x, "POST", "/pkg.Svc/Get", 0, 1, 200, "application/grpc", "");
    rec_headers_add(&x.req_headers, "content-type", "application/grpc+proto");
    rec_headers_add(&x.req_headers, "te", "trailers");
    static const uint8_t body[] = {0, 0, 0, 0, 5, 't', 'o', 'k', 'e', 'n'};
    x.req_body = malloc(sizeof body);
    memcpy(x.req_body, body, sizeof body);
    x.req_body_len = sizeof body;
    assert_int_equal(draft_from_exchange(&x, "http://shop.test", &r), 0);
    assert_string_equal(r.name, "/pkg.Svc/Get");
    assert_true(scn_request_is_grpc(&r));
    assert_int_equal(r.n_headers, 2);
    assert_string_equal(r.headers[1].name, "te");
    assert_string_equal(r.headers[1].value, "trailers");
    assert_int_equal(draft_count(&r, "token"), 0);
    assert_int_equal(draft_replace(&r, "token", "{{t}}"), 0);
    assert_int_equal(r.body_len, sizeof body);
    assert_memory_equal(r.body, body, sizeof body);
    scn_request_fini(&r);
    rec_exchange_fini(&x);
    /* Not gRPC: te: trailers (Firefox sends it everywhere) stays the connection's. */
    fx_make(&x, "GET", "/page", 0, 1, 200, "text/html", "");
    rec_headers_add(&x.req_headers, "TE", "trailers");
    assert_int_equal(draft_from_exchange(&x, "http://shop.test", &r), 0);
    assert_int_equal(r.n_headers, 0);
    scn_request_fini(&r);
    rec_exchange_fini(&x);
}

static void test_find(void **state)
{
    (void)state;
    const char *h = "a=tok1&b=xtok1&c=tok12&d={{tok1}}&e=tok1";
    size_t len = strlen(h);
    assert_int_equal(draft_find(h, len, 0, "tok1", 4), 2);
    /* xtok1 and tok12 are other tokens; {{tok1}} is a template. */
    assert_int_equal(draft_find(h, len, 3, "tok1", 4), (long)(len - 4));
    assert_int_equal(draft_find(h, len, len - 3, "tok1", 4), -1);
    /* A value with non-alphanumeric ends needs no boundary there. */
    assert_int_equal(draft_find("x/p/1/y", 7, 0, "/p/", 3), 1);
}

static void test_replace(void **state)
{
    (void)state;
    rec_exchange_t x;
    scn_request_t r = {0};
    fx_make(&x, "POST", "/o/abc123?again=abc123", 0, 1, 200, NULL, NULL);
    fx_req_body(&x, "id=abc123&other=abc1234");
    rec_headers_add(&x.req_headers, "X-Id", "abc123");
    rec_headers_add(&x.req_headers, "Referer", "http://shop.test/o/abc123");
    assert_int_equal(draft_from_exchange(&x, "http://shop.test", &r), 0);
    assert_int_equal(draft_count(&r, "abc123"), 4);
    assert_int_equal(draft_replace(&r, "abc123", "{{id}}"), 4);
    assert_string_equal(r.url, "/o/{{id}}?again={{id}}");
    assert_string_equal(r.headers[0].value, "{{id}}");
    assert_string_equal(r.headers[1].value, "http://shop.test/o/abc123");  /* Referer as recorded */
    assert_int_equal(r.body_len, strlen("id={{id}}&other=abc1234"));
    assert_memory_equal(r.body, "id={{id}}&other=abc1234", r.body_len);
    assert_int_equal(draft_count(&r, "abc123"), 0);
    scn_request_fini(&r);
    rec_exchange_fini(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_from_exchange),
        cmocka_unit_test(test_grpc),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_replace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
